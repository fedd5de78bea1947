package io.github.mambadjl.examples.cli;

/** Turns exceptions into the one line the command line prints. */
final class Errors {

    private Errors() {}

    /**
     * Describes an exception by the messages of its causes, most specific last, on one line.
     *
     * @param e the exception
     * @return the description
     */
    static String describe(Throwable e) {
        StringBuilder sb = new StringBuilder();
        String previous = null;
        for (Throwable t = e; t != null; t = t.getCause() == t ? null : t.getCause()) {
            String message = t.getMessage();
            if (message == null || message.isBlank()) {
                message = t.getClass().getSimpleName();
            }
            if (previous != null && previous.contains(message)) {
                continue;
            }
            if (sb.length() > 0) {
                sb.append(": ");
            }
            sb.append(message);
            previous = message;
        }
        return oneLine(sb.toString());
    }

    /**
     * Joins the lines of a message.
     *
     * @param message the message
     * @return the message with each line break and its indentation replaced by one space
     */
    static String oneLine(String message) {
        return message.replaceAll("\\s*\\R\\s*", " ").strip();
    }
}
