package io.github.mambadjl.examples.cli;

/** A command line that cannot be run as written: unknown option, missing or malformed value. */
public final class UsageException extends Exception {

    private static final long serialVersionUID = 1L;

    /**
     * Creates the exception.
     *
     * @param message what is wrong and what to write instead
     */
    public UsageException(String message) {
        super(message);
    }
}
