/**
 * Text generation over a {@link io.github.mambadjl.model.CausalLM}: greedy and sampled decoding
 * through the inference cache, batched and streamed.
 */
package io.github.mambadjl.generate;
