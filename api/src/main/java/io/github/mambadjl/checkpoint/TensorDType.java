package io.github.mambadjl.checkpoint;

import ai.djl.ndarray.types.DataType;

/** The element types of stored tensors, named as in the safetensors specification. */
public enum TensorDType {
    /** Boolean, one byte. */
    BOOL(1, DataType.BOOLEAN),
    /** Unsigned 8-bit integer. */
    U8(1, DataType.UINT8),
    /** Signed 8-bit integer. */
    I8(1, DataType.INT8),
    /** Signed 16-bit integer. */
    I16(2, DataType.INT16),
    /** Signed 32-bit integer. */
    I32(4, DataType.INT32),
    /** Signed 64-bit integer. */
    I64(8, DataType.INT64),
    /** IEEE 754 half precision. */
    F16(2, DataType.FLOAT16),
    /** bfloat16: the upper half of a float32. */
    BF16(2, DataType.BFLOAT16),
    /** IEEE 754 single precision. */
    F32(4, DataType.FLOAT32),
    /** IEEE 754 double precision. */
    F64(8, DataType.FLOAT64);

    private final int byteSize;
    private final DataType dataType;

    TensorDType(int byteSize, DataType dataType) {
        this.byteSize = byteSize;
        this.dataType = dataType;
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
     * Returns the DJL data type of the same element type.
     *
     * @return the DJL data type
     */
    public DataType toDataType() {
        return dataType;
    }

    /**
     * Returns whether this is a floating-point type.
     *
     * @return {@code true} for F16, BF16, F32 and F64
     */
    public boolean isFloating() {
        return this == F16 || this == BF16 || this == F32 || this == F64;
    }

    /**
     * Returns the type of the given safetensors dtype name.
     *
     * @param name the name in a safetensors header, for example {@code "BF16"}
     * @return the type, or {@code null} if mamba-djl does not know it
     */
    public static TensorDType fromSafetensors(String name) {
        for (TensorDType type : values()) {
            if (type.name().equals(name)) {
                return type;
            }
        }
        return null;
    }

    /**
     * Returns the type of the given DJL data type.
     *
     * @param dataType the DJL data type
     * @return the tensor type
     * @throws IllegalArgumentException if the type has no safetensors equivalent
     */
    public static TensorDType of(DataType dataType) {
        for (TensorDType type : values()) {
            if (type.dataType == dataType) {
                return type;
            }
        }
        throw new IllegalArgumentException("No safetensors dtype for " + dataType);
    }
}
