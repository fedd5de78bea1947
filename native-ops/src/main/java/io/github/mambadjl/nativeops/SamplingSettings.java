package io.github.mambadjl.nativeops;

/**
 * How {@link CpuTensorOps#sampleTokens} and {@link CudaTensorOps#sampleTokens} choose a token from
 * a row of logits ({@code mops_cpu_sample_tokens} in {@code mambaops.h} has the definition).
 *
 * @param temperature the divisor of the logits, positive and finite
 * @param topK how many of the best tokens to keep, 0 for all
 * @param topP the probability mass of the nucleus to keep, in (0, 1] (1 keeps all)
 * @param minP the weight relative to the best below which tokens are dropped, in [0, 1] (0 keeps
 *     all)
 */
public record SamplingSettings(float temperature, long topK, float topP, float minP) {

    /**
     * Checks the settings.
     *
     * @throws IllegalArgumentException when a setting is outside its range
     */
    public SamplingSettings {
        if (!(temperature > 0) || Float.isInfinite(temperature)) {
            throw new IllegalArgumentException(
                    "temperature must be positive and finite, got " + temperature);
        }
        if (topK < 0) {
            throw new IllegalArgumentException("topK must be 0 (off) or positive, got " + topK);
        }
        if (!(topP > 0 && topP <= 1)) {
            throw new IllegalArgumentException("topP must be in (0, 1], got " + topP);
        }
        if (!(minP >= 0 && minP <= 1)) {
            throw new IllegalArgumentException("minP must be in [0, 1], got " + minP);
        }
    }
}
