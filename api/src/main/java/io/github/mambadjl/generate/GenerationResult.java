package io.github.mambadjl.generate;

import java.util.List;

/**
 * The outcome of a generation.
 *
 * @param sequences per row, the prompt (without padding) followed by the new tokens, up to and
 *     including a stop token
 * @param newTokens per row, only the new tokens
 * @param scores when asked for, the raw logits of each step, {@code [step][row][vocab]}; otherwise
 *     empty
 */
public record GenerationResult(long[][] sequences, long[][] newTokens, List<float[][]> scores) {}
