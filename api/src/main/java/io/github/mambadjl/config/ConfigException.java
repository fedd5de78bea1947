package io.github.mambadjl.config;

/**
 * Thrown when a model configuration is invalid; the message names the offending field and, when the
 * configuration was read from a file, that file.
 */
public class ConfigException extends IllegalArgumentException {

    private static final long serialVersionUID = 1L;

    private final String field;

    /**
     * Creates an exception about one field.
     *
     * @param field the name of the field as written in the configuration file
     * @param message what is wrong with it and what to do
     */
    public ConfigException(String field, String message) {
        super("Invalid model configuration field '" + field + "': " + message);
        this.field = field;
    }

    private ConfigException(String field, String fullMessage, Throwable cause) {
        super(fullMessage, cause);
        this.field = field;
    }

    /**
     * Returns the name of the offending field.
     *
     * @return the field name as written in the configuration file
     */
    public String getField() {
        return field;
    }

    /**
     * Returns a copy of this exception whose message also names the file it was read from.
     *
     * @param source the configuration file
     * @return the new exception
     */
    public ConfigException inFile(Object source) {
        return new ConfigException(field, getMessage() + " (in " + source + ")", this);
    }
}
