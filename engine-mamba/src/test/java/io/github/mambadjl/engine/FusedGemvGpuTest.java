package io.github.mambadjl.engine;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.core.Linear;
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
 * The fused GEMVs of a decoding layer's residual step ({@code mops_cuda_rms_norm_linear}, {@code
 * mops_cuda_linear_add}, through {@link MambaSsmKernels}) against the separate norm, product and
 * add on the same GPU: the add bit for bit, the norm's product within one ulp of the 16-bit dtypes
 * (the norm's sum of squares is reduced in another order) and 1e-5 in float32. The GEMV is forced
 * ({@code GemvMode.ALWAYS}) so that the separate product and the fused one run the same split. Also
 * where the fused form does not apply (strided input, bias, more than 4 rows, rows that do not fill
 * 16-byte vectors): the composition, or for a strided input's add, {@link FusedGemm}.
 */
@Tag("gpu")
class FusedGemvGpuTest {

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

    /** dtype, rows (the product of the leading dimensions), k (in), n (out). */
    static Stream<Arguments> shapes() {
        List<Arguments> cases = new ArrayList<>();
        for (DataType t : new DataType[] {DataType.BFLOAT16, DataType.FLOAT16, DataType.FLOAT32}) {
            for (int rows = 1; rows <= 4; rows++) {
                cases.add(Arguments.of(t, rows, 2560, 10576));
                cases.add(Arguments.of(t, rows, 64, 24));
                cases.add(Arguments.of(t, rows, 768, 3001));
            }
        }
        return cases.stream();
    }

    @ParameterizedTest(name = "{0}, {1} rows, in {2}, out {3}")
    @MethodSource("shapes")
    void linearAddIsTheProductThenTheAdd(DataType type, int rows, int k, int n) {
        NDArray x = gpu(type, rows, k);
        NDArray w = gpu(type, n, k);
        NDArray addend = gpu(type, rows, n);
        NDArray expected = addend.add(Linear.linear(x, w).head());
        NDArray fused = FusedGemv.linearAdd(x, w, null, addend);
        assertNotNull(fused, "the fused GEMV applies to these operands");
        assertBitIdentical(expected, fused);
        assertBitIdentical(expected, SsmKernels.of(x).linearAdd(x, w, null, addend));
    }

    @ParameterizedTest(name = "{0}, {1} rows, in {2}, out {3}")
    @MethodSource("shapes")
    void rmsNormLinearIsTheNormThenTheProduct(DataType type, int rows, int k, int n) {
        NDArray x = gpu(type, rows, k);
        NDArray g = e.onGpu(e.cpu.randomUniform(0.5f, 1.5f, new Shape(k)).toType(type, false));
        NDArray w = gpu(type, n, k);
        NDArray normed = SsmKernels.of(x).gatedRmsNorm(x, null, g, EPS, k, true);
        NDArray expected = Linear.linear(normed, w).head();
        NDArray fused = FusedGemv.rmsNormLinear(x, g, EPS, w, null);
        assertNotNull(fused, "the fused GEMV applies to these operands");
        assertCloseToTheProduct(expected, fused, normed, w);
        assertCloseToTheProduct(
                expected, SsmKernels.of(x).rmsNormLinear(x, g, EPS, w, null), normed, w);
    }

    @Test
    void stridedInputsBiasesAndOtherShapesTakeTheComposition() {
        for (DataType type : new DataType[] {DataType.BFLOAT16, DataType.FLOAT32}) {
            NDArray w = gpu(type, 24, 64);
            NDArray g = e.onGpu(e.cpu.randomUniform(0.5f, 1.5f, new Shape(64)).toType(type, false));
            NDArray bias = gpu(type, 24);
            // a transposed (strided) input: [2, 64] read with strides (1, 2)
            NDArray strided = gpu(type, 64, 2).transpose();
            NDArray addend = gpu(type, 2, 24);
            assertNull(FusedGemv.linearAdd(strided, w, null, addend));
            assertNull(FusedGemv.rmsNormLinear(strided, g, EPS, w, null));
            // the strided rows go to cuBLASLt with the add in its epilogue (FusedGemmGpuTest)
            assertBitIdentical(
                    FusedGemm.linearAdd(strided, w, null, addend),
                    SsmKernels.of(strided).linearAdd(strided, w, null, addend));
            assertBitIdentical(
                    Linear.linear(
                                    SsmKernels.of(strided)
                                            .gatedRmsNorm(strided, null, g, EPS, 64, true),
                                    w)
                            .head(),
                    SsmKernels.of(strided).rmsNormLinear(strided, g, EPS, w, null));
            NDArray x = gpu(type, 2, 64);
            assertNull(FusedGemv.linearAdd(x, w, bias, addend), "a bias");
            assertNull(FusedGemv.rmsNormLinear(x, g, EPS, w, bias), "a bias");
            assertBitIdentical(
                    addend.add(Linear.linear(x, w, bias).head()),
                    SsmKernels.of(x).linearAdd(x, w, bias, addend));
            NDArray five = gpu(type, 5, 64);
            assertNull(FusedGemv.linearAdd(five, w, null, gpu(type, 5, 24)), "5 rows");
            assertNull(FusedGemv.rmsNormLinear(five, g, EPS, w, null), "5 rows");
            NDArray odd = gpu(type, 2, 65);
            NDArray oddWeight = gpu(type, 7, 65);
            assertNull(FusedGemv.linearAdd(odd, oddWeight, null, gpu(type, 2, 7)), "k = 65");
            NDArray oddNorm =
                    e.onGpu(e.cpu.randomUniform(0.5f, 1.5f, new Shape(65)).toType(type, false));
            assertNull(FusedGemv.rmsNormLinear(odd, oddNorm, EPS, oddWeight, null), "k = 65");
            assertBitIdentical(
                    Linear.linear(
                                    SsmKernels.of(odd)
                                            .gatedRmsNorm(odd, null, oddNorm, EPS, 65, true),
                                    oddWeight)
                            .head(),
                    SsmKernels.of(odd).rmsNormLinear(odd, oddNorm, EPS, oddWeight, null));
        }
    }

    @Test
    void leadingDimensionsAreRows() {
        NDArray x = gpu(DataType.BFLOAT16, 2, 1, 256);
        NDArray w = gpu(DataType.BFLOAT16, 40, 256);
        NDArray addend = gpu(DataType.BFLOAT16, 2, 1, 40);
        NDArray fused = FusedGemv.linearAdd(x, w, null, addend);
        assertNotNull(fused);
        assertEquals(new Shape(2, 1, 40), fused.getShape());
        assertBitIdentical(addend.add(Linear.linear(x, w).head()), fused);
    }

    /** Random values of a type on the GPU, of a size that keeps products near 1. */
    private NDArray gpu(DataType type, long... shape) {
        float bound = (float) (1.0 / Math.sqrt(shape[shape.length - 1]));
        return e.uniform(-1, 1, DataType.FLOAT32, shape)[1].mul(bound * 4).toType(type, false);
    }

    private static void assertBitIdentical(NDArray expected, NDArray actual) {
        assertInstanceOf(MambaNDArray.class, actual);
        assertEquals(Device.gpu(), actual.getDevice());
        assertEquals(expected.getShape(), actual.getShape());
        assertEquals(expected.getDataType(), actual.getDataType());
        float[] want = host(expected);
        float[] got = host(actual);
        assertTrue(maxAbs(want) > 0, "the output must not be zeros");
        assertArrayEquals(want, got);
    }

    /**
     * Within one ulp of the dtype of the separate path's result, plus, for the 16-bit dtypes, the
     * products of two normalised inputs that round the other way (the two norms' sums of squares
     * differ in their last bits), each moved by one ulp of the largest normalised input times the
     * largest weight; and nine in ten 16-bit outputs bit for bit the separate path's (such a
     * rounding moves an output by far less than its ulp: outputs that differ more often mean values
     * other than those of the separate norm). float32 within 1e-5 of the result's scale.
     */
    private static void assertCloseToTheProduct(
            NDArray expected, NDArray actual, NDArray normed, NDArray w) {
        assertEquals(Device.gpu(), actual.getDevice());
        assertEquals(expected.getShape(), actual.getShape());
        assertEquals(expected.getDataType(), actual.getDataType());
        DataType type = expected.getDataType();
        float[] want = host(expected);
        float[] got = host(actual);
        double scale = maxAbs(host(normed)) * maxAbs(host(w));
        assertTrue(maxAbs(want) > 0, "the output must not be zeros");
        int same = 0;
        for (int i = 0; i < want.length; i++) {
            double tol;
            if (type == DataType.FLOAT32) {
                tol = 1e-5 * (Math.abs(want[i]) + scale);
            } else {
                // one ulp of a value below 2 * max is at most 2^-7 (bfloat16) or 2^-10 of max
                double unit = type == DataType.BFLOAT16 ? 0x1p-7 : 0x1p-10;
                tol = ulp(type, Math.max(Math.abs(want[i]), Math.abs(got[i]))) + 2 * unit * scale;
            }
            if (want[i] == got[i]) {
                same++;
            }
            if (!(Math.abs(want[i] - got[i]) <= tol)) {
                throw new AssertionError(
                        type
                                + " element "
                                + i
                                + ": separate "
                                + want[i]
                                + ", fused "
                                + got[i]
                                + " (tolerance "
                                + tol
                                + ")");
            }
        }
        if (type != DataType.FLOAT32) {
            assertTrue(
                    same >= 0.9 * want.length,
                    type + ": only " + same + " of " + want.length + " outputs bit for bit");
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

    private static float maxAbs(float[] values) {
        float m = 0;
        for (float v : values) {
            m = Math.max(m, Math.abs(v));
        }
        return m;
    }
}
