package io.github.mambadjl.examples.cli;

import io.github.mambadjl.generate.GenerationConfig;
import io.github.mambadjl.generate.GenerationSession;
import io.github.mambadjl.generate.Generator;
import java.io.PrintStream;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Random;
import java.util.Set;

/**
 * {@code mamba-djl bench}: prefill throughput and decode latency of a model, a quick user-facing
 * number (the rigorous benchmarks are the JMH ones in module {@code jmh}).
 */
final class BenchCommand {

    static final Set<String> VALUE_OPTIONS = new HashSet<>(ModelOptions.VALUE_OPTIONS);
    static final Set<String> FLAGS = Set.of("verbose", "help");

    static {
        VALUE_OPTIONS.addAll(List.of("prompt-length", "new-tokens", "batch", "runs"));
    }

    static final String USAGE =
            String.join(
                    "\n",
                    "usage: mamba-djl bench [options]",
                    "",
                    "Times the prefill of a random prompt and the decoding of new tokens.",
                    "  --model M, --engine Mamba|PyTorch, --device cpu|gpu, --dtype D   as for generate",
                    "  --prompt-length N   prompt tokens (default 128)",
                    "  --new-tokens N      decoded tokens (default 32)",
                    "  --batch N           sequences at once (default 1)",
                    "  --runs N            timed runs after one warm-up run; the median is shown"
                            + " (default 3)");

    private BenchCommand() {}

    /**
     * Runs the command.
     *
     * @param args the parsed options
     * @param out where the figures go
     * @return the exit status
     * @throws UsageException for a malformed command line
     * @throws CliException if the model cannot be loaded or run
     */
    static int run(CliArguments args, PrintStream out) throws UsageException, CliException {
        if (!args.positionals().isEmpty()) {
            throw new UsageException(
                    "bench takes no prompt; got '" + args.positionals().get(0) + "'");
        }
        ModelOptions options = ModelOptions.from(args);
        int promptLength = args.intValue("prompt-length", 128, 1);
        int newTokens = args.intValue("new-tokens", 32, 1);
        int batch = args.intValue("batch", 1, 1);
        int runs = args.intValue("runs", 3, 1);
        try (LoadedModel model = LoadedModel.load(options)) {
            int vocab = model.lm().config().vocabSize();
            Random random = new Random(7);
            long[][] prompts = new long[batch][promptLength];
            for (long[] p : prompts) {
                for (int t = 0; t < promptLength; t++) {
                    p[t] = random.nextInt(vocab);
                }
            }
            GenerationConfig config =
                    GenerationConfig.builder().optMaxNewTokens(newTokens).greedy().build();
            Generator generator = new Generator(model.lm(), model.zoo().getNDManager());
            double[] prefill = new double[runs];
            double[] decode = new double[runs];
            for (int run = -1; run < runs; run++) {
                long t0 = System.nanoTime();
                try (GenerationSession session = generator.start(prompts, config)) {
                    long t1 = System.nanoTime();
                    int steps = 0;
                    while (session.hasNext()) {
                        session.next();
                        steps++;
                    }
                    long t2 = System.nanoTime();
                    if (run >= 0) {
                        prefill[run] = (double) batch * promptLength / ((t1 - t0) / 1e9);
                        decode[run] = (t2 - t1) / 1e6 / steps;
                    }
                }
            }
            out.printf(
                    Locale.ROOT,
                    "model %s, engine %s, device %s, batch %d, prompt %d tokens, %d new tokens,"
                            + " median of %d runs%n",
                    options.describeModel(),
                    options.engine(),
                    options.gpu() ? "gpu" : "cpu",
                    batch,
                    promptLength,
                    newTokens,
                    runs);
            out.printf(Locale.ROOT, "prefill: %.1f tokens/s%n", median(prefill));
            out.printf(
                    Locale.ROOT,
                    "decode:  %.2f ms/token (%.1f tokens/s per sequence)%n",
                    median(decode),
                    1000 / median(decode));
            return 0;
        } catch (RuntimeException e) {
            throw new CliException("benchmark failed: " + Errors.describe(e), e);
        }
    }

    private static double median(double[] values) {
        double[] sorted = values.clone();
        Arrays.sort(sorted);
        int n = sorted.length;
        return n % 2 == 1 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
    }
}
