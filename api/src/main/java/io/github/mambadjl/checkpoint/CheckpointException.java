package io.github.mambadjl.checkpoint;

import java.io.IOException;

/**
 * Thrown when a checkpoint file or directory is malformed, unsafe, incomplete or disagrees with its
 * configuration; the message says what is wrong, where, and what to do.
 */
public class CheckpointException extends IOException {

    private static final long serialVersionUID = 1L;

    /**
     * Creates an exception.
     *
     * @param message what is wrong and what to do
     */
    public CheckpointException(String message) {
        super(message);
    }

    /**
     * Creates an exception with a cause.
     *
     * @param message what is wrong and what to do
     * @param cause the underlying error
     */
    public CheckpointException(String message, Throwable cause) {
        super(message, cause);
    }
}
