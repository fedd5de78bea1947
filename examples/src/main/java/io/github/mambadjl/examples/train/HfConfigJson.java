package io.github.mambadjl.examples.train;

import com.google.gson.GsonBuilder;
import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import io.github.mambadjl.config.Mamba2Config;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/** Writes a Hugging Face {@code config.json} ({@code model_type} {@code mamba2}). */
final class HfConfigJson {

    private HfConfigJson() {}

    /**
     * Writes the config with transformers' field names.
     *
     * @param c the config
     * @param file the file to write
     * @throws IOException if the file cannot be written
     */
    static void write(Mamba2Config c, Path file) throws IOException {
        JsonObject json = new JsonObject();
        JsonArray architectures = new JsonArray();
        architectures.add("Mamba2ForCausalLM");
        json.add("architectures", architectures);
        json.addProperty("model_type", "mamba2");
        json.addProperty("vocab_size", c.vocabSize());
        json.addProperty("hidden_size", c.hiddenSize());
        json.addProperty("num_hidden_layers", c.numHiddenLayers());
        json.addProperty("num_heads", c.numHeads());
        json.addProperty("head_dim", c.headDim());
        json.addProperty("n_groups", c.nGroups());
        json.addProperty("state_size", c.stateSize());
        json.addProperty("expand", c.expand());
        json.addProperty("conv_kernel", c.convKernel());
        json.addProperty("chunk_size", c.chunkSize());
        json.addProperty("use_bias", c.useBias());
        json.addProperty("use_conv_bias", c.useConvBias());
        json.addProperty("hidden_act", c.hiddenAct());
        json.addProperty("time_step_min", c.timeStepMin());
        json.addProperty("time_step_max", c.timeStepMax());
        json.addProperty("time_step_floor", c.timeStepFloor());
        JsonArray limit = new JsonArray();
        limit.add(0.0);
        JsonObject infinity = new JsonObject();
        infinity.addProperty("__float__", "Infinity");
        limit.add(infinity);
        json.add("time_step_limit", limit);
        json.addProperty("norm_before_gate", c.normBeforeGate());
        json.addProperty("rms_norm", c.rmsNorm());
        json.addProperty("layer_norm_epsilon", c.layerNormEpsilon());
        json.addProperty("residual_in_fp32", c.residualInFp32());
        json.addProperty("tie_word_embeddings", c.tieWordEmbeddings());
        json.addProperty("initializer_range", c.initializerRange());
        json.add("bos_token_id", null);
        json.addProperty("eos_token_id", c.eosTokenId());
        json.add("pad_token_id", null);
        json.addProperty("torch_dtype", "float32");
        Files.writeString(
                file,
                new GsonBuilder().setPrettyPrinting().serializeNulls().create().toJson(json),
                StandardCharsets.UTF_8);
    }
}
