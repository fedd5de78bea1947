package io.github.mambadjl.generate;

/** Receives tokens as soon as they are chosen, before the next step is computed. */
@FunctionalInterface
public interface TokenListener {

    /**
     * Called once per row and step for every row that has not stopped.
     *
     * @param row the batch row
     * @param token the new token id
     */
    void onToken(int row, long token);
}
