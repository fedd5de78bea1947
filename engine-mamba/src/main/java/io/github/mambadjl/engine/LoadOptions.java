package io.github.mambadjl.engine;

import ai.djl.Device;
import ai.djl.ndarray.types.DataType;
import java.util.Locale;
import java.util.Map;
import java.util.function.Function;

/**
 * The options of {@link MambaModel#load}: given to {@code Model.load} (Criteria {@code optOption})
 * or set as model properties (Criteria {@code optArgument}); the options win.
 *
 * @param dataType the dtype of the weights
 * @param outputHiddenStates whether the model's output appends the hidden states to the logits
 */
record LoadOptions(DataType dataType, boolean outputHiddenStates) {

    /** The option naming the dtype of the weights: float32, bfloat16 or float16. */
    static final String DTYPE = "dtype";

    /** The option that appends the hidden states to the output (as MambaBlockFactory's). */
    static final String OUTPUT_HIDDEN_STATES = "outputHiddenStates";

    /**
     * Reads the options.
     *
     * @param options the load options, may be {@code null}
     * @param properties the model's properties
     * @param device the model's device: its default dtype is float32 on the CPU, bfloat16 on a GPU
     * @return the options
     * @throws IllegalArgumentException for an unknown dtype or a value that is not a boolean
     */
    static LoadOptions of(
            Map<String, ?> options, Function<String, String> properties, Device device) {
        String dtype = value(options, properties, DTYPE);
        DataType type;
        if (dtype == null) {
            type = device.isGpu() ? DataType.BFLOAT16 : DataType.FLOAT32;
        } else {
            type = dataType(dtype);
        }
        String hidden = value(options, properties, OUTPUT_HIDDEN_STATES);
        boolean outputHidden = false;
        if (hidden != null) {
            String h = hidden.trim().toLowerCase(Locale.ROOT);
            if (!h.equals("true") && !h.equals("false")) {
                throw new IllegalArgumentException(
                        "Option "
                                + OUTPUT_HIDDEN_STATES
                                + " must be true or false, got '"
                                + hidden
                                + "'");
            }
            outputHidden = h.equals("true");
        }
        return new LoadOptions(type, outputHidden);
    }

    private static DataType dataType(String name) {
        switch (name.trim().toLowerCase(Locale.ROOT)) {
            case "float32":
            case "fp32":
                return DataType.FLOAT32;
            case "bfloat16":
            case "bf16":
                return DataType.BFLOAT16;
            case "float16":
            case "fp16":
                return DataType.FLOAT16;
            default:
                throw new IllegalArgumentException(
                        "Option "
                                + DTYPE
                                + " '"
                                + name
                                + "' is not a dtype the Mamba engine loads weights in; use"
                                + " float32, bfloat16 or float16");
        }
    }

    private static String value(
            Map<String, ?> options, Function<String, String> properties, String key) {
        Object v = options == null ? null : options.get(key);
        if (v != null) {
            return v.toString();
        }
        return properties.apply(key);
    }
}
