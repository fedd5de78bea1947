package io.github.mambadjl.nativeops;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** The conv1d decoding step, and the full conv on a long sequence, against the oracle. */
class CausalConv1dUpdateCpuTest {

    static final long SEED = System.nanoTime();

    Backend backend() {
        return Backend.CPU;
    }

    int longLength() {
        return 70_001;
    }

    /** Float64 causal conv over [batch, dim, len] with a [batch, dim, width-1] history. */
    static double[] conv(
            int batch,
            int dim,
            int len,
            int width,
            float[] x,
            float[] w,
            float[] bias,
            float[] init,
            boolean silu) {
        double[] out = new double[batch * dim * len];
        for (int b = 0; b < batch; b++) {
            for (int d = 0; d < dim; d++) {
                double[] padded = new double[width - 1 + len];
                for (int k = 0; k < width - 1; k++) {
                    padded[k] = init == null ? 0 : init[(b * dim + d) * (width - 1) + k];
                }
                for (int t = 0; t < len; t++) {
                    padded[width - 1 + t] = x[(b * dim + d) * len + t];
                }
                for (int t = 0; t < len; t++) {
                    double acc = bias == null ? 0 : bias[d];
                    for (int k = 0; k < width; k++) {
                        acc += (double) w[d * width + k] * padded[t + k];
                    }
                    out[(b * dim + d) * len + t] = silu ? Oracles.silu(acc) : acc;
                }
            }
        }
        return out;
    }

    @ParameterizedTest(name = "batch {0} dim {1} steps {2} width {3} bias {4} silu {5} {6}")
    @CsvSource({
        "1, 1, 1, 2, false, false, FLOAT32",
        "2, 7, 5, 4, true, true, FLOAT32",
        "3, 33, 4, 3, true, false, FLOAT16",
        "2, 130, 3, 4, false, true, BFLOAT16",
        // enough rows for several threads
        "4, 4100, 2, 4, true, true, FLOAT32"
    })
    void stepsEqualTheFullConvolution(
            int batch, int dim, int steps, int width, boolean withBias, boolean silu, DType dtype) {
        long seed = SEED + batch * 31L + dim + steps + width + dtype.ordinal();
        Random rnd = new Random(seed);
        float[] x = Host.quantize(dtype, Host.gaussian(rnd, batch * dim * steps, 1));
        float[] w = Host.quantize(dtype, Host.gaussian(rnd, dim * width, 1));
        float[] bias = withBias ? Host.quantize(dtype, Host.gaussian(rnd, dim, 1)) : null;
        float[] init = Host.gaussian(rnd, batch * dim * (width - 1), 1);
        double[] want = conv(batch, dim, steps, width, x, w, bias, init, silu);
        NativeTensor state = Host.f32(init, batch, dim, width - 1);
        NativeTensor weight = Host.tensor(dtype, w, dim, width);
        NativeTensor biasT = bias == null ? null : Host.tensor(dtype, bias, dim);
        NativeTensor xt = Host.tensor(dtype, x, batch, dim, steps);
        NativeTensor out = Host.poisoned(dtype, batch, dim, steps);
        for (int t = 0; t < steps; t++) {
            backend()
                    .causalConv1dUpdate(
                            new CausalConv1dUpdateArgs(
                                    SelectiveScanCpuTest.step(xt, t),
                                    weight,
                                    biasT,
                                    state,
                                    SelectiveScanCpuTest.step(out, t),
                                    silu));
        }
        Compare.close("out", want, Host.read(out), Host.rtol(dtype), 1, seed);
        // the state now holds the last width - 1 inputs of the padded sequence
        double[] wantState = new double[batch * dim * (width - 1)];
        for (int r = 0; r < batch * dim; r++) {
            for (int k = 0; k < width - 1; k++) {
                int t = steps - (width - 1) + k;
                wantState[r * (width - 1) + k] =
                        t >= 0 ? x[r * steps + t] : init[r * (width - 1) + k + steps];
            }
        }
        Compare.close("state", wantState, Host.read(state), 0, 0, seed);
    }

    @Test
    void longSequenceMatchesOracle() {
        int len = longLength();
        long seed = SEED + 5;
        Random rnd = new Random(seed);
        float[] x = Host.gaussian(rnd, 2 * len, 1);
        float[] w = Host.gaussian(rnd, 8, 1);
        NativeTensor out = Host.poisoned(DType.FLOAT32, 1, 2, len);
        backend()
                .causalConv1d(
                        new CausalConv1dArgs(
                                Host.f32(x, 1, 2, len),
                                Host.f32(w, 2, 4),
                                null,
                                null,
                                null,
                                out,
                                true));
        Compare.close(
                "out", conv(1, 2, len, 4, x, w, null, null, true), Host.read(out), 1e-5, 1, seed);
    }

    @Test
    void badArgumentsAreRefused() {
        NativeTensor x = Host.f32(new float[8], 2, 4);
        IllegalArgumentException state =
                assertThrows(
                        IllegalArgumentException.class,
                        () ->
                                new CausalConv1dUpdateArgs(
                                        x,
                                        Host.f32(new float[16], 4, 4),
                                        null,
                                        Host.f32(new float[16], 2, 4, 2),
                                        Host.poisoned(DType.FLOAT32, 2, 4),
                                        true));
        assertTrue(state.getMessage().contains("convState must have shape"), state.getMessage());
        NativeOpException nullX =
                assertThrows(
                        NativeOpException.class,
                        () ->
                                backend()
                                        .causalConv1dUpdate(
                                                new CausalConv1dUpdateArgs(
                                                        NativeTensor.wrap(
                                                                0, 32, DType.FLOAT32, 2, 4),
                                                        Host.f32(new float[16], 4, 4),
                                                        null,
                                                        Host.f32(new float[24], 2, 4, 3),
                                                        Host.poisoned(DType.FLOAT32, 2, 4),
                                                        true)));
        assertTrue(nullX.getMessage().contains("x is NULL"), nullX.getMessage());
        NativeOpException width =
                assertThrows(
                        NativeOpException.class,
                        () ->
                                backend()
                                        .causalConv1dUpdate(
                                                new CausalConv1dUpdateArgs(
                                                        x,
                                                        Host.f32(new float[24], 4, 6),
                                                        null,
                                                        Host.f32(new float[40], 2, 4, 5),
                                                        Host.poisoned(DType.FLOAT32, 2, 4),
                                                        true)));
        assertTrue(width.getMessage().contains("width must be 2, 3 or 4"), width.getMessage());
    }
}
