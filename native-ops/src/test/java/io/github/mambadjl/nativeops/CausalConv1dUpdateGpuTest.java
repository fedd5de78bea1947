package io.github.mambadjl.nativeops;

import java.util.Random;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The CUDA conv1d update and the long conv: the same cases as {@link CausalConv1dUpdateCpuTest},
 * run on the GPU, and the long conv's tiles (2048 steps along time for [b, d, l], 128 channels by
 * 64 steps for [b, l, d]) crossed at their boundaries, with initial and final states.
 */
@Tag("gpu")
class CausalConv1dUpdateGpuTest extends CausalConv1dUpdateCpuTest {

    private final Backend gpu = new GpuBackend();

    @Override
    Backend backend() {
        return gpu;
    }

    @Override
    int longLength() {
        return 1_048_576;
    }

    @ParameterizedTest(
            name = "batch {0} dim {1} len {2} width {3} bias {4} silu {5} [b,l,d] {6} {7}")
    @CsvSource({
        "2, 3, 4097, 4, true, true, false, FLOAT32",
        "1, 2, 2049, 3, false, true, false, BFLOAT16",
        "3, 5, 2, 4, true, false, false, FLOAT16",
        "1, 1, 1, 2, false, false, false, FLOAT32",
        "2, 130, 129, 4, true, true, true, FLOAT32",
        "1, 257, 65, 2, true, false, true, BFLOAT16",
        "2, 7, 3, 4, false, true, true, FLOAT16",
        "1, 1, 1, 3, true, true, true, FLOAT32"
    })
    void tiledConvMatchesOracle(
            int batch,
            int dim,
            int len,
            int width,
            boolean withBias,
            boolean silu,
            boolean channelsLast,
            DType dtype) {
        long seed = SEED + batch * 31L + dim * 7L + len + width + dtype.ordinal();
        Random rnd = new Random(seed);
        float[] x = Host.quantize(dtype, Host.gaussian(rnd, batch * dim * len, 1));
        float[] w = Host.quantize(dtype, Host.gaussian(rnd, dim * width, 1));
        float[] bias = withBias ? Host.quantize(dtype, Host.gaussian(rnd, dim, 1)) : null;
        float[] init = Host.gaussian(rnd, batch * dim * (width - 1), 1);
        NativeTensor xt =
                channelsLast
                        ? Host.transposed12(dtype, x, batch, dim, len)
                        : Host.tensor(dtype, x, batch, dim, len);
        NativeTensor out = Host.poisoned(dtype, batch, dim, len);
        NativeTensor fin = Host.poisoned(DType.FLOAT32, batch, dim, width - 1);
        backend()
                .causalConv1d(
                        new CausalConv1dArgs(
                                xt,
                                Host.tensor(dtype, w, dim, width),
                                bias == null ? null : Host.tensor(dtype, bias, dim),
                                Host.f32(init, batch, dim, width - 1),
                                fin,
                                out,
                                silu));
        double[] want = conv(batch, dim, len, width, x, w, bias, init, silu);
        Compare.close("out", want, Host.read(out), Host.rtol(dtype), 1, seed);
        double[] wantState = new double[batch * dim * (width - 1)];
        for (int r = 0; r < batch * dim; r++) {
            for (int k = 0; k < width - 1; k++) {
                int t = len - (width - 1) + k;
                wantState[r * (width - 1) + k] =
                        t >= 0 ? x[r * len + t] : init[r * (width - 1) + k + len];
            }
        }
        Compare.close("final state", wantState, Host.read(fin), 0, 0, seed);
    }
}
