package io.github.mambadjl.hub;

/**
 * The Hub refused access (HTTP 401 or 403): the repository is gated or private and no valid token
 * was sent, or the token's owner has not accepted the repository's terms.
 */
public class GatedRepoException extends HubException {

    private static final long serialVersionUID = 1L;

    /**
     * Creates an exception.
     *
     * @param message what went wrong and what to do
     */
    public GatedRepoException(String message) {
        super(message);
    }
}
