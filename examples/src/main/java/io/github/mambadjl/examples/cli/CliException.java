package io.github.mambadjl.examples.cli;

/** A command that was well written but cannot run: no such model, no GPU, no tokenizer. */
public final class CliException extends Exception {

    private static final long serialVersionUID = 1L;

    /**
     * Creates the exception.
     *
     * @param message what went wrong and what to do
     */
    public CliException(String message) {
        super(message);
    }

    /**
     * Creates the exception with its cause, shown with {@code --verbose}.
     *
     * @param message what went wrong and what to do
     * @param cause the underlying failure
     */
    public CliException(String message, Throwable cause) {
        super(message, cause);
    }
}
