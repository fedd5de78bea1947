package io.github.mambadjl.nativeops;

import java.util.Random;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * The CUDA selective scan and its state update: the same cases as {@link SelectiveScanCpuTest}, run
 * on the GPU, plus shapes that cross the kernel's blocks (32 rows of one batch and group for N 16),
 * its shared-memory tiles (8 to 32 steps), its lane layouts (1 to 32 lanes per row) and the
 * single-step kernel (length 1).
 *
 * <p>The chunked (time-parallel) scan serves rows too few to fill the GPU: batch x channels x lanes
 * per row (1 to 32 by N) below a quarter of the resident threads (about 67 000 on an H100) and a
 * sequence longer than one chunk. Chunks are 128 steps where the rows are as few as in the chunked
 * cases here (the rule lengthens them, up to 2048, only for rows enough to fill the GPU four times
 * over with fewer chunks), so these cases' lengths are counted in chunks of 128. Their A is scaled
 * into [-0.06, -0.006] (dt about 0.5): a state keeps 2 % to 68 % of itself over a chunk, so the
 * state carried across chunks and the initial state weigh on the outputs and a wrong combine fails
 * the comparison (with the default A, a chunk forgets its entering state entirely). With the
 * single-pass scan on (the default; MAMBADJL_SCAN_SINGLE_PASS=0 turns it off) the Mamba-1 cases of
 * at most 16 states take it instead of the chunked form: its chunks are 512 steps, warps of 8
 * channels per block; the chunked cases keep serving the larger states.
 */
@Tag("gpu")
class SelectiveScanGpuTest extends SelectiveScanCpuTest {

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
     * {@inheritDoc}
     *
     * <p>On the GPU, {@link GpuBackend#dtProjection} takes the engine's GEMV wherever it applies
     * (rows starting on 16 bytes, dt rank filling whole 16-byte vectors, up to 4 rows) with its
     * default split ({@code GemvMode.ALWAYS}): one warp per column, the step's order, where a row
     * has fewer than 64 vectors (the most the engine then chooses from, cuBLASLt aside); elsewhere
     * cuBLASLt or the GEMV split over several warps sums in other orders.
     */
    @Override
    boolean productSumsLikeTheStep(
            DType dtype, int batch, int rank, int lowStride, int weightStride) {
        int elem = dtype.byteSize();
        return batch <= 4
                && rank * elem % 16 == 0
                && lowStride * elem % 16 == 0
                && weightStride * elem % 16 == 0
                && rank * elem / 16 < 64;
    }

    /**
     * The projected step at the shapes of mamba-2.8b (5120 channels, dt rank 160, 16 states; bit
     * for bit the GEMV then the plain step) and at other ranks: 48 and 96 (whole vectors, bit for
     * bit), 37 (no whole vectors: the scalar sum, against cuBLASLt) and 256 in float32 (64 vectors:
     * the GEMV splits the product over two warps).
     */
    @ParameterizedTest(name = "b {0} d {1} rank {2} {3}")
    @CsvSource({
        "1, 5120, 160, BFLOAT16",
        "3, 5120, 160, BFLOAT16",
        "1, 5120, 160, FLOAT16",
        "3, 5120, 160, FLOAT16",
        "1, 5120, 160, FLOAT32",
        "3, 5120, 160, FLOAT32",
        "3, 5120, 48, BFLOAT16",
        "1, 2560, 48, FLOAT32",
        "4, 1536, 96, FLOAT16",
        "3, 5120, 37, BFLOAT16",
        "1, 5120, 37, FLOAT32",
        "2, 5120, 256, FLOAT32"
    })
    void projectedStepAtModelShapes(int batch, int dim, int rank, DType dtype) {
        long seed = SEED + batch * 131L + dim * 17L + rank * 3L + dtype.ordinal();
        checkProjectedStep(seed, batch, dim, rank, 16, false, dtype);
    }

    @ParameterizedTest(
            name = "b {0} d {1} l {2} n {3} g {4} z {5} bias {6} softplus {7} [b,l,d] {8} {9}")
    @CsvSource({
        "2, 150, 97, 16, 1, true, true, true, false, BFLOAT16",
        "2, 150, 97, 16, 2, true, true, true, true, FLOAT32",
        "1, 70, 65, 128, 1, false, true, true, false, FLOAT32",
        "1, 9, 33, 256, 1, true, false, true, true, FLOAT16",
        "3, 66, 40, 64, 3, true, true, true, false, FLOAT32",
        "2, 40, 50, 5, 4, false, false, true, false, FLOAT32",
        "2, 70, 1, 16, 2, true, true, true, false, BFLOAT16",
        "1, 8, 1, 200, 1, false, true, true, true, FLOAT32"
    })
    void gpuBlocksAndTilesMatchOracle(
            int batch,
            int dim,
            int len,
            int n,
            int groups,
            boolean withZ,
            boolean withBias,
            boolean softplus,
            boolean transposed,
            DType dtype) {
        matchesFloat64Oracle(
                batch, dim, len, n, groups, withZ, withBias, softplus, transposed, dtype);
    }

    /** Inputs whose states outlive a chunk (A scaled into [-0.06, -0.006]). */
    static Inputs slowDecay(long seed, DType dtype, int batch, int dim, int len, int n) {
        Inputs in = new Inputs(new Random(seed), dtype, batch, dim, len, n, 1, true, true);
        for (int i = 0; i < in.a.length; i++) {
            in.a[i] *= 0.03f;
        }
        return in;
    }

    /**
     * The arguments in the layouts the engine passes: u, delta and z channels-last ([b, l, d] in
     * memory, read as [b, d, l]), B and C views of one [b, l, R + 2N] projection (R = 7 columns
     * before them), z, delta bias and softplus on.
     */
    static SelectiveScanArgs engineLayout(
            Inputs in, NativeTensor initial, NativeTensor fin, NativeTensor out) {
        return engineLayout(in, 7, true, initial, fin, out);
    }

    /**
     * As {@link #engineLayout(Inputs, NativeTensor, NativeTensor, NativeTensor)} with {@code r}
     * columns before B and C in the projection (its rows 16-byte aligned where r + 2N is a multiple
     * of 8), without D where {@code withD} is false.
     */
    static SelectiveScanArgs engineLayout(
            Inputs in,
            int r,
            boolean withD,
            NativeTensor initial,
            NativeTensor fin,
            NativeTensor out) {
        int w = r + 2 * in.n;
        float[] proj = new float[in.batch * in.len * w];
        for (int bb = 0; bb < in.batch; bb++) {
            for (int k = 0; k < in.n; k++) {
                for (int t = 0; t < in.len; t++) {
                    int row = (bb * in.len + t) * w + r;
                    proj[row + k] = in.b[(bb * in.n + k) * in.len + t];
                    proj[row + in.n + k] = in.c[(bb * in.n + k) * in.len + t];
                }
            }
        }
        NativeTensor x = Host.tensor(in.dtype, proj, in.batch, in.len, w);
        long[] shape = {in.batch, 1, in.n, in.len};
        long[] strides = {(long) in.len * w, in.n, 1, w};
        return new SelectiveScanArgs(
                in.bdl(in.u, true),
                in.bdl(in.delta, true),
                Host.f32(in.a, in.dim, in.n),
                x.view(r, shape, strides),
                x.view(r + in.n, shape, strides),
                withD ? Host.f32(in.d, in.dim) : null,
                in.z == null ? null : in.bdl(in.z, true),
                in.bias == null ? null : Host.f32(in.bias, in.dim),
                true,
                initial,
                fin,
                out);
    }

    /** A poisoned output channels-last: [b, l, d] in memory, read as [b, d, l]. */
    static NativeTensor channelsLastOut(DType dtype, int batch, int dim, int len) {
        return Host.poisoned(dtype, batch, len, dim)
                .view(0, new long[] {batch, dim, len}, new long[] {(long) len * dim, 1, dim});
    }

    @ParameterizedTest(name = "b {0} d {1} l {2} n {3} init {4} {5}")
    @CsvSource({
        // 8 whole chunks; 7 chunks and 104 steps
        "1, 24, 1024, 16, true, FLOAT32",
        "1, 24, 1000, 16, false, BFLOAT16",
        // shorter than two chunks: the second chunk starts from the carried initial state
        "1, 24, 200, 16, true, FLOAT16",
        "1, 24, 129, 16, true, FLOAT32",
        // two batch rows, 5 states (2 lanes per row); 64 states (16 lanes), 24 chunks
        "2, 40, 700, 5, true, FLOAT32",
        "1, 16, 3000, 64, false, FLOAT16",
        // the widest state (32 lanes per row) and the narrowest (1 state)
        "1, 8, 640, 256, true, BFLOAT16",
        "1, 70, 4000, 1, false, FLOAT32"
    })
    void chunkedScanMatchesOracle(
            int batch, int dim, int len, int n, boolean withInit, DType dtype) {
        long seed = SEED + batch * 131L + dim * 17L + len + n * 7L + dtype.ordinal();
        Inputs in = slowDecay(seed, dtype, batch, dim, len, n);
        NativeTensor out = channelsLastOut(dtype, batch, dim, len);
        NativeTensor fin = Host.poisoned(DType.FLOAT32, batch, dim, n);
        NativeTensor init = withInit ? Host.f32(in.init, batch, dim, n) : null;
        backend().selectiveScan(engineLayout(in, init, fin, out));
        assertMatchesOracle(in.oracle(true, withInit), out, fin, Host.rtol(dtype), seed);
    }

    /**
     * The single-pass scan (Mamba-1, at most 16 states, rows too few to fill the GPU) against the
     * oracle: lengths within one 512-step chunk (17, and 700 over two), four chunks and a step
     * either side (2047 to 2049) and 5000 (1 takes the one-step kernel), with and without z, D, dt
     * bias and initial state. Its loads and stores take 16-byte vectors along channels and states
     * in the engine's channels-last views (d a multiple of 8 and r + 2N of 8: {@code r} 8) or along
     * time in [b, d, l] (lengths whose rows stay aligned: 2048, 5000, and one channel for a ragged
     * vector tail), element by element otherwise (d 37 or 19, r 7, lengths 17, 2047, 2049); d 37
     * and groups of 12 channels leave a block of 8 channels partly empty. A is scaled as in the
     * chunked cases, so that states and initial states outlive a chunk.
     */
    @ParameterizedTest(
            name =
                    "b {0} d {1} l {2} n {3} g {4} z {5} D {6} bias {7} init {8} [b,l,d] {9} r {10} {11}")
    @CsvSource({
        "1, 37, 17, 16, 1, true, true, true, true, true, 7, BFLOAT16",
        "2, 37, 2047, 16, 1, false, true, true, false, true, 8, FLOAT16",
        "1, 40, 2048, 16, 1, true, false, true, true, true, 8, BFLOAT16",
        "2, 40, 2049, 16, 1, true, true, false, true, true, 8, FLOAT32",
        "1, 64, 5000, 16, 1, true, true, true, true, true, 8, BFLOAT16",
        "1, 16, 700, 8, 1, true, true, true, true, true, 8, FLOAT32",
        "1, 40, 1, 16, 1, true, true, true, true, true, 8, BFLOAT16",
        "2, 24, 2048, 16, 2, true, true, true, true, false, 0, BFLOAT16",
        "1, 37, 5000, 16, 1, false, false, false, false, false, 0, FLOAT16",
        "1, 1, 2049, 16, 1, true, true, true, true, false, 0, FLOAT32",
        "2, 19, 2047, 5, 1, true, true, true, true, false, 0, FLOAT32",
        "2, 37, 2049, 16, 1, true, true, true, true, false, 0, BFLOAT16"
    })
    void singlePassScanMatchesOracle(
            int batch,
            int dim,
            int len,
            int n,
            int groups,
            boolean withZ,
            boolean withD,
            boolean withBias,
            boolean withInit,
            boolean channelsLast,
            int r,
            DType dtype) {
        long seed = SEED + batch * 131L + dim * 17L + len + n * 7L + dtype.ordinal() + r;
        Inputs in =
                new Inputs(new Random(seed), dtype, batch, dim, len, n, groups, withZ, withBias);
        for (int i = 0; i < in.a.length; i++) {
            in.a[i] *= 0.03f;
        }
        NativeTensor out =
                channelsLast
                        ? channelsLastOut(dtype, batch, dim, len)
                        : Host.poisoned(dtype, batch, dim, len);
        NativeTensor fin = Host.poisoned(DType.FLOAT32, batch, dim, n);
        NativeTensor init = withInit ? Host.f32(in.init, batch, dim, n) : null;
        SelectiveScanArgs args;
        if (channelsLast) {
            args = engineLayout(in, r, withD, init, fin, out);
        } else {
            SelectiveScanArgs all = in.args(false, true, init, fin, out);
            args =
                    new SelectiveScanArgs(
                            all.u(),
                            all.delta(),
                            all.a(),
                            all.b(),
                            all.c(),
                            withD ? all.d() : null,
                            all.z(),
                            all.deltaBias(),
                            true,
                            init,
                            fin,
                            out);
        }
        backend().selectiveScan(args);
        Oracles.ScanResult want =
                Oracles.selectiveScan(
                        batch,
                        dim,
                        len,
                        n,
                        groups,
                        in.u,
                        in.delta,
                        in.a,
                        in.b,
                        in.c,
                        withD ? in.d : null,
                        in.z,
                        in.bias,
                        true,
                        withInit ? in.init : null);
        assertMatchesOracle(want, out, fin, Host.rtol(dtype), seed);
    }

    /**
     * A sequence of 1000 steps split at 389 (4 chunks, then 5 from the first call's final state)
     * gives the outputs and final state of one call (8 chunks) up to float32 association: chunk
     * boundaries fall at other steps in the two forms, so a wrong combine shows as a difference.
     */
    @ParameterizedTest(name = "{0}")
    @EnumSource(DType.class)
    void chunkedSplitSequenceEqualsOneCall(DType dtype) {
        int batch = 1;
        int dim = 24;
        int len = 1000;
        int n = 16;
        int first = 389;
        long seed = SEED + 4;
        Inputs in = slowDecay(seed, dtype, batch, dim, len, n);
        NativeTensor init = Host.f32(in.init, batch, dim, n);
        NativeTensor outFull = channelsLastOut(dtype, batch, dim, len);
        NativeTensor finFull = Host.poisoned(DType.FLOAT32, batch, dim, n);
        backend().selectiveScan(engineLayout(in, init, finFull, outFull));

        SelectiveScanArgs all =
                engineLayout(in, init, null, channelsLastOut(dtype, batch, dim, len));
        NativeTensor state = Host.poisoned(DType.FLOAT32, batch, dim, n);
        runInTwoCalls(all, first, len, init, state);
        double[] full = Compare.toDouble(Host.read(outFull));
        double scale = 1 + 0.05 * Compare.maxAbs(full);
        Compare.close("split out", full, Host.read(all.out()), Host.rtol(dtype), scale, seed);
        Compare.close(
                "split state",
                Compare.toDouble(Host.read(finFull)),
                Host.read(state),
                1e-4,
                scale,
                seed);
        Compare.close(
                "final state", in.oracle(true, true).state(), Host.read(state), 1e-4, scale, seed);
    }
}
