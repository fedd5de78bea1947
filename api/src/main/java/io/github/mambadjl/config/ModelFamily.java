package io.github.mambadjl.config;

/** The architecture families that mamba-djl runs. */
public enum ModelFamily {
    /** Mamba (selective scan, transformers' {@code model_type} {@code mamba}). */
    MAMBA,
    /** Mamba2 (structured state-space duality, {@code model_type} {@code mamba2}). */
    MAMBA2,
    /** The hybrid Bamba: Mamba2 layers, grouped-query attention layers and SwiGLU MLPs. */
    BAMBA
}
