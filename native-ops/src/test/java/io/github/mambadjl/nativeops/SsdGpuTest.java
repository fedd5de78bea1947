package io.github.mambadjl.nativeops;

import java.util.Random;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The CUDA SSD and its state update: the same cases as {@link SsdCpuTest}, run on the GPU, plus
 * shapes that cross the kernels' blocks, tiles and chunks, single steps, a shape with enough rows
 * for the recurrence, and chunk-size boundaries of the chunked form.
 */
@Tag("gpu")
class SsdGpuTest extends SsdCpuTest {

    private final Backend gpu = new GpuBackend();

    @Override
    Backend backend() {
        return gpu;
    }

    @Override
    int longLength() {
        return 1_048_576;
    }

    /**
     * One storage ulp for 16-bit outputs: the chunked form sums by chunk, so a split that is not on
     * a chunk boundary changes the float32 rounding, which may move the last bit of an output.
     */
    @Override
    double splitOutTolerance(DType dtype) {
        switch (dtype) {
            case FLOAT16:
                return 0x1p-10;
            case BFLOAT16:
                return 0x1p-7;
            default:
                return 1e-5;
        }
    }

    @ParameterizedTest(name = "b {0} l {1} h {2} p {3} g {4} n {5} z {6} D[h,p] {7} packed {8} {9}")
    @CsvSource({
        "2, 100, 4, 64, 2, 128, true, true, true, BFLOAT16",
        "1, 67, 6, 32, 3, 64, true, false, false, FLOAT32",
        "1, 33, 2, 16, 1, 256, false, true, true, FLOAT16",
        "2, 48, 3, 24, 1, 16, true, false, false, FLOAT32",
        // one step: the decoding kernel (a warp per 4 head channels where headdim allows)
        "2, 1, 3, 8, 3, 128, true, true, true, BFLOAT16",
        "1, 1, 2, 4, 1, 256, false, false, false, FLOAT32",
        "3, 1, 4, 6, 2, 40, true, false, true, FLOAT16",
        // enough rows to fill the GPU: the recurrence rather than the chunked form
        "2, 40, 40, 64, 2, 128, true, true, false, BFLOAT16"
    })
    void gpuBlocksAndChunksMatchOracle(
            int batch,
            int len,
            int heads,
            int headdim,
            int groups,
            int n,
            boolean withZ,
            boolean dPerChannel,
            boolean packed,
            DType dtype) {
        matchesFloat64Oracle(
                batch, len, heads, headdim, groups, n, withZ, dPerChannel, packed, dtype);
    }

    @ParameterizedTest(name = "b {0} l {1} h {2} p {3} g {4} n {5} chunk {6} init {7} {8}")
    @CsvSource({
        // l not a multiple of the chunk, several chunks, 64-step tiles inside a chunk
        "2, 300, 4, 64, 2, 128, 64, true, BFLOAT16",
        // l shorter than one chunk
        "1, 50, 3, 16, 1, 32, 256, true, FLOAT32",
        // several chunks of several 64-step tiles, two 64-channel tiles, n 256, four groups
        "1, 600, 8, 80, 4, 256, 256, true, FLOAT16",
        // a chunk size that is no multiple of the tile, no initial state
        "2, 230, 2, 8, 1, 64, 100, false, FLOAT32",
        // one-step chunks and odd sizes
        "1, 17, 3, 5, 3, 7, 1, true, FLOAT32",
        // exactly two chunks
        "1, 512, 2, 64, 2, 128, 256, false, BFLOAT16"
    })
    void chunkBoundariesMatchOracle(
            int batch,
            int len,
            int heads,
            int headdim,
            int groups,
            int n,
            int chunk,
            boolean withInit,
            DType dtype) {
        long seed = SEED + batch * 131L + len * 17L + heads + n * 7L + chunk * 3L;
        Inputs in =
                new Inputs(
                        new Random(seed), dtype, batch, len, heads, headdim, groups, n, true, true);
        NativeTensor out = Host.poisoned(dtype, batch, len, heads, headdim);
        NativeTensor fin = Host.poisoned(DType.FLOAT32, batch, heads, headdim, n);
        NativeTensor init = withInit ? Host.f32(in.init, batch, heads, headdim, n) : null;
        float lo = 0.001f;
        float hi = 0.5f;
        backend().ssd(in.args(false, lo, hi, chunk, init, fin, out));
        Oracles.ScanResult want = in.oracle(lo, hi, withInit);
        double scale = 1 + 0.05 * Compare.maxAbs(want.out());
        Compare.close("out", want.out(), Host.read(out), Host.rtol(dtype), scale, seed);
        Compare.close("final states", want.state(), Host.read(fin), 1e-4, scale, seed);
    }
}
