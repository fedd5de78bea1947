package io.github.mambadjl.kernel;

import ai.djl.ndarray.NDArray;

/**
 * The optional part of an engine's {@link SsmKernels} that chooses tokens from logits where the
 * logits are (on a GPU: no logits to the host, and a step that can be recorded with its choice).
 *
 * <p>The choice is the one the generator's host sampler makes from the same draw: tokens ranked by
 * logit (ties by lower id), top-k, then the shortest prefix whose probability reaches top-p, then
 * those at least min-p times as likely as the best, and the token at which the cumulative
 * probability of what is left exceeds u. Probabilities are summed as integers with 44 fraction
 * bits, so the engine's choice is exact and independent of the order of the sums; it can differ
 * from the host sampler's double sums only where u falls within about 2^-44 of a boundary.
 */
public interface TokenSampling {

    /**
     * Returns the sampling of the engine of an array when that engine has one.
     *
     * @param array an array of the engine in use
     * @return the sampling, or {@code null} when tokens are chosen on the host
     */
    static TokenSampling of(NDArray array) {
        SsmKernels kernels = SsmKernels.of(array);
        return kernels instanceof TokenSampling s ? s : null;
    }

    /**
     * Chooses one token per row.
     *
     * @param logits the {@code [rows, vocab]} logits (float32, float16 or bfloat16)
     * @param draws the int64 {@code [rows]} draws on the same device: {@code u * 2^53} for a u in
     *     [0, 1), which is the integer behind {@code java.util.Random.nextDouble()}
     * @param temperature the divisor of the logits, positive
     * @param topK how many of the best tokens to keep (0: all)
     * @param topP the probability mass to keep, in (0, 1] (1: all)
     * @param minP the probability relative to the best below which tokens are dropped, in [0, 1]
     *     (0: none)
     * @return the int64 {@code [rows]} tokens, on the logits' device
     */
    NDArray sampleTokens(
            NDArray logits, NDArray draws, float temperature, int topK, float topP, float minP);
}
