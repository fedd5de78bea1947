package io.github.mambadjl.checkpoint;

import io.github.mambadjl.config.ConfigFormat;
import io.github.mambadjl.config.ModelConfig;
import io.github.mambadjl.config.ModelConfigs;
import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.NoSuchElementException;
import java.util.Set;
import java.util.function.UnaryOperator;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A checkpoint directory: its typed configuration and its weights under the internal (transformers)
 * names of {@link WeightNames}, whatever layout it was stored in.
 *
 * <p>{@link #open(Path)} detects the layout from the files present, reads the config, opens the
 * weights (memory-mapped for safetensors) and checks them against the config: every required tensor
 * present, with the shape the config implies and a floating-point type; unexpected extra tensors
 * are logged and ignored, as transformers does. When the file has no {@code lm_head.weight}, or the
 * config ties the embeddings, the checkpoint is tied and {@link #tensor(String)
 * tensor("lm_head.weight")} returns the embedding.
 *
 * <p>Close the checkpoint to release its files; its tensors are unreadable afterwards.
 */
public final class Checkpoint implements AutoCloseable {

    private static final Logger logger = LoggerFactory.getLogger(Checkpoint.class);

    private static final String MODEL_SAFETENSORS = "model.safetensors";
    private static final String PYTORCH_BIN = "pytorch_model.bin";
    private static final String CONSOLIDATED = "consolidated.safetensors";

    private final Path directory;
    private final CheckpointLayout layout;
    private final ModelConfig config;
    private final TensorSource source;
    private final Map<String, TensorData> tensors;
    private final boolean tied;

    private Checkpoint(
            Path directory,
            CheckpointLayout layout,
            ModelConfig config,
            TensorSource source,
            Map<String, TensorData> tensors,
            boolean tied) {
        this.directory = directory;
        this.layout = layout;
        this.config = config;
        this.source = source;
        this.tensors = tensors;
        this.tied = tied;
    }

    /**
     * Opens a checkpoint directory.
     *
     * @param directory the directory
     * @return the open checkpoint
     * @throws IOException if a file cannot be read
     * @throws CheckpointException if the layout is not recognised, a file is malformed or unsafe,
     *     or the weights disagree with the config; the message says what to do
     * @throws io.github.mambadjl.config.ConfigException if the config is invalid
     */
    public static Checkpoint open(Path directory) throws IOException {
        if (!Files.isDirectory(directory)) {
            throw new CheckpointException(
                    directory
                            + " is not a directory; point mamba-djl at the directory holding"
                            + " config.json (or params.json) and the weights");
        }
        Path configJson = directory.resolve(ModelConfigs.CONFIG_JSON);
        Path paramsJson = directory.resolve(ModelConfigs.PARAMS_JSON);
        Path index = directory.resolve(ShardedSafetensors.INDEX_FILE);
        Path single = directory.resolve(MODEL_SAFETENSORS);
        Path bin = directory.resolve(PYTORCH_BIN);
        Path consolidated = directory.resolve(CONSOLIDATED);
        if (Files.isRegularFile(configJson)) {
            ConfigFormat format = ModelConfigs.detectFormat(configJson);
            boolean hf = format == ConfigFormat.HUGGING_FACE;
            if (Files.isRegularFile(index)) {
                return load(
                        directory,
                        hf
                                ? CheckpointLayout.HF_SHARDED_SAFETENSORS
                                : CheckpointLayout.STATE_SPACES_SAFETENSORS,
                        ModelConfigs.readConfigJson(configJson),
                        index);
            }
            if (Files.isRegularFile(single)) {
                return load(
                        directory,
                        hf
                                ? CheckpointLayout.HF_SAFETENSORS
                                : CheckpointLayout.STATE_SPACES_SAFETENSORS,
                        ModelConfigs.readConfigJson(configJson),
                        single);
            }
            if (Files.isRegularFile(bin)) {
                return load(
                        directory,
                        hf
                                ? CheckpointLayout.HF_PYTORCH_BIN
                                : CheckpointLayout.STATE_SPACES_PYTORCH_BIN,
                        ModelConfigs.readConfigJson(configJson),
                        bin);
            }
        }
        if (Files.isRegularFile(paramsJson) && Files.isRegularFile(consolidated)) {
            return load(
                    directory,
                    CheckpointLayout.MISTRAL_CONSOLIDATED,
                    ModelConfigs.readMistral(paramsJson),
                    consolidated);
        }
        throw new CheckpointException(describeMissing(directory, configJson, paramsJson));
    }

    private static String describeMissing(Path directory, Path configJson, Path paramsJson)
            throws IOException {
        List<String> unsupported = new ArrayList<>();
        try (DirectoryStream<Path> files = Files.newDirectoryStream(directory)) {
            for (Path file : files) {
                String name = file.getFileName().toString();
                if (name.endsWith(".gguf")
                        || name.endsWith(".ggml")
                        || name.endsWith(".pt")
                        || name.endsWith(".pth")
                        || name.endsWith(".ckpt")
                        || name.endsWith(".bin.index.json")
                        || name.endsWith(".h5")
                        || name.endsWith(".msgpack")
                        || name.endsWith(".onnx")) {
                    unsupported.add(name);
                }
            }
        }
        Collections.sort(unsupported);
        String hint =
                unsupported.isEmpty()
                        ? ""
                        : " It holds weights in a format mamba-djl does not read ("
                                + String.join(", ", unsupported)
                                + "); convert them to safetensors.";
        if (Files.isRegularFile(configJson)) {
            return "Checkpoint directory "
                    + directory
                    + " has a config.json but no weights: expected model.safetensors,"
                    + " model.safetensors.index.json with its shards, or pytorch_model.bin."
                    + hint;
        }
        if (Files.isRegularFile(paramsJson)) {
            return "Checkpoint directory "
                    + directory
                    + " has a Mistral params.json but no consolidated.safetensors."
                    + hint;
        }
        return "Directory "
                + directory
                + " is not a Mamba-family checkpoint: it has no config.json (Hugging Face or"
                + " state-spaces) nor params.json (Mistral)."
                + hint;
    }

    private static Checkpoint load(
            Path directory, CheckpointLayout layout, ModelConfig config, Path weights)
            throws IOException {
        TensorSource source =
                switch (layout) {
                    case HF_SHARDED_SAFETENSORS -> ShardedSafetensors.open(weights);
                    case HF_PYTORCH_BIN, STATE_SPACES_PYTORCH_BIN -> PytorchZipFile.open(weights);
                    default ->
                            weights.getFileName().toString().endsWith(".json")
                                    ? ShardedSafetensors.open(weights)
                                    : SafetensorsFile.open(weights);
                };
        try {
            UnaryOperator<String> naming =
                    switch (layout) {
                        case STATE_SPACES_PYTORCH_BIN, STATE_SPACES_SAFETENSORS ->
                                WeightNames::fromStateSpaces;
                        case MISTRAL_CONSOLIDATED -> WeightNames::fromMistral;
                        default -> UnaryOperator.identity();
                    };
            Map<String, TensorData> renamed = new LinkedHashMap<>();
            for (String name : source.names()) {
                String internal = naming.apply(name);
                TensorData tensor = source.tensor(name);
                if (renamed.put(internal, tensor.withName(internal)) != null) {
                    throw new CheckpointException(
                            "Two tensors of " + weights + " map to the name " + internal);
                }
            }
            return validate(directory, layout, config, source, renamed, weights);
        } catch (IOException | RuntimeException e) {
            source.close();
            throw e;
        }
    }

    private static Checkpoint validate(
            Path directory,
            CheckpointLayout layout,
            ModelConfig config,
            TensorSource source,
            Map<String, TensorData> tensors,
            Path weights)
            throws CheckpointException {
        String embedding = WeightNames.embedding(config.family());
        boolean tied = config.tieWordEmbeddings() || !tensors.containsKey(WeightNames.LM_HEAD);
        if (tied && !config.tieWordEmbeddings()) {
            logger.warn(
                    "{} has no {} although its config does not tie the embeddings; using the"
                            + " embedding as the LM head",
                    weights,
                    WeightNames.LM_HEAD);
        }
        Map<String, long[]> expected = new LinkedHashMap<>(ExpectedWeights.of(config));
        if (tied) {
            expected.remove(WeightNames.LM_HEAD);
        }
        List<String> missing = new ArrayList<>();
        for (Map.Entry<String, long[]> entry : expected.entrySet()) {
            TensorData tensor = tensors.get(entry.getKey());
            if (tensor == null) {
                missing.add(entry.getKey());
                continue;
            }
            ExpectedWeights.checkShape(tensor, entry.getValue(), weights);
            if (!tensor.dtype().isFloating()) {
                throw new CheckpointException(
                        "Tensor "
                                + tensor.name()
                                + " in "
                                + weights
                                + " has dtype "
                                + tensor.dtype()
                                + "; model weights must be F32, F16, BF16 or F64");
            }
        }
        if (!missing.isEmpty()) {
            throw new CheckpointException(
                    "Checkpoint "
                            + weights
                            + " lacks "
                            + missing.size()
                            + " required tensor(s) for its "
                            + config.family()
                            + " config: "
                            + summarize(missing)
                            + ". The download is incomplete or the weights belong to another"
                            + " model");
        }
        List<String> extra = new ArrayList<>();
        for (String name : tensors.keySet()) {
            if (!expected.containsKey(name) && !(tied && WeightNames.LM_HEAD.equals(name))) {
                extra.add(name);
            }
        }
        if (!extra.isEmpty()) {
            logger.warn(
                    "Ignoring {} unexpected tensor(s) in {}: {}",
                    extra.size(),
                    weights,
                    summarize(extra));
        }
        Map<String, TensorData> exposed = new LinkedHashMap<>(tensors);
        if (tied) {
            exposed.put(WeightNames.LM_HEAD, tensors.get(embedding).withName(WeightNames.LM_HEAD));
        }
        return new Checkpoint(
                directory, layout, config, source, Collections.unmodifiableMap(exposed), tied);
    }

    private static String summarize(List<String> names) {
        int shown = Math.min(names.size(), 10);
        String list = String.join(", ", names.subList(0, shown));
        return shown < names.size() ? list + ", ... (" + (names.size() - shown) + " more)" : list;
    }

    /**
     * Returns the checkpoint directory.
     *
     * @return the directory
     */
    public Path directory() {
        return directory;
    }

    /**
     * Returns the detected layout.
     *
     * @return the layout
     */
    public CheckpointLayout layout() {
        return layout;
    }

    /**
     * Returns the typed configuration.
     *
     * @return the config
     */
    public ModelConfig config() {
        return config;
    }

    /**
     * Returns whether the LM head is the token embedding (tied in the config, or absent from the
     * weights).
     *
     * @return {@code true} if tied
     */
    public boolean tiedEmbeddings() {
        return tied;
    }

    /**
     * Returns the element type of the stored embedding, which is that of the checkpoint.
     *
     * @return the weights' type
     */
    public TensorDType weightType() {
        return tensors.get(WeightNames.embedding(config.family())).dtype();
    }

    /**
     * Returns the internal names of the tensors: every weight the config needs (the LM head
     * included), then any unexpected extra tensors.
     *
     * @return the names
     */
    public Set<String> names() {
        return tensors.keySet();
    }

    /**
     * Returns whether a tensor of this internal name exists.
     *
     * @param name the internal name
     * @return {@code true} if it exists
     */
    public boolean contains(String name) {
        return tensors.containsKey(name);
    }

    /**
     * Returns a tensor by its internal name.
     *
     * @param name the internal name, for example {@code backbone.layers.0.mixer.A_log}
     * @return the tensor view, named with the internal name
     * @throws NoSuchElementException if there is no such tensor
     */
    public TensorData tensor(String name) {
        TensorData tensor = tensors.get(name);
        if (tensor == null) {
            throw new NoSuchElementException("Checkpoint " + directory + " has no tensor " + name);
        }
        return tensor;
    }

    /** Closes the weight files; the tensors become unreadable. */
    @Override
    public void close() {
        source.close();
    }

    /** {@inheritDoc} */
    @Override
    public String toString() {
        return "Checkpoint[" + directory + ", " + layout + ", " + config.family() + "]";
    }
}
