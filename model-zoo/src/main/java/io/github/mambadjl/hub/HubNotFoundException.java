package io.github.mambadjl.hub;

/** The repository, the revision or the file does not exist on the Hub. */
public class HubNotFoundException extends HubException {

    private static final long serialVersionUID = 1L;

    /**
     * Creates an exception.
     *
     * @param message what was not found and what to check
     */
    public HubNotFoundException(String message) {
        super(message);
    }
}
