package io.github.mambadjl.nn;

import ai.djl.ndarray.NDArray;

/**
 * What a layer needs to know about the positions it processes besides their hidden states.
 *
 * @param mask the mask of the current positions {@code [batch, length]} (1 = token, 0 = padding),
 *     or {@code null} when every position is a token
 * @param fullMask the mask of all positions seen so far including the current ones {@code [batch,
 *     offset + length]}, or {@code null}
 * @param offset the number of positions processed before the current ones
 */
public record SequenceContext(NDArray mask, NDArray fullMask, long offset) {

    /**
     * Returns the context of a call without cache.
     *
     * @param mask the mask of the positions, or {@code null}
     * @return a context at offset 0
     */
    public static SequenceContext of(NDArray mask) {
        return new SequenceContext(mask, mask, 0);
    }
}
