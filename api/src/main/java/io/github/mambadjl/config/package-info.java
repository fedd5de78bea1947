/**
 * Typed, immutable configurations of the Mamba-family models ({@link
 * io.github.mambadjl.config.MambaConfig}, {@link io.github.mambadjl.config.Mamba2Config}, {@link
 * io.github.mambadjl.config.BambaConfig}) and {@link io.github.mambadjl.config.ModelConfigs}, which
 * reads them from Hugging Face {@code config.json}, the original state-spaces {@code config.json}
 * and Mistral's {@code params.json}.
 */
package io.github.mambadjl.config;
