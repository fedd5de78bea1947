package io.github.mambadjl.kernel;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import java.util.Random;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Compares every reference kernel with the naive float64 loops of {@link KernelOracle}. */
class ReferenceSsmKernelsTest {

    private static final double TOL = 1e-9;

    private NDManager manager;
    private Random random;
    private final SsmKernels k = ReferenceSsmKernels.INSTANCE;

    @BeforeEach
    void setUp() {
        manager = NDManager.newBaseManager("PyTorch");
        random = new Random();
    }

    @AfterEach
    void tearDown() {
        manager.close();
    }

    @Test
    void referenceIsChosenForPyTorchArrays() {
        assertSame(ReferenceSsmKernels.INSTANCE, SsmKernels.of(manager.zeros(new Shape(1))));
    }

    @Test
    void causalConv1dMatchesOracleWithStateAndSplits() {
        for (int width = 2; width <= 4; width++) {
            int b = 2;
            int d = 3;
            int l = 7;
            double[] x = rand(b * d * l);
            double[] w = rand(d * width);
            double[] bias = rand(d);
            double[] state = rand(b * d * (width - 1));
            double[][][] expected =
                    KernelOracle.conv(
                            r3(x, b, d, l), r2(w, d, width), bias, r3(state, b, d, width - 1));
            NDArray xa = arr(x, b, d, l);
            NDArray wa = arr(w, d, 1, width);
            NDArray ba = arr(bias, d);
            KernelOutput out = k.causalConv1d(xa, wa, ba, arr(state, b, d, width - 1), true);
            assertClose(flat3(expected), out.output());
            // split in two pieces carrying the state, then one token at a time
            KernelOutput first =
                    k.causalConv1d(xa.get(":, :, 0:3"), wa, ba, arr(state, b, d, width - 1), true);
            KernelOutput second = k.causalConv1d(xa.get(":, :, 3:5"), wa, ba, first.state(), true);
            NDArray s = second.state();
            for (int t = 5; t < l; t++) {
                KernelOutput step = k.causalConv1dUpdate(xa.get(":, :, {}", t), wa, ba, s, true);
                assertClose(out.output().get(":, :, {}", t).toDoubleArray(), step.output(), TOL);
                s = step.state();
            }
            assertClose(out.state().toDoubleArray(), s, TOL);
            assertClose(out.output().get(":, :, 3:5").toDoubleArray(), second.output(), TOL);
        }
    }

    @Test
    void selectiveScanMatchesOracleWithGroupsStateAndSteps() {
        int b = 2;
        int d = 4;
        int l = 9;
        int n = 3;
        int g = 2;
        double[] u = rand(b * d * l);
        double[] delta = rand(b * d * l);
        double[] a = negative(d * n);
        double[] bm = rand(b * g * n * l);
        double[] cm = rand(b * g * n * l);
        double[] dSkip = rand(d);
        double[] z = rand(b * d * l);
        double[] bias = rand(d);
        double[] state = rand(b * d * n);
        double[][][] oracleState = r3(state, b, d, n);
        double[][][] expected =
                KernelOracle.scan(
                        r3(u, b, d, l),
                        r3(delta, b, d, l),
                        r2(a, d, n),
                        r4(bm, b, g, n, l),
                        r4(cm, b, g, n, l),
                        dSkip,
                        r3(z, b, d, l),
                        bias,
                        oracleState);
        NDArray ua = arr(u, b, d, l);
        NDArray da = arr(delta, b, d, l);
        NDArray aa = arr(a, d, n);
        NDArray ba = arr(bm, b, g, n, l);
        NDArray ca = arr(cm, b, g, n, l);
        NDArray za = arr(z, b, d, l);
        KernelOutput out =
                k.selectiveScan(
                        ua,
                        da,
                        aa,
                        ba,
                        ca,
                        arr(dSkip, d),
                        za,
                        arr(bias, d),
                        true,
                        arr(state, b, d, n));
        assertClose(flat3(expected), out.output());
        assertClose(flat3(oracleState), out.state());
        NDArray s = arr(state, b, d, n);
        for (int t = 0; t < l; t++) {
            KernelOutput step =
                    k.selectiveStateUpdate(
                            s,
                            ua.get(":, :, {}", t),
                            da.get(":, :, {}", t),
                            aa,
                            ba.get(":, :, :, {}", t),
                            ca.get(":, :, :, {}", t),
                            arr(dSkip, d),
                            za.get(":, :, {}", t),
                            arr(bias, d),
                            true);
            assertClose(out.output().get(":, :, {}", t).toDoubleArray(), step.output(), TOL);
            s = step.state();
        }
        assertClose(flat3(oracleState), s);
    }

    @Test
    void projectedStateUpdateIsTheProductThenTheStep() {
        int b = 3;
        int d = 5;
        int r = 4;
        int n = 6;
        NDArray u = arr(rand(b * d), b, d);
        NDArray dtLow = arr(rand(b * r), b, r);
        NDArray weight = arr(rand(d * r), d, r);
        NDArray a = arr(negative(d * n), d, n);
        NDArray bm = arr(rand(b * n), b, n);
        NDArray cm = arr(rand(b * n), b, n);
        NDArray dSkip = arr(rand(d), d);
        NDArray z = arr(rand(b * d), b, d);
        NDArray bias = arr(rand(d), d);
        double[] state = rand(b * d * n);
        KernelOutput fused =
                k.selectiveStateUpdateProjected(
                        arr(state, b, d, n), u, dtLow, weight, a, bm, cm, dSkip, z, bias, true);
        KernelOutput composed =
                k.selectiveStateUpdate(
                        arr(state, b, d, n),
                        u,
                        dtLow.matMul(weight.transpose()),
                        a,
                        bm,
                        cm,
                        dSkip,
                        z,
                        bias,
                        true);
        assertArrayEquals(composed.output().toDoubleArray(), fused.output().toDoubleArray());
        assertArrayEquals(composed.state().toDoubleArray(), fused.state().toDoubleArray());
    }

    @Test
    void ssdChunkScanMatchesRecurrenceForEveryChunkSize() {
        int b = 2;
        int l = 11;
        int h = 4;
        int p = 3;
        int g = 2;
        int n = 5;
        double[] x = rand(b * l * h * p);
        double[] dt = rand(b * l * h);
        double[] a = negative(h);
        double[] bm = rand(b * l * g * n);
        double[] cm = rand(b * l * g * n);
        double[] dSkip = rand(h);
        double[] z = rand(b * l * h * p);
        double[] bias = rand(h);
        double[] state = rand(b * h * p * n);
        double dtMin = 0.25;
        double dtMax = 1.5;
        double[][][][] oracleState = r4(state, b, h, p, n);
        double[][][][] expected =
                KernelOracle.ssd(
                        r4(x, b, l, h, p),
                        r3(dt, b, l, h),
                        a,
                        r4(bm, b, l, g, n),
                        r4(cm, b, l, g, n),
                        dSkip,
                        r4(z, b, l, h, p),
                        bias,
                        dtMin,
                        dtMax,
                        oracleState);
        for (int chunk : new int[] {1, 3, 4, 11, 16}) {
            KernelOutput out =
                    k.ssdChunkScan(
                            arr(x, b, l, h, p),
                            arr(dt, b, l, h),
                            arr(a, h),
                            arr(bm, b, l, g, n),
                            arr(cm, b, l, g, n),
                            chunk,
                            arr(dSkip, h),
                            arr(z, b, l, h, p),
                            arr(bias, h),
                            true,
                            (float) dtMin,
                            (float) dtMax,
                            arr(state, b, h, p, n));
            assertClose(flat4(expected), out.output());
            assertClose(flat4(oracleState), out.state());
        }
        NDArray s = arr(state, b, h, p, n);
        NDArray xa = arr(x, b, l, h, p);
        NDArray za = arr(z, b, l, h, p);
        NDArray dta = arr(dt, b, l, h);
        NDArray ba = arr(bm, b, l, g, n);
        NDArray ca = arr(cm, b, l, g, n);
        double[] all = flat4(expected);
        int per = h * p;
        for (int t = 0; t < l; t++) {
            KernelOutput step =
                    k.ssdStep(
                            s,
                            xa.get(":, {}", t),
                            dta.get(":, {}", t),
                            arr(a, h),
                            ba.get(":, {}", t),
                            ca.get(":, {}", t),
                            arr(dSkip, h),
                            za.get(":, {}", t),
                            arr(bias, h),
                            true,
                            (float) dtMin,
                            (float) dtMax);
            double[] got = step.output().toDoubleArray();
            for (int i = 0; i < b; i++) {
                for (int j = 0; j < per; j++) {
                    assertEquals(all[(i * l + t) * per + j], got[i * per + j], 1e-9);
                }
            }
            s = step.state();
        }
        assertClose(flat4(oracleState), s);
    }

    @Test
    void gatedRmsNormNormalisesEachGroup() {
        int rows = 3;
        int channels = 8;
        int group = 4;
        double[] x = rand(rows * channels);
        double[] z = rand(rows * channels);
        double[] w = rand(channels);
        for (boolean before : new boolean[] {false, true}) {
            double[] expected = new double[rows * channels];
            for (int r = 0; r < rows; r++) {
                for (int g0 = 0; g0 < channels; g0 += group) {
                    double ms = 0;
                    double[] v = new double[group];
                    for (int c = 0; c < group; c++) {
                        int i = r * channels + g0 + c;
                        v[c] = before ? x[i] : x[i] * KernelOracle.silu(z[i]);
                        ms += v[c] * v[c] / group;
                    }
                    for (int c = 0; c < group; c++) {
                        int i = r * channels + g0 + c;
                        // the kernels take eps as a float: the oracle uses the same value
                        double y = v[c] / Math.sqrt(ms + (double) 1e-5f) * w[g0 + c];
                        expected[i] = before ? y * KernelOracle.silu(z[i]) : y;
                    }
                }
            }
            NDArray out =
                    k.gatedRmsNorm(
                            arr(x, rows, channels),
                            arr(z, rows, channels),
                            arr(w, channels),
                            1e-5f,
                            group,
                            before);
            assertClose(expected, out);
        }
        assertThrows(
                IllegalArgumentException.class,
                () ->
                        k.gatedRmsNorm(
                                arr(x, rows, channels), null, arr(w, channels), 1e-5f, 3, false));
    }

    @Test
    void badShapesAreRejectedWithMessages() {
        NDArray x = manager.zeros(new Shape(1, 4, 5), DataType.FLOAT64);
        IllegalArgumentException e =
                assertThrows(
                        IllegalArgumentException.class,
                        () ->
                                k.causalConv1d(
                                        x,
                                        manager.zeros(new Shape(3, 4), DataType.FLOAT64),
                                        null,
                                        null,
                                        true));
        assertEquals(true, e.getMessage().contains("channels = 4"));
        assertThrows(
                IllegalArgumentException.class,
                () ->
                        k.causalConv1d(
                                x,
                                manager.zeros(new Shape(4, 3), DataType.FLOAT64),
                                null,
                                manager.zeros(new Shape(1, 4, 3), DataType.FLOAT64),
                                true));
    }

    private double[] rand(int size) {
        double[] v = new double[size];
        for (int i = 0; i < size; i++) {
            v[i] = random.nextGaussian() * 0.7;
        }
        return v;
    }

    private double[] negative(int size) {
        double[] v = new double[size];
        for (int i = 0; i < size; i++) {
            v[i] = -0.1 - random.nextDouble();
        }
        return v;
    }

    private NDArray arr(double[] data, long... shape) {
        return manager.create(data, new Shape(shape));
    }

    private static void assertClose(double[] expected, NDArray actual) {
        assertClose(expected, actual, TOL);
    }

    private static void assertClose(double[] expected, NDArray actual, double tol) {
        double[] got = actual.toDoubleArray();
        assertEquals(expected.length, got.length, "size");
        for (int i = 0; i < got.length; i++) {
            if (Math.abs(expected[i] - got[i]) > tol) {
                assertArrayEquals(expected, got, tol, "first difference at " + i);
            }
        }
    }

    private static double[][] r2(double[] v, int a, int b) {
        double[][] r = new double[a][b];
        for (int i = 0; i < a; i++) {
            System.arraycopy(v, i * b, r[i], 0, b);
        }
        return r;
    }

    private static double[][][] r3(double[] v, int a, int b, int c) {
        double[][][] r = new double[a][][];
        for (int i = 0; i < a; i++) {
            double[] part = new double[b * c];
            System.arraycopy(v, i * b * c, part, 0, b * c);
            r[i] = r2(part, b, c);
        }
        return r;
    }

    private static double[][][][] r4(double[] v, int a, int b, int c, int d) {
        double[][][][] r = new double[a][][][];
        for (int i = 0; i < a; i++) {
            double[] part = new double[b * c * d];
            System.arraycopy(v, i * b * c * d, part, 0, b * c * d);
            r[i] = r3(part, b, c, d);
        }
        return r;
    }

    private static double[] flat3(double[][][] v) {
        return java.util.Arrays.stream(v)
                .flatMap(java.util.Arrays::stream)
                .flatMapToDouble(java.util.Arrays::stream)
                .toArray();
    }

    private static double[] flat4(double[][][][] v) {
        return java.util.Arrays.stream(v)
                .flatMap(java.util.Arrays::stream)
                .flatMap(java.util.Arrays::stream)
                .flatMapToDouble(java.util.Arrays::stream)
                .toArray();
    }
}
