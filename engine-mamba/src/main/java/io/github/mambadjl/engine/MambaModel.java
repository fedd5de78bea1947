package io.github.mambadjl.engine;

import ai.djl.BaseModel;
import ai.djl.Device;
import ai.djl.MalformedModelException;
import ai.djl.ndarray.types.DataType;
import java.io.FileNotFoundException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

/**
 * A {@link ai.djl.Model} of the {@code Mamba} engine. In this version it loads the parameters of a
 * block that the caller set (DJL's {@code .params} format); building a model from a checkpoint
 * directory arrives with the wiring of the {@code api} block factory.
 */
public class MambaModel extends BaseModel {

    MambaModel(String name, Device device) {
        super(name);
        manager = MambaNDManager.getSystemManager().newSubManager(device);
        manager.setName("MambaModel");
        dataType = DataType.FLOAT32;
    }

    /**
     * Loads the parameters of the block set with {@link #setBlock} from {@code modelPath}.
     *
     * @param modelPath the model directory
     * @param prefix the parameter file's prefix ({@code null}: the model name)
     * @param options DJL loading options
     * @throws IOException if the files cannot be read
     * @throws MalformedModelException if the parameters do not fit the block
     */
    @Override
    public void load(Path modelPath, String prefix, Map<String, ?> options)
            throws IOException, MalformedModelException {
        if (Files.notExists(modelPath)) {
            throw new FileNotFoundException(
                    "Model directory doesn't exist: " + modelPath.toAbsolutePath());
        }
        if (block == null) {
            throw new UnsupportedOperationException(
                    "The Mamba engine loads a model only into a block set with setBlock in this"
                            + " version; loading checkpoint directories (config.json +"
                            + " safetensors) is not wired yet");
        }
        setModelDir(modelPath);
        loadBlock(prefix, options);
    }
}
