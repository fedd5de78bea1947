package io.github.mambadjl.generate;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.DataType;
import io.github.mambadjl.kernel.TokenSampling;

/**
 * How a decoding step chooses its tokens where its logits are: the argmax of each row (greedy) or
 * the engine's {@link TokenSampling} with the generation's settings and one draw per row. Either
 * way only the chosen ids leave the device, and the choice can be part of a recorded step.
 */
final class DeviceChoice {

    private final GenerationConfig config;
    private final TokenSampling sampling;

    private DeviceChoice(GenerationConfig config, TokenSampling sampling) {
        this.config = config;
        this.sampling = sampling;
    }

    /**
     * Returns the greedy choice.
     *
     * @return the argmax of each row
     */
    static DeviceChoice greedy() {
        return new DeviceChoice(null, null);
    }

    /**
     * Returns how to choose on the device for a generation, or {@code null} when its tokens are
     * chosen on the host: a repetition penalty or scores need the logits there, and sampling needs
     * an engine with {@link TokenSampling}.
     *
     * @param config the generation's settings
     * @param logits an array of the engine and device that compute the logits
     * @return the device choice, or {@code null}
     */
    static DeviceChoice of(GenerationConfig config, NDArray logits) {
        if (config.repetitionPenalty() != 1f || config.outputScores()) {
            return null;
        }
        if (!config.sample()) {
            return greedy();
        }
        TokenSampling sampling = TokenSampling.of(logits);
        return sampling == null ? null : new DeviceChoice(config, sampling);
    }

    /**
     * Returns whether the choice takes draws ({@link #choose}'s second argument).
     *
     * @return true when sampling
     */
    boolean takesDraws() {
        return sampling != null;
    }

    /**
     * Chooses a token per row from the last position's logits.
     *
     * @param logits the {@code [rows, length, vocab]} logits
     * @param draws the int64 {@code [rows]} draws on the logits' device when sampling, else ignored
     * @return the int64 {@code [rows]} tokens, on the logits' device
     */
    NDArray choose(NDArray logits, NDArray draws) {
        NDArray last = logits.get(":, -1, :");
        if (sampling == null) {
            return last.argMax(-1).toType(DataType.INT64, false);
        }
        return sampling.sampleTokens(
                last, draws, config.temperature(), config.topK(), config.topP(), config.minP());
    }
}
