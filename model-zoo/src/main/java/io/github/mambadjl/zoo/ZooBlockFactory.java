package io.github.mambadjl.zoo;

import ai.djl.Model;
import ai.djl.ndarray.types.DataType;
import ai.djl.nn.Block;
import ai.djl.nn.BlockFactory;
import io.github.mambadjl.checkpoint.Checkpoint;
import io.github.mambadjl.model.CausalLM;
import io.github.mambadjl.model.MambaBlockFactory;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Map;

/**
 * The block factory of the zoo: on an engine that cannot read a checkpoint itself (PyTorch, and any
 * other but {@code Mamba}) it builds the {@link CausalLM} of the checkpoint directory and loads its
 * weights, as the api's {@link MambaBlockFactory} does, but writes nothing into the directory (the
 * zoo's models load with the option {@code hasParameter=false}, so no DJL {@code .params} marker is
 * needed and the Hugging Face cache keeps only repository files). On the {@code Mamba} engine it
 * returns {@code null}: that engine's {@code Model.load} reads the checkpoint directory.
 *
 * <p>Arguments: {@code dataType} (a DJL {@link DataType} name, applied to the model before its
 * weights are loaded, on every engine; bfloat16 is refused on PyTorch, whose DJL 0.35.1 binding
 * aborts the JVM on bfloat16 conversions), {@code defaultDataType} (the zoo entry's, used without
 * {@code dataType}; bfloat16 becomes float32 on PyTorch) and {@code outputHiddenStates}.
 */
public final class ZooBlockFactory implements BlockFactory {

    private static final long serialVersionUID = 1L;

    /** The name of the engine that loads checkpoint directories itself. */
    public static final String MAMBA_ENGINE = "Mamba";

    /** The Mamba engine's load option (or model property) naming the weights' data type. */
    public static final String MAMBA_DTYPE = "dtype";

    private static final String PYTORCH_ENGINE = "PyTorch";

    /** {@inheritDoc} */
    @Override
    public Block newBlock(Model model, Path modelPath, Map<String, ?> arguments)
            throws IOException {
        String engine = model.getNDManager().getEngine().getEngineName();
        DataType type = dataType(engine, arguments);
        model.setDataType(type);
        if (MAMBA_ENGINE.equals(engine)) {
            if (arguments.get(MAMBA_DTYPE) == null) {
                model.setProperty(MAMBA_DTYPE, type.name().toLowerCase(Locale.ROOT));
            }
            return null;
        }
        try (Checkpoint checkpoint = Checkpoint.open(modelPath)) {
            CausalLM lm = CausalLM.fromConfig(checkpoint.config());
            lm.loadWeights(checkpoint, model.getNDManager(), model.getDataType());
            Object hidden = arguments.get(MambaBlockFactory.OUTPUT_HIDDEN_STATES);
            lm.setOutputHiddenStates(hidden != null && Boolean.parseBoolean(hidden.toString()));
            return lm;
        }
    }

    /**
     * Returns the data type to load the weights in on an engine: the argument {@code dataType},
     * else {@code defaultDataType} (bfloat16 read as float32 on PyTorch), else float32.
     *
     * @param engine the engine name
     * @param arguments the Criteria arguments
     * @return the data type
     * @throws IllegalArgumentException for an unknown type, or bfloat16 asked of PyTorch
     */
    static DataType dataType(String engine, Map<String, ?> arguments) {
        boolean pytorch = PYTORCH_ENGINE.equals(engine);
        Object asked = arguments.get(ZooArguments.DATA_TYPE);
        if (asked != null) {
            DataType type = parseDataType(asked.toString());
            if (pytorch && type == DataType.BFLOAT16) {
                throw new IllegalArgumentException(
                        "dataType bfloat16 is not available on the PyTorch engine (DJL 0.35.1's"
                                + " binding aborts the JVM on bfloat16 conversions); use float32"
                                + " or float16, or the Mamba engine");
            }
            return type;
        }
        Object def = arguments.get(ZooArguments.DEFAULT_DATA_TYPE);
        DataType type = def == null ? DataType.FLOAT32 : parseDataType(def.toString());
        return pytorch && type == DataType.BFLOAT16 ? DataType.FLOAT32 : type;
    }

    static DataType parseDataType(String name) {
        String n = name.trim().toUpperCase(Locale.ROOT);
        for (DataType t : new DataType[] {DataType.FLOAT32, DataType.FLOAT16, DataType.BFLOAT16}) {
            if (t.name().equals(n)) {
                return t;
            }
        }
        throw new IllegalArgumentException(
                "dataType '" + name + "' is not a weight type; use float32, float16 or bfloat16");
    }
}
