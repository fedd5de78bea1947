package io.github.mambadjl.hub;

/** A downloaded or cached file does not match the size or hash the Hub announced for it. */
public class IntegrityException extends HubException {

    private static final long serialVersionUID = 1L;

    /**
     * Creates an exception.
     *
     * @param message which file, expected and actual values, and what to do
     */
    public IntegrityException(String message) {
        super(message);
    }
}
