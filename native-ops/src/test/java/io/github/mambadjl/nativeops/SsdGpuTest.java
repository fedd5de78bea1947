package io.github.mambadjl.nativeops;

import java.util.Arrays;
import java.util.Random;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * The CUDA SSD and its state update: the same cases as {@link SsdCpuTest}, run on the GPU, plus
 * shapes that cross the kernels' blocks, tiles and chunks, single steps, a shape with enough rows
 * for the recurrence, chunk-size boundaries of the chunked form, and the tensor-core products of
 * 16-bit inputs (chunk sizes, state sizes, head dimensions, layouts, split sequences).
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
     * 16 units of roundoff of the dtype (2^-8 for bfloat16, 2^-11 for float16) relative to the
     * output scale: 16-bit sequences of at least one chunk take the tensor-core products, which
     * round the masked C B^T tile and the entering state to the dtype before multiplying (as
     * mamba_ssm does). Each rounding moves a term by up to half a unit, and an output sums those
     * errors over up to chunk-size source steps and dstate states, so its error is a few units of
     * the size of its largest terms rather than of the output itself: in a float64 emulation of
     * these roundings over the shapes of this class (24 seeds) the error reached 8 units of the
     * output scale (1 + 5% of the largest output); 16 leaves a factor 2. A wrong product moves an
     * output by the size of a term, tens of units.
     */
    @Override
    double outTolerance(DType dtype) {
        switch (dtype) {
            case FLOAT16:
                return 0x1p-7;
            case BFLOAT16:
                return 0x1p-4;
            default:
                return Host.rtol(dtype);
        }
    }

    /**
     * 2 units of roundoff for 16-bit inputs: the tensor-core chunk states multiply B by x scaled
     * with the decay and dt rounded to the dtype (half a unit per term, the sum float32); the
     * emulation reached 0.7 units of the output scale. float32 keeps 1e-4.
     */
    @Override
    double stateTolerance(DType dtype) {
        switch (dtype) {
            case FLOAT16:
                return 0x1p-10;
            case BFLOAT16:
                return 0x1p-7;
            default:
                return 1e-4;
        }
    }

    /**
     * The oracle tolerance for 16-bit outputs: one call and a split sequence group the steps into
     * different chunks, so each rounds its own masked tiles and entering states (above); float32
     * outputs keep 1e-5.
     */
    @Override
    double splitOutTolerance(DType dtype) {
        return dtype == DType.FLOAT32 ? 1e-5 : outTolerance(dtype);
    }

    /** The oracle tolerance for the states of 16-bit inputs, for the same reason. */
    @Override
    double splitStateTolerance(DType dtype) {
        return dtype == DType.FLOAT32 ? 1e-5 : stateTolerance(dtype);
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
        // enough rows to fill the GPU: the recurrence rather than the float32 chunked form
        "2, 40, 40, 64, 2, 128, true, true, false, FLOAT32"
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
        assertMatchesOracle(in.oracle(lo, hi, withInit), out, fin, dtype, seed);
    }

    /** How the tensor-core cases lay out x, B, C, z and out. */
    enum Layout {
        /** Contiguous [b, l, h, p] and [b, l, g, n]. */
        CONTIGUOUS,
        /** x, B and C as column slices of one [b, l, h*p + 2*g*n] buffer, as the engine passes. */
        PACKED,
        /** Time innermost in memory ([b, h, p, l] and [b, g, n, l]): element-by-element loads. */
        TIME_MAJOR
    }

    @ParameterizedTest(
            name = "b {0} l {1} h {2} p {3} g {4} n {5} chunk {6} init {7} z {8} {9} {10}")
    @CsvSource({
        // the Codestral shape at a modest length: n 128, 4 groups, three chunks of 256, the last
        // short
        "1, 600, 16, 64, 4, 128, 256, true, true, PACKED, BFLOAT16",
        "1, 600, 16, 64, 4, 128, 256, false, false, CONTIGUOUS, FLOAT16",
        // chunks of half a 64-step tile
        "2, 200, 4, 64, 2, 128, 32, true, true, PACKED, FLOAT16",
        // chunks that end inside a 64-step tile, headdim 32, n 64, no initial states
        "2, 230, 4, 32, 2, 64, 100, false, true, PACKED, BFLOAT16",
        // n 256 (four state tiles), headdim 128 (two channel tiles)
        "1, 300, 4, 128, 1, 256, 256, true, true, CONTIGUOUS, BFLOAT16",
        // sizes that are no multiple of the 16 x 16 fragments: zero-padded tiles
        "1, 150, 3, 40, 3, 100, 64, true, true, PACKED, FLOAT16",
        // rows of odd pitch (h*p + 2*g*n = 191): element-by-element loads of x, B and C
        "1, 300, 3, 21, 1, 64, 128, true, true, PACKED, BFLOAT16",
        // time innermost: loads along the time stride
        "2, 200, 4, 64, 2, 128, 64, true, true, TIME_MAJOR, FLOAT16",
        // one-step chunks
        "1, 20, 2, 16, 1, 32, 1, true, true, CONTIGUOUS, BFLOAT16",
        // shorter than a chunk, with rows that fill the GPU: the recurrence
        "2, 50, 40, 64, 2, 128, 256, true, true, PACKED, BFLOAT16",
        // float32 with few rows: the float32 CUDA-core products, as strict as before
        "1, 600, 16, 64, 4, 128, 256, true, true, PACKED, FLOAT32"
    })
    void tensorCoreChunksMatchOracle(
            int batch,
            int len,
            int heads,
            int headdim,
            int groups,
            int n,
            int chunk,
            boolean withInit,
            boolean withZ,
            Layout layout,
            DType dtype) {
        long seed = SEED + batch * 131L + len * 17L + heads + n * 7L + chunk * 3L + headdim;
        Inputs in =
                new Inputs(
                        new Random(seed),
                        dtype,
                        batch,
                        len,
                        heads,
                        headdim,
                        groups,
                        n,
                        withZ,
                        true);
        NativeTensor fin = Host.poisoned(DType.FLOAT32, batch, heads, headdim, n);
        NativeTensor init = withInit ? Host.f32(in.init, batch, heads, headdim, n) : null;
        float lo = 0.001f;
        float hi = 0.5f;
        SsdArgs args = args(in, layout, lo, hi, chunk, init, fin);
        backend().ssd(args);
        assertMatchesOracle(in.oracle(lo, hi, withInit), args.out(), fin, dtype, seed);
    }

    /**
     * The Codestral-like shape split at step 300 (inside the second chunk of 256) into two calls,
     * the second starting from the first's final states, against one call and the oracle: the state
     * passing across calls on the tensor-core path.
     */
    @ParameterizedTest(name = "{0}")
    @EnumSource(
            value = DType.class,
            names = {"FLOAT16", "BFLOAT16"})
    void tensorCoreSplitSequenceEqualsOneCall(DType dtype) {
        int batch = 1;
        int len = 700;
        int first = 300;
        int heads = 8;
        int headdim = 64;
        int n = 128;
        int chunk = 256;
        long seed = SEED + 5;
        Inputs in =
                new Inputs(new Random(seed), dtype, batch, len, heads, headdim, 2, n, true, false);
        float inf = Float.POSITIVE_INFINITY;
        NativeTensor finFull = Host.poisoned(DType.FLOAT32, batch, heads, headdim, n);
        NativeTensor outFull = Host.poisoned(dtype, batch, len, heads, headdim);
        backend().ssd(in.args(true, 0, inf, chunk, null, finFull, outFull));
        SsdArgs all =
                in.args(
                        true,
                        0,
                        inf,
                        chunk,
                        null,
                        null,
                        Host.poisoned(dtype, batch, len, heads, headdim));
        NativeTensor state = Host.poisoned(DType.FLOAT32, batch, heads, headdim, n);
        runInTwoCalls(all, first, len, chunk, state);
        Oracles.ScanResult want = in.oracle(0, inf, false);
        double scale = 1 + 0.05 * Compare.maxAbs(want.out());
        double outTol = outTolerance(dtype);
        double stateTol = stateTolerance(dtype);
        Compare.close("one call", want.out(), Host.read(outFull), outTol, scale, seed);
        Compare.close("split", want.out(), Host.read(all.out()), outTol, scale, seed);
        Compare.close("split states", want.state(), Host.read(state), stateTol, scale, seed);
        // each within the oracle tolerance of the oracle, so within twice of each other
        Compare.close(
                "split against one call",
                Compare.toDouble(Host.read(outFull)),
                Host.read(all.out()),
                2 * outTol,
                scale,
                seed);
        Compare.close(
                "split states against one call",
                Compare.toDouble(Host.read(finFull)),
                Host.read(state),
                2 * stateTol,
                scale,
                seed);
    }

    /** The arguments of a tensor-core case in the given layout; out poisoned. */
    private static SsdArgs args(
            Inputs in,
            Layout layout,
            float lo,
            float hi,
            int chunk,
            NativeTensor init,
            NativeTensor fin) {
        int b = in.batch;
        int l = in.len;
        if (layout != Layout.TIME_MAJOR) {
            NativeTensor out = Host.poisoned(in.dtype, b, l, in.heads, in.headdim);
            return in.args(layout == Layout.PACKED, lo, hi, chunk, init, fin, out);
        }
        float[] nan = new float[in.x.length];
        Arrays.fill(nan, Float.NaN);
        return new SsdArgs(
                timeMajor(in.dtype, in.x, b, l, in.heads, in.headdim),
                Host.tensor(in.dtype, in.dt, b, l, in.heads),
                Host.f32(in.a, in.heads),
                timeMajor(in.dtype, in.b, b, l, in.groups, in.n),
                timeMajor(in.dtype, in.c, b, l, in.groups, in.n),
                in.dPerChannel ? Host.f32(in.d, in.heads, in.headdim) : Host.f32(in.d, in.heads),
                in.z == null ? null : timeMajor(in.dtype, in.z, b, l, in.heads, in.headdim),
                Host.f32(in.dtBias, in.heads),
                true,
                lo,
                hi,
                chunk,
                init,
                fin,
                timeMajor(in.dtype, nan, b, l, in.heads, in.headdim));
    }

    /** Canonical [b, l, h, p] values stored as [b, h, p, l], viewed as [b, l, h, p]. */
    private static NativeTensor timeMajor(
            DType dtype, float[] canonical, int b, int l, int h, int p) {
        float[] mem = new float[canonical.length];
        for (int bb = 0; bb < b; bb++) {
            for (int t = 0; t < l; t++) {
                for (int hh = 0; hh < h; hh++) {
                    for (int pp = 0; pp < p; pp++) {
                        mem[((bb * h + hh) * p + pp) * l + t] =
                                canonical[((bb * l + t) * h + hh) * p + pp];
                    }
                }
            }
        }
        long hpl = (long) h * p * l;
        return Host.tensor(dtype, mem, b, h, p, l)
                .view(0, new long[] {b, l, h, p}, new long[] {hpl, 1, (long) p * l, l});
    }
}
