package io.github.mambadjl.engine;

import ai.djl.BaseModel;
import ai.djl.Device;
import ai.djl.MalformedModelException;
import ai.djl.ndarray.types.DataType;
import io.github.mambadjl.checkpoint.Checkpoint;
import io.github.mambadjl.checkpoint.CheckpointException;
import io.github.mambadjl.model.CausalLM;
import java.io.FileNotFoundException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

/**
 * A {@link ai.djl.Model} of the {@code Mamba} engine ({@code Model.newInstance(name, device,
 * "Mamba")}).
 *
 * <p>{@link #load(Path, String, Map)} reads a Mamba, Mamba2 or Bamba checkpoint directory (every
 * layout that {@link Checkpoint#open} knows: Hugging Face, state-spaces, Mistral), builds its
 * {@link CausalLM} and places the weights in native memory in the dtype of the option {@code dtype}
 * ({@code float32}, the default on the CPU, {@code bfloat16} or {@code float16}), straight from the
 * memory-mapped files. The option (or model property) {@code outputHiddenStates=true} appends the
 * hidden states to the logits. When a block was set with {@link #setBlock} instead, {@code load}
 * reads its parameters from DJL's {@code .params} file, as every DJL engine does.
 */
public class MambaModel extends BaseModel {

    /** The load option naming the dtype of the weights: float32, bfloat16 or float16. */
    public static final String DTYPE_OPTION = LoadOptions.DTYPE;

    /** The load option (or property) that appends the hidden states to the output. */
    public static final String OUTPUT_HIDDEN_STATES_OPTION = LoadOptions.OUTPUT_HIDDEN_STATES;

    MambaModel(String name, Device device) {
        super(name);
        manager = MambaNDManager.getSystemManager().newSubManager(device);
        manager.setName("MambaModel");
        dataType = DataType.FLOAT32;
    }

    /**
     * Loads the model: from the checkpoint in {@code modelPath} when no block was set, otherwise
     * the block's parameters from DJL's {@code .params} file.
     *
     * @param modelPath the model directory (or a file in it)
     * @param prefix the parameter file's prefix ({@code null}: the model name); not used for a
     *     checkpoint
     * @param options {@code dtype} ({@code float32}, {@code bfloat16}, {@code float16}) and {@code
     *     outputHiddenStates}, plus DJL's loading options
     * @throws FileNotFoundException if {@code modelPath} does not exist
     * @throws CheckpointException if no block was set and the directory holds no checkpoint that
     *     mamba-djl reads, or its files are malformed or disagree with the config
     * @throws IllegalArgumentException for an unknown dtype or bad option value
     * @throws IOException if the files cannot be read
     * @throws MalformedModelException if DJL parameters do not fit the block set
     */
    @Override
    public void load(Path modelPath, String prefix, Map<String, ?> options)
            throws IOException, MalformedModelException {
        if (Files.notExists(modelPath)) {
            throw new FileNotFoundException(
                    "Model directory doesn't exist: " + modelPath.toAbsolutePath());
        }
        if (block != null) {
            setModelDir(modelPath);
            loadBlock(prefix, options);
            return;
        }
        Path dir = Files.isRegularFile(modelPath) ? modelPath.getParent() : modelPath;
        LoadOptions opts = LoadOptions.of(options, this::getProperty, manager.getDevice());
        CausalLM lm = loadCheckpoint(dir, opts.dataType());
        lm.setOutputHiddenStates(opts.outputHiddenStates());
        dataType = opts.dataType();
        setModelDir(dir);
        block = lm;
    }

    private CausalLM loadCheckpoint(Path dir, DataType type) throws IOException {
        Checkpoint checkpoint;
        try {
            checkpoint = Checkpoint.open(dir);
        } catch (CheckpointException e) {
            throw new CheckpointException(
                    "The Mamba engine found no model to load in "
                            + dir
                            + ": "
                            + e.getMessage()
                            + ". To load DJL .params instead, set the block first (setBlock or"
                            + " Criteria optBlock)",
                    e);
        }
        try (checkpoint) {
            CausalLM lm = CausalLM.fromConfig(checkpoint.config());
            lm.loadWeights(checkpoint, new NativeWeightReader((MambaNDManager) manager, type));
            return lm;
        }
    }
}
