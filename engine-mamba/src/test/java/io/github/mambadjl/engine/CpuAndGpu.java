package io.github.mambadjl.engine;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;

import ai.djl.Device;
import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;

/**
 * The same inputs on the CPU and on gpu(0) of the Mamba engine, and the comparison of a GPU result
 * with the CPU engine's (for {@code gpu}-tagged tests).
 */
final class CpuAndGpu implements AutoCloseable {

    final NDManager cpu;
    final NDManager gpu;

    CpuAndGpu() {
        cpu = Engine.getEngine("Mamba").newBaseManager(Device.cpu());
        gpu = Engine.getEngine("Mamba").newBaseManager(Device.gpu());
    }

    /** Uniform random values of a type: [0] on the CPU, [1] the same values on the GPU. */
    NDArray[] uniform(float low, float high, DataType type, long... shape) {
        NDArray c;
        try (NDArray f = cpu.randomUniform(low, high, new Shape(shape))) {
            c = type == DataType.BOOLEAN ? f.gt((low + high) / 2) : f.toType(type, true);
        }
        return new NDArray[] {c, onGpu(c)};
    }

    /** A copy of a CPU array on the GPU, attached to the GPU manager. */
    NDArray onGpu(NDArray c) {
        NDArray g = c.toDevice(Device.gpu(), false);
        g.attach(gpu);
        assertEquals(Device.gpu(), g.getDevice());
        return g;
    }

    /**
     * Asserts that a GPU result equals the CPU one in shape, type and values (integers and booleans
     * exactly, floating point within {@code tolerance * max(1, |expected|)}).
     */
    static void assertSame(NDArray cpuResult, NDArray gpuResult, double tolerance) {
        assertInstanceOf(MambaNDArray.class, gpuResult);
        assertEquals(Device.gpu(), gpuResult.getDevice(), "the GPU result must stay on the GPU");
        assertEquals(Device.cpu(), cpuResult.getDevice());
        assertEquals(cpuResult.getShape(), gpuResult.getShape(), "shape");
        assertEquals(cpuResult.getDataType(), gpuResult.getDataType(), "data type");
        DataType type = cpuResult.getDataType();
        try (NDArray back = gpuResult.toDevice(Device.cpu(), true)) {
            if (type == DataType.BOOLEAN) {
                assertArrayEquals(cpuResult.toBooleanArray(), back.toBooleanArray());
            } else if (type == DataType.INT64) {
                assertArrayEquals(cpuResult.toLongArray(), back.toLongArray());
            } else if (type == DataType.INT32) {
                assertArrayEquals(cpuResult.toIntArray(), back.toIntArray());
            } else {
                float[] e = cpuResult.toType(DataType.FLOAT32, false).toFloatArray();
                float[] a = back.toType(DataType.FLOAT32, false).toFloatArray();
                assertEquals(e.length, a.length, "size");
                for (int i = 0; i < e.length; i++) {
                    double tol = tolerance * Math.max(1.0, Math.abs(e[i]));
                    if (Float.isNaN(e[i]) || Float.isNaN(a[i])) {
                        assertEquals(e[i], a[i], "NaN at " + i);
                    } else if (Math.abs(e[i] - a[i]) > tol) {
                        throw new AssertionError(
                                "element " + i + ": CPU " + e[i] + " but GPU " + a[i]);
                    }
                }
            }
        }
    }

    /** The tolerance of one rounding in a type (elementwise results may differ by one ulp). */
    static double ulps(DataType type) {
        switch (type) {
            case FLOAT16:
                return 1e-3;
            case BFLOAT16:
                return 8e-3;
            default:
                return 2e-6;
        }
    }

    @Override
    public void close() {
        gpu.close();
        cpu.close();
    }
}
