package io.github.mambadjl.generate;

import java.util.Arrays;

/**
 * The settings of one generation: length, stop tokens, and how the next token is chosen (greedy, or
 * sampled after repetition penalty, temperature, top-k, top-p and min-p, applied in that order as
 * in Hugging Face transformers).
 */
public final class GenerationConfig {

    private final int maxNewTokens;
    private final boolean sample;
    private final float temperature;
    private final int topK;
    private final float topP;
    private final float minP;
    private final float repetitionPenalty;
    private final long[] stopTokenIds;
    private final long padTokenId;
    private final Long seed;
    private final boolean outputScores;
    private final boolean recordSteps;

    private GenerationConfig(Builder b) {
        maxNewTokens = b.maxNewTokens;
        sample = b.sample;
        temperature = b.temperature;
        topK = b.topK;
        topP = b.topP;
        minP = b.minP;
        repetitionPenalty = b.repetitionPenalty;
        stopTokenIds = b.stopTokenIds.clone();
        padTokenId = b.padTokenId;
        seed = b.seed;
        outputScores = b.outputScores;
        recordSteps = b.recordSteps;
    }

    /**
     * Returns a builder (greedy, 20 new tokens, no stop token).
     *
     * @return a new builder
     */
    public static Builder builder() {
        return new Builder();
    }

    /**
     * Returns the maximum number of new tokens per sequence.
     *
     * @return the maximum
     */
    public int maxNewTokens() {
        return maxNewTokens;
    }

    /**
     * Returns whether tokens are sampled (otherwise greedy).
     *
     * @return whether to sample
     */
    public boolean sample() {
        return sample;
    }

    /**
     * Returns the sampling temperature.
     *
     * @return the temperature
     */
    public float temperature() {
        return temperature;
    }

    /**
     * Returns the number of most likely tokens kept (0: all).
     *
     * @return top-k
     */
    public int topK() {
        return topK;
    }

    /**
     * Returns the nucleus probability mass kept (1: all).
     *
     * @return top-p
     */
    public float topP() {
        return topP;
    }

    /**
     * Returns the minimum probability relative to the most likely token (0: off).
     *
     * @return min-p
     */
    public float minP() {
        return minP;
    }

    /**
     * Returns the repetition penalty (1: off).
     *
     * @return the penalty
     */
    public float repetitionPenalty() {
        return repetitionPenalty;
    }

    /**
     * Returns the token ids that end a sequence.
     *
     * @return a copy of the stop ids
     */
    public long[] stopTokenIds() {
        return stopTokenIds.clone();
    }

    /**
     * Returns the id written after a sequence has stopped.
     *
     * @return the padding id
     */
    public long padTokenId() {
        return padTokenId;
    }

    /**
     * Returns the seed of the sampler, or {@code null} for a random one.
     *
     * @return the seed
     */
    public Long seed() {
        return seed;
    }

    /**
     * Returns whether the raw logits of every step are kept in the result.
     *
     * @return whether to output scores
     */
    public boolean outputScores() {
        return outputScores;
    }

    /**
     * Returns whether greedy decoding may record its step once as a device graph and replay it
     * (engines that can, such as the {@code Mamba} engine on a GPU; models without attention
     * layers, unpadded prompts).
     *
     * @return whether steps may be recorded
     */
    public boolean recordSteps() {
        return recordSteps;
    }

    boolean isStop(long token) {
        for (long id : stopTokenIds) {
            if (id == token) {
                return true;
            }
        }
        return false;
    }

    /** {@inheritDoc} */
    @Override
    public String toString() {
        return "GenerationConfig{maxNewTokens="
                + maxNewTokens
                + ", sample="
                + sample
                + ", temperature="
                + temperature
                + ", topK="
                + topK
                + ", topP="
                + topP
                + ", minP="
                + minP
                + ", repetitionPenalty="
                + repetitionPenalty
                + ", stop="
                + Arrays.toString(stopTokenIds)
                + ", seed="
                + seed
                + ", recordSteps="
                + recordSteps
                + '}';
    }

    /** Builds a {@link GenerationConfig}. */
    public static final class Builder {

        private int maxNewTokens = 20;
        private boolean sample;
        private float temperature = 1f;
        private int topK;
        private float topP = 1f;
        private float minP;
        private float repetitionPenalty = 1f;
        private long[] stopTokenIds = new long[0];
        private long padTokenId;
        private Long seed;
        private boolean outputScores;
        private boolean recordSteps = true;

        private Builder() {}

        /**
         * Sets the maximum number of new tokens (default 20).
         *
         * @param maxNewTokens a positive count
         * @return this builder
         */
        public Builder optMaxNewTokens(int maxNewTokens) {
            this.maxNewTokens = maxNewTokens;
            return this;
        }

        /**
         * Chooses greedy decoding (the default).
         *
         * @return this builder
         */
        public Builder greedy() {
            this.sample = false;
            return this;
        }

        /**
         * Chooses sampling with the given temperature.
         *
         * @param temperature a positive temperature
         * @return this builder
         */
        public Builder optSample(float temperature) {
            this.sample = true;
            this.temperature = temperature;
            return this;
        }

        /**
         * Keeps only the {@code k} most likely tokens when sampling (0: all).
         *
         * @param topK k
         * @return this builder
         */
        public Builder optTopK(int topK) {
            this.topK = topK;
            return this;
        }

        /**
         * Keeps the smallest set of tokens whose probability reaches {@code p} when sampling.
         *
         * @param topP p in (0, 1]
         * @return this builder
         */
        public Builder optTopP(float topP) {
            this.topP = topP;
            return this;
        }

        /**
         * Drops tokens less likely than {@code minP} times the most likely one when sampling.
         *
         * @param minP in [0, 1]
         * @return this builder
         */
        public Builder optMinP(float minP) {
            this.minP = minP;
            return this;
        }

        /**
         * Penalises tokens already in the sequence (CTRL's scheme, as transformers): positive
         * logits are divided by the penalty, negative ones multiplied.
         *
         * @param penalty at least 1 to discourage repetition
         * @return this builder
         */
        public Builder optRepetitionPenalty(float penalty) {
            this.repetitionPenalty = penalty;
            return this;
        }

        /**
         * Sets the token ids that end a sequence (typically the EOS id).
         *
         * @param ids the stop ids
         * @return this builder
         */
        public Builder optStopTokenIds(long... ids) {
            this.stopTokenIds = ids.clone();
            return this;
        }

        /**
         * Sets the id written after a sequence has stopped (default 0).
         *
         * @param padTokenId the padding id
         * @return this builder
         */
        public Builder optPadTokenId(long padTokenId) {
            this.padTokenId = padTokenId;
            return this;
        }

        /**
         * Makes sampling reproducible.
         *
         * @param seed the seed
         * @return this builder
         */
        public Builder optSeed(long seed) {
            this.seed = seed;
            return this;
        }

        /**
         * Keeps the raw logits of every step in the result.
         *
         * @param outputScores whether to keep them
         * @return this builder
         */
        public Builder optOutputScores(boolean outputScores) {
            this.outputScores = outputScores;
            return this;
        }

        /**
         * Lets greedy decoding record its step as a device graph and replay it (default {@code
         * true}; the tokens are the same either way, only the host's cost per step differs).
         *
         * @param recordSteps whether steps may be recorded
         * @return this builder
         */
        public Builder optRecordSteps(boolean recordSteps) {
            this.recordSteps = recordSteps;
            return this;
        }

        /**
         * Builds the config.
         *
         * @return the config
         */
        public GenerationConfig build() {
            if (maxNewTokens <= 0) {
                throw new IllegalArgumentException(
                        "maxNewTokens must be positive, got " + maxNewTokens);
            }
            if (sample && !(temperature > 0)) {
                throw new IllegalArgumentException(
                        "temperature must be positive, got "
                                + temperature
                                + "; use greedy() for deterministic decoding");
            }
            if (topK < 0 || !(topP > 0 && topP <= 1) || !(minP >= 0 && minP <= 1)) {
                throw new IllegalArgumentException(
                        "need topK >= 0, 0 < topP <= 1 and 0 <= minP <= 1, got topK="
                                + topK
                                + ", topP="
                                + topP
                                + ", minP="
                                + minP);
            }
            if (!(repetitionPenalty > 0)) {
                throw new IllegalArgumentException(
                        "repetitionPenalty must be positive, got " + repetitionPenalty);
            }
            return new GenerationConfig(this);
        }
    }
}
