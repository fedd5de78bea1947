package io.github.mambadjl.generate;

import java.util.Arrays;
import java.util.Random;

/**
 * Chooses the next token from one row of logits, as a {@link GenerationConfig} says.
 *
 * <p>Sampling ranks the tokens by logit (ties by id), keeps the top-k, then the shortest prefix
 * whose probability reaches top-p, then those at least min-p times the most likely, and draws from
 * what is left in that order. Only the tokens that can matter are ordered: top-k is a selection and
 * top-p a partition by probability mass, so a 50 000-token vocabulary costs a pass over the logits
 * and a sort of the nucleus, not a sort of the vocabulary.
 */
final class TokenSampler {

    /** Below this many candidates the nucleus search sorts instead of partitioning. */
    private static final int SORT_BELOW = 32;

    private final GenerationConfig config;
    private final Random random;
    private long[] keys = new long[0];
    private double[] weights = new double[0];

    TokenSampler(GenerationConfig config) {
        this.config = config;
        this.random = config.seed() == null ? new Random() : new Random(config.seed());
    }

    /**
     * Draws the u of one sampled token for a sampler elsewhere (the engine's {@link
     * io.github.mambadjl.kernel.TokenSampling}), from the stream {@link #next} draws from: as the
     * integer {@code u * 2^53}, which is exact.
     *
     * @return the draw
     */
    long nextDraw() {
        return (long) (random.nextDouble() * 0x1p53);
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
        if (keys.length < v) {
            keys = new long[v];
            weights = new double[v];
        }
        for (int i = 0; i < v; i++) {
            keys[i] = rankKey(logits[i], i);
        }
        int n = v;
        if (config.topK() > 0 && config.topK() < v) {
            n = config.topK();
            selectSmallest(keys, 0, v, n);
        }
        double max = scaled(logits, bestOf(keys, n));
        double sum = 0;
        for (int r = 0; r < n; r++) {
            int token = token(keys[r]);
            weights[token] = Math.exp(scaled(logits, token) - max);
            sum += weights[token];
        }
        int keep = config.topP() < 1f ? nucleus(n, config.topP() * sum) : sortFirst(n);
        if (config.minP() > 0f) {
            double threshold = config.minP() * weights[token(keys[0])];
            int r = 1;
            while (r < keep && weights[token(keys[r])] >= threshold) {
                r++;
            }
            keep = r;
        }
        double total = 0;
        for (int r = 0; r < keep; r++) {
            total += weights[token(keys[r])];
        }
        double u = random.nextDouble() * total;
        for (int r = 0; r < keep; r++) {
            u -= weights[token(keys[r])];
            if (u < 0) {
                return token(keys[r]);
            }
        }
        return token(keys[keep - 1]);
    }

    /**
     * Puts in {@code keys[0, keep)}, in rank order, the shortest prefix of the ranking of {@code
     * keys[0, n)} whose weight reaches {@code target} (all {@code n} when rounding keeps the sum
     * below it), partitioning around pivots and sorting only the range where the prefix ends.
     */
    private int nucleus(int n, double target) {
        int lo = 0;
        int hi = n;
        double before = 0;
        while (hi - lo > SORT_BELOW) {
            long pivot = medianOfThree(keys[lo], keys[(lo + hi) >>> 1], keys[hi - 1]);
            int split = lo;
            double mass = 0;
            for (int j = lo; j < hi; j++) {
                if (keys[j] < pivot) {
                    long k = keys[j];
                    keys[j] = keys[split];
                    keys[split++] = k;
                    mass += weights[token(k)];
                }
            }
            if (split == lo) {
                // the pivot is the range's best: it starts the rest of the ranking
                for (int j = lo; j < hi; j++) {
                    if (keys[j] == pivot) {
                        keys[j] = keys[lo];
                        keys[lo] = pivot;
                        break;
                    }
                }
                split = lo + 1;
                mass = weights[token(pivot)];
            }
            if (before + mass >= target) {
                hi = split;
            } else {
                before += mass;
                lo = split;
            }
        }
        Arrays.sort(keys, lo, hi);
        double cumulative = before;
        for (int r = lo; r < hi; r++) {
            cumulative += weights[token(keys[r])];
            if (cumulative >= target) {
                Arrays.sort(keys, 0, lo);
                return r + 1;
            }
        }
        return sortFirst(n);
    }

    /** Ranks all of {@code keys[0, n)} and keeps them: returns {@code n}. */
    private int sortFirst(int n) {
        Arrays.sort(keys, 0, n);
        return n;
    }

    /**
     * A key whose ascending order is the ranking: logit descending, then token id ascending (the
     * order of a stable sort by logit).
     */
    private static long rankKey(float logit, int token) {
        int bits = Float.floatToIntBits(logit);
        int ordered = bits ^ ((bits >> 31) & 0x7fffffff);
        return ((long) ~ordered << 32) | (token & 0xffffffffL);
    }

    private static int token(long key) {
        return (int) key;
    }

    private double scaled(float[] logits, int token) {
        return logits[token] / config.temperature();
    }

    private static int bestOf(long[] keys, int n) {
        long best = keys[0];
        for (int r = 1; r < n; r++) {
            best = Math.min(best, keys[r]);
        }
        return token(best);
    }

    /** Rearranges {@code a[from, to)} so that its {@code k} smallest values are first. */
    private static void selectSmallest(long[] a, int from, int to, int k) {
        int lo = from;
        int hi = to;
        int want = from + k;
        while (hi - lo > 1) {
            long pivot = medianOfThree(a[lo], a[(lo + hi) >>> 1], a[hi - 1]);
            int i = lo;
            int j = hi - 1;
            while (i <= j) {
                while (a[i] < pivot) {
                    i++;
                }
                while (a[j] > pivot) {
                    j--;
                }
                if (i <= j) {
                    long t = a[i];
                    a[i++] = a[j];
                    a[j--] = t;
                }
            }
            if (want <= j + 1) {
                hi = j + 1;
            } else if (want >= i) {
                lo = i;
            } else {
                return;
            }
        }
    }

    private static long medianOfThree(long a, long b, long c) {
        return Math.max(Math.min(a, b), Math.min(Math.max(a, b), c));
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
