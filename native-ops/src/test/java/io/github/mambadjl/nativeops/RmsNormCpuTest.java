package io.github.mambadjl.nativeops;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** Gated RMSNorm and RMSNorm fused with the residual add against the float64 oracle. */
class RmsNormCpuTest {

    static final long SEED = System.nanoTime();

    Backend backend() {
        return Backend.CPU;
    }

    @ParameterizedTest(name = "rows {0} hidden {1} group {2} gate {3} before {4} strided {5} {6}")
    @CsvSource({
        "1, 1, 1, false, false, false, FLOAT32",
        "3, 24, 8, true, false, true, FLOAT32",
        "5, 96, 96, true, true, false, FLOAT16",
        "4, 130, 65, true, false, true, BFLOAT16",
        "7, 40, 10, false, false, false, BFLOAT16",
        "2, 2048, 256, true, false, true, FLOAT16",
        // decoding's shapes (one row, a whole group per block: the GPU's wide kernel, up to 8
        // values per thread), past its limits (a group over 8192, more than 64 blocks)
        "1, 5120, 5120, true, false, true, BFLOAT16",
        "1, 8192, 1024, true, true, false, BFLOAT16",
        "1, 8192, 8192, false, false, false, FLOAT32",
        "1, 10240, 10240, true, false, false, FLOAT32",
        "80, 64, 64, true, false, false, BFLOAT16"
    })
    void gatedMatchesFloat64Oracle(
            int rows,
            int hidden,
            int group,
            boolean gate,
            boolean before,
            boolean strided,
            DType dtype) {
        long seed = SEED + rows * 31L + hidden + group + dtype.ordinal();
        Random rnd = new Random(seed);
        float[] x = Host.quantize(dtype, Host.gaussian(rnd, rows * hidden, 2));
        float[] z = Host.quantize(dtype, Host.gaussian(rnd, rows * hidden, 1));
        float[] w = Host.quantize(dtype, Host.uniform(rnd, hidden, 0.5, 1.5));
        NativeTensor xt;
        NativeTensor zt;
        if (strided) {
            // x and z side by side in one [rows, 2 * hidden] buffer, as a projection's columns
            float[] mem = new float[rows * 2 * hidden];
            for (int r = 0; r < rows; r++) {
                System.arraycopy(x, r * hidden, mem, r * 2 * hidden, hidden);
                System.arraycopy(z, r * hidden, mem, r * 2 * hidden + hidden, hidden);
            }
            NativeTensor all = Host.tensor(dtype, mem, rows, 2L * hidden);
            long[] shape = {rows, hidden};
            long[] strides = {2L * hidden, 1};
            xt = all.view(0, shape, strides);
            zt = all.view(hidden, shape, strides);
        } else {
            xt = Host.tensor(dtype, x, rows, hidden);
            zt = Host.tensor(dtype, z, rows, hidden);
        }
        NativeTensor out = Host.poisoned(dtype, rows, hidden);
        float eps = 1e-5f;
        backend()
                .rmsNormGated(
                        new RmsNormGatedArgs(
                                xt,
                                gate ? zt : null,
                                Host.tensor(dtype, w, hidden),
                                group,
                                eps,
                                before,
                                out));
        double[] want =
                Oracles.rmsNormGated(rows, hidden, group, x, gate ? z : null, w, eps, before);
        Compare.close("out", want, Host.read(out), Host.rtol(dtype), 1e-2, seed);
    }

    @ParameterizedTest(name = "rows {0} hidden {1} {2} residual {3} residualOut {4} in place {5}")
    @CsvSource({
        "1, 1, FLOAT32, FLOAT32, true, false",
        "3, 77, FLOAT32, FLOAT32, true, true",
        "4, 64, BFLOAT16, FLOAT32, true, true",
        "4, 64, BFLOAT16, BFLOAT16, true, false",
        "2, 300, FLOAT16, FLOAT32, false, false",
        "5, 33, FLOAT16, , true, false"
    })
    void addMatchesFloat64Oracle(
            int rows,
            int hidden,
            DType dtype,
            DType residualDtype,
            boolean withResidualOut,
            boolean inPlace) {
        long seed = SEED + rows * 7L + hidden + dtype.ordinal();
        Random rnd = new Random(seed);
        float[] x = Host.quantize(dtype, Host.gaussian(rnd, rows * hidden, 1));
        float[] w = Host.quantize(dtype, Host.uniform(rnd, hidden, 0.5, 1.5));
        DType rd = residualDtype == null ? DType.FLOAT32 : residualDtype;
        float[] res =
                residualDtype == null
                        ? null
                        : Host.quantize(rd, Host.gaussian(rnd, rows * hidden, 3));
        NativeTensor resT = res == null ? null : Host.tensor(rd, res, rows, hidden);
        NativeTensor resOut =
                !withResidualOut ? null : inPlace ? resT : Host.poisoned(rd, rows, hidden);
        NativeTensor out = Host.poisoned(dtype, rows, hidden);
        float eps = 1e-6f;
        backend()
                .addRmsNorm(
                        new AddRmsNormArgs(
                                Host.tensor(dtype, x, rows, hidden),
                                resT,
                                Host.tensor(dtype, w, hidden),
                                eps,
                                out,
                                resOut));
        float[] sum = new float[rows * hidden];
        for (int i = 0; i < sum.length; i++) {
            sum[i] = Host.roundTo(rd, x[i] + (res == null ? 0 : res[i]));
        }
        Compare.close(
                "out",
                Oracles.rmsNorm(rows, hidden, sum, w, eps),
                Host.read(out),
                Host.rtol(dtype),
                1e-2,
                seed);
        if (resOut != null) {
            Compare.close("residualOut", Compare.toDouble(sum), Host.read(resOut), 0, 0, seed);
        }
    }

    @Test
    void badArgumentsAreRefused() {
        NativeTensor x = Host.f32(new float[12], 3, 4);
        IllegalArgumentException group =
                assertThrows(
                        IllegalArgumentException.class,
                        () ->
                                new RmsNormGatedArgs(
                                        x,
                                        null,
                                        Host.f32(new float[4], 4),
                                        3,
                                        1e-5f,
                                        false,
                                        Host.poisoned(DType.FLOAT32, 3, 4)));
        assertTrue(group.getMessage().contains("groupSize must divide hidden"), group.getMessage());
        IllegalArgumentException dtype =
                assertThrows(
                        IllegalArgumentException.class,
                        () ->
                                new AddRmsNormArgs(
                                        x,
                                        Host.tensor(DType.FLOAT16, new float[12], 3, 4),
                                        Host.f32(new float[4], 4),
                                        1e-5f,
                                        Host.poisoned(DType.FLOAT32, 3, 4),
                                        null));
        assertTrue(dtype.getMessage().contains("float32 or x's dtype"), dtype.getMessage());
        NativeOpException nullX =
                assertThrows(
                        NativeOpException.class,
                        () ->
                                backend()
                                        .rmsNormGated(
                                                new RmsNormGatedArgs(
                                                        NativeTensor.wrap(
                                                                0, 48, DType.FLOAT32, 3, 4),
                                                        null,
                                                        Host.f32(new float[4], 4),
                                                        2,
                                                        1e-5f,
                                                        false,
                                                        Host.poisoned(DType.FLOAT32, 3, 4))));
        assertTrue(nullX.getMessage().contains("x is NULL"), nullX.getMessage());
        NativeOpException nullW =
                assertThrows(
                        NativeOpException.class,
                        () ->
                                backend()
                                        .addRmsNorm(
                                                new AddRmsNormArgs(
                                                        x,
                                                        null,
                                                        NativeTensor.wrap(0, 16, DType.FLOAT32, 4),
                                                        1e-5f,
                                                        Host.poisoned(DType.FLOAT32, 3, 4),
                                                        null)));
        assertTrue(nullW.getMessage().contains("weight is NULL"), nullW.getMessage());
    }
}
