package io.github.mambadjl.hub;

/**
 * A file needed in offline mode ({@code HF_HUB_OFFLINE=1}) or while the Hub is unreachable is not
 * in the cache.
 */
public class CacheMissException extends HubException {

    private static final long serialVersionUID = 1L;

    /**
     * Creates an exception.
     *
     * @param message what is missing, where it was looked for and what to do
     */
    public CacheMissException(String message) {
        super(message);
    }
}
