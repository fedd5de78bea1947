package io.github.mambadjl.jmh;

import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import io.github.mambadjl.config.ModelConfig;
import io.github.mambadjl.config.ModelConfigs;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * The model shapes of issue 8 as Hugging Face {@code config.json} objects (the numbers of {@code
 * scripts/reference/real_shapes.py} and of the published configs), read back through {@link
 * ModelConfigs} so that the benchmark builds exactly what a checkpoint of that shape would give.
 * The {@code tiny} set has the same families and options at toy sizes, for an end-to-end check of
 * the harness on the CPU.
 */
final class ModelShapes {

    /** The shape names, in the order the benchmark runs them. */
    static final List<String> NAMES =
            List.of("mamba-2.8b", "mamba2-2.7b", "codestral-7b", "bamba-9b");

    private ModelShapes() {}

    /**
     * Returns the config of a named shape.
     *
     * @param name one of {@link #NAMES}
     * @param tiny whether to give the toy-sized variant
     * @param layers the number of layers, or 0 for the shape's own
     * @return the parsed config
     */
    static ModelConfig config(String name, boolean tiny, int layers) {
        JsonObject json = json(name, tiny);
        if (layers > 0) {
            json.addProperty("num_hidden_layers", layers);
            if (json.has("attn_layer_indices")) {
                JsonArray kept = new JsonArray();
                json.getAsJsonArray("attn_layer_indices")
                        .forEach(
                                e -> {
                                    if (e.getAsInt() < layers) {
                                        kept.add(e);
                                    }
                                });
                json.add("attn_layer_indices", kept);
            }
        }
        try {
            Path dir = Files.createTempDirectory("mamba-djl-shape");
            Path file = dir.resolve(ModelConfigs.CONFIG_JSON);
            try {
                Files.writeString(file, json.toString(), StandardCharsets.UTF_8);
                return ModelConfigs.read(file);
            } finally {
                Files.deleteIfExists(file);
                Files.deleteIfExists(dir);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static JsonObject json(String name, boolean tiny) {
        JsonObject c = new JsonObject();
        switch (name) {
            case "mamba-2.8b":
                c.addProperty("model_type", "mamba");
                c.addProperty("hidden_size", tiny ? 64 : 2560);
                c.addProperty("num_hidden_layers", tiny ? 2 : 64);
                c.addProperty("vocab_size", tiny ? 256 : 50280);
                c.addProperty("state_size", 16);
                c.addProperty("expand", 2);
                c.addProperty("intermediate_size", tiny ? 128 : 5120);
                c.addProperty("conv_kernel", 4);
                c.addProperty("time_step_rank", tiny ? 4 : 160);
                c.addProperty("tie_word_embeddings", true);
                break;
            case "mamba2-2.7b":
            case "codestral-7b":
                boolean codestral = name.equals("codestral-7b");
                c.addProperty("model_type", "mamba2");
                c.addProperty("hidden_size", tiny ? 64 : codestral ? 4096 : 2560);
                c.addProperty("num_hidden_layers", tiny ? 2 : 64);
                c.addProperty("vocab_size", tiny ? 256 : codestral ? 32768 : 50288);
                c.addProperty("state_size", tiny ? 16 : 128);
                c.addProperty("expand", 2);
                c.addProperty("head_dim", tiny ? 16 : 64);
                c.addProperty("num_heads", tiny ? 8 : codestral ? 128 : 80);
                c.addProperty("n_groups", codestral ? (tiny ? 2 : 8) : 1);
                c.addProperty("conv_kernel", 4);
                c.addProperty("chunk_size", tiny ? 8 : 256);
                c.addProperty("tie_word_embeddings", !codestral);
                break;
            case "bamba-9b":
                c.addProperty("model_type", "bamba");
                c.addProperty("hidden_size", tiny ? 64 : 4096);
                c.addProperty("num_hidden_layers", tiny ? 4 : 32);
                c.addProperty("vocab_size", tiny ? 256 : 128256);
                c.addProperty("intermediate_size", tiny ? 96 : 14336);
                c.addProperty("num_attention_heads", tiny ? 4 : 32);
                c.addProperty("num_key_value_heads", tiny ? 2 : 8);
                JsonArray attn = new JsonArray();
                for (int i : tiny ? new int[] {1} : new int[] {9, 18, 27}) {
                    attn.add(i);
                }
                c.add("attn_layer_indices", attn);
                c.addProperty("mamba_n_heads", tiny ? 8 : 128);
                c.addProperty("mamba_d_head", tiny ? 16 : 64);
                c.addProperty("mamba_n_groups", 1);
                c.addProperty("mamba_d_state", tiny ? 16 : 128);
                c.addProperty("mamba_d_conv", 4);
                c.addProperty("mamba_expand", 2);
                c.addProperty("mamba_chunk_size", tiny ? 8 : 256);
                c.addProperty("partial_rotary_factor", 0.5);
                c.addProperty("tie_word_embeddings", false);
                break;
            default:
                throw new IllegalArgumentException(
                        "unknown model shape '" + name + "'; known: " + NAMES);
        }
        return c;
    }
}
