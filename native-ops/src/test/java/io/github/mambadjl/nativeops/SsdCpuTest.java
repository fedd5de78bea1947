package io.github.mambadjl.nativeops;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.EnumSource;

/** The Mamba-2 chunked SSD and its one-step update against the float64 oracle. */
class SsdCpuTest {

    static final long SEED = System.nanoTime();

    Backend backend() {
        return Backend.CPU;
    }

    /** The length of the long-sequence case. */
    int longLength() {
        return 65_536;
    }

    /** The relative tolerance between one call and a split sequence, outputs in dtype. */
    double splitOutTolerance(DType dtype) {
        return 1e-5;
    }

    /** The relative tolerance between one call and a split sequence, final states. */
    double splitStateTolerance(DType dtype) {
        return 1e-5;
    }

    /** The relative tolerance of outputs in dtype against the float64 oracle. */
    double outTolerance(DType dtype) {
        return Host.rtol(dtype);
    }

    /** The relative tolerance of the final states against the float64 oracle, inputs in dtype. */
    double stateTolerance(DType dtype) {
        return 1e-4;
    }

    /** Random Mamba-2 inputs in canonical layouts, rounded to the storage dtype. */
    static final class Inputs {
        final int batch;
        final int len;
        final int heads;
        final int headdim;
        final int groups;
        final int n;
        final DType dtype;
        final float[] x;
        final float[] dt;
        final float[] a;
        final float[] b;
        final float[] c;
        final float[] d;
        final boolean dPerChannel;
        final float[] z;
        final float[] dtBias;
        final float[] init;

        Inputs(
                Random rnd,
                DType dtype,
                int batch,
                int len,
                int heads,
                int headdim,
                int groups,
                int n,
                boolean withZ,
                boolean dPerChannel) {
            this.batch = batch;
            this.len = len;
            this.heads = heads;
            this.headdim = headdim;
            this.groups = groups;
            this.n = n;
            this.dtype = dtype;
            this.dPerChannel = dPerChannel;
            x = Host.quantize(dtype, Host.gaussian(rnd, batch * len * heads * headdim, 1));
            dt = Host.quantize(dtype, Host.gaussian(rnd, batch * len * heads, 1));
            a = Host.uniform(rnd, heads, -3, -0.3);
            b = Host.quantize(dtype, Host.gaussian(rnd, batch * len * groups * n, 1));
            c = Host.quantize(dtype, Host.gaussian(rnd, batch * len * groups * n, 1));
            d = Host.gaussian(rnd, dPerChannel ? heads * headdim : heads, 1);
            z = withZ ? Host.quantize(dtype, Host.gaussian(rnd, x.length, 1)) : null;
            dtBias = Host.uniform(rnd, heads, -2, 0);
            init = Host.gaussian(rnd, batch * heads * headdim * n, 1);
        }

        /**
         * The arguments; with packed, x, B and C are column slices of one [b, l, h*p + 2*g*n]
         * buffer, as Mamba-2 splits its projection.
         */
        SsdArgs args(
                boolean packed,
                float dtMin,
                float dtMax,
                int chunk,
                NativeTensor initial,
                NativeTensor fin,
                NativeTensor out) {
            NativeTensor xt;
            NativeTensor bt;
            NativeTensor ct;
            int hp = heads * headdim;
            int gn = groups * n;
            if (packed) {
                int width = hp + 2 * gn;
                float[] mem = new float[batch * len * width];
                for (int r = 0; r < batch * len; r++) {
                    System.arraycopy(x, r * hp, mem, r * width, hp);
                    System.arraycopy(b, r * gn, mem, r * width + hp, gn);
                    System.arraycopy(c, r * gn, mem, r * width + hp + gn, gn);
                }
                NativeTensor all = Host.tensor(dtype, mem, batch, len, width);
                long sb = (long) len * width;
                xt =
                        all.view(
                                0,
                                new long[] {batch, len, heads, headdim},
                                new long[] {sb, width, headdim, 1});
                bt = all.view(hp, new long[] {batch, len, groups, n}, new long[] {sb, width, n, 1});
                ct =
                        all.view(
                                hp + gn,
                                new long[] {batch, len, groups, n},
                                new long[] {sb, width, n, 1});
            } else {
                xt = Host.tensor(dtype, x, batch, len, heads, headdim);
                bt = Host.tensor(dtype, b, batch, len, groups, n);
                ct = Host.tensor(dtype, c, batch, len, groups, n);
            }
            return new SsdArgs(
                    xt,
                    Host.tensor(dtype, dt, batch, len, heads),
                    Host.f32(a, heads),
                    bt,
                    ct,
                    dPerChannel ? Host.f32(d, heads, headdim) : Host.f32(d, heads),
                    z == null ? null : Host.tensor(dtype, z, batch, len, heads, headdim),
                    Host.f32(dtBias, heads),
                    true,
                    dtMin,
                    dtMax,
                    chunk,
                    initial,
                    fin,
                    out);
        }

        Oracles.ScanResult oracle(float dtMin, float dtMax, boolean withInit) {
            return Oracles.ssd(
                    batch,
                    len,
                    heads,
                    headdim,
                    groups,
                    n,
                    x,
                    dt,
                    a,
                    b,
                    c,
                    d,
                    dPerChannel,
                    z,
                    dtBias,
                    true,
                    dtMin,
                    dtMax,
                    withInit ? init : null);
        }
    }

    @ParameterizedTest(name = "b {0} l {1} h {2} p {3} g {4} n {5} z {6} D[h,p] {7} packed {8} {9}")
    @CsvSource({
        "1, 1, 1, 1, 1, 1, false, false, false, FLOAT32",
        "2, 37, 4, 3, 2, 5, true, false, true, FLOAT32",
        "2, 37, 4, 3, 2, 5, true, true, true, FLOAT16",
        "1, 70, 6, 8, 3, 16, true, true, false, BFLOAT16",
        "1, 9, 2, 4, 1, 256, false, false, true, FLOAT32",
        "3, 20, 8, 2, 8, 7, true, false, false, BFLOAT16",
        // one step (the decoding path) over enough heads for several threads
        "2, 1, 24, 16, 4, 32, true, true, false, FLOAT32",
        "3, 1, 12, 8, 3, 20, true, false, true, BFLOAT16"
    })
    void matchesFloat64Oracle(
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
        long seed = SEED + batch * 131L + len * 17L + heads + n * 7L + dtype.ordinal();
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
                        dPerChannel);
        NativeTensor out = Host.poisoned(dtype, batch, len, heads, headdim);
        NativeTensor fin = Host.poisoned(DType.FLOAT32, batch, heads, headdim, n);
        NativeTensor init = Host.f32(in.init, batch, heads, headdim, n);
        float lo = 0.05f;
        float hi = 1.5f;
        backend().ssd(in.args(packed, lo, hi, 16, init, fin, out));
        assertMatchesOracle(in.oracle(lo, hi, true), out, fin, dtype, seed);
    }

    /**
     * Compares outputs and final states with the oracle's, within this backend's tolerances for the
     * dtype ({@link #outTolerance}, {@link #stateTolerance}) relative to the outputs' scale.
     */
    void assertMatchesOracle(
            Oracles.ScanResult want, NativeTensor out, NativeTensor fin, DType dtype, long seed) {
        double scale = 1 + 0.05 * Compare.maxAbs(want.out());
        Compare.close("out", want.out(), Host.read(out), outTolerance(dtype), scale, seed);
        Compare.close(
                "final states", want.state(), Host.read(fin), stateTolerance(dtype), scale, seed);
    }

    @Test
    void longSequence() {
        int len = longLength();
        long seed = SEED + 3;
        Inputs in = new Inputs(new Random(seed), DType.FLOAT32, 1, len, 2, 2, 1, 4, true, false);
        NativeTensor out = Host.poisoned(DType.FLOAT32, 1, len, 2, 2);
        NativeTensor fin = Host.poisoned(DType.FLOAT32, 1, 2, 2, 4);
        NativeTensor init = Host.f32(in.init, 1, 2, 2, 4);
        backend().ssd(in.args(false, 0, Float.POSITIVE_INFINITY, 256, init, fin, out));
        Oracles.ScanResult want = in.oracle(0, Float.POSITIVE_INFINITY, true);
        double scale = 1 + 0.05 * Compare.maxAbs(want.out());
        Compare.close("out", want.out(), Host.read(out), 1e-4, scale, seed);
        Compare.close("final states", want.state(), Host.read(fin), 1e-4, scale, seed);
    }

    @ParameterizedTest(name = "{0}")
    @EnumSource(DType.class)
    void splitSequenceEqualsOneCall(DType dtype) {
        int batch = 2;
        int len = 90;
        int first = 41;
        long seed = SEED + 2;
        Inputs in = new Inputs(new Random(seed), dtype, batch, len, 4, 4, 2, 8, true, false);
        NativeTensor outFull = Host.poisoned(dtype, batch, len, 4, 4);
        NativeTensor finFull = Host.poisoned(DType.FLOAT32, batch, 4, 4, 8);
        float inf = Float.POSITIVE_INFINITY;
        backend().ssd(in.args(false, 0, inf, 32, null, finFull, outFull));

        SsdArgs all =
                in.args(false, 0, inf, 32, null, null, Host.poisoned(dtype, batch, len, 4, 4));
        NativeTensor state = Host.poisoned(DType.FLOAT32, batch, 4, 4, 8);
        runInTwoCalls(all, first, len, 32, state);
        Compare.close(
                "split out",
                Compare.toDouble(Host.read(outFull)),
                Host.read(all.out()),
                splitOutTolerance(dtype),
                1,
                seed);
        Compare.close(
                "split states",
                Compare.toDouble(Host.read(finFull)),
                Host.read(state),
                splitStateTolerance(dtype),
                1,
                seed);
    }

    /**
     * Runs the sequence of {@code all} (softplus, no dt limits) as two calls split at step {@code
     * first}, the second starting from the first's final state, which ends in {@code state}.
     */
    void runInTwoCalls(SsdArgs all, int first, int len, int chunk, NativeTensor state) {
        for (int[] part : new int[][] {{0, first}, {first, len - first}}) {
            backend()
                    .ssd(
                            new SsdArgs(
                                    time(all.x(), part),
                                    time(all.dt(), part),
                                    all.a(),
                                    time(all.b(), part),
                                    time(all.c(), part),
                                    all.d(),
                                    time(all.z(), part),
                                    all.dtBias(),
                                    true,
                                    0,
                                    Float.POSITIVE_INFINITY,
                                    chunk,
                                    part[0] == 0 ? null : state,
                                    state,
                                    time(all.out(), part)));
        }
    }

    /** The time range [start, start + length) of a tensor whose axis 1 is time. */
    static NativeTensor time(NativeTensor t, int[] range) {
        long[] shape = t.shape();
        long[] strides = strides(t);
        shape[1] = range[1];
        return t.view(range[0] * strides[1], shape, strides);
    }

    /** Time step t of a tensor whose axis 1 is time, without that axis. */
    static NativeTensor step(NativeTensor t, int time) {
        long[] shape = new long[t.rank() - 1];
        long[] strides = new long[t.rank() - 1];
        for (int i = 0, j = 0; i < t.rank(); i++) {
            if (i != 1) {
                shape[j] = t.size(i);
                strides[j++] = t.stride(i);
            }
        }
        return t.view(time * t.stride(1), shape, strides);
    }

    static long[] strides(NativeTensor t) {
        long[] s = new long[t.rank()];
        for (int i = 0; i < s.length; i++) {
            s[i] = t.stride(i);
        }
        return s;
    }

    @ParameterizedTest(name = "{0}")
    @EnumSource(DType.class)
    void stateUpdateContinuesTheScan(DType dtype) {
        int batch = 3;
        int len = 6;
        int heads = 4;
        int headdim = 5;
        int groups = 2;
        int n = 16;
        long seed = SEED + 3;
        Inputs in =
                new Inputs(
                        new Random(seed),
                        dtype,
                        batch,
                        len + 1,
                        heads,
                        headdim,
                        groups,
                        n,
                        true,
                        true);
        float lo = 0.01f;
        float hi = 2f;
        Oracles.ScanResult want = in.oracle(lo, hi, true);
        SsdArgs all =
                in.args(
                        true,
                        lo,
                        hi,
                        4,
                        null,
                        null,
                        Host.poisoned(dtype, batch, len + 1, heads, headdim));
        NativeTensor state = Host.f32(in.init, batch, heads, headdim, n);
        int[] prefix = {0, len};
        backend()
                .ssd(
                        new SsdArgs(
                                time(all.x(), prefix),
                                time(all.dt(), prefix),
                                all.a(),
                                time(all.b(), prefix),
                                time(all.c(), prefix),
                                all.d(),
                                time(all.z(), prefix),
                                all.dtBias(),
                                true,
                                lo,
                                hi,
                                4,
                                state,
                                state,
                                time(all.out(), prefix)));
        NativeTensor out = Host.poisoned(dtype, batch, heads, headdim);
        backend()
                .ssdStateUpdate(
                        new SsdStateUpdateArgs(
                                state,
                                step(all.x(), len),
                                step(all.dt(), len),
                                all.a(),
                                step(all.b(), len),
                                step(all.c(), len),
                                all.d(),
                                step(all.z(), len),
                                all.dtBias(),
                                true,
                                lo,
                                hi,
                                out));
        int hp = heads * headdim;
        double[] last = new double[batch * hp];
        for (int bb = 0; bb < batch; bb++) {
            System.arraycopy(want.out(), (bb * (len + 1) + len) * hp, last, bb * hp, hp);
        }
        double scale = 1 + 0.05 * Compare.maxAbs(want.out());
        Compare.close("step out", last, Host.read(out), outTolerance(dtype), scale, seed);
        Compare.close(
                "step state", want.state(), Host.read(state), stateTolerance(dtype), scale, seed);
    }

    @Test
    void badArgumentsAreRefused() {
        Inputs in = new Inputs(new Random(SEED), DType.FLOAT32, 1, 4, 4, 2, 2, 3, false, false);
        NativeTensor out = Host.poisoned(DType.FLOAT32, 1, 4, 4, 2);
        IllegalArgumentException groups =
                assertThrows(
                        IllegalArgumentException.class,
                        () ->
                                new SsdArgs(
                                        Host.f32(in.x, 1, 4, 4, 2),
                                        Host.f32(in.dt, 1, 4, 4),
                                        Host.f32(in.a, 4),
                                        Host.f32(new float[36], 1, 4, 3, 3),
                                        Host.f32(new float[36], 1, 4, 3, 3),
                                        null,
                                        null,
                                        null,
                                        true,
                                        0,
                                        1,
                                        8,
                                        null,
                                        null,
                                        out));
        assertTrue(groups.getMessage().contains("ngroups must divide nheads"), groups.getMessage());
        IllegalArgumentException dtype =
                assertThrows(
                        IllegalArgumentException.class,
                        () ->
                                new SsdArgs(
                                        Host.f32(in.x, 1, 4, 4, 2),
                                        Host.tensor(DType.FLOAT16, in.dt, 1, 4, 4),
                                        Host.f32(in.a, 4),
                                        Host.f32(in.b, 1, 4, 2, 3),
                                        Host.f32(in.c, 1, 4, 2, 3),
                                        null,
                                        null,
                                        null,
                                        true,
                                        0,
                                        1,
                                        8,
                                        null,
                                        null,
                                        out));
        assertTrue(dtype.getMessage().contains("dt must be float32"), dtype.getMessage());
        IllegalArgumentException chunk =
                assertThrows(
                        IllegalArgumentException.class,
                        () -> in.args(false, 0, 1, 0, null, null, out));
        assertTrue(chunk.getMessage().contains("chunkSize must be positive"), chunk.getMessage());
        SsdArgs ok = in.args(false, 0, 1, 8, null, null, out);
        NativeOpException nullB =
                assertThrows(
                        NativeOpException.class,
                        () ->
                                backend()
                                        .ssd(
                                                new SsdArgs(
                                                        ok.x(),
                                                        ok.dt(),
                                                        ok.a(),
                                                        NativeTensor.wrap(
                                                                0,
                                                                1 << 20,
                                                                DType.FLOAT32,
                                                                1,
                                                                4,
                                                                2,
                                                                3),
                                                        ok.c(),
                                                        null,
                                                        null,
                                                        null,
                                                        true,
                                                        0,
                                                        1,
                                                        8,
                                                        null,
                                                        null,
                                                        out)));
        assertTrue(nullB.getMessage().contains("B is NULL"), nullB.getMessage());
        NativeOpException nullState =
                assertThrows(
                        NativeOpException.class,
                        () ->
                                backend()
                                        .ssdStateUpdate(
                                                new SsdStateUpdateArgs(
                                                        NativeTensor.wrap(
                                                                0,
                                                                1 << 20,
                                                                DType.FLOAT32,
                                                                1,
                                                                4,
                                                                2,
                                                                3),
                                                        step(ok.x(), 0),
                                                        step(ok.dt(), 0),
                                                        ok.a(),
                                                        step(ok.b(), 0),
                                                        step(ok.c(), 0),
                                                        null,
                                                        null,
                                                        null,
                                                        true,
                                                        0,
                                                        1,
                                                        step(out, 0))));
        assertTrue(nullState.getMessage().contains("state is NULL"), nullState.getMessage());
    }
}
