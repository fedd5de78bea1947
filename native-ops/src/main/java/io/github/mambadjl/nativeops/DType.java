package io.github.mambadjl.nativeops;

/** The storage dtypes that the native kernels read and write (codes of {@code mops_dtype}). */
public enum DType {
    /** IEEE 754 binary32. */
    FLOAT32(0, 4),
    /** IEEE 754 binary16. */
    FLOAT16(1, 2),
    /** bfloat16: the upper half of a float32. */
    BFLOAT16(2, 2);

    private final int code;
    private final int byteSize;

    DType(int code, int byteSize) {
        this.code = code;
        this.byteSize = byteSize;
    }

    /**
     * Returns the code that the C ABI uses for this dtype.
     *
     * @return the {@code mops_dtype} value
     */
    public int code() {
        return code;
    }

    /**
     * Returns the size of one element in bytes.
     *
     * @return 4 for float32, 2 otherwise
     */
    public int byteSize() {
        return byteSize;
    }
}
