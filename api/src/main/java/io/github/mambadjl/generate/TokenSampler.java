package io.github.mambadjl.generate;

import java.util.Arrays;
import java.util.Random;

/** Chooses the next token from one row of logits, as a {@link GenerationConfig} says. */
final class TokenSampler {

    private final GenerationConfig config;
    private final Random random;

    TokenSampler(GenerationConfig config) {
        this.config = config;
        this.random = config.seed() == null ? new Random() : new Random(config.seed());
    }

    /**
     * Chooses a token.
     *
     * @param logits the raw logits of one row (modified in place)
     * @param history the tokens of the row so far (prompt and generated), for the penalty
     * @param length how many entries of {@code history} are valid
     * @return the token id
     */
    long next(float[] logits, long[] history, int length) {
        float penalty = config.repetitionPenalty();
        if (penalty != 1f) {
            boolean[] seen = new boolean[logits.length];
            for (int i = 0; i < length; i++) {
                int t = (int) history[i];
                if (t >= 0 && t < logits.length && !seen[t]) {
                    seen[t] = true;
                    logits[t] = logits[t] < 0 ? logits[t] * penalty : logits[t] / penalty;
                }
            }
        }
        if (!config.sample()) {
            return argmax(logits);
        }
        int v = logits.length;
        double[] scaled = new double[v];
        for (int i = 0; i < v; i++) {
            scaled[i] = logits[i] / config.temperature();
        }
        Integer[] order = new Integer[v];
        for (int i = 0; i < v; i++) {
            order[i] = i;
        }
        Arrays.sort(order, (a, b) -> Double.compare(scaled[b], scaled[a]));
        int keep = v;
        if (config.topK() > 0) {
            keep = Math.min(keep, config.topK());
        }
        double max = scaled[order[0]];
        double[] p = new double[v];
        double sum = 0;
        for (int r = 0; r < keep; r++) {
            p[r] = Math.exp(scaled[order[r]] - max);
            sum += p[r];
        }
        if (config.topP() < 1f) {
            double cumulative = 0;
            for (int r = 0; r < keep; r++) {
                cumulative += p[r] / sum;
                if (cumulative >= config.topP()) {
                    keep = r + 1;
                    break;
                }
            }
        }
        if (config.minP() > 0f) {
            double threshold = config.minP() * p[0];
            int r = 1;
            while (r < keep && p[r] >= threshold) {
                r++;
            }
            keep = r;
        }
        double total = 0;
        for (int r = 0; r < keep; r++) {
            total += p[r];
        }
        double u = random.nextDouble() * total;
        for (int r = 0; r < keep; r++) {
            u -= p[r];
            if (u < 0) {
                return order[r];
            }
        }
        return order[keep - 1];
    }

    private static long argmax(float[] logits) {
        int best = 0;
        for (int i = 1; i < logits.length; i++) {
            if (logits[i] > logits[best]) {
                best = i;
            }
        }
        return best;
    }
}
