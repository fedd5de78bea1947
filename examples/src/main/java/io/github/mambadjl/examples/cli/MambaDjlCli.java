package io.github.mambadjl.examples.cli;

import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;
import java.util.Set;

/**
 * The {@code mamba-djl} command line: {@code generate}, {@code info}, {@code bench} and {@code
 * selftest}.
 *
 * <p>Errors print one line, {@code mamba-djl: error: ...}, on standard error and exit with status 2
 * (a command line that cannot be run as written) or 1 (a failure while running); {@code --verbose}
 * adds the stack trace and DJL's log.
 */
public final class MambaDjlCli {

    /** Exit status of a failure while running. */
    public static final int EXIT_FAILURE = 1;

    /** Exit status of a malformed command line. */
    public static final int EXIT_USAGE = 2;

    private static final String LOG_LEVEL = "org.slf4j.simpleLogger.defaultLogLevel";

    private static final String USAGE =
            String.join(
                    "\n",
                    "usage: mamba-djl COMMAND [options]",
                    "",
                    "  generate   continue a prompt with a Mamba-family model (default: the embedded"
                            + " one)",
                    "  info       describe a checkpoint and the native libraries",
                    "  bench      prefill tokens/s and decode ms/token",
                    "  selftest   check the native library against a float64 loop",
                    "",
                    "'mamba-djl COMMAND --help' lists the options of a command.");

    private MambaDjlCli() {}

    /**
     * Runs a subcommand and exits with its status.
     *
     * @param args the subcommand and its options
     */
    public static void main(String[] args) {
        boolean verbose = Arrays.asList(args).contains("--verbose");
        if (System.getProperty(LOG_LEVEL) == null) {
            System.setProperty(LOG_LEVEL, verbose ? "info" : "off");
        }
        PrintStream out = new PrintStream(System.out, true, StandardCharsets.UTF_8);
        PrintStream err = new PrintStream(System.err, true, StandardCharsets.UTF_8);
        System.exit(run(args, out, err));
    }

    /**
     * Runs a subcommand.
     *
     * @param args the subcommand and its options
     * @param out the standard output
     * @param err the standard error
     * @return the exit status: 0, {@link #EXIT_FAILURE} or {@link #EXIT_USAGE}
     */
    public static int run(String[] args, PrintStream out, PrintStream err) {
        boolean verbose = Arrays.asList(args).contains("--verbose");
        if (args.length == 0) {
            err.println(USAGE);
            return EXIT_USAGE;
        }
        String command = args[0];
        List<String> rest = Arrays.asList(args).subList(1, args.length);
        try {
            switch (command) {
                case "generate":
                    return runCommand(
                            command,
                            rest,
                            GenerateCommand.VALUE_OPTIONS,
                            GenerateCommand.FLAGS,
                            GenerateCommand.USAGE,
                            out,
                            a -> GenerateCommand.run(a, out));
                case "info":
                    return runCommand(
                            command,
                            rest,
                            InfoCommand.VALUE_OPTIONS,
                            InfoCommand.FLAGS,
                            InfoCommand.USAGE,
                            out,
                            a -> InfoCommand.run(a, out));
                case "bench":
                    return runCommand(
                            command,
                            rest,
                            BenchCommand.VALUE_OPTIONS,
                            BenchCommand.FLAGS,
                            BenchCommand.USAGE,
                            out,
                            a -> BenchCommand.run(a, out));
                case "selftest":
                    return runCommand(
                            command,
                            rest,
                            SelfTestCommand.VALUE_OPTIONS,
                            SelfTestCommand.FLAGS,
                            SelfTestCommand.USAGE,
                            out,
                            a -> SelfTestCommand.run(out));
                case "--help":
                case "-h":
                case "help":
                    out.println(USAGE);
                    return 0;
                default:
                    throw new UsageException(
                            "unknown command '"
                                    + command
                                    + "' (commands: generate, info, bench, selftest)");
            }
        } catch (UsageException e) {
            report(err, e, verbose);
            return EXIT_USAGE;
        } catch (CliException e) {
            report(err, e, verbose);
            return EXIT_FAILURE;
        } catch (RuntimeException | Error e) {
            err.println("mamba-djl: error: " + Errors.describe(e));
            if (verbose) {
                e.printStackTrace(err);
            }
            return EXIT_FAILURE;
        }
    }

    private interface Command {
        int run(CliArguments args) throws UsageException, CliException;
    }

    private static int runCommand(
            String name,
            List<String> words,
            Set<String> valueOptions,
            Set<String> flags,
            String usage,
            PrintStream out,
            Command command)
            throws UsageException, CliException {
        CliArguments args = CliArguments.parse(name, words, valueOptions, flags);
        if (args.has("help")) {
            out.println(usage);
            return 0;
        }
        return command.run(args);
    }

    private static void report(PrintStream err, Exception e, boolean verbose) {
        err.println("mamba-djl: error: " + Errors.oneLine(e.getMessage()));
        if (verbose) {
            e.printStackTrace(err);
        }
    }
}
