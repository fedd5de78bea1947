package io.github.mambadjl.examples.selectivecopy;

import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import java.util.Random;

/**
 * The selective copying task of the Mamba paper (Gu and Dao, 2023, section 3.1): a sequence holds
 * {@code tokens} data tokens at random positions among {@code context} positions of noise, followed
 * by {@code tokens} marker tokens; at each marker the model must output the data tokens in order.
 * The random spacing is what needs selectivity: a time-invariant model (a convolution, or an SSM
 * whose parameters do not depend on the input) cannot know which positions to keep.
 *
 * <p>Token 0 is noise, token 1 the marker, tokens {@code 2 .. 2 + symbols - 1} the data.
 *
 * @param context the number of positions among which the data tokens are spread
 * @param tokens the number of data tokens to copy
 * @param symbols the number of distinct data tokens (chance accuracy is {@code 1 / symbols})
 */
public record SelectiveCopyingTask(int context, int tokens, int symbols) {

    /** The noise token. */
    public static final int NOISE = 0;

    /** The marker token: "output the next data token here". */
    public static final int MARKER = 1;

    /** Checks the sizes. */
    public SelectiveCopyingTask {
        if (tokens < 1 || context < tokens || symbols < 2) {
            throw new IllegalArgumentException(
                    "need 1 <= tokens <= context and symbols >= 2; got context "
                            + context
                            + ", tokens "
                            + tokens
                            + ", symbols "
                            + symbols);
        }
    }

    /**
     * Returns the vocabulary size: noise, marker and the data symbols.
     *
     * @return {@code symbols + 2}
     */
    public int vocabSize() {
        return symbols + 2;
    }

    /**
     * Returns the length of an input sequence.
     *
     * @return {@code context + tokens}
     */
    public int length() {
        return context + tokens;
    }

    /**
     * Draws a batch.
     *
     * @param manager the manager of the arrays
     * @param batch the number of sequences
     * @param random the source of randomness
     * @return int64 inputs {@code [batch, context + tokens]} and labels {@code [batch * tokens]}
     *     (the data tokens in order)
     */
    public NDList batch(NDManager manager, int batch, Random random) {
        int length = length();
        long[] x = new long[batch * length];
        long[] y = new long[batch * tokens];
        int[] positions = new int[context];
        for (int b = 0; b < batch; b++) {
            for (int i = 0; i < context; i++) {
                positions[i] = i;
            }
            // The first `tokens` entries of a partial Fisher-Yates shuffle, sorted, are the places.
            for (int i = 0; i < tokens; i++) {
                int j = i + random.nextInt(context - i);
                int t = positions[i];
                positions[i] = positions[j];
                positions[j] = t;
            }
            java.util.Arrays.sort(positions, 0, tokens);
            for (int i = 0; i < tokens; i++) {
                long symbol = 2 + random.nextInt(symbols);
                x[b * length + positions[i]] = symbol;
                x[b * length + context + i] = MARKER;
                y[b * tokens + i] = symbol;
            }
        }
        return new NDList(
                manager.create(x, new Shape(batch, length)),
                manager.create(y, new Shape((long) batch * tokens)));
    }
}
