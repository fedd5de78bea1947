package io.github.mambadjl.engine;

import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Device;
import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import java.util.Locale;
import java.util.function.Supplier;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * Throughput of the main GPU paths, printed for the record, with floors far below what an H100 or
 * H200 reaches (a floor missed means a path fell off the GPU fast path: a packed operand, a
 * synchronisation per call, a kernel that does not scale).
 */
@Tag("gpu")
class GpuThroughputTest {

    /** Seconds per call of op, after warm-up, measured over the device stream. */
    private static double seconds(NDManager gpu, Supplier<NDArray> op, int iterations) {
        CudaBackend backend = (CudaBackend) Backend.of(Device.gpu());
        for (int i = 0; i < 3; i++) {
            op.get().close();
        }
        backend.synchronize();
        long start = System.nanoTime();
        for (int i = 0; i < iterations; i++) {
            op.get().close();
        }
        backend.synchronize();
        return (System.nanoTime() - start) / 1e9 / iterations;
    }

    private static void report(String what, double value, String unit, double floor) {
        System.out.printf(Locale.ROOT, "[gpu throughput] %s: %.1f %s%n", what, value, unit);
        assertTrue(value >= floor, what + ": " + value + " " + unit + " is below " + floor);
    }

    @Test
    void gemmGemvElementwiseAndAttention() {
        // constant inputs: the values do not change the speed, and drawing hundreds of millions of
        // random numbers in Java would take longer than the measurements
        try (NDManager gpu = Engine.getEngine("Mamba").newBaseManager(Device.gpu())) {
            NDArray a = gpu.full(new Shape(4096, 4096), 0.01f, DataType.BFLOAT16);
            NDArray b = gpu.full(new Shape(4096, 4096), 0.01f, DataType.BFLOAT16);
            double t = seconds(gpu, () -> a.matMul(b.transpose()), 20);
            report("bf16 GEMM 4096^3", 2.0 * 4096 * 4096 * 4096 / t / 1e12, "TFLOP/s", 100);

            NDArray x = gpu.full(new Shape(1, 4096), 0.01f, DataType.BFLOAT16);
            NDArray w = gpu.full(new Shape(16384, 4096), 0.01f, DataType.BFLOAT16);
            t = seconds(gpu, () -> x.matMul(w.transpose()), 50);
            report(
                    "bf16 decode GEMV 1x4096 . 4096x16384",
                    16384.0 * 4096 * 2 / t / 1e9,
                    "GB/s",
                    500);

            NDArray f = gpu.full(new Shape(64, 1 << 20), 0.5f);
            NDArray g = gpu.full(new Shape(64, 1 << 20), 0.5f);
            t = seconds(gpu, () -> f.add(g), 20);
            report(
                    "float32 add of 64 Mi elements",
                    3.0 * 4 * 64 * (1 << 20) / t / 1e9,
                    "GB/s",
                    500);

            NDArray q = gpu.full(new Shape(1, 32, 1, 128), 0.01f, DataType.BFLOAT16);
            NDArray k = gpu.full(new Shape(1, 8, 4096, 128), 0.01f, DataType.BFLOAT16);
            NDArray v = gpu.full(new Shape(1, 8, 4096, 128), 0.01f, DataType.BFLOAT16);
            float scale = (float) (1 / Math.sqrt(128));
            t = seconds(gpu, () -> FusedAttention.causal(q, k, v, 4095, scale), 50);
            report("attention decode, 4096 cached keys (32/8 heads, d 128)", t * 1e6, "us", 0);
            assertTrue(t < 5e-3, "decode attention took " + t + " s");

            NDArray qp = gpu.full(new Shape(1, 32, 2048, 128), 0.01f, DataType.BFLOAT16);
            NDArray kp = gpu.full(new Shape(1, 8, 2048, 128), 0.01f, DataType.BFLOAT16);
            t = seconds(gpu, () -> FusedAttention.causal(qp, kp, kp, 0, scale), 5);
            double flops = 2.0 * 2 * 32 * 2048.0 * 2048 / 2 * 128;
            report(
                    "attention prefill 2048 causal (32/8 heads, d 128)",
                    flops / t / 1e12,
                    "TFLOP/s",
                    1);
        }
    }
}
