package io.github.mambadjl.model;

import ai.djl.ndarray.NDArray;
import java.util.List;

/**
 * The output of a causal LM call.
 *
 * @param logits the logits {@code [batch, length, vocab_size]}
 * @param hiddenStates when asked for: per layer, the residual stream as Hugging Face transformers
 *     reports it (Bamba: entering the layer; Mamba and Mamba2: leaving it), then the output of the
 *     final norm ({@code numLayers + 1} arrays {@code [batch, length, hidden]}); otherwise empty
 */
public record LanguageModelOutput(NDArray logits, List<NDArray> hiddenStates) {}
