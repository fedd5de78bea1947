package io.github.mambadjl.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.DataType;
import ai.djl.nn.core.Linear;
import io.github.mambadjl.kernel.SsmKernels;
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
 * A prompt's last projection with the residual add in cuBLASLt's epilogue ({@code
 * mops_cuda_matmul_add} through {@link FusedGemm} and {@link MambaSsmKernels#linearAdd}) against
 * the float32 product and add of the same operands: within one unit in the last place of the result
 * plus one of the product in the dtype (the epilogue rounds once; the product then the add, checked
 * against the same bound, round twice), 1e-5 of the scale in float32. Inputs read through their
 * strides (the transposed scan output of a prefill), and those the call does not take.
 */
@Tag("gpu")
class FusedGemmGpuTest {

    private CpuAndGpu e;

    @BeforeEach
    void open() {
        e = new CpuAndGpu();
    }

    @AfterEach
    void close() {
        e.close();
    }

    /** dtype, batch, rows per batch entry, k (in), n (out), whether x is a transposed view. */
    static Stream<Arguments> shapes() {
        List<Arguments> cases = new ArrayList<>();
        for (DataType t : new DataType[] {DataType.BFLOAT16, DataType.FLOAT16, DataType.FLOAT32}) {
            cases.add(Arguments.of(t, 1, 512, 5120, 2560, false));
            cases.add(Arguments.of(t, 1, 512, 5120, 2560, true));
            cases.add(Arguments.of(t, 2, 64, 256, 96, false));
            cases.add(Arguments.of(t, 1, 5, 64, 24, false));
            cases.add(Arguments.of(t, 1, 3, 64, 24, true));
            cases.add(Arguments.of(t, 1, 37, 100, 33, true));
        }
        return cases.stream();
    }

    @ParameterizedTest(name = "{0}, batch {1}, {2} rows, in {3}, out {4}, transposed {5}")
    @MethodSource("shapes")
    void theAddInTheEpilogueIsTheProductPlusTheAddend(
            DataType type, int batch, int rows, int k, int n, boolean transposed) {
        NDArray x =
                transposed
                        ? gpu(type, batch, k, rows).transpose(0, 2, 1)
                        : gpu(type, batch, rows, k);
        NDArray w = gpu(type, n, k);
        NDArray addend = gpu(type, batch, rows, n);
        NDArray fused = FusedGemm.linearAdd(x, w, null, addend);
        assertNotNull(fused, "the fused call takes these operands");
        NDArray product =
                Linear.linear(x.toType(DataType.FLOAT32, true), w.toType(DataType.FLOAT32, true))
                        .head();
        NDArray exact = product.add(addend.toType(DataType.FLOAT32, true));
        assertWithinOneRounding(type, exact, product, fused);
        assertWithinOneRounding(type, exact, product, addend.add(Linear.linear(x, w).head()));
        assertWithinOneRounding(
                type, exact, product, SsmKernels.of(x).linearAdd(x, w, null, addend));
    }

    @Test
    void inputsWhoseRowsTakeTwoStridesTakeTheComposition() {
        // [2, 40, 64] read from [2, 64, 40]: the rows of the two batch entries are not one stride
        NDArray x = gpu(DataType.BFLOAT16, 2, 64, 40).transpose(0, 2, 1);
        NDArray w = gpu(DataType.BFLOAT16, 24, 64);
        NDArray addend = gpu(DataType.BFLOAT16, 2, 40, 24);
        assertNull(FusedGemm.linearAdd(x, w, null, addend));
        assertNull(
                FusedGemm.linearAdd(
                        gpu(DataType.BFLOAT16, 8, 64),
                        w,
                        gpu(DataType.BFLOAT16, 24),
                        gpu(DataType.BFLOAT16, 8, 24)),
                "a bias");
        assertNull(
                FusedGemm.linearAdd(
                        gpu(DataType.BFLOAT16, 8, 64),
                        w,
                        null,
                        gpu(DataType.BFLOAT16, 24, 8).transpose()),
                "a strided addend");
        NDArray product =
                Linear.linear(x.toType(DataType.FLOAT32, true), w.toType(DataType.FLOAT32, true))
                        .head();
        assertWithinOneRounding(
                DataType.BFLOAT16,
                product.add(addend.toType(DataType.FLOAT32, true)),
                product,
                SsmKernels.of(x).linearAdd(x, w, null, addend));
    }

    /** Random values of a type on the GPU, of a size that keeps products near 1. */
    private NDArray gpu(DataType type, long... shape) {
        float bound = (float) (1.0 / Math.sqrt(shape[shape.length - 1]));
        return e.uniform(-1, 1, DataType.FLOAT32, shape)[1].mul(bound * 4).toType(type, false);
    }

    private static void assertWithinOneRounding(
            DataType type, NDArray exact, NDArray product, NDArray actual) {
        assertEquals(Device.gpu(), actual.getDevice());
        assertEquals(exact.getShape(), actual.getShape());
        assertEquals(type, actual.getDataType());
        float[] want = host(exact);
        float[] p = host(product);
        float[] got = host(actual);
        float scale = 0;
        for (float v : p) {
            scale = Math.max(scale, Math.abs(v));
        }
        assertTrue(scale > 0, "the product must not be zeros");
        for (int i = 0; i < want.length; i++) {
            double tol =
                    type == DataType.FLOAT32
                            ? 1e-5 * (Math.abs(want[i]) + scale)
                            : ulp(type, Math.abs(want[i]))
                                    + ulp(type, Math.abs(p[i]))
                                    + 1e-5 * scale;
            if (!(Math.abs(want[i] - got[i]) <= tol)) {
                throw new AssertionError(
                        type
                                + " element "
                                + i
                                + ": exact "
                                + want[i]
                                + ", got "
                                + got[i]
                                + " (tolerance "
                                + tol
                                + ")");
            }
        }
    }

    /** One unit in the last place of a 16-bit dtype at magnitude v (normal numbers). */
    private static double ulp(DataType type, double v) {
        int bits = type == DataType.BFLOAT16 ? 7 : 10;
        double floor = type == DataType.BFLOAT16 ? 0x1p-133 : 0x1p-24;
        if (v == 0) {
            return floor;
        }
        return Math.max(floor, Math.pow(2, Math.floor(Math.log(v) / Math.log(2)) - bits));
    }

    private static float[] host(NDArray a) {
        try (NDArray back = a.toDevice(Device.cpu(), true)) {
            return back.toType(DataType.FLOAT32, false).toFloatArray();
        }
    }
}
