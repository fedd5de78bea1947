package io.github.mambadjl.nativeops;

/**
 * A native kernel call failed: the message names the operation, the status, the native library's
 * own message and the shapes of the arguments.
 */
public class NativeOpException extends RuntimeException {

    private static final long serialVersionUID = 1L;

    private final String operation;
    private final Status status;

    /**
     * Creates an exception for a failed native call.
     *
     * @param operation the operation that failed, for example {@code causal_conv1d}
     * @param status the status the native library returned
     * @param nativeMessage the native library's last-error message
     * @param shapes a description of the argument shapes
     */
    public NativeOpException(String operation, Status status, String nativeMessage, String shapes) {
        super(
                operation
                        + " failed ("
                        + status.description()
                        + "): "
                        + nativeMessage
                        + (shapes.isEmpty() ? "" : "; arguments: " + shapes));
        this.operation = operation;
        this.status = status;
    }

    /**
     * Returns the operation that failed.
     *
     * @return the operation name
     */
    public String getOperation() {
        return operation;
    }

    /**
     * Returns the status of the failed call.
     *
     * @return the status
     */
    public Status getStatus() {
        return status;
    }
}
