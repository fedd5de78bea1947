package io.github.mambadjl.model;

import ai.djl.Model;
import ai.djl.nn.Block;
import ai.djl.nn.BlockFactory;
import ai.djl.util.Utils;
import io.github.mambadjl.checkpoint.Checkpoint;
import java.io.BufferedOutputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Map;

/**
 * Builds the {@link CausalLM} that a checkpoint directory describes and loads its weights, so that
 * DJL's {@code Criteria} can load Mamba, Mamba2 and Bamba checkpoints on any engine:
 *
 * <pre>{@code
 * Criteria.builder().setTypes(NDList.class, NDList.class)
 *     .optModelPath(dir).optEngine("PyTorch")
 *     .optArgument("blockFactory", "io.github.mambadjl.model.MambaBlockFactory")
 *     .optTranslator(new NoopTranslator()).build();
 * }</pre>
 *
 * <p>Input {@code NDList(input_ids)} or {@code NDList(input_ids, attention_mask)}, int64 {@code
 * [batch, seq]}; output {@code NDList(logits)}, float32 {@code [batch, seq, vocab_size]}. With the
 * argument {@code outputHiddenStates=true} the hidden states follow the logits in the output.
 *
 * <p>The factory loads the weights itself, from the checkpoint's own files. DJL's PyTorch engine
 * then still insists on a DJL parameter file {@code <model name>-NNNN.params} in the directory
 * (unless the option {@code hasParameter=false} is given): when none exists, the factory writes a
 * small one (a few dozen bytes, no weights) that tells {@link CausalLM} its weights are already
 * loaded. The directory must therefore be writable on the first load without that option.
 */
public final class MambaBlockFactory implements BlockFactory {

    private static final long serialVersionUID = 1L;

    /** The Criteria argument that appends the hidden states to the output. */
    public static final String OUTPUT_HIDDEN_STATES = "outputHiddenStates";

    /** {@inheritDoc} */
    @Override
    public Block newBlock(Model model, Path modelPath, Map<String, ?> arguments)
            throws IOException {
        try (Checkpoint checkpoint = Checkpoint.open(modelPath)) {
            CausalLM lm = CausalLM.fromConfig(checkpoint.config());
            lm.loadWeights(checkpoint, model.getNDManager(), model.getDataType());
            Object hidden = arguments.get(OUTPUT_HIDDEN_STATES);
            lm.setOutputHiddenStates(hidden != null && Boolean.parseBoolean(hidden.toString()));
            ensureParameterFile(modelPath, model);
            return lm;
        }
    }

    private static void ensureParameterFile(Path modelPath, Model model) throws IOException {
        if (Utils.getCurrentEpoch(modelPath, model.getName()) >= 0) {
            return;
        }
        Path file =
                modelPath.resolve(String.format(Locale.ROOT, "%s-0000.params", model.getName()));
        try (DataOutputStream os =
                new DataOutputStream(new BufferedOutputStream(Files.newOutputStream(file)))) {
            os.writeBytes("DJL@");
            os.writeInt(1);
            os.writeUTF(model.getName());
            os.writeUTF(model.getDataType().name());
            os.writeInt(0);
            os.writeInt(0);
            CausalLM.writeCheckpointMarker(os);
        } catch (IOException e) {
            throw new IOException(
                    "DJL's PyTorch engine needs a parameter file "
                            + file
                            + " next to a block built by a BlockFactory, and it cannot be written ("
                            + e.getMessage()
                            + "); make the directory writable, or add"
                            + " .optOption(\"hasParameter\", \"false\") to the Criteria",
                    e);
        }
    }
}
