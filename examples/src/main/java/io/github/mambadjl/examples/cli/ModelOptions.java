package io.github.mambadjl.examples.cli;

import java.util.Locale;
import java.util.Set;

/**
 * The options every model-loading subcommand shares: which model, on which engine and device, in
 * which dtype.
 *
 * @param model the {@code --model} value: a directory, {@code djl://...}, {@code hf://...} or a
 *     Hugging Face Hub repository id; {@code null} for the embedded model
 * @param engine {@code Mamba} or {@code PyTorch}
 * @param gpu whether {@code --device gpu} was asked for
 * @param dtype {@code float32}, {@code float16} or {@code bfloat16}; {@code null} for the engine's
 *     default
 */
public record ModelOptions(String model, String engine, boolean gpu, String dtype) {

    /** The options that take a value. */
    public static final Set<String> VALUE_OPTIONS = Set.of("model", "engine", "device", "dtype");

    /** The engine used when {@code --engine} is not given. */
    public static final String DEFAULT_ENGINE = "Mamba";

    /**
     * Reads the options.
     *
     * @param args the parsed command line
     * @return the options
     * @throws UsageException for an unknown engine, device or dtype
     */
    public static ModelOptions from(CliArguments args) throws UsageException {
        String engine =
                args.choice("engine", DEFAULT_ENGINE.toLowerCase(Locale.ROOT), "mamba", "pytorch");
        engine = engine.equals("mamba") ? "Mamba" : "PyTorch";
        boolean gpu = args.choice("device", "cpu", "cpu", "gpu").equals("gpu");
        String dtype = args.choice("dtype", null, "float32", "float16", "bfloat16");
        if (dtype != null && !dtype.equals("float32") && engine.equals("PyTorch")) {
            throw new UsageException(
                    "--dtype "
                            + dtype
                            + " needs --engine Mamba: on the PyTorch engine the blocks load"
                            + " float32 weights");
        }
        String model = args.value("model");
        if (model != null && model.isBlank()) {
            throw new UsageException("--model needs a directory, djl:// URL or Hub repository id");
        }
        return new ModelOptions(model, engine, gpu, dtype);
    }

    /**
     * Describes the model for messages.
     *
     * @return the {@code --model} value, or "the embedded model"
     */
    public String describeModel() {
        return model == null ? "the embedded model" : model;
    }
}
