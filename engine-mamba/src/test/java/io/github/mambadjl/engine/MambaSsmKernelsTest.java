package io.github.mambadjl.engine;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import io.github.mambadjl.kernel.KernelOutput;
import io.github.mambadjl.kernel.ReferenceSsmKernels;
import io.github.mambadjl.kernel.SsmKernels;
import java.util.Arrays;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * The native {@link MambaSsmKernels} against {@link ReferenceSsmKernels} on the PyTorch engine, on
 * fresh random inputs: every SPI method, with and without its optional arguments and initial
 * states, strided (transposed) inputs, and the three storage dtypes.
 */
class MambaSsmKernelsTest {

    /** float32 agreement; the kernels and the reference sum in another order. */
    private static final double F32_TOL = 2e-5;

    private TwoEngines e;
    private final ReferenceSsmKernels ref = ReferenceSsmKernels.INSTANCE;

    /** The storage dtypes, with the tolerance of one rounding of the output to that dtype. */
    enum Storage {
        FLOAT32(DataType.FLOAT32, F32_TOL),
        FLOAT16(DataType.FLOAT16, 2e-3),
        BFLOAT16(DataType.BFLOAT16, 1.6e-2);

        final DataType type;
        final double tol;

        Storage(DataType type, double tol) {
            this.type = type;
            this.tol = tol;
        }
    }

    @BeforeEach
    void open() {
        e = new TwoEngines();
    }

    @AfterEach
    void close() {
        e.close();
    }

    /**
     * Random values in [low, high) on both engines: {mamba in the given dtype, torch float32 of the
     * same (rounded) values}.
     */
    private NDArray[] rand(DataType type, float low, float high, long... shape) {
        NDArray[] both = e.uniform(low, high, shape);
        if (type == DataType.FLOAT32) {
            return both;
        }
        NDArray m = both[0].toType(type, false);
        NDArray t =
                e.torch.create(m.toType(DataType.FLOAT32, false).toFloatArray(), new Shape(shape));
        return new NDArray[] {m, t};
    }

    private NDArray[] f32(float low, float high, long... shape) {
        return e.uniform(low, high, shape);
    }

    private static NDArray m(NDArray[] a) {
        return a == null ? null : a[0];
    }

    private static NDArray t(NDArray[] a) {
        return a == null ? null : a[1];
    }

    /** A copy of the Mamba array, for a one-step kernel that updates its state in place. */
    private static NDArray fresh(NDArray[] a) {
        return a[0].duplicate();
    }

    /** Values agree within tol * max(1, |expected|); shapes agree; types may differ. */
    private static void close(String what, NDArray expected, NDArray actual, double tol) {
        assertInstanceOf(MambaNDArray.class, actual, what + " stays on the Mamba engine");
        assertEquals(expected.getShape(), actual.getShape(), what + " shape");
        float[] x = expected.toType(DataType.FLOAT32, false).toFloatArray();
        float[] y = actual.toType(DataType.FLOAT32, false).toFloatArray();
        for (int i = 0; i < x.length; i++) {
            double bound = tol * Math.max(1.0, Math.abs(x[i]));
            if (!(Math.abs(x[i] - y[i]) <= bound)) {
                throw new AssertionError(
                        what + " element " + i + ": expected " + x[i] + " but got " + y[i]);
            }
        }
    }

    private static void same(String what, KernelOutput expected, KernelOutput actual, double tol) {
        close(what + " output", expected.output(), actual.output(), tol);
        close(what + " state", expected.state(), actual.state(), Math.max(tol, F32_TOL));
        assertEquals(DataType.FLOAT32, actual.state().getDataType(), what + " state is float32");
    }

    @Test
    void theMambaEngineGetsTheNativeKernels() {
        NDArray x = e.mamba.zeros(new Shape(1));
        assertInstanceOf(MambaSsmKernels.class, SsmKernels.of(x));
        assertInstanceOf(ReferenceSsmKernels.class, SsmKernels.of(e.torch.zeros(new Shape(1))));
    }

    @Test
    void theStateMatrixIsKeptWithALogUntilALogChanges() {
        NDArray[] aLog = f32(-2, 3, 6, 4);
        NDManager step = e.mamba.newSubManager();
        long bytes = MambaNDManager.hostBytesInUse();
        NDArray a = SsmKernels.of(m(aLog)).stateMatrix(m(aLog), step);
        close("A = -exp(A_log)", ref.stateMatrix(t(aLog), e.torch), a, 1e-6);
        assertEquals(bytes + 6 * 4 * 4, MambaNDManager.hostBytesInUse(), "one array, kept");
        assertSame(a, SsmKernels.of(m(aLog)).stateMatrix(m(aLog), step), "reused");
        step.close();
        assertFalse(a.isReleased(), "owned with A_log, not by the caller's manager");

        m(aLog).get("1:3, 2").subi(1f);
        t(aLog).set(new NDIndex("1:3, 2"), t(aLog).get("1:3, 2").sub(1f));
        NDArray changed = SsmKernels.of(m(aLog)).stateMatrix(m(aLog), e.mamba);
        assertTrue(a.isReleased(), "the stale value is closed");
        close("A after an in-place write", ref.stateMatrix(t(aLog), e.torch), changed, 1e-6);

        NDArray[] other = f32(-1, 1, 6, 4);
        m(aLog).intern(m(other).duplicate());
        close(
                "A after intern",
                ref.stateMatrix(t(other), e.torch),
                SsmKernels.of(m(aLog)).stateMatrix(m(aLog), e.mamba),
                1e-6);
        long before = MambaNDManager.hostBytesInUse();
        m(aLog).close();
        assertEquals(before - 2 * 6 * 4 * 4, MambaNDManager.hostBytesInUse(), "closed with A_log");
    }

    @ParameterizedTest
    @EnumSource(Storage.class)
    void causalConv1d(Storage s) {
        for (int width = 2; width <= 4; width++) {
            NDArray[] x = rand(s.type, -2, 2, 2, 5, 7);
            NDArray[] w = rand(s.type, -1, 1, 5, 1, width);
            NDArray[] bias = rand(s.type, -1, 1, 5);
            NDArray[] state = f32(-1, 1, 2, 5, width - 1);
            for (boolean silu : new boolean[] {true, false}) {
                same(
                        "conv width " + width,
                        ref.causalConv1d(t(x), t(w), t(bias), t(state), silu),
                        SsmKernels.of(m(x)).causalConv1d(m(x), m(w), m(bias), m(state), silu),
                        s.tol);
                same(
                        "conv without bias and state",
                        ref.causalConv1d(t(x), t(w).reshape(5, width), null, null, silu),
                        SsmKernels.of(m(x))
                                .causalConv1d(m(x), m(w).reshape(5, width), null, null, silu),
                        s.tol);
            }
        }
    }

    @Test
    void causalConv1dReadsATransposedInputAndAnswersInItsLayout() {
        NDArray[] x = f32(-2, 2, 2, 7, 6); // [batch, length, channels]
        NDArray[] w = f32(-1, 1, 6, 4);
        NDArray mx = m(x).transpose(0, 2, 1);
        KernelOutput out = SsmKernels.of(mx).causalConv1d(mx, m(w), null, null, true);
        same(
                "transposed conv",
                ref.causalConv1d(t(x).transpose(0, 2, 1), t(w), null, null, true),
                out,
                F32_TOL);
        MambaNDArray back = (MambaNDArray) out.output().transpose(0, 2, 1);
        assertTrue(back.isContiguous(), "the output has the input's memory layout");
    }

    @ParameterizedTest
    @EnumSource(Storage.class)
    void causalConv1dUpdate(Storage s) {
        NDArray[] x = rand(s.type, -2, 2, 3, 6);
        NDArray[] w = rand(s.type, -1, 1, 6, 4);
        NDArray[] bias = rand(s.type, -1, 1, 6);
        NDArray[] state = f32(-1, 1, 3, 6, 3);
        same(
                "conv update",
                ref.causalConv1dUpdate(t(x), t(w), t(bias), t(state), true),
                SsmKernels.of(m(x)).causalConv1dUpdate(m(x), m(w), m(bias), fresh(state), true),
                s.tol);
        same(
                "conv update without bias",
                ref.causalConv1dUpdate(t(x), t(w), null, t(state), false),
                SsmKernels.of(m(x)).causalConv1dUpdate(m(x), m(w), null, fresh(state), false),
                s.tol);
    }

    @Test
    void oneStepKernelsUpdateAFloat32StateInPlaceAndCopyAnyOther() {
        // a decoding cache keeps its states in a manager of its own: a float32, contiguous state
        // is updated where it is (no copy, no allocation per step); any other state is copied,
        // the copy belongs to the step (the first input's manager) and the given one is unchanged
        try (NDManager states = e.mamba.newSubManager();
                NDManager step = e.mamba.newSubManager()) {
            NDArray x = step.randomUniform(-1, 1, new Shape(2, 6));
            NDArray w = step.randomUniform(-1, 1, new Shape(6, 4));
            SsmKernels k = SsmKernels.of(x);
            NDArray conv = states.randomUniform(-1, 1, new Shape(2, 6, 3));
            float[] convBefore = conv.toFloatArray();
            KernelOutput c = k.causalConv1dUpdate(x, w, null, conv, true);
            assertSame(conv, c.state(), "conv update: the state is updated in place");
            assertFalse(
                    Arrays.equals(convBefore, conv.toFloatArray()),
                    "conv update: the state moved on");
            NDArray transposed = states.randomUniform(-1, 1, new Shape(2, 3, 6)).transpose(0, 2, 1);
            float[] transposedBefore = transposed.toFloatArray();
            KernelOutput copied = k.causalConv1dUpdate(x, w, null, transposed, true);
            assertNotSame(transposed, copied.state(), "a strided state is copied");
            assertSame(step, copied.state().getManager(), "the copy belongs to the step");
            assertArrayEquals(transposedBefore, transposed.toFloatArray(), "and stays as it was");
            NDArray ssm = states.randomUniform(-1, 1, new Shape(2, 4, 3, 5));
            KernelOutput s =
                    k.ssdStep(
                            ssm,
                            step.randomUniform(-1, 1, new Shape(2, 4, 3)),
                            step.randomUniform(0, 1, new Shape(2, 4)),
                            step.randomUniform(-2, -0.1f, new Shape(4)),
                            step.randomUniform(-1, 1, new Shape(2, 1, 5)),
                            step.randomUniform(-1, 1, new Shape(2, 1, 5)),
                            null,
                            null,
                            null,
                            false,
                            0f,
                            Float.POSITIVE_INFINITY);
            assertSame(ssm, s.state(), "ssd step: in place");
            NDArray half =
                    states.randomUniform(-1, 1, new Shape(2, 6, 4)).toType(DataType.FLOAT16, false);
            KernelOutput u =
                    k.selectiveStateUpdate(
                            half,
                            x,
                            step.randomUniform(0, 1, new Shape(2, 6)),
                            step.randomUniform(-2, -0.1f, new Shape(6, 4)),
                            step.randomUniform(-1, 1, new Shape(2, 4)),
                            step.randomUniform(-1, 1, new Shape(2, 4)),
                            null,
                            null,
                            null,
                            false);
            assertNotSame(half, u.state(), "a float16 state is copied to float32");
            assertEquals(DataType.FLOAT32, u.state().getDataType());
            assertSame(step, u.state().getManager(), "selective state update copy");
        }
    }

    @Test
    void convStepsContinueTheSequence() {
        NDArray[] x = f32(-2, 2, 2, 4, 9);
        NDArray[] w = f32(-1, 1, 4, 4);
        SsmKernels k = SsmKernels.of(m(x));
        KernelOutput whole = k.causalConv1d(m(x), m(w), null, null, true);
        KernelOutput head = k.causalConv1d(m(x).get(":, :, 0:8"), m(w), null, null, true);
        KernelOutput last =
                k.causalConv1dUpdate(m(x).get(":, :, 8"), m(w), null, head.state(), true);
        close("last step", whole.output().get(":, :, 8"), last.output(), F32_TOL);
        close("final state", whole.state(), last.state(), F32_TOL);
    }

    @ParameterizedTest
    @EnumSource(Storage.class)
    void selectiveScan(Storage s) {
        long batch = 2;
        long dim = 6;
        long n = 4;
        long length = 5;
        NDArray[] u = rand(s.type, -1, 1, batch, dim, length);
        NDArray[] delta = rand(s.type, -3, 1, batch, dim, length);
        NDArray[] a = f32(-2, -0.1f, dim, n);
        NDArray[] b3 = rand(s.type, -1, 1, batch, n, length);
        NDArray[] c3 = rand(s.type, -1, 1, batch, n, length);
        NDArray[] b4 = rand(s.type, -1, 1, batch, 2, n, length);
        NDArray[] c4 = rand(s.type, -1, 1, batch, 2, n, length);
        NDArray[] d = f32(-1, 1, dim);
        NDArray[] z = rand(s.type, -2, 2, batch, dim, length);
        NDArray[] bias = f32(-1, 1, dim);
        NDArray[] h0 = f32(-1, 1, batch, dim, n);
        same(
                "scan, everything",
                ref.selectiveScan(
                        t(u), t(delta), t(a), t(b3), t(c3), t(d), t(z), t(bias), true, t(h0)),
                SsmKernels.of(m(u))
                        .selectiveScan(
                                m(u), m(delta), m(a), m(b3), m(c3), m(d), m(z), m(bias), true,
                                m(h0)),
                s.tol);
        same(
                "scan, grouped B/C, no options",
                ref.selectiveScan(
                        t(u), t(delta).abs(), t(a), t(b4), t(c4), null, null, null, false, null),
                SsmKernels.of(m(u))
                        .selectiveScan(
                                m(u),
                                m(delta).abs(),
                                m(a),
                                m(b4),
                                m(c4),
                                null,
                                null,
                                null,
                                false,
                                null),
                s.tol);
    }

    @Test
    void selectiveScanReadsTheBlocksStridedLayout() {
        // the Mamba block hands [batch, length, channels] memory as transposed views
        NDArray[] u = f32(-1, 1, 2, 5, 6);
        NDArray[] delta = f32(-3, 1, 2, 5, 6);
        NDArray[] bc = f32(-1, 1, 2, 5, 8);
        NDArray[] a = f32(-2, -0.1f, 6, 4);
        NDArray[] z = f32(-2, 2, 2, 5, 6);
        KernelOutput expected =
                ref.selectiveScan(
                        t(u).transpose(0, 2, 1),
                        t(delta).transpose(0, 2, 1),
                        t(a),
                        t(bc).get(":, :, 0:4").transpose(0, 2, 1),
                        t(bc).get(":, :, 4:").transpose(0, 2, 1),
                        null,
                        t(z).transpose(0, 2, 1),
                        null,
                        true,
                        null);
        NDArray mu = m(u).transpose(0, 2, 1);
        KernelOutput actual =
                SsmKernels.of(mu)
                        .selectiveScan(
                                mu,
                                m(delta).transpose(0, 2, 1),
                                m(a),
                                m(bc).get(":, :, 0:4").transpose(0, 2, 1),
                                m(bc).get(":, :, 4:").transpose(0, 2, 1),
                                null,
                                m(z).transpose(0, 2, 1),
                                null,
                                true,
                                null);
        same("strided scan", expected, actual, F32_TOL);
        assertTrue(((MambaNDArray) actual.output().transpose(0, 2, 1)).isContiguous());
    }

    @ParameterizedTest
    @EnumSource(Storage.class)
    void selectiveStateUpdate(Storage s) {
        long batch = 3;
        long dim = 4;
        long n = 5;
        NDArray[] h = f32(-1, 1, batch, dim, n);
        NDArray[] u = rand(s.type, -1, 1, batch, dim);
        NDArray[] delta = rand(s.type, -3, 1, batch, dim);
        NDArray[] a = f32(-2, -0.1f, dim, n);
        NDArray[] b = rand(s.type, -1, 1, batch, n);
        NDArray[] c = rand(s.type, -1, 1, batch, n);
        NDArray[] bg = rand(s.type, -1, 1, batch, 2, n);
        NDArray[] cg = rand(s.type, -1, 1, batch, 2, n);
        NDArray[] d = f32(-1, 1, dim);
        NDArray[] z = rand(s.type, -2, 2, batch, dim);
        NDArray[] bias = f32(-1, 1, dim);
        same(
                "state update, everything",
                ref.selectiveStateUpdate(
                        t(h), t(u), t(delta), t(a), t(b), t(c), t(d), t(z), t(bias), true),
                SsmKernels.of(m(u))
                        .selectiveStateUpdate(
                                fresh(h), m(u), m(delta), m(a), m(b), m(c), m(d), m(z), m(bias),
                                true),
                s.tol);
        same(
                "state update, grouped, no options",
                ref.selectiveStateUpdate(
                        t(h), t(u), t(delta).abs(), t(a), t(bg), t(cg), null, null, null, false),
                SsmKernels.of(m(u))
                        .selectiveStateUpdate(
                                fresh(h),
                                m(u),
                                m(delta).abs(),
                                m(a),
                                m(bg),
                                m(cg),
                                null,
                                null,
                                null,
                                false),
                s.tol);
    }

    /**
     * The projected step (dt_proj folded into one native kernel) against the default composition on
     * this engine, the product then the plain step: bit for bit (the kernel sums dt as the engine's
     * GEMV of up to 4 rows does and rounds it to the dtype), with dtLow, B and C the views of one
     * x_proj output that Mamba passes; and against the reference.
     */
    @ParameterizedTest
    @EnumSource(Storage.class)
    void selectiveStateUpdateProjected(Storage s) {
        long batch = 3;
        long dim = 40;
        long rank = 24;
        long n = 16;
        NDArray[] h = f32(-1, 1, batch, dim, n);
        NDArray[] u = rand(s.type, -1, 1, batch, dim);
        NDArray[] proj = rand(s.type, -1, 1, batch, rank + 2 * n);
        NDArray[] weight = rand(s.type, -0.4f, 0.4f, dim, rank);
        NDArray[] a = f32(-2, -0.1f, dim, n);
        NDArray[] d = f32(-1, 1, dim);
        NDArray[] z = rand(s.type, -2, 2, batch, dim);
        NDArray[] bias = f32(-1, 1, dim);
        NDIndex low = new NDIndex(":, :{}", rank);
        NDIndex bm = new NDIndex(":, {}:{}", rank, rank + n);
        NDIndex cm = new NDIndex(":, {}:", rank + n);
        SsmKernels kernels = SsmKernels.of(m(u));
        NDArray state = fresh(h);
        NDArray lowView = m(proj).get(low);
        NDArray bView = m(proj).get(bm);
        NDArray cView = m(proj).get(cm);
        long blocks = MambaNDManager.hostBlocksInUse();
        KernelOutput fused =
                kernels.selectiveStateUpdateProjected(
                        state, m(u), lowView, m(weight), m(a), bView, cView, m(d), m(z), m(bias),
                        true);
        // one kernel: the output is its only allocation (no product in between), the state is
        // updated in place
        assertEquals(blocks + 1, MambaNDManager.hostBlocksInUse(), "memory blocks allocated");
        assertSame(state, fused.state());
        KernelOutput composed =
                kernels.selectiveStateUpdate(
                        fresh(h),
                        m(u),
                        m(proj).get(low).matMul(m(weight).transpose()),
                        m(a),
                        m(proj).get(bm),
                        m(proj).get(cm),
                        m(d),
                        m(z),
                        m(bias),
                        true);
        assertArrayEquals(
                composed.output().toType(DataType.FLOAT32, false).toFloatArray(),
                fused.output().toType(DataType.FLOAT32, false).toFloatArray(),
                "output");
        assertArrayEquals(composed.state().toFloatArray(), fused.state().toFloatArray(), "state");
        same(
                "projected state update",
                ref.selectiveStateUpdateProjected(
                        t(h),
                        t(u),
                        t(proj).get(low),
                        t(weight),
                        t(a),
                        t(proj).get(bm),
                        t(proj).get(cm),
                        t(d),
                        t(z),
                        t(bias),
                        true),
                fused,
                s.tol);
    }

    /**
     * A projection the native kernel cannot read as it is (a transposed weight or dtLow: the rank
     * axis strided) takes the default composition, with the same result.
     */
    @Test
    void selectiveStateUpdateProjectedFallsBackToTheComposition() {
        long batch = 2;
        long dim = 8;
        long rank = 5;
        long n = 4;
        NDArray[] h = f32(-1, 1, batch, dim, n);
        NDArray[] u = rand(DataType.BFLOAT16, -1, 1, batch, dim);
        NDArray[] lowT = rand(DataType.BFLOAT16, -1, 1, rank, batch);
        NDArray[] weightT = rand(DataType.BFLOAT16, -0.5f, 0.5f, rank, dim);
        NDArray[] a = f32(-2, -0.1f, dim, n);
        NDArray[] b = rand(DataType.BFLOAT16, -1, 1, batch, n);
        NDArray[] c = rand(DataType.BFLOAT16, -1, 1, batch, n);
        SsmKernels kernels = SsmKernels.of(m(u));
        NDArray low = m(lowT).transpose();
        NDArray weight = m(weightT).transpose();
        KernelOutput expected =
                kernels.selectiveStateUpdate(
                        fresh(h),
                        m(u),
                        low.matMul(weight.transpose()),
                        m(a),
                        m(b),
                        m(c),
                        null,
                        null,
                        null,
                        true);
        NDArray[][] lowAndWeight = {
            {low, weight}, {low, weight.duplicate()}, {low.duplicate(), weight}
        };
        for (NDArray[] lw : lowAndWeight) {
            KernelOutput got =
                    kernels.selectiveStateUpdateProjected(
                            fresh(h), m(u), lw[0], lw[1], m(a), m(b), m(c), null, null, null, true);
            same("fallback", expected, got, Storage.BFLOAT16.tol);
        }
    }

    @ParameterizedTest
    @EnumSource(Storage.class)
    void ssdChunkScan(Storage s) {
        long batch = 2;
        long length = 11;
        long heads = 4;
        long headDim = 3;
        long groups = 2;
        long n = 5;
        NDArray[] x = rand(s.type, -1, 1, batch, length, heads, headDim);
        NDArray[] dt = rand(s.type, -3, 1, batch, length, heads);
        NDArray[] a = f32(-2, -0.1f, heads);
        NDArray[] b = rand(s.type, -1, 1, batch, length, groups, n);
        NDArray[] c = rand(s.type, -1, 1, batch, length, groups, n);
        NDArray[] d = f32(-1, 1, heads);
        NDArray[] z = rand(s.type, -2, 2, batch, length, heads, headDim);
        NDArray[] bias = f32(-1, 1, heads);
        NDArray[] h0 = f32(-1, 1, batch, heads, headDim, n);
        same(
                "ssd, everything, limits",
                ref.ssdChunkScan(
                        t(x), t(dt), t(a), t(b), t(c), 4, t(d), t(z), t(bias), true, 0.05f, 0.8f,
                        t(h0)),
                SsmKernels.of(m(x))
                        .ssdChunkScan(
                                m(x), m(dt), m(a), m(b), m(c), 4, m(d), m(z), m(bias), true, 0.05f,
                                0.8f, m(h0)),
                s.tol);
        same(
                "ssd, no options",
                ref.ssdChunkScan(
                        t(x),
                        t(dt).abs(),
                        t(a),
                        t(b),
                        t(c),
                        256,
                        null,
                        null,
                        null,
                        false,
                        0f,
                        Float.POSITIVE_INFINITY,
                        null),
                SsmKernels.of(m(x))
                        .ssdChunkScan(
                                m(x),
                                m(dt).abs(),
                                m(a),
                                m(b),
                                m(c),
                                256,
                                null,
                                null,
                                null,
                                false,
                                0f,
                                Float.POSITIVE_INFINITY,
                                null),
                s.tol);
    }

    @ParameterizedTest
    @EnumSource(Storage.class)
    void ssdStep(Storage s) {
        long batch = 2;
        long heads = 4;
        long headDim = 3;
        long n = 5;
        NDArray[] h = f32(-1, 1, batch, heads, headDim, n);
        NDArray[] x = rand(s.type, -1, 1, batch, heads, headDim);
        NDArray[] dt = rand(s.type, -3, 1, batch, heads);
        NDArray[] a = f32(-2, -0.1f, heads);
        NDArray[] b = rand(s.type, -1, 1, batch, 2, n);
        NDArray[] c = rand(s.type, -1, 1, batch, 2, n);
        NDArray[] d = f32(-1, 1, heads);
        NDArray[] z = rand(s.type, -2, 2, batch, heads, headDim);
        NDArray[] bias = f32(-1, 1, heads);
        same(
                "ssd step, everything",
                ref.ssdStep(
                        t(h), t(x), t(dt), t(a), t(b), t(c), t(d), t(z), t(bias), true, 0.05f,
                        0.8f),
                SsmKernels.of(m(x))
                        .ssdStep(
                                fresh(h), m(x), m(dt), m(a), m(b), m(c), m(d), m(z), m(bias), true,
                                0.05f, 0.8f),
                s.tol);
        same(
                "ssd step, no options",
                ref.ssdStep(
                        t(h),
                        t(x),
                        t(dt).abs(),
                        t(a),
                        t(b),
                        t(c),
                        null,
                        null,
                        null,
                        false,
                        0f,
                        Float.POSITIVE_INFINITY),
                SsmKernels.of(m(x))
                        .ssdStep(
                                fresh(h),
                                m(x),
                                m(dt).abs(),
                                m(a),
                                m(b),
                                m(c),
                                null,
                                null,
                                null,
                                false,
                                0f,
                                Float.POSITIVE_INFINITY),
                s.tol);
    }

    @Test
    void ssdStepsContinueTheChunkScan() {
        NDArray[] x = f32(-1, 1, 1, 6, 2, 3);
        NDArray[] dt = f32(-3, 1, 1, 6, 2);
        NDArray[] a = f32(-2, -0.1f, 2);
        NDArray[] b = f32(-1, 1, 1, 6, 1, 4);
        NDArray[] c = f32(-1, 1, 1, 6, 1, 4);
        SsmKernels k = SsmKernels.of(m(x));
        float inf = Float.POSITIVE_INFINITY;
        KernelOutput whole =
                k.ssdChunkScan(
                        m(x), m(dt), m(a), m(b), m(c), 4, null, null, null, true, 0, inf, null);
        KernelOutput head =
                k.ssdChunkScan(
                        m(x).get(":, 0:5"),
                        m(dt).get(":, 0:5"),
                        m(a),
                        m(b).get(":, 0:5"),
                        m(c).get(":, 0:5"),
                        4,
                        null,
                        null,
                        null,
                        true,
                        0,
                        inf,
                        null);
        KernelOutput step =
                k.ssdStep(
                        head.state(),
                        m(x).get(":, 5"),
                        m(dt).get(":, 5"),
                        m(a),
                        m(b).get(":, 5"),
                        m(c).get(":, 5"),
                        null,
                        null,
                        null,
                        true,
                        0,
                        inf);
        close("last step", whole.output().get(":, 5"), step.output(), F32_TOL);
        close("final state", whole.state(), step.state(), F32_TOL);
    }

    @ParameterizedTest
    @EnumSource(Storage.class)
    void gatedRmsNorm(Storage s) {
        NDArray[] x = rand(s.type, -2, 2, 2, 3, 8);
        NDArray[] z = rand(s.type, -2, 2, 2, 3, 8);
        NDArray[] w = rand(s.type, 0.5f, 1.5f, 8);
        for (int group : new int[] {8, 4, 2}) {
            for (boolean before : new boolean[] {true, false}) {
                close(
                        "gated norm group " + group + " before " + before,
                        ref.gatedRmsNorm(t(x), t(z), t(w), 1e-5f, group, before),
                        SsmKernels.of(m(x)).gatedRmsNorm(m(x), m(z), m(w), 1e-5f, group, before),
                        s.tol);
            }
            close(
                    "plain norm group " + group,
                    ref.gatedRmsNorm(t(x), null, t(w), 1e-6f, group, true),
                    SsmKernels.of(m(x)).gatedRmsNorm(m(x), null, m(w), 1e-6f, group, true),
                    s.tol);
        }
    }

    @Test
    void gatedRmsNormReadsSlicesAndTransposes() {
        NDArray[] big = f32(-2, 2, 2, 3, 12);
        NDArray[] w = f32(0.5f, 1.5f, 8);
        // a slice of the channels: rows keep their stride of 12
        close(
                "sliced norm",
                ref.gatedRmsNorm(t(big).get(":, :, 2:10"), null, t(w), 1e-5f, 4, true),
                SsmKernels.of(m(big))
                        .gatedRmsNorm(m(big).get(":, :, 2:10"), null, m(w), 1e-5f, 4, true),
                F32_TOL);
        NDArray[] tr = f32(-2, 2, 3, 2, 8);
        // a transpose of the leading axes: the rows do not collapse, the kernels copy
        close(
                "transposed norm",
                ref.gatedRmsNorm(t(tr).transpose(1, 0, 2), null, t(w), 1e-5f, 8, true),
                SsmKernels.of(m(tr))
                        .gatedRmsNorm(m(tr).transpose(1, 0, 2), null, m(w), 1e-5f, 8, true),
                F32_TOL);
    }

    @Test
    void badArgumentsAreRefusedWithMessagesAndLeakNothing() {
        long bytes = MambaNDManager.hostBytesInUse();
        SsmKernels k = MambaSsmKernels.INSTANCE;
        NDArray x = e.mamba.zeros(new Shape(1, 8));
        NDArray w = e.mamba.ones(new Shape(8));
        IllegalArgumentException group =
                assertThrows(
                        IllegalArgumentException.class,
                        () -> k.gatedRmsNorm(x, null, w, 1e-5f, 3, true));
        assertTrue(group.getMessage().contains("groupSize 3"), group.getMessage());
        NDArray conv = e.mamba.zeros(new Shape(2, 8));
        IllegalArgumentException noState =
                assertThrows(
                        IllegalArgumentException.class,
                        () ->
                                k.causalConv1dUpdate(
                                        conv, e.mamba.zeros(new Shape(8, 4)), null, null, true));
        assertTrue(noState.getMessage().contains("state is required"), noState.getMessage());
        IllegalArgumentException wrongState =
                assertThrows(
                        IllegalArgumentException.class,
                        () ->
                                k.causalConv1dUpdate(
                                        conv,
                                        e.mamba.zeros(new Shape(8, 4)),
                                        null,
                                        e.mamba.zeros(new Shape(2, 8, 2)),
                                        true));
        assertTrue(wrongState.getMessage().contains("convState"), wrongState.getMessage());
        IllegalArgumentException ints =
                assertThrows(
                        IllegalArgumentException.class,
                        () ->
                                k.gatedRmsNorm(
                                        x.toType(DataType.INT32, false), null, w, 1e-5f, 8, true));
        assertTrue(ints.getMessage().contains("int32"), ints.getMessage());
        IllegalArgumentException chunk =
                assertThrows(
                        IllegalArgumentException.class,
                        () ->
                                k.ssdChunkScan(
                                        e.mamba.zeros(new Shape(1, 2, 2, 2)),
                                        e.mamba.zeros(new Shape(1, 2, 2)),
                                        e.mamba.zeros(new Shape(2)),
                                        e.mamba.zeros(new Shape(1, 2, 1, 3)),
                                        e.mamba.zeros(new Shape(1, 2, 1, 3)),
                                        0,
                                        null,
                                        null,
                                        null,
                                        true,
                                        0,
                                        1,
                                        null));
        assertTrue(chunk.getMessage().contains("chunkSize"), chunk.getMessage());
        IllegalArgumentException foreign =
                assertThrows(
                        IllegalArgumentException.class,
                        () ->
                                k.gatedRmsNorm(
                                        e.torch.zeros(new Shape(1, 8)), null, w, 1e-5f, 8, true));
        assertTrue(foreign.getMessage().contains("PyTorch"), foreign.getMessage());
        e.mamba.close();
        e.torch.close();
        e = new TwoEngines();
        assertTrue(MambaNDManager.hostBytesInUse() <= bytes, "no native memory left behind");
    }
}
