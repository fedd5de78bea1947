package io.github.mambadjl.zoo;

import io.github.mambadjl.generate.GenerationConfig;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;

/**
 * Reads the generation options of a {@code Criteria} ({@code optArgument(name, value)}; values may
 * be numbers or strings) into a {@link GenerationConfig}.
 *
 * <table>
 *   <caption>Arguments</caption>
 *   <tr><th>name</th><th>meaning</th><th>default</th></tr>
 *   <tr><td>{@code maxNewTokens}</td><td>new tokens at most</td><td>20</td></tr>
 *   <tr><td>{@code temperature}</td><td>0: greedy; above 0: sampling at that temperature</td>
 *       <td>0</td></tr>
 *   <tr><td>{@code topK}</td><td>sampling: keep the k most likely tokens (0: all)</td>
 *       <td>0</td></tr>
 *   <tr><td>{@code topP}</td><td>sampling: nucleus mass kept</td><td>1</td></tr>
 *   <tr><td>{@code minP}</td><td>sampling: minimum probability relative to the best</td>
 *       <td>0</td></tr>
 *   <tr><td>{@code repetitionPenalty}</td><td>CTRL's penalty (1: off)</td><td>1</td></tr>
 *   <tr><td>{@code seed}</td><td>sampler seed: every call with one prompt gives one text</td>
 *       <td>random</td></tr>
 *   <tr><td>{@code stop}</td><td>a stop string, or a collection or array of them: the text ends
 *       before the first one</td><td>none</td></tr>
 * </table>
 *
 * <p>Generation also stops at the model's end-of-sequence token.
 */
public final class GenerationArguments {

    /** New tokens at most. */
    public static final String MAX_NEW_TOKENS = "maxNewTokens";

    /** Sampling temperature (0: greedy). */
    public static final String TEMPERATURE = "temperature";

    /** Top-k. */
    public static final String TOP_K = "topK";

    /** Top-p. */
    public static final String TOP_P = "topP";

    /** Min-p. */
    public static final String MIN_P = "minP";

    /** Repetition penalty. */
    public static final String REPETITION_PENALTY = "repetitionPenalty";

    /** Sampler seed. */
    public static final String SEED = "seed";

    /** Stop strings. */
    public static final String STOP = "stop";

    private GenerationArguments() {}

    /**
     * Builds the generation settings of a set of arguments.
     *
     * @param arguments the Criteria arguments
     * @param eosTokenIds the model's end-of-sequence ids (generation stops there)
     * @return the settings
     * @throws IllegalArgumentException if a value is not a number or out of range
     */
    public static GenerationConfig toConfig(Map<String, ?> arguments, long[] eosTokenIds) {
        GenerationConfig.Builder b = GenerationConfig.builder();
        b.optMaxNewTokens((int) number(arguments, MAX_NEW_TOKENS, 20));
        double temperature = number(arguments, TEMPERATURE, 0);
        if (temperature < 0) {
            throw new IllegalArgumentException(
                    "temperature must be 0 (greedy) or positive (sampling), got " + temperature);
        }
        if (temperature > 0) {
            b.optSample((float) temperature)
                    .optTopK((int) number(arguments, TOP_K, 0))
                    .optTopP((float) number(arguments, TOP_P, 1))
                    .optMinP((float) number(arguments, MIN_P, 0));
        } else {
            for (String name : new String[] {TOP_K, TOP_P, MIN_P}) {
                if (arguments.get(name) != null) {
                    throw new IllegalArgumentException(
                            name
                                    + " applies only to sampling; set temperature above 0 or"
                                    + " remove "
                                    + name);
                }
            }
        }
        b.optRepetitionPenalty((float) number(arguments, REPETITION_PENALTY, 1));
        if (arguments.get(SEED) != null) {
            b.optSeed((long) number(arguments, SEED, 0));
        }
        if (eosTokenIds.length > 0) {
            b.optStopTokenIds(eosTokenIds).optPadTokenId(eosTokenIds[0]);
        }
        return b.build();
    }

    /**
     * Returns the stop strings of a set of arguments.
     *
     * @param arguments the Criteria arguments
     * @return the non-empty stop strings
     * @throws IllegalArgumentException if {@code stop} holds an empty string
     */
    public static List<String> stopStrings(Map<String, ?> arguments) {
        Object stop = arguments.get(STOP);
        List<String> list = new ArrayList<>();
        if (stop == null) {
            return list;
        }
        if (stop instanceof Collection) {
            for (Object o : (Collection<?>) stop) {
                list.add(String.valueOf(o));
            }
        } else if (stop instanceof Object[]) {
            for (Object o : (Object[]) stop) {
                list.add(String.valueOf(o));
            }
        } else {
            list.add(stop.toString());
        }
        for (String s : list) {
            if (s.isEmpty()) {
                throw new IllegalArgumentException("stop strings must not be empty, got " + list);
            }
        }
        return list;
    }

    private static double number(Map<String, ?> arguments, String name, double def) {
        Object value = arguments.get(name);
        if (value == null) {
            return def;
        }
        if (value instanceof Number) {
            return ((Number) value).doubleValue();
        }
        try {
            return Double.parseDouble(value.toString().trim());
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(
                    "The argument " + name + " must be a number, got '" + value + "'", e);
        }
    }
}
