package io.github.mambadjl.config;

/** The configuration file formats that {@link ModelConfigs} reads. */
public enum ConfigFormat {
    /** transformers' {@code config.json} ({@code model_type}, {@code hidden_size}, ...). */
    HUGGING_FACE,
    /** mamba_ssm's {@code config.json} ({@code d_model}, {@code n_layer}, {@code ssm_cfg}, ...). */
    STATE_SPACES,
    /** Mistral's {@code params.json} ({@code dim}, {@code n_layers}, {@code n_groups}, ...). */
    MISTRAL
}
