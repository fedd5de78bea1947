package io.github.mambadjl.nativeops;

import static org.junit.jupiter.api.Assertions.fail;

/** Element-wise comparison with a tolerance of rtol * (|expected| + scale), reporting the seed. */
final class Compare {

    private Compare() {}

    static void close(
            String what, double[] expected, float[] got, double rtol, double scale, long seed) {
        if (expected.length != got.length) {
            fail(what + ": length " + got.length + " != " + expected.length + ", seed " + seed);
        }
        for (int i = 0; i < expected.length; i++) {
            double tol = rtol * (Math.abs(expected[i]) + scale);
            if (!(Math.abs(expected[i] - got[i]) <= tol)) {
                fail(
                        what
                                + "["
                                + i
                                + "]: expected "
                                + expected[i]
                                + " but got "
                                + got[i]
                                + " (tolerance "
                                + tol
                                + "), seed "
                                + seed);
            }
        }
    }

    static double maxAbs(double[] a) {
        double m = 0;
        for (double v : a) {
            m = Math.max(m, Math.abs(v));
        }
        return m;
    }

    static double[] toDouble(float[] a) {
        double[] d = new double[a.length];
        for (int i = 0; i < a.length; i++) {
            d[i] = a[i];
        }
        return d;
    }
}
