package io.github.mambadjl.nativeops;

/** The status codes of the C ABI ({@code mops_status}). */
public enum Status {
    /** Success. */
    OK(0, "ok"),
    /** A bad shape, stride, dtype or null pointer. */
    INVALID_ARGUMENT(1, "invalid argument"),
    /** A valid request that this build cannot serve. */
    UNSUPPORTED(2, "unsupported"),
    /** A host or device allocation failed. */
    OUT_OF_MEMORY(3, "out of memory"),
    /** A CUDA runtime or driver error. */
    CUDA_ERROR(4, "CUDA error"),
    /** An internal error of the native library. */
    INTERNAL(5, "internal error");

    private final int code;
    private final String description;

    Status(int code, String description) {
        this.code = code;
        this.description = description;
    }

    /**
     * Returns the status of a native return code.
     *
     * @param code the value a {@code mops_*} function returned
     * @return the matching status, {@link #INTERNAL} for an unknown code
     */
    public static Status of(int code) {
        for (Status s : values()) {
            if (s.code == code) {
                return s;
            }
        }
        return INTERNAL;
    }

    /**
     * Returns the numeric code of the C ABI.
     *
     * @return the code
     */
    public int code() {
        return code;
    }

    /**
     * Returns a short human-readable description.
     *
     * @return the description
     */
    public String description() {
        return description;
    }
}
