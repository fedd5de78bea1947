package io.github.mambadjl.checkpoint;

import io.github.mambadjl.config.ModelFamily;

/**
 * The internal weight names: those of transformers ({@code backbone.*} for Mamba and Mamba2, {@code
 * model.*} for Bamba), whatever layout a checkpoint was stored in, and the mapping of the other
 * layouts onto them.
 */
public final class WeightNames {

    /** The LM head of every family. */
    public static final String LM_HEAD = "lm_head.weight";

    private static final String STATE_SPACES_EMBEDDING = "backbone.embedding.weight";
    private static final String MISTRAL_PREFIX = "model.";

    private WeightNames() {}

    /**
     * Returns the name of the token embedding.
     *
     * @param family the model family
     * @return {@code backbone.embeddings.weight} or {@code model.embed_tokens.weight}
     */
    public static String embedding(ModelFamily family) {
        return family == ModelFamily.BAMBA
                ? "model.embed_tokens.weight"
                : "backbone.embeddings.weight";
    }

    /**
     * Returns the name of the final norm's weight.
     *
     * @param family the model family
     * @return {@code backbone.norm_f.weight} or {@code model.final_layernorm.weight}
     */
    public static String finalNorm(ModelFamily family) {
        return family == ModelFamily.BAMBA
                ? "model.final_layernorm.weight"
                : "backbone.norm_f.weight";
    }

    /**
     * Returns the prefix of a layer's weights, ending with a dot.
     *
     * @param family the model family
     * @param layer the layer index
     * @return {@code backbone.layers.i.} or {@code model.layers.i.}
     */
    public static String layer(ModelFamily family, int layer) {
        return (family == ModelFamily.BAMBA ? "model.layers." : "backbone.layers.") + layer + ".";
    }

    /**
     * Returns the prefix of a layer's Mamba or Mamba2 mixer weights, ending with a dot.
     *
     * @param family the model family
     * @param layer the layer index
     * @return {@code backbone.layers.i.mixer.} or {@code model.layers.i.mamba.}
     */
    public static String mixer(ModelFamily family, int layer) {
        return layer(family, layer) + (family == ModelFamily.BAMBA ? "mamba." : "mixer.");
    }

    /**
     * Maps a tensor name of mamba_ssm's state dict (the original state-spaces checkpoints) to the
     * internal name.
     *
     * @param name the stored name
     * @return the internal name
     */
    public static String fromStateSpaces(String name) {
        return STATE_SPACES_EMBEDDING.equals(name) ? embedding(ModelFamily.MAMBA) : name;
    }

    /**
     * Maps a tensor name of Mistral's {@code consolidated.safetensors} (mamba_ssm's names under a
     * {@code model.} prefix) to the internal name.
     *
     * @param name the stored name
     * @return the internal name
     */
    public static String fromMistral(String name) {
        String stripped =
                name.startsWith(MISTRAL_PREFIX) ? name.substring(MISTRAL_PREFIX.length()) : name;
        return fromStateSpaces(stripped);
    }
}
