package io.github.mambadjl.hub;

/**
 * The Hub could not be reached, or kept failing (5xx, timeouts, cut connections) after all retries.
 */
public class HubConnectionException extends HubException {

    private static final long serialVersionUID = 1L;

    /**
     * Creates an exception.
     *
     * @param message what failed and what to do
     * @param cause the last failure
     */
    public HubConnectionException(String message, Throwable cause) {
        super(message, cause);
    }
}
