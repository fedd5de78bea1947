package io.github.mambadjl.config;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParseException;
import com.google.gson.JsonParser;
import java.io.IOException;
import java.io.Reader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Reads a {@link ModelConfig} from the configuration files that Mamba-family checkpoints ship.
 *
 * <ul>
 *   <li>Hugging Face {@code config.json} with {@code model_type} {@code mamba}, {@code mamba2} or
 *       {@code bamba}; missing fields take transformers' defaults.
 *   <li>The original state-spaces {@code config.json} ({@code d_model}, {@code n_layer}, {@code
 *       ssm_cfg}, ...); missing settings take mamba_ssm's defaults and the vocabulary is padded to
 *       {@code pad_vocab_size_multiple}.
 *   <li>Mistral's {@code params.json} ({@code dim}, {@code n_layers}, {@code n_groups}, ...), a
 *       Mamba2 model with mamba_ssm's defaults for everything else.
 * </ul>
 *
 * <p>Invalid values raise a {@link ConfigException} that names the field and the file.
 */
public final class ModelConfigs {

    /** The Hugging Face and state-spaces configuration file name. */
    public static final String CONFIG_JSON = "config.json";

    /** Mistral's configuration file name. */
    public static final String PARAMS_JSON = "params.json";

    private static final Logger logger = LoggerFactory.getLogger(ModelConfigs.class);

    private static final Set<String> MAMBA1_SSM_KEYS =
            Set.of(
                    "layer",
                    "d_state",
                    "d_conv",
                    "expand",
                    "dt_rank",
                    "dt_min",
                    "dt_max",
                    "dt_init",
                    "dt_scale",
                    "dt_init_floor",
                    "conv_bias",
                    "bias",
                    "use_fast_path");
    private static final Set<String> MAMBA2_SSM_KEYS =
            Set.of(
                    "layer",
                    "d_state",
                    "d_conv",
                    "conv_init",
                    "expand",
                    "headdim",
                    "d_ssm",
                    "ngroups",
                    "A_init_range",
                    "D_has_hdim",
                    "rmsnorm",
                    "norm_before_gate",
                    "dt_min",
                    "dt_max",
                    "dt_init_floor",
                    "dt_limit",
                    "bias",
                    "conv_bias",
                    "chunk_size",
                    "use_mem_eff_path");

    private ModelConfigs() {}

    /**
     * Reads the configuration of a checkpoint directory: its {@code config.json} (Hugging Face or
     * state-spaces, told apart by their fields) or, when there is none, its Mistral {@code
     * params.json}. A path to one of these files is read as that file.
     *
     * @param path the checkpoint directory or a configuration file
     * @return the typed configuration
     * @throws IOException if no configuration file is found or it cannot be read or parsed
     * @throws ConfigException if a field is invalid
     */
    public static ModelConfig read(Path path) throws IOException {
        if (Files.isRegularFile(path)) {
            if (PARAMS_JSON.equals(String.valueOf(path.getFileName()))) {
                return readMistral(path);
            }
            return readConfigJson(path);
        }
        Path config = path.resolve(CONFIG_JSON);
        if (Files.isRegularFile(config)) {
            return readConfigJson(config);
        }
        Path params = path.resolve(PARAMS_JSON);
        if (Files.isRegularFile(params)) {
            return readMistral(params);
        }
        throw new NoSuchFileException(
                path.toString(),
                null,
                "no config.json (Hugging Face or state-spaces) nor params.json (Mistral) found;"
                        + " point mamba-djl at the directory of a Mamba-family checkpoint");
    }

    /**
     * Reads a {@code config.json}, in the Hugging Face form ({@code model_type}) or the original
     * state-spaces form ({@code d_model}).
     *
     * @param file the {@code config.json}
     * @return the typed configuration
     * @throws IOException if the file cannot be read or is not a JSON object
     * @throws ConfigException if a field is invalid
     */
    public static ModelConfig readConfigJson(Path file) throws IOException {
        JsonObject json = parse(file);
        if (json.has("model_type") || json.has("hidden_size")) {
            return inFile(file, () -> huggingFace(new JsonFields(json, "")));
        }
        if (json.has("d_model")) {
            return inFile(file, () -> stateSpaces(new JsonFields(json, "")));
        }
        throw new ConfigException(
                        "model_type",
                        "the file has neither model_type (Hugging Face) nor d_model"
                                + " (state-spaces); it is not a Mamba-family config")
                .inFile(file);
    }

    /**
     * Tells which format a configuration file is in: {@code params.json} is Mistral's, a {@code
     * config.json} with {@code d_model} and without {@code model_type} is state-spaces', any other
     * is Hugging Face's.
     *
     * @param file the configuration file
     * @return the format
     * @throws IOException if the file cannot be read or is not a JSON object
     */
    public static ConfigFormat detectFormat(Path file) throws IOException {
        if (PARAMS_JSON.equals(String.valueOf(file.getFileName()))) {
            return ConfigFormat.MISTRAL;
        }
        JsonObject json = parse(file);
        boolean huggingFace = json.has("model_type") || json.has("hidden_size");
        return !huggingFace && json.has("d_model")
                ? ConfigFormat.STATE_SPACES
                : ConfigFormat.HUGGING_FACE;
    }

    /**
     * Reads a Hugging Face {@code config.json} ({@code model_type} {@code mamba}, {@code mamba2} or
     * {@code bamba}).
     *
     * @param file the file
     * @return the typed configuration
     * @throws IOException if the file cannot be read or is not a JSON object
     * @throws ConfigException if a field is invalid
     */
    public static ModelConfig readHuggingFace(Path file) throws IOException {
        JsonObject json = parse(file);
        return inFile(file, () -> huggingFace(new JsonFields(json, "")));
    }

    /**
     * Reads an original state-spaces {@code config.json} (mamba_ssm's {@code MambaConfig}).
     *
     * @param file the file
     * @return a {@link MambaConfig} or a {@link Mamba2Config}
     * @throws IOException if the file cannot be read or is not a JSON object
     * @throws ConfigException if a field is invalid or names a feature mamba-djl lacks
     */
    public static ModelConfig readStateSpaces(Path file) throws IOException {
        JsonObject json = parse(file);
        return inFile(file, () -> stateSpaces(new JsonFields(json, "")));
    }

    /**
     * Reads Mistral's {@code params.json} (Mamba-Codestral).
     *
     * @param file the file
     * @return the Mamba2 configuration
     * @throws IOException if the file cannot be read or is not a JSON object
     * @throws ConfigException if a field is invalid
     */
    public static Mamba2Config readMistral(Path file) throws IOException {
        JsonObject json = parse(file);
        return inFile(file, () -> mistral(new JsonFields(json, "")));
    }

    private interface ConfigSupplier<T> {
        T get();
    }

    private static <T> T inFile(Path file, ConfigSupplier<T> supplier) {
        try {
            return supplier.get();
        } catch (ConfigException e) {
            throw e.inFile(file);
        }
    }

    private static JsonObject parse(Path file) throws IOException {
        JsonElement element;
        try (Reader reader = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
            // Lenient: Python's json module writes bare Infinity and NaN.
            element = JsonParser.parseReader(reader);
        } catch (JsonParseException e) {
            throw new IOException(file + " is not valid JSON: " + e.getMessage(), e);
        }
        if (!element.isJsonObject()) {
            throw new IOException(file + " must hold a JSON object, got: " + element);
        }
        return element.getAsJsonObject();
    }

    private static ModelConfig huggingFace(JsonFields json) {
        String modelType = json.string("model_type", null);
        if (modelType == null) {
            throw new ConfigException(
                    "model_type", "is missing; expected \"mamba\", \"mamba2\" or \"bamba\"");
        }
        return switch (modelType) {
            case "mamba" -> huggingFaceMamba(json);
            case "mamba2" -> huggingFaceMamba2(json);
            case "bamba" -> huggingFaceBamba(json);
            default ->
                    throw new ConfigException(
                            "model_type",
                            "\""
                                    + modelType
                                    + "\" is not a Mamba-family model; expected \"mamba\", \"mamba2\" or"
                                    + " \"bamba\"");
        };
    }

    private static MambaConfig huggingFaceMamba(JsonFields json) {
        int hidden = json.intValue("hidden_size", 768);
        int expand = json.intValue("expand", 2);
        int vocab = json.intValue("vocab_size", 50280);
        int rank =
                !json.has("time_step_rank") || json.isString("time_step_rank", "auto")
                        ? MambaConfig.autoTimeStepRank(hidden)
                        : json.intValue("time_step_rank", 0);
        return new MambaConfig(
                vocab,
                vocab,
                hidden,
                json.intValue("num_hidden_layers", 32),
                json.intValue("state_size", 16),
                expand,
                json.intValue("intermediate_size", expand * hidden),
                json.intValue("conv_kernel", 4),
                json.bool("use_bias", false),
                json.bool("use_conv_bias", true),
                json.string("hidden_act", "silu"),
                rank,
                json.doubleValue("time_step_scale", 1.0),
                json.doubleValue("time_step_min", 0.001),
                json.doubleValue("time_step_max", 0.1),
                json.doubleValue("time_step_floor", 1e-4),
                json.string("time_step_init_scheme", "random"),
                json.doubleValue("layer_norm_epsilon", 1e-5),
                json.bool("residual_in_fp32", true),
                json.bool("tie_word_embeddings", true),
                json.doubleValue("initializer_range", 0.1),
                json.bool("rescale_prenorm_residual", false),
                json.tokenId("bos_token_id", 0),
                json.tokenId("eos_token_id", 0),
                json.tokenId("pad_token_id", 0));
    }

    private static Mamba2Config huggingFaceMamba2(JsonFields json) {
        int hidden = json.intValue("hidden_size", 4096);
        int expand = json.intValue("expand", 2);
        int vocab = json.intValue("vocab_size", 32768);
        return new Mamba2Config(
                vocab,
                vocab,
                hidden,
                json.intValue("num_hidden_layers", 64),
                json.intValue("num_heads", 128),
                json.intValue("head_dim", 64),
                json.intValue("n_groups", 8),
                json.intValue("state_size", 128),
                expand,
                expand * hidden,
                json.intValue("conv_kernel", 4),
                json.intValue("chunk_size", 256),
                json.bool("use_bias", false),
                json.bool("use_conv_bias", true),
                json.string("hidden_act", "silu"),
                json.doubleValue("time_step_min", 0.001),
                json.doubleValue("time_step_max", 0.1),
                json.doubleValue("time_step_floor", 1e-4),
                json.timeStepLimit("time_step_limit"),
                json.bool("norm_before_gate", false),
                json.bool("rms_norm", true),
                json.doubleValue("layer_norm_epsilon", 1e-5),
                json.bool("residual_in_fp32", true),
                json.bool("tie_word_embeddings", false),
                json.doubleValue("initializer_range", 0.1),
                json.tokenId("bos_token_id", 0),
                json.tokenId("eos_token_id", 2),
                json.tokenId("pad_token_id", 1));
    }

    private static BambaConfig huggingFaceBamba(JsonFields json) {
        int hidden = json.intValue("hidden_size", 4096);
        int expand = json.intValue("mamba_expand", 2);
        int heads = json.intValue("mamba_n_heads", 128);
        int dHead =
                !json.has("mamba_d_head") || json.isString("mamba_d_head", "auto")
                        ? expand * hidden / heads
                        : json.intValue("mamba_d_head", 0);
        double ropeTheta = json.doubleValue("rope_theta", 10000.0);
        double partialRotary = json.doubleValue("partial_rotary_factor", 0.5);
        if (json.has("rope_parameters")) {
            JsonFields rope = json.object("rope_parameters");
            checkDefaultRope(rope);
            ropeTheta = rope.doubleValue("rope_theta", ropeTheta);
            partialRotary = rope.doubleValue("partial_rotary_factor", partialRotary);
        }
        if (json.has("rope_scaling")) {
            checkDefaultRope(json.object("rope_scaling"));
        }
        return new BambaConfig(
                json.intValue("vocab_size", 128000),
                hidden,
                json.intValue("num_hidden_layers", 32),
                json.intValue("intermediate_size", 14336),
                json.intValue("num_attention_heads", 32),
                json.intValue("num_key_value_heads", 8),
                json.intList("attn_layer_indices"),
                heads,
                dHead,
                json.intValue("mamba_n_groups", 1),
                json.intValue("mamba_d_state", 256),
                json.intValue("mamba_d_conv", 4),
                expand,
                json.intValue("mamba_chunk_size", 256),
                json.bool("mamba_conv_bias", true),
                json.bool("mamba_proj_bias", false),
                json.doubleValue("time_step_min", 0.001),
                json.doubleValue("time_step_max", 0.1),
                json.timeStepLimit("time_step_limit"),
                json.string("hidden_act", "silu"),
                ropeTheta,
                partialRotary,
                json.intValue("max_position_embeddings", 262144),
                json.bool("attention_bias", false),
                json.bool("mlp_bias", false),
                json.doubleValue("rms_norm_eps", 1e-5),
                json.bool("tie_word_embeddings", false),
                json.doubleValue("initializer_range", 0.02),
                json.tokenId("bos_token_id", 1),
                json.tokenId("eos_token_id", 2),
                json.tokenId("pad_token_id", 0));
    }

    private static void checkDefaultRope(JsonFields rope) {
        String type = rope.string("rope_type", rope.string("type", "default"));
        if (!"default".equals(type)) {
            throw new ConfigException(
                    rope.fieldName("rope_type"),
                    "rope type \""
                            + type
                            + "\" is not supported; only the default rotary embedding is");
        }
    }

    private static ModelConfig stateSpaces(JsonFields json) {
        int hidden = json.requiredInt("d_model");
        int layers = json.requiredInt("n_layer");
        int vocab = json.requiredInt("vocab_size");
        int padded = padVocab(json, vocab, 8);
        if (json.intValue("d_intermediate", 0) != 0) {
            throw new ConfigException(
                    "d_intermediate",
                    "mamba_ssm MLP blocks (d_intermediate > 0) are not supported; only pure"
                            + " Mamba/Mamba2 stacks are");
        }
        if (!json.intList("attn_layer_idx").isEmpty()) {
            throw new ConfigException(
                    "attn_layer_idx",
                    "mamba_ssm's own attention hybrid is not supported; use a Bamba checkpoint in"
                            + " the Hugging Face layout for hybrid models");
        }
        requireRmsNorm(json);
        boolean residualInFp32 = json.bool("residual_in_fp32", true);
        boolean tie = json.bool("tie_embeddings", true);
        JsonFields ssm = json.object("ssm_cfg");
        String layer = ssm.string("layer", "Mamba1");
        return switch (layer) {
            case "Mamba1" ->
                    stateSpacesMamba1(ssm, hidden, layers, vocab, padded, residualInFp32, tie);
            case "Mamba2" ->
                    mamba2Defaults(ssm, hidden, layers, vocab, padded, residualInFp32, tie);
            default ->
                    throw new ConfigException(
                            ssm.fieldName("layer"),
                            "expected \"Mamba1\" or \"Mamba2\", got \"" + layer + "\"");
        };
    }

    private static MambaConfig stateSpacesMamba1(
            JsonFields ssm,
            int hidden,
            int layers,
            int vocab,
            int padded,
            boolean residualInFp32,
            boolean tie) {
        warnUnknown(ssm, MAMBA1_SSM_KEYS);
        int expand = ssm.intValue("expand", 2);
        int rank =
                !ssm.has("dt_rank") || ssm.isString("dt_rank", "auto")
                        ? MambaConfig.autoTimeStepRank(hidden)
                        : ssm.intValue("dt_rank", 0);
        return new MambaConfig(
                vocab,
                padded,
                hidden,
                layers,
                ssm.intValue("d_state", 16),
                expand,
                expand * hidden,
                ssm.intValue("d_conv", 4),
                ssm.bool("bias", false),
                ssm.bool("conv_bias", true),
                "silu",
                rank,
                ssm.doubleValue("dt_scale", 1.0),
                ssm.doubleValue("dt_min", 0.001),
                ssm.doubleValue("dt_max", 0.1),
                ssm.doubleValue("dt_init_floor", 1e-4),
                ssm.string("dt_init", "random"),
                1e-5,
                residualInFp32,
                tie,
                0.02,
                true,
                null,
                null,
                null);
    }

    private static Mamba2Config mamba2Defaults(
            JsonFields ssm,
            int hidden,
            int layers,
            int vocab,
            int padded,
            boolean residualInFp32,
            boolean tie) {
        warnUnknown(ssm, MAMBA2_SSM_KEYS);
        int expand = ssm.intValue("expand", 2);
        int inner = expand * hidden;
        int headDim = ssm.intValue("headdim", 64);
        if (ssm.has("d_ssm") && ssm.intValue("d_ssm", inner) != inner) {
            throw new ConfigException(
                    ssm.fieldName("d_ssm"),
                    "a d_ssm smaller than expand * d_model (" + inner + ") is not supported");
        }
        if (ssm.bool("D_has_hdim", false)) {
            throw new ConfigException(
                    ssm.fieldName("D_has_hdim"), "D per head channel is not supported");
        }
        if (headDim <= 0 || inner % headDim != 0) {
            throw new ConfigException(
                    ssm.fieldName("headdim"),
                    "expand * d_model (" + inner + ") must be a multiple of headdim " + headDim);
        }
        return new Mamba2Config(
                vocab,
                padded,
                hidden,
                layers,
                inner / headDim,
                headDim,
                ssm.intValue("ngroups", 1),
                ssm.intValue("d_state", 128),
                expand,
                inner,
                ssm.intValue("d_conv", 4),
                ssm.intValue("chunk_size", 256),
                ssm.bool("bias", false),
                ssm.bool("conv_bias", true),
                "silu",
                ssm.doubleValue("dt_min", 0.001),
                ssm.doubleValue("dt_max", 0.1),
                ssm.doubleValue("dt_init_floor", 1e-4),
                ssm.timeStepLimit("dt_limit"),
                ssm.bool("norm_before_gate", false),
                ssm.bool("rmsnorm", true),
                1e-5,
                residualInFp32,
                tie,
                0.02,
                null,
                null,
                null);
    }

    private static Mamba2Config mistral(JsonFields json) {
        int hidden = json.requiredInt("dim");
        int layers = json.requiredInt("n_layers");
        int vocab = json.requiredInt("vocab_size");
        int padded = padVocab(json, vocab, 1);
        requireRmsNorm(json);
        int groups = json.intValue("n_groups", 8);
        JsonObject ssm = new JsonObject();
        ssm.addProperty("ngroups", groups);
        return mamba2Defaults(
                new JsonFields(ssm, ""),
                hidden,
                layers,
                vocab,
                padded,
                json.bool("residual_in_fp32", true),
                json.bool("tie_embeddings", false));
    }

    private static int padVocab(JsonFields json, int vocab, int defaultMultiple) {
        int multiple = json.intValue("pad_vocab_size_multiple", defaultMultiple);
        if (multiple <= 0) {
            throw new ConfigException(
                    "pad_vocab_size_multiple", "must be positive, got " + multiple);
        }
        if (vocab <= 0) {
            throw new ConfigException("vocab_size", "must be positive, got " + vocab);
        }
        long padded = ((long) vocab + multiple - 1) / multiple * multiple;
        if (padded > Integer.MAX_VALUE) {
            throw new ConfigException("vocab_size", "the padded vocabulary is too large");
        }
        return (int) padded;
    }

    private static void requireRmsNorm(JsonFields json) {
        if (!json.bool("rms_norm", true)) {
            throw new ConfigException(
                    "rms_norm",
                    "LayerNorm blocks (rms_norm false) are not supported; every published Mamba"
                            + " checkpoint uses RMSNorm");
        }
    }

    private static void warnUnknown(JsonFields ssm, Set<String> known) {
        for (String key : ssm.keys()) {
            if (!known.contains(key)) {
                logger.warn("Ignoring unknown setting {}", ssm.fieldName(key));
            }
        }
    }
}
