package io.github.mambadjl.hub;

import java.io.IOException;

/** A failure to fetch a file or a repository description from the Hugging Face Hub. */
public class HubException extends IOException {

    private static final long serialVersionUID = 1L;

    /**
     * Creates an exception.
     *
     * @param message what went wrong and what to do
     */
    public HubException(String message) {
        super(message);
    }

    /**
     * Creates an exception with a cause.
     *
     * @param message what went wrong and what to do
     * @param cause the cause
     */
    public HubException(String message, Throwable cause) {
        super(message, cause);
    }
}
