package io.github.mambadjl.engine;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import java.util.Random;

/** One manager on the Mamba engine and one on PyTorch, filled with the same random data. */
final class TwoEngines implements AutoCloseable {

    final NDManager mamba = Engine.getEngine(MambaEngine.ENGINE_NAME).newBaseManager();
    final NDManager torch = Engine.getEngine("PyTorch").newBaseManager();
    final Random random = new Random();

    /** Random float32 values in [low, high) on both engines: {mamba, torch}. */
    NDArray[] uniform(float low, float high, long... shape) {
        float[] data = new float[(int) new Shape(shape).size()];
        for (int i = 0; i < data.length; i++) {
            data[i] = low + (high - low) * random.nextFloat();
        }
        NDArray m = mamba.create(data, new Shape(shape));
        assertInstanceOf(MambaNDArray.class, m);
        return new NDArray[] {m, torch.create(data, new Shape(shape))};
    }

    /** Random int64 values in [0, bound) on both engines. */
    NDArray[] ints(long bound, long... shape) {
        long[] data = new long[(int) new Shape(shape).size()];
        for (int i = 0; i < data.length; i++) {
            data[i] = (long) random.nextInt((int) bound);
        }
        return new NDArray[] {
            mamba.create(data, new Shape(shape)), torch.create(data, new Shape(shape))
        };
    }

    /** Asserts that a Mamba result equals the PyTorch one in shape, type and values. */
    static void assertClose(NDArray expected, NDArray actual, double tolerance) {
        assertInstanceOf(MambaNDArray.class, actual, "the result must stay on the Mamba engine");
        assertEquals(expected.getShape(), actual.getShape(), "shape");
        assertEquals(expected.getDataType(), actual.getDataType(), "data type");
        DataType type = expected.getDataType();
        if (type == DataType.BOOLEAN) {
            assertArrayEquals(expected.toBooleanArray(), actual.toBooleanArray());
        } else if (type == DataType.INT64) {
            assertArrayEquals(expected.toLongArray(), actual.toLongArray());
        } else if (type == DataType.INT32) {
            assertArrayEquals(expected.toIntArray(), actual.toIntArray());
        } else {
            float[] e = expected.toType(DataType.FLOAT32, false).toFloatArray();
            float[] a = actual.toType(DataType.FLOAT32, false).toFloatArray();
            assertEquals(e.length, a.length, "size");
            for (int i = 0; i < e.length; i++) {
                double tol = tolerance * Math.max(1.0, Math.abs(e[i]));
                if (Float.isNaN(e[i])) {
                    assertEquals(e[i], a[i], "NaN at " + i);
                } else if (Math.abs(e[i] - a[i]) > tol) {
                    throw new AssertionError(
                            "element " + i + ": expected " + e[i] + " but got " + a[i]);
                }
            }
        }
    }

    @Override
    public void close() {
        mamba.close();
        torch.close();
    }
}
