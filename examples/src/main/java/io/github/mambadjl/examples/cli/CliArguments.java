package io.github.mambadjl.examples.cli;

import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * The options of one subcommand, parsed from {@code --name value}, {@code --name=value} and {@code
 * --flag} words; other words are positional. {@code --} ends the options.
 */
public final class CliArguments {

    private final String command;
    private final Map<String, String> values;
    private final Set<String> flags;
    private final List<String> positionals;

    private CliArguments(
            String command,
            Map<String, String> values,
            Set<String> flags,
            List<String> positional) {
        this.command = command;
        this.values = values;
        this.flags = flags;
        this.positionals = positional;
    }

    /**
     * Parses the words after the subcommand.
     *
     * @param command the subcommand, for messages
     * @param args the words
     * @param valueOptions the options that take a value (without {@code --})
     * @param flagOptions the options that take none
     * @return the parsed arguments
     * @throws UsageException for an unknown option, a missing value, a value given to a flag, or an
     *     option given twice
     */
    public static CliArguments parse(
            String command, List<String> args, Set<String> valueOptions, Set<String> flagOptions)
            throws UsageException {
        Map<String, String> values = new LinkedHashMap<>();
        Set<String> flags = new HashSet<>();
        List<String> positionals = new ArrayList<>();
        boolean optionsEnded = false;
        for (int i = 0; i < args.size(); i++) {
            String word = args.get(i);
            if (optionsEnded || !word.startsWith("--")) {
                positionals.add(word);
                continue;
            }
            if (word.equals("--")) {
                optionsEnded = true;
                continue;
            }
            int eq = word.indexOf('=');
            String name = word.substring(2, eq < 0 ? word.length() : eq);
            if (valueOptions.contains(name)) {
                String value;
                if (eq >= 0) {
                    value = word.substring(eq + 1);
                } else if (i + 1 < args.size()) {
                    value = args.get(++i);
                } else {
                    throw new UsageException("option --" + name + " needs a value");
                }
                if (values.put(name, value) != null) {
                    throw new UsageException("option --" + name + " is given twice");
                }
            } else if (flagOptions.contains(name)) {
                if (eq >= 0) {
                    throw new UsageException("option --" + name + " takes no value");
                }
                flags.add(name);
            } else {
                throw new UsageException(
                        "unknown option "
                                + word
                                + " for '"
                                + command
                                + "' (run 'mamba-djl "
                                + command
                                + " --help' for the options)");
            }
        }
        return new CliArguments(
                command,
                Collections.unmodifiableMap(values),
                Collections.unmodifiableSet(flags),
                Collections.unmodifiableList(positionals));
    }

    /**
     * Returns the value of an option.
     *
     * @param name the option without {@code --}
     * @return the value, or {@code null} when not given
     */
    public String value(String name) {
        return values.get(name);
    }

    /**
     * Returns the value of an option or a default.
     *
     * @param name the option without {@code --}
     * @param defaultValue the value when not given
     * @return the value
     */
    public String value(String name, String defaultValue) {
        return values.getOrDefault(name, defaultValue);
    }

    /**
     * Tells whether an option was given.
     *
     * @param name the option without {@code --}
     * @return true when given, as a flag or with a value
     */
    public boolean has(String name) {
        return flags.contains(name) || values.containsKey(name);
    }

    /**
     * Returns the positional words, in order.
     *
     * @return the words that are not options
     */
    public List<String> positionals() {
        return positionals;
    }

    /**
     * Returns an integer option.
     *
     * @param name the option
     * @param defaultValue the value when not given
     * @param min the smallest value allowed
     * @return the value
     * @throws UsageException if the value is not an integer or is below {@code min}
     */
    public int intValue(String name, int defaultValue, int min) throws UsageException {
        String v = values.get(name);
        if (v == null) {
            return defaultValue;
        }
        int n;
        try {
            n = Integer.parseInt(v.trim());
        } catch (NumberFormatException e) {
            throw new UsageException("--" + name + " must be an integer, got '" + v + "'");
        }
        if (n < min) {
            throw new UsageException("--" + name + " must be at least " + min + ", got " + n);
        }
        return n;
    }

    /**
     * Returns a decimal option.
     *
     * @param name the option
     * @param defaultValue the value when not given
     * @param min the smallest value allowed (inclusive)
     * @param max the largest value allowed (inclusive)
     * @return the value
     * @throws UsageException if the value is not a number or lies outside {@code [min, max]}
     */
    public float floatValue(String name, float defaultValue, float min, float max)
            throws UsageException {
        String v = values.get(name);
        if (v == null) {
            return defaultValue;
        }
        float f;
        try {
            f = Float.parseFloat(v.trim());
        } catch (NumberFormatException e) {
            throw new UsageException("--" + name + " must be a number, got '" + v + "'");
        }
        if (!(f >= min && f <= max)) {
            throw new UsageException(
                    String.format(
                            Locale.ROOT, "--%s must lie in [%s, %s], got %s", name, min, max, v));
        }
        return f;
    }

    /**
     * Returns an option restricted to a few words (case-insensitive).
     *
     * @param name the option
     * @param defaultValue the value when not given
     * @param allowed the allowed values, lower case
     * @return the value, lower case
     * @throws UsageException if the value is not one of {@code allowed}
     */
    public String choice(String name, String defaultValue, String... allowed)
            throws UsageException {
        String v = values.get(name);
        if (v == null) {
            return defaultValue;
        }
        String lower = v.trim().toLowerCase(Locale.ROOT);
        for (String a : allowed) {
            if (a.equals(lower)) {
                return a;
            }
        }
        throw new UsageException(
                "--"
                        + name
                        + " must be one of "
                        + String.join(", ", allowed)
                        + "; got '"
                        + v
                        + "'");
    }

    /**
     * Returns the subcommand these arguments belong to.
     *
     * @return the subcommand
     */
    public String command() {
        return command;
    }
}
