package io.github.mambadjl.engine;

import ai.djl.ndarray.types.DataType;
import io.github.mambadjl.nativeops.TensorDType;

/** Maps DJL's {@link DataType}s to the element types of the native library. */
final class DTypes {

    private DTypes() {}

    /**
     * Returns the native type of a DJL data type.
     *
     * @param dataType the DJL type
     * @param operation the operation asking, for the message
     * @return the native type
     * @throws IllegalArgumentException for a type the engine does not store
     */
    static TensorDType of(DataType dataType, String operation) {
        switch (dataType) {
            case FLOAT32:
                return TensorDType.FLOAT32;
            case FLOAT16:
                return TensorDType.FLOAT16;
            case BFLOAT16:
                return TensorDType.BFLOAT16;
            case INT32:
                return TensorDType.INT32;
            case INT64:
                return TensorDType.INT64;
            case BOOLEAN:
                return TensorDType.BOOLEAN;
            default:
                throw new IllegalArgumentException(
                        operation
                                + ": the Mamba engine does not store "
                                + dataType
                                + " arrays; use float32, float16, bfloat16, int64, int32 or"
                                + " boolean (convert with toType on another engine first)");
        }
    }
}
