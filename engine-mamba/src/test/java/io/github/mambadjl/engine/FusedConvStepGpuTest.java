package io.github.mambadjl.engine;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import io.github.mambadjl.kernel.KernelOutput;
import io.github.mambadjl.kernel.SsmKernels;
import io.github.mambadjl.nativeops.CudaTensorOps;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The first projection of a decoding step with the convolution step in the GEMV's epilogue ({@code
 * mops_cuda_rms_norm_linear_conv}, through {@link MambaSsmKernels}) against the fused norm and
 * product ({@code rmsNormLinear}) followed by the separate convolution step on the same GPU: the
 * outputs and the state bit for bit. The GEMV is forced ({@code GemvMode.ALWAYS}) so that both
 * products run the same split; the state is updated in place, as the separate step updates it.
 */
@Tag("gpu")
class FusedConvStepGpuTest {

    private static final float EPS = 1e-5f;

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

    /**
     * dtype, rows, k (in), n (out), the first convolved output, the convolved outputs, the filter
     * width: Mamba-1 2.8b (x first), Mamba-2 2.7b and Codestral (z, then x, B and C, then dt), and
     * small odd shapes with every width.
     */
    static Stream<Arguments> shapes() {
        List<Arguments> cases = new ArrayList<>();
        for (DataType t : new DataType[] {DataType.BFLOAT16, DataType.FLOAT16, DataType.FLOAT32}) {
            for (int rows = 1; rows <= 4; rows++) {
                cases.add(Arguments.of(t, rows, 2560, 10240, 0, 5120, 4));
                cases.add(Arguments.of(t, rows, 2560, 10576, 5120, 5376, 4));
                cases.add(Arguments.of(t, rows, 4096, 18560, 8192, 10240, 4));
                cases.add(Arguments.of(t, rows, 64, 40, 3, 20, 2));
                cases.add(Arguments.of(t, rows, 768, 3001, 1000, 2001, 3));
            }
        }
        return cases.stream();
    }

    @ParameterizedTest(
            name = "{0}, {1} rows, in {2}, out {3}, convolved [{4}, {4} + {5}), width {6}")
    @MethodSource("shapes")
    void convolutionStepIsTheProjectionThenTheStep(
            DataType type, int rows, int k, int n, int start, int channels, int width) {
        NDArray x = gpu(type, rows, k);
        NDArray g = e.onGpu(e.cpu.randomUniform(0.5f, 1.5f, new Shape(k)).toType(type, false));
        NDArray w = gpu(type, n, k);
        NDArray cw = gpu(type, channels, width);
        NDArray cb = gpu(type, channels);
        NDArray state = e.uniform(-1, 1, DataType.FLOAT32, rows, channels, width - 1)[1];
        NDArray separateState = state.duplicate();
        NDArray projected = FusedGemv.rmsNormLinear(x, g, EPS, w, null);
        assertNotNull(projected, "the fused GEMV applies to these operands");
        KernelOutput step =
                SsmKernels.of(x)
                        .causalConv1dUpdate(
                                projected.get(new NDIndex("..., {}:{}", start, start + channels)),
                                cw,
                                cb,
                                separateState,
                                true);
        KernelOutput fused =
                FusedGemv.rmsNormLinearConvUpdate(x, g, EPS, w, null, start, cw, cb, state, true);
        assertNotNull(fused, "the fused GEMV applies to these operands");
        assertSame(state, fused.state(), "the state is updated in place");
        float[] want = host(projected);
        float[] convolved = host(step.output());
        for (int r = 0; r < rows; r++) {
            System.arraycopy(convolved, r * channels, want, r * n + start, channels);
        }
        assertBitIdentical(want, fused.output());
        assertBitIdentical(host(step.state()), fused.state());
    }

    @Test
    void withoutBiasAndThroughTheKernels() {
        NDArray x = gpu(DataType.BFLOAT16, 2, 256);
        NDArray g =
                e.onGpu(
                        e.cpu.randomUniform(0.5f, 1.5f, new Shape(256))
                                .toType(DataType.BFLOAT16, false));
        NDArray w = gpu(DataType.BFLOAT16, 96, 256);
        NDArray cw = gpu(DataType.BFLOAT16, 32, 1, 4);
        NDArray state = e.uniform(-1, 1, DataType.FLOAT32, 2, 32, 3)[1];
        NDArray separateState = state.duplicate();
        SsmKernels kernels = SsmKernels.of(x);
        NDArray projected = kernels.rmsNormLinear(x, g, EPS, w, null);
        KernelOutput step =
                kernels.causalConv1dUpdate(
                        projected.get(new NDIndex("..., 64:")), cw, null, separateState, false);
        KernelOutput fused =
                kernels.rmsNormLinearConvUpdate(x, g, EPS, w, null, 64, cw, null, state, false);
        float[] want = host(projected);
        float[] convolved = host(step.output());
        for (int r = 0; r < 2; r++) {
            System.arraycopy(convolved, r * 32, want, r * 96 + 64, 32);
        }
        assertBitIdentical(want, fused.output());
        assertBitIdentical(host(step.state()), fused.state());
    }

    @Test
    void operandsTheKernelDoesNotTakeTakeTheComposition() {
        NDArray x = gpu(DataType.BFLOAT16, 1, 64);
        NDArray g = e.onGpu(e.cpu.ones(new Shape(64)).toType(DataType.BFLOAT16, false));
        NDArray w = gpu(DataType.BFLOAT16, 40, 64);
        NDArray state = e.uniform(-1, 1, DataType.FLOAT32, 1, 20, 4)[1];
        // a filter of width 5
        assertNull(
                FusedGemv.rmsNormLinearConvUpdate(
                        x, g, EPS, w, null, 0, gpu(DataType.BFLOAT16, 20, 5), null, state, true));
        // a state of another batch
        assertNull(
                FusedGemv.rmsNormLinearConvUpdate(
                        x,
                        g,
                        EPS,
                        w,
                        null,
                        0,
                        gpu(DataType.BFLOAT16, 20, 4),
                        null,
                        e.uniform(-1, 1, DataType.FLOAT32, 2, 20, 3)[1],
                        true));
        // channels past the output
        assertNull(
                FusedGemv.rmsNormLinearConvUpdate(
                        x,
                        g,
                        EPS,
                        w,
                        null,
                        30,
                        gpu(DataType.BFLOAT16, 20, 4),
                        null,
                        e.uniform(-1, 1, DataType.FLOAT32, 1, 20, 3)[1],
                        true));
    }

    /** Random values of a type on the GPU, of a size that keeps products near 1. */
    private NDArray gpu(DataType type, long... shape) {
        float bound = (float) (1.0 / Math.sqrt(shape[shape.length - 1]));
        return e.uniform(-1, 1, DataType.FLOAT32, shape)[1].mul(bound * 4).toType(type, false);
    }

    private static void assertBitIdentical(float[] want, NDArray actual) {
        assertEquals(Device.gpu(), actual.getDevice());
        assertEquals(want.length, actual.getShape().size());
        float m = 0;
        for (float v : want) {
            m = Math.max(m, Math.abs(v));
        }
        assertTrue(m > 0, "the output must not be zeros");
        assertArrayEquals(want, host(actual));
    }

    private static float[] host(NDArray a) {
        try (NDArray back = a.toDevice(Device.cpu(), true)) {
            return back.toType(DataType.FLOAT32, false).toFloatArray();
        }
    }
}
