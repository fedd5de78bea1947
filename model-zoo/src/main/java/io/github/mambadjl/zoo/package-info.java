/**
 * The DJL model zoo of published Mamba-family checkpoints ({@link
 * io.github.mambadjl.zoo.MambaModelZoo}, group id {@code io.github.mambadjl}, addressed as {@code
 * djl://io.github.mambadjl/<name>}), the defaults that make zoo entries and {@code hf://}
 * repositories load through {@code Criteria} ({@link io.github.mambadjl.zoo.ZooArguments}, {@link
 * io.github.mambadjl.zoo.ZooBlockFactory}), and text generation: {@link
 * io.github.mambadjl.zoo.TextGenerationTranslatorFactory} with the {@code String -> String} and
 * streaming {@code String -> TextStream} translators, whose options are Criteria arguments ({@link
 * io.github.mambadjl.zoo.GenerationArguments}).
 */
package io.github.mambadjl.zoo;
