package io.github.mambadjl.zoo;

/** How a published repository lays out its configuration and weights. */
public enum RepoLayout {
    /**
     * mamba_ssm's own: {@code config.json} ({@code d_model}, {@code n_layer}) + {@code
     * pytorch_model.bin}, no tokenizer.
     */
    STATE_SPACES,
    /**
     * Hugging Face transformers': {@code config.json} ({@code model_type}) + safetensors + {@code
     * tokenizer.json}.
     */
    HF,
    /** Mistral's consolidated one: {@code params.json} + {@code consolidated.safetensors}. */
    MISTRAL
}
