package io.github.mambadjl.nativeops;

/** The element types of the engine ops ({@code mops_tensor_dtype} of {@code mambaops.h}). */
public enum TensorDType {
    /** IEEE 754 binary32. */
    FLOAT32(0, 4),
    /** IEEE 754 binary16. */
    FLOAT16(1, 2),
    /** bfloat16. */
    BFLOAT16(2, 2),
    /** 32-bit signed integer. */
    INT32(3, 4),
    /** 64-bit signed integer. */
    INT64(4, 8),
    /** Boolean stored as one byte, 0 or 1. */
    BOOLEAN(5, 1);

    private final int code;
    private final int byteSize;

    TensorDType(int code, int byteSize) {
        this.code = code;
        this.byteSize = byteSize;
    }

    /**
     * Returns the code of the C ABI.
     *
     * @return the {@code mops_tensor_dtype} value
     */
    public int code() {
        return code;
    }

    /**
     * Returns the size of one element in bytes.
     *
     * @return the element size
     */
    public int byteSize() {
        return byteSize;
    }

    /**
     * Tells whether this is a floating-point type.
     *
     * @return true for float32, float16 and bfloat16
     */
    public boolean isFloating() {
        return code <= 2;
    }
}
