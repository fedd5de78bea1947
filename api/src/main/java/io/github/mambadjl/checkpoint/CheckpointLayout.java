package io.github.mambadjl.checkpoint;

/** The on-disk layouts of Mamba-family checkpoints that {@link Checkpoint} recognises. */
public enum CheckpointLayout {
    /** transformers: {@code config.json} and {@code model.safetensors}. */
    HF_SAFETENSORS,
    /** transformers: {@code config.json}, {@code model.safetensors.index.json} and its shards. */
    HF_SHARDED_SAFETENSORS,
    /** transformers: {@code config.json} and a zip {@code pytorch_model.bin}. */
    HF_PYTORCH_BIN,
    /** The original state-spaces repos: mamba_ssm's {@code config.json} and {@code .bin}. */
    STATE_SPACES_PYTORCH_BIN,
    /** mamba_ssm's {@code config.json} with its state dict in {@code model.safetensors}. */
    STATE_SPACES_SAFETENSORS,
    /** Mistral: {@code params.json} and {@code consolidated.safetensors} (mamba_ssm names). */
    MISTRAL_CONSOLIDATED
}
