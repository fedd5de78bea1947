package io.github.mambadjl.nativeops;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.util.Random;
import java.util.function.Function;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.EnumSource;

/** The Mamba-1 selective scan and its one-step update against the float64 oracle. */
class SelectiveScanCpuTest {

    static final long SEED = System.nanoTime();

    Backend backend() {
        return Backend.CPU;
    }

    int longLength() {
        return 65_536;
    }

    /** Random Mamba-1 inputs in canonical layouts, rounded to the storage dtype. */
    static final class Inputs {
        final int batch;
        final int dim;
        final int len;
        final int n;
        final int groups;
        final DType dtype;
        final float[] u;
        final float[] delta;
        final float[] a;
        final float[] b;
        final float[] c;
        final float[] d;
        final float[] z;
        final float[] bias;
        final float[] init;

        Inputs(
                Random rnd,
                DType dtype,
                int batch,
                int dim,
                int len,
                int n,
                int groups,
                boolean withZ,
                boolean withBias) {
            this.batch = batch;
            this.dim = dim;
            this.len = len;
            this.n = n;
            this.groups = groups;
            this.dtype = dtype;
            u = Host.quantize(dtype, Host.gaussian(rnd, batch * dim * len, 1));
            delta = Host.quantize(dtype, Host.gaussian(rnd, batch * dim * len, 0.7));
            a = Host.uniform(rnd, dim * n, -2, -0.2);
            b = Host.quantize(dtype, Host.gaussian(rnd, batch * groups * n * len, 1));
            c = Host.quantize(dtype, Host.gaussian(rnd, batch * groups * n * len, 1));
            d = Host.gaussian(rnd, dim, 1);
            z = withZ ? Host.quantize(dtype, Host.gaussian(rnd, batch * dim * len, 1)) : null;
            bias = withBias ? Host.uniform(rnd, dim, -1, 0) : null;
            init = Host.gaussian(rnd, batch * dim * n, 1);
        }

        NativeTensor bdl(float[] v, boolean transposed) {
            return transposed
                    ? Host.transposed12(dtype, v, batch, dim, len)
                    : Host.tensor(dtype, v, batch, dim, len);
        }

        SelectiveScanArgs args(
                boolean transposed,
                boolean softplus,
                NativeTensor initial,
                NativeTensor fin,
                NativeTensor out) {
            return new SelectiveScanArgs(
                    bdl(u, transposed),
                    bdl(delta, transposed),
                    Host.f32(a, dim, n),
                    Host.tensor(dtype, b, batch, groups, n, len),
                    Host.tensor(dtype, c, batch, groups, n, len),
                    Host.f32(d, dim),
                    z == null ? null : bdl(z, transposed),
                    bias == null ? null : Host.f32(bias, dim),
                    softplus,
                    initial,
                    fin,
                    out);
        }

        Oracles.ScanResult oracle(boolean softplus, boolean withInit) {
            return Oracles.selectiveScan(
                    batch,
                    dim,
                    len,
                    n,
                    groups,
                    u,
                    delta,
                    a,
                    b,
                    c,
                    d,
                    z,
                    bias,
                    softplus,
                    withInit ? init : null);
        }
    }

    @ParameterizedTest(
            name = "b {0} d {1} l {2} n {3} g {4} z {5} bias {6} softplus {7} [b,l,d] {8} {9}")
    @CsvSource({
        "1, 1, 1, 1, 1, false, false, false, false, FLOAT32",
        "2, 6, 67, 16, 2, true, true, true, true, FLOAT32",
        "2, 6, 67, 16, 2, true, true, true, true, FLOAT16",
        "2, 6, 67, 16, 2, true, true, true, false, BFLOAT16",
        "1, 3, 130, 256, 1, false, true, true, false, FLOAT32",
        "3, 4, 5, 3, 4, true, false, false, true, BFLOAT16",
        "1, 2, 200, 1, 1, true, true, true, false, FLOAT16",
        // many channels, 33 per group: the CPU's channel blocks straddle group boundaries
        "4, 264, 5, 4, 8, true, true, true, false, FLOAT32",
        "4, 264, 70, 3, 8, false, true, true, true, BFLOAT16",
        // one step (the decoding path) over enough channels for several threads
        "4, 264, 1, 16, 8, true, true, true, false, FLOAT32",
        "3, 264, 1, 5, 4, false, true, false, true, FLOAT16"
    })
    void matchesFloat64Oracle(
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
        long seed = SEED + batch * 131L + dim * 17L + len + n * 7L + dtype.ordinal();
        Inputs in =
                new Inputs(new Random(seed), dtype, batch, dim, len, n, groups, withZ, withBias);
        NativeTensor out = Host.poisoned(dtype, batch, dim, len);
        NativeTensor fin = Host.poisoned(DType.FLOAT32, batch, dim, n);
        backend()
                .selectiveScan(
                        in.args(transposed, softplus, Host.f32(in.init, batch, dim, n), fin, out));
        assertMatchesOracle(in.oracle(softplus, true), out, fin, Host.rtol(dtype), seed);
    }

    @Test
    void longSequence() {
        int len = longLength();
        long seed = SEED + 1;
        Inputs in = new Inputs(new Random(seed), DType.FLOAT32, 1, 2, len, 4, 1, true, true);
        NativeTensor out = Host.poisoned(DType.FLOAT32, 1, 2, len);
        NativeTensor fin = Host.poisoned(DType.FLOAT32, 1, 2, 4);
        backend().selectiveScan(in.args(false, true, null, fin, out));
        assertMatchesOracle(in.oracle(true, false), out, fin, 1e-4, seed);
    }

    @ParameterizedTest(name = "{0}")
    @EnumSource(DType.class)
    void splitSequenceEqualsOneCall(DType dtype) {
        int batch = 2;
        int dim = 4;
        int len = 150;
        int n = 8;
        int first = 67;
        long seed = SEED + 2;
        Inputs in = new Inputs(new Random(seed), dtype, batch, dim, len, n, 2, true, true);
        NativeTensor outFull = Host.poisoned(dtype, batch, dim, len);
        NativeTensor finFull = Host.poisoned(DType.FLOAT32, batch, dim, n);
        backend().selectiveScan(in.args(false, true, null, finFull, outFull));

        SelectiveScanArgs all =
                in.args(false, true, null, null, Host.poisoned(dtype, batch, dim, len));
        NativeTensor state = Host.poisoned(DType.FLOAT32, batch, dim, n);
        runInTwoCalls(all, first, len, null, state);
        Compare.close(
                "split out",
                Compare.toDouble(Host.read(outFull)),
                Host.read(all.out()),
                1e-5,
                1,
                seed);
        Compare.close(
                "split state",
                Compare.toDouble(Host.read(finFull)),
                Host.read(state),
                1e-5,
                1,
                seed);
    }

    /**
     * Runs the sequence of {@code all} (softplus) as two calls split at step {@code first}: the
     * first from {@code init} (or zero), the second from the first's final state, which ends in
     * {@code state}.
     */
    void runInTwoCalls(
            SelectiveScanArgs all, int first, int len, NativeTensor init, NativeTensor state) {
        for (int[] part : new int[][] {{0, first}, {first, len - first}}) {
            backend()
                    .selectiveScan(
                            new SelectiveScanArgs(
                                    part(all.u(), part),
                                    part(all.delta(), part),
                                    all.a(),
                                    part(all.b(), part),
                                    part(all.c(), part),
                                    all.d(),
                                    part(all.z(), part),
                                    all.deltaBias(),
                                    true,
                                    part[0] == 0 ? init : state,
                                    state,
                                    part(all.out(), part)));
        }
    }

    /**
     * Compares outputs and final states with the oracle's: the outputs within {@code outTolerance},
     * the states within 1e-4, both relative to the outputs' scale.
     */
    static void assertMatchesOracle(
            Oracles.ScanResult want,
            NativeTensor out,
            NativeTensor fin,
            double outTolerance,
            long seed) {
        double scale = 1 + 0.05 * Compare.maxAbs(want.out());
        Compare.close("out", want.out(), Host.read(out), outTolerance, scale, seed);
        Compare.close("final state", want.state(), Host.read(fin), 1e-4, scale, seed);
    }

    /** The time range [start, start + length) of a tensor whose last axis is time. */
    static NativeTensor part(NativeTensor t, int[] range) {
        long[] shape = t.shape();
        long[] strides = new long[t.rank()];
        for (int i = 0; i < strides.length; i++) {
            strides[i] = t.stride(i);
        }
        shape[shape.length - 1] = range[1];
        return t.view(range[0] * strides[strides.length - 1], shape, strides);
    }

    @ParameterizedTest(name = "{0}")
    @EnumSource(DType.class)
    void stateUpdateContinuesTheScan(DType dtype) {
        int batch = 3;
        int dim = 8;
        int len = 9;
        int n = 16;
        int groups = 2;
        long seed = SEED + 3;
        // the oracle runs len + 1 steps; the kernels scan len steps, then take one update step
        Inputs in = new Inputs(new Random(seed), dtype, batch, dim, len + 1, n, groups, true, true);
        Oracles.ScanResult want = in.oracle(true, true);
        SelectiveScanArgs all =
                in.args(false, true, null, null, Host.poisoned(dtype, batch, dim, len + 1));
        NativeTensor state = Host.f32(in.init, batch, dim, n);
        backend()
                .selectiveScan(
                        new SelectiveScanArgs(
                                part(all.u(), new int[] {0, len}),
                                part(all.delta(), new int[] {0, len}),
                                all.a(),
                                part(all.b(), new int[] {0, len}),
                                part(all.c(), new int[] {0, len}),
                                all.d(),
                                part(all.z(), new int[] {0, len}),
                                all.deltaBias(),
                                true,
                                state,
                                state,
                                part(all.out(), new int[] {0, len})));
        NativeTensor out = Host.poisoned(dtype, batch, dim);
        backend()
                .selectiveStateUpdate(
                        new SelectiveStateUpdateArgs(
                                state,
                                step(all.u(), len),
                                step(all.delta(), len),
                                all.a(),
                                step(all.b(), len),
                                step(all.c(), len),
                                all.d(),
                                step(all.z(), len),
                                all.deltaBias(),
                                true,
                                out));
        double[] last = new double[batch * dim];
        for (int i = 0; i < last.length; i++) {
            last[i] = want.out()[i * (len + 1) + len];
        }
        double scale = 1 + 0.05 * Compare.maxAbs(want.out());
        Compare.close("step out", last, Host.read(out), Host.rtol(dtype), scale, seed);
        Compare.close("step state", want.state(), Host.read(state), 1e-4, scale, seed);
    }

    /** Time step t of a tensor whose last axis is time, without that axis. */
    static NativeTensor step(NativeTensor t, int time) {
        int r = t.rank() - 1;
        long[] shape = new long[r];
        long[] strides = new long[r];
        for (int i = 0; i < r; i++) {
            shape[i] = t.size(i);
            strides[i] = t.stride(i);
        }
        return t.view(time * t.stride(r), shape, strides);
    }

    /**
     * Whether this backend's {@link Backend#dtProjection} sums every dt in the order of the
     * projected step, so that the two forms of the step agree bit for bit: on the CPU, the GEMV (up
     * to 4 rows; the packed GEMM beyond).
     */
    boolean productSumsLikeTheStep(
            DType dtype, int batch, int rank, int lowStride, int weightStride) {
        return batch <= 4;
    }

    @ParameterizedTest(name = "b {0} d {1} rank {2} n {3} padded weight {4} {5}")
    @CsvSource({
        "1, 64, 160, 16, false, BFLOAT16",
        "3, 64, 160, 16, false, FLOAT16",
        "4, 70, 160, 16, false, FLOAT32",
        "2, 40, 48, 16, true, BFLOAT16",
        "2, 40, 37, 16, false, FLOAT32",
        "3, 33, 37, 5, true, FLOAT16",
        "1, 300, 1, 16, false, BFLOAT16",
        "2, 24, 300, 64, false, FLOAT32",
        "2, 24, 13, 256, false, BFLOAT16",
        // more rows than the CPU's GEMV takes: the packed GEMM sums in another order
        "5, 40, 160, 16, false, BFLOAT16",
        "6, 24, 37, 16, true, FLOAT32",
        "5, 24, 48, 16, false, FLOAT16"
    })
    void projectedStepEqualsProductThenStep(
            int batch, int dim, int rank, int n, boolean paddedWeight, DType dtype) {
        long seed = SEED + batch * 131L + dim * 17L + rank * 3L + n * 7L + dtype.ordinal();
        checkProjectedStep(seed, batch, dim, rank, n, paddedWeight, dtype);
    }

    /**
     * The projected step (dt_proj folded in) against the product ({@link Backend#dtProjection})
     * followed by the plain step, in the engine's layout: dtLow, B and C views of one x_proj output
     * {@code [batch, rank + 2n]}, the weight {@code [dim, rank]} (or a view of {@code [dim, rank +
     * 3]}). Where the product sums as the step does ({@link #productSumsLikeTheStep}), outputs and
     * states must be equal bit for bit; elsewhere the step's dt may differ from the product's by
     * the association of the float32 sum (at most {@code 2 rank 2^-24 sum_r |low_r w_r|}) and one
     * rounding to the dtype, so its outputs and states must lie between those of the plain step at
     * the dtype's values that bracket that range around the product's dt.
     */
    void checkProjectedStep(
            long seed, int batch, int dim, int rank, int n, boolean paddedWeight, DType dtype) {
        Random rnd = new Random(seed);
        int w = rank + 2 * n;
        int ldw = paddedWeight ? rank + 3 : rank;
        NativeTensor x = Host.tensor(dtype, Host.gaussian(rnd, batch * w, 1), batch, w);
        NativeTensor low = x.view(0, new long[] {batch, rank}, new long[] {w, 1});
        long[] bcShape = {batch, 1, n};
        long[] bcStrides = {w, n, 1};
        NativeTensor bm = x.view(rank, bcShape, bcStrides);
        NativeTensor cm = x.view(rank + n, bcShape, bcStrides);
        NativeTensor weight =
                Host.tensor(dtype, Host.gaussian(rnd, dim * ldw, 1 / Math.sqrt(rank)), dim, ldw)
                        .view(0, new long[] {dim, rank}, new long[] {ldw, 1});
        NativeTensor u = Host.tensor(dtype, Host.gaussian(rnd, batch * dim, 1), batch, dim);
        NativeTensor z = Host.tensor(dtype, Host.gaussian(rnd, batch * dim, 1), batch, dim);
        NativeTensor a = Host.f32(Host.uniform(rnd, dim * n, -2, -0.2), dim, n);
        NativeTensor d = Host.f32(Host.gaussian(rnd, dim, 1), dim);
        NativeTensor bias = Host.f32(Host.uniform(rnd, dim, -1, 0), dim);
        float[] init = Host.gaussian(rnd, batch * dim * n, 1);

        NativeTensor state = Host.f32(init, batch, dim, n);
        NativeTensor out = Host.poisoned(dtype, batch, dim);
        backend()
                .selectiveStateUpdateProjected(
                        new SelectiveStateUpdateProjectedArgs(
                                state, u, low, weight, a, bm, cm, d, z, bias, true, out));
        float[] gotOut = Host.read(out);
        float[] gotState = Host.read(state);

        NativeTensor dt = Host.poisoned(dtype, batch, dim);
        backend().dtProjection(low, weight, dt);
        float[] dtv = Host.read(dt);
        Function<float[], float[][]> plainStep =
                dts -> {
                    NativeTensor st = Host.f32(init, batch, dim, n);
                    NativeTensor o = Host.poisoned(dtype, batch, dim);
                    backend()
                            .selectiveStateUpdate(
                                    new SelectiveStateUpdateArgs(
                                            st,
                                            u,
                                            Host.tensor(dtype, dts, batch, dim),
                                            a,
                                            bm,
                                            cm,
                                            d,
                                            z,
                                            bias,
                                            true,
                                            o));
                    return new float[][] {Host.read(o), Host.read(st)};
                };
        float[][] plain = plainStep.apply(dtv);
        if (productSumsLikeTheStep(dtype, batch, rank, w, ldw)) {
            assertArrayEquals(plain[0], gotOut, "out, seed " + seed);
            assertArrayEquals(plain[1], gotState, "state, seed " + seed);
            return;
        }
        float[] lows = Host.read(low);
        float[] ws = Host.read(weight);
        float[] dtLo = new float[dtv.length];
        float[] dtHi = new float[dtv.length];
        for (int bb = 0; bb < batch; bb++) {
            for (int c = 0; c < dim; c++) {
                double magnitude = 0;
                for (int r = 0; r < rank; r++) {
                    magnitude += Math.abs((double) lows[bb * rank + r] * ws[c * rank + r]);
                }
                int i = bb * dim + c;
                double reach = 2.0 * rank * 0x1p-24 * magnitude + ulp(dtype, dtv[i]);
                dtLo[i] = atMost(dtype, dtv[i] - reach);
                dtHi[i] = atLeast(dtype, dtv[i] + reach);
            }
        }
        float[][] lo = plainStep.apply(dtLo);
        float[][] hi = plainStep.apply(dtHi);
        assertBetween("out", lo[0], hi[0], plain[0], gotOut, dtype, seed);
        assertBetween("state", lo[1], hi[1], plain[1], gotState, DType.FLOAT32, seed);
    }

    /**
     * Requires each got[i] to lie between the smallest and the largest of lo[i], hi[i] and mid[i],
     * widened by one unit in the last place of dtype (its own rounding) and 1e-5 of the values'
     * size (float32 evaluation).
     */
    static void assertBetween(
            String what, float[] lo, float[] hi, float[] mid, float[] got, DType dtype, long seed) {
        for (int i = 0; i < got.length; i++) {
            float min = Math.min(mid[i], Math.min(lo[i], hi[i]));
            float max = Math.max(mid[i], Math.max(lo[i], hi[i]));
            double slack =
                    ulp(dtype, Math.max(Math.abs(min), Math.abs(max)))
                            + 1e-5 * (1 + Math.abs(mid[i]));
            if (!(got[i] >= min - slack && got[i] <= max + slack)) {
                fail(
                        what
                                + "["
                                + i
                                + "]: "
                                + got[i]
                                + " is outside ["
                                + min
                                + ", "
                                + max
                                + "] +- "
                                + slack
                                + ", seed "
                                + seed);
            }
        }
    }

    /** The spacing of dtype's values at v (the larger of the steps up and down). */
    static double ulp(DType dtype, float v) {
        float r = Host.roundTo(dtype, v);
        return Math.max(step(dtype, r, true) - r, r - step(dtype, r, false));
    }

    /** The largest value of dtype that is at most v. */
    static float atMost(DType dtype, double v) {
        float r = Host.roundTo(dtype, (float) v);
        return r > v ? step(dtype, r, false) : r;
    }

    /** The smallest value of dtype that is at least v. */
    static float atLeast(DType dtype, double v) {
        float r = Host.roundTo(dtype, (float) v);
        return r < v ? step(dtype, r, true) : r;
    }

    /** The neighbour of v (a finite value of dtype) above or below it among dtype's values. */
    static float step(DType dtype, float v, boolean up) {
        if (dtype == DType.FLOAT16) {
            int h = Host.floatToHalf(v) & 0xFFFF;
            if (v == 0) {
                return Host.halfToFloat((short) (up ? 0x0001 : 0x8001));
            }
            return Host.halfToFloat((short) ((v > 0) == up ? h + 1 : h - 1));
        }
        int unit = dtype == DType.BFLOAT16 ? 1 << 16 : 1;
        if (v == 0) {
            float tiny = Float.intBitsToFloat(unit);
            return up ? tiny : -tiny;
        }
        int bits = Float.floatToRawIntBits(v);
        return Float.intBitsToFloat((v > 0) == up ? bits + unit : bits - unit);
    }

    @Test
    void projectedStepChecksItsArguments() {
        Random rnd = new Random(SEED);
        NativeTensor state = Host.f32(new float[2 * 4 * 3], 2, 4, 3);
        NativeTensor u = Host.f32(Host.gaussian(rnd, 8, 1), 2, 4);
        NativeTensor low = Host.f32(Host.gaussian(rnd, 10, 1), 2, 5);
        NativeTensor weight = Host.f32(Host.gaussian(rnd, 20, 1), 4, 5);
        NativeTensor a = Host.f32(Host.uniform(rnd, 12, -2, -0.2), 4, 3);
        NativeTensor bc = Host.f32(Host.gaussian(rnd, 6, 1), 2, 1, 3);
        NativeTensor out = Host.poisoned(DType.FLOAT32, 2, 4);
        IllegalArgumentException wrongType =
                assertThrows(
                        IllegalArgumentException.class,
                        () ->
                                new SelectiveStateUpdateProjectedArgs(
                                        state,
                                        u,
                                        low,
                                        Host.tensor(DType.BFLOAT16, new float[20], 4, 5),
                                        a,
                                        bc,
                                        bc,
                                        null,
                                        null,
                                        null,
                                        true,
                                        out));
        assertTrue(
                wrongType.getMessage().contains("dtProjWeight must be float32"),
                wrongType.getMessage());
        IllegalArgumentException wrongRank =
                assertThrows(
                        IllegalArgumentException.class,
                        () ->
                                new SelectiveStateUpdateProjectedArgs(
                                        state,
                                        u,
                                        low,
                                        Host.f32(new float[24], 4, 6),
                                        a,
                                        bc,
                                        bc,
                                        null,
                                        null,
                                        null,
                                        true,
                                        out));
        assertTrue(
                wrongRank.getMessage().contains("dtProjWeight must have shape [4, 5]"),
                wrongRank.getMessage());
        IllegalArgumentException strided =
                assertThrows(
                        IllegalArgumentException.class,
                        () ->
                                new SelectiveStateUpdateProjectedArgs(
                                        state,
                                        u,
                                        low,
                                        weight.withStrides(1, 4),
                                        a,
                                        bc,
                                        bc,
                                        null,
                                        null,
                                        null,
                                        true,
                                        out));
        assertTrue(
                strided.getMessage().contains("dtProjWeight's last axis must have stride 1"),
                strided.getMessage());
        NativeTensor nullLow = NativeTensor.wrap(0, 1 << 20, DType.FLOAT32, 2, 5);
        NativeOpException e =
                assertThrows(
                        NativeOpException.class,
                        () ->
                                backend()
                                        .selectiveStateUpdateProjected(
                                                new SelectiveStateUpdateProjectedArgs(
                                                        state, u, nullLow, weight, a, bc, bc, null,
                                                        null, null, true, out)));
        assertEquals(Status.INVALID_ARGUMENT, e.getStatus());
        assertTrue(e.getMessage().contains("dt_low is NULL"), e.getMessage());
    }

    @Test
    void mismatchedDtypeIsRefused() {
        Inputs in = new Inputs(new Random(SEED), DType.FLOAT32, 1, 2, 3, 4, 1, false, false);
        IllegalArgumentException e =
                assertThrows(
                        IllegalArgumentException.class,
                        () ->
                                new SelectiveScanArgs(
                                        in.bdl(in.u, false),
                                        Host.tensor(DType.BFLOAT16, in.delta, 1, 2, 3),
                                        Host.f32(in.a, 2, 4),
                                        Host.f32(in.b, 1, 1, 4, 3),
                                        Host.f32(in.c, 1, 1, 4, 3),
                                        null,
                                        null,
                                        null,
                                        false,
                                        null,
                                        null,
                                        Host.poisoned(DType.FLOAT32, 1, 2, 3)));
        assertTrue(e.getMessage().contains("delta must be float32"), e.getMessage());
    }

    @Test
    void badShapesAreRefused() {
        Inputs in = new Inputs(new Random(SEED), DType.FLOAT32, 1, 3, 3, 4, 1, false, false);
        IllegalArgumentException e =
                assertThrows(
                        IllegalArgumentException.class,
                        () ->
                                new SelectiveScanArgs(
                                        in.bdl(in.u, false),
                                        in.bdl(in.delta, false),
                                        Host.f32(in.a, 3, 4),
                                        Host.f32(new float[24], 1, 2, 4, 3),
                                        Host.f32(new float[24], 1, 2, 4, 3),
                                        null,
                                        null,
                                        null,
                                        false,
                                        null,
                                        null,
                                        Host.poisoned(DType.FLOAT32, 1, 3, 3)));
        assertTrue(e.getMessage().contains("ngroups must divide dim"), e.getMessage());
        IllegalArgumentException e2 =
                assertThrows(
                        IllegalArgumentException.class,
                        () ->
                                new SelectiveScanArgs(
                                        in.bdl(in.u, false),
                                        in.bdl(in.delta, false),
                                        Host.f32(in.a, 3, 4),
                                        Host.f32(in.b, 1, 1, 4, 3),
                                        Host.f32(in.c, 1, 1, 4, 3),
                                        null,
                                        null,
                                        null,
                                        false,
                                        null,
                                        null,
                                        Host.poisoned(DType.FLOAT32, 1, 3, 2)));
        assertTrue(e2.getMessage().contains("out must have shape [1, 3, 3]"), e2.getMessage());
    }

    @Test
    void nullPointerAndOversizedStateBecomeNativeErrors() {
        Inputs in = new Inputs(new Random(SEED), DType.FLOAT32, 1, 2, 3, 4, 1, false, false);
        SelectiveScanArgs ok =
                in.args(false, false, null, null, Host.poisoned(DType.FLOAT32, 1, 2, 3));
        NativeTensor nullU = NativeTensor.wrap(0, 1 << 20, DType.FLOAT32, 1, 2, 3);
        NativeOpException e =
                assertThrows(
                        NativeOpException.class,
                        () ->
                                backend()
                                        .selectiveScan(
                                                new SelectiveScanArgs(
                                                        nullU,
                                                        ok.delta(),
                                                        ok.a(),
                                                        ok.b(),
                                                        ok.c(),
                                                        null,
                                                        null,
                                                        null,
                                                        false,
                                                        null,
                                                        null,
                                                        ok.out())));
        assertEquals(Status.INVALID_ARGUMENT, e.getStatus());
        assertTrue(e.getMessage().contains("u is NULL"), e.getMessage());
        int n = 300;
        NativeOpException big =
                assertThrows(
                        NativeOpException.class,
                        () ->
                                backend()
                                        .selectiveScan(
                                                new SelectiveScanArgs(
                                                        ok.u(),
                                                        ok.delta(),
                                                        Host.f32(new float[2 * n], 2, n),
                                                        Host.f32(new float[3 * n], 1, 1, n, 3),
                                                        Host.f32(new float[3 * n], 1, 1, n, 3),
                                                        null,
                                                        null,
                                                        null,
                                                        false,
                                                        null,
                                                        null,
                                                        ok.out())));
        assertTrue(big.getMessage().contains("dstate must be at most 256"), big.getMessage());
    }
}
