package io.github.mambadjl.examples.cli;

import ai.djl.Device;
import ai.djl.MalformedModelException;
import ai.djl.engine.Engine;
import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import ai.djl.ndarray.NDList;
import ai.djl.repository.zoo.Criteria;
import ai.djl.repository.zoo.ModelNotFoundException;
import ai.djl.repository.zoo.ZooModel;
import ai.djl.translate.NoopTranslator;
import io.github.mambadjl.hub.HubSettings;
import io.github.mambadjl.hub.HubTokenizers;
import io.github.mambadjl.hub.RepoId;
import io.github.mambadjl.hub.SnapshotDownloader;
import io.github.mambadjl.model.CausalLM;
import io.github.mambadjl.model.MambaBlockFactory;
import io.github.mambadjl.nativeops.CudaKernels;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

/**
 * A model loaded through DJL's {@link Criteria} ({@code NDList} in, {@code NDList} out) for the
 * command line, with its {@link CausalLM} block and, when the model has one, its tokenizer.
 */
public final class LoadedModel implements AutoCloseable {

    private final ZooModel<NDList, NDList> zoo;
    private final CausalLM lm;
    private final HuggingFaceTokenizer tokenizer;
    private final Path tempDir;
    private final ModelOptions options;

    private LoadedModel(
            ZooModel<NDList, NDList> zoo,
            CausalLM lm,
            HuggingFaceTokenizer tokenizer,
            Path tempDir,
            ModelOptions options) {
        this.zoo = zoo;
        this.lm = lm;
        this.tokenizer = tokenizer;
        this.tempDir = tempDir;
        this.options = options;
    }

    /**
     * Loads the model the options name.
     *
     * @param options the model, engine, device and dtype
     * @return the loaded model; close it when done
     * @throws CliException if the model cannot be found or loaded, or the device is missing
     */
    public static LoadedModel load(ModelOptions options) throws CliException {
        if (!Engine.hasEngine(options.engine())) {
            throw new CliException(
                    "the "
                            + options.engine()
                            + " engine is not on the class path; use --engine "
                            + (options.engine().equals("Mamba") ? "PyTorch" : "Mamba"));
        }
        Device device = device(options);
        Path tempDir = null;
        Criteria.Builder<NDList, NDList> criteria =
                Criteria.builder()
                        .setTypes(NDList.class, NDList.class)
                        .optTranslator(new NoopTranslator())
                        .optEngine(options.engine())
                        .optDevice(device);
        if (options.engine().equals("PyTorch")) {
            criteria.optArgument("blockFactory", MambaBlockFactory.class.getName());
        } else if (options.dtype() != null) {
            criteria.optOption("dtype", options.dtype());
        }
        boolean fromHub = false;
        String spec = options.model();
        try {
            if (spec == null) {
                tempDir = EmbeddedModel.extract();
                criteria.optModelPath(tempDir);
            } else if (spec.startsWith("djl://") || spec.startsWith("hf://")) {
                criteria.optModelUrls(spec);
                fromHub = spec.startsWith("hf://");
            } else if (Files.isDirectory(Path.of(spec))) {
                criteria.optModelPath(Path.of(spec).toAbsolutePath());
            } else if (Files.exists(Path.of(spec))) {
                throw new CliException(
                        "--model " + spec + " is a file; give the directory that holds it");
            } else if (ModelDirectory.isHubId(spec)) {
                criteria.optModelUrls("hf://" + spec);
                fromHub = true;
            } else {
                throw new CliException(
                        "--model "
                                + spec
                                + ": no such directory, and not a djl:// URL or a Hub repository"
                                + " id (owner/name)");
            }
        } catch (IOException e) {
            deleteQuietly(tempDir);
            throw new CliException("cannot unpack the embedded model: " + e.getMessage(), e);
        }
        ZooModel<NDList, NDList> zoo;
        try {
            zoo = criteria.build().loadModel();
        } catch (ModelNotFoundException
                | MalformedModelException
                | IOException
                | RuntimeException e) {
            deleteQuietly(tempDir);
            throw new CliException(
                    "cannot load " + options.describeModel() + ": " + Errors.describe(e), e);
        }
        if (!(zoo.getBlock() instanceof CausalLM lm)) {
            zoo.close();
            deleteQuietly(tempDir);
            throw new CliException(
                    options.describeModel()
                            + " did not load as a mamba-djl CausalLM (block "
                            + zoo.getBlock().getClass().getName()
                            + ")");
        }
        HuggingFaceTokenizer tokenizer;
        try {
            tokenizer = tokenizer(zoo.getModelPath(), fromHub);
        } catch (IOException | RuntimeException e) {
            zoo.close();
            deleteQuietly(tempDir);
            throw new CliException(
                    "cannot load the tokenizer of "
                            + options.describeModel()
                            + ": "
                            + Errors.describe(e),
                    e);
        }
        return new LoadedModel(zoo, lm, tokenizer, tempDir, options);
    }

    private static Device device(ModelOptions options) throws CliException {
        if (!options.gpu()) {
            return Device.cpu();
        }
        int gpus =
                options.engine().equals("Mamba")
                        ? (CudaKernels.isAvailable() ? CudaKernels.deviceCount() : 0)
                        : Engine.getEngine(options.engine()).getGpuCount();
        if (gpus == 0) {
            throw new CliException(
                    "--device gpu: the "
                            + options.engine()
                            + " engine sees no GPU on this machine; use --device cpu");
        }
        return Device.gpu();
    }

    private static HuggingFaceTokenizer tokenizer(Path dir, boolean fromHub) throws IOException {
        Map<String, String> opts = Map.of("addSpecialTokens", "false");
        if (HubTokenizers.hasTokenizer(dir)) {
            return HubTokenizers.fromSnapshot(dir, opts);
        }
        if (fromHub) {
            return HubTokenizers.load(
                    dir,
                    new SnapshotDownloader(HubSettings.fromEnvironment()),
                    RepoId.of(HubTokenizers.GPT_NEOX_20B),
                    opts);
        }
        return null;
    }

    private static void deleteQuietly(Path dir) {
        if (dir == null) {
            return;
        }
        try {
            EmbeddedModel.delete(dir);
        } catch (IOException e) {
            dir.toFile().deleteOnExit();
        }
    }

    /**
     * Returns the DJL model.
     *
     * @return the model loaded by Criteria
     */
    public ZooModel<NDList, NDList> zoo() {
        return zoo;
    }

    /**
     * Returns the language model block.
     *
     * @return the causal LM
     */
    public CausalLM lm() {
        return lm;
    }

    /**
     * Returns the tokenizer.
     *
     * @return the tokenizer, or {@code null} when the model has none
     */
    public HuggingFaceTokenizer tokenizer() {
        return tokenizer;
    }

    /**
     * Returns the options the model was loaded with.
     *
     * @return the options
     */
    public ModelOptions options() {
        return options;
    }

    /** {@inheritDoc} */
    @Override
    public void close() {
        if (tokenizer != null) {
            tokenizer.close();
        }
        zoo.close();
        deleteQuietly(tempDir);
    }
}
