package io.github.mambadjl.checkpoint;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import org.junit.jupiter.api.Test;

class TensorDataTest {

    private static float half(int bits) {
        return Float.intBitsToFloat(TensorData.halfToFloatBits((short) bits));
    }

    @Test
    void convertsHalfPrecisionExactly() {
        assertEquals(1.0f, half(0x3C00));
        assertEquals(-2.0f, half(0xC000));
        assertEquals(65504f, half(0x7BFF));
        assertEquals(6.1035156e-5f, half(0x0400));
        assertEquals(5.9604645e-8f, half(0x0001));
        assertEquals(6.097555e-5f, half(0x03FF));
        assertEquals(-0.0f, half(0x8000));
        assertEquals(Float.POSITIVE_INFINITY, half(0x7C00));
        assertEquals(Float.NaN, half(0x7E00));
    }

    @Test
    void rejectsDataOfTheWrongSize() {
        IllegalArgumentException e =
                assertThrows(
                        IllegalArgumentException.class,
                        () ->
                                TensorData.of(
                                        "x",
                                        TensorDType.F16,
                                        new long[] {3},
                                        ByteBuffer.allocate(4)));
        assertEquals("Tensor x of shape [3] and dtype F16 needs 6 bytes, got 4", e.getMessage());
    }

    @Test
    void roundTripsThroughNDArrays() {
        try (NDManager manager = NDManager.newBaseManager("PyTorch")) {
            NDArray array =
                    manager.create(
                            new float[] {1, 2, 3, 4, 5, 6}, new ai.djl.ndarray.types.Shape(2, 3));
            TensorData tensor = TensorData.fromNDArray("w", array);
            assertEquals(TensorDType.F32, tensor.dtype());
            assertArrayEquals(new long[] {2, 3}, tensor.shape());
            assertArrayEquals(new float[] {1, 2, 3, 4, 5, 6}, tensor.toFloatArray());
            NDArray back = tensor.withName("v").toNDArray(manager, DataType.FLOAT16);
            assertEquals(DataType.FLOAT16, back.getDataType());
            assertArrayEquals(
                    new float[] {1, 2, 3, 4, 5, 6},
                    back.toType(DataType.FLOAT32, false).toFloatArray());
            ByteBuffer bf16 = ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN);
            bf16.putShort((short) 0x4040).putShort((short) 0xBF00).flip();
            NDArray fromBf16 =
                    TensorData.of("b", TensorDType.BF16, new long[] {2}, bf16)
                            .toNDArray(manager, DataType.FLOAT32);
            assertArrayEquals(new float[] {3f, -0.5f}, fromBf16.toFloatArray());
        }
    }
}
