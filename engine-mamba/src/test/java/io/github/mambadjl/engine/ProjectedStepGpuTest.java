package io.github.mambadjl.engine;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import io.github.mambadjl.kernel.KernelOutput;
import io.github.mambadjl.kernel.SsmKernels;
import io.github.mambadjl.nativeops.CudaTensorOps;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Mamba's decoding step with {@code dt_proj} folded in ({@code
 * MambaSsmKernels.selectiveStateUpdateProjected}, one CUDA kernel) against the product followed by
 * the plain step on the same GPU, at the shapes of mamba-2.8b (5120 channels, dt rank 160, 16
 * states) and mamba-130m (1536, 48): bit for bit, outputs and states, with dtLow, B and C the views
 * of one x_proj output that {@code Mamba} passes. The GEMV is forced ({@code GemvMode.ALWAYS}):
 * with rows of fewer than 64 16-byte vectors it runs one warp per column, the order in which the
 * step sums dt.
 */
@Tag("gpu")
class ProjectedStepGpuTest {

    private CpuAndGpu e;

    @BeforeEach
    void open() {
        e = new CpuAndGpu();
        CudaTensorOps.setGemvMode(CudaTensorOps.GemvMode.ALWAYS);
    }

    @AfterEach
    void close() {
        CudaTensorOps.setGemvMode(CudaTensorOps.GemvMode.MEASURE);
        e.close();
    }

    @ParameterizedTest(name = "{0}, batch {1}, dim {2}, rank {3}")
    @CsvSource({
        "BFLOAT16, 1, 5120, 160",
        "BFLOAT16, 3, 5120, 160",
        "FLOAT16, 1, 5120, 160",
        "FLOAT16, 3, 5120, 160",
        "FLOAT32, 1, 5120, 160",
        "FLOAT32, 3, 5120, 160",
        "BFLOAT16, 4, 1536, 48",
        "FLOAT32, 2, 1536, 48"
    })
    void projectedStepIsTheProductThenTheStep(DataType type, long batch, long dim, long rank) {
        long n = 16;
        NDArray proj = uniform(type, 1, batch, rank + 2 * n);
        NDArray low = proj.get(new NDIndex(":, :{}", rank));
        NDArray b = proj.get(new NDIndex(":, {}:{}", rank, rank + n));
        NDArray c = proj.get(new NDIndex(":, {}:", rank + n));
        NDArray weight = uniform(type, (float) (1 / Math.sqrt(rank)), dim, rank);
        NDArray u = uniform(type, 1, batch, dim);
        NDArray z = uniform(type, 2, batch, dim);
        NDArray a = uniform(DataType.FLOAT32, 1, dim, n).abs().add(0.1f).neg();
        NDArray d = uniform(DataType.FLOAT32, 1, dim);
        NDArray bias = uniform(DataType.FLOAT32, 0.5f, dim).sub(0.5f);
        NDArray state = uniform(DataType.FLOAT32, 1, batch, dim, n);
        SsmKernels kernels = SsmKernels.of(u);

        NDArray plainState = state.duplicate();
        NDArray dt = low.matMul(weight.transpose());
        KernelOutput plain =
                kernels.selectiveStateUpdate(plainState, u, dt, a, b, c, d, z, bias, true);

        NDArray fusedState = state.duplicate();
        long blocks = MambaNDManager.deviceBlocksInUse(0);
        KernelOutput fused =
                kernels.selectiveStateUpdateProjected(
                        fusedState, u, low, weight, a, b, c, d, z, bias, true);
        // one kernel: the output is its only allocation (no product in between), the state is
        // updated in place
        assertEquals(blocks + 1, MambaNDManager.deviceBlocksInUse(0), "memory blocks allocated");
        assertSame(fusedState, fused.state());

        float[] want = host(plain.output());
        assertTrue(maxAbs(want) > 0, "the output must not be zeros");
        assertArrayEquals(want, host(fused.output()), "output");
        assertArrayEquals(host(plain.state()), host(fused.state()), "state");
    }

    /** Uniform values in [-scale, scale) of a type on the GPU. */
    private NDArray uniform(DataType type, float scale, long... shape) {
        return e.uniform(-1, 1, DataType.FLOAT32, shape)[1].mul(scale).toType(type, false);
    }

    private static float[] host(NDArray gpu) {
        assertEquals(Device.gpu(), gpu.getDevice());
        try (NDArray back = gpu.toDevice(Device.cpu(), true)) {
            return back.toType(DataType.FLOAT32, false).toFloatArray();
        }
    }

    private static float maxAbs(float[] v) {
        float m = 0;
        for (float x : v) {
            m = Math.max(m, Math.abs(x));
        }
        return m;
    }
}
