package io.github.mambadjl.kernel;

/** Naive float64 loops that define what the kernels compute, written independently of them. */
final class KernelOracle {

    private KernelOracle() {}

    static double silu(double v) {
        return v / (1 + Math.exp(-v));
    }

    static double softplus(double v) {
        return Math.log1p(Math.exp(v));
    }

    /** x [b][d][l], w [d][k], bias [d], state [b][d][k-1]; returns y [b][d][l]. */
    static double[][][] conv(double[][][] x, double[][] w, double[] bias, double[][][] state) {
        int b = x.length;
        int d = x[0].length;
        int l = x[0][0].length;
        int k = w[0].length;
        double[][][] y = new double[b][d][l];
        for (int i = 0; i < b; i++) {
            for (int c = 0; c < d; c++) {
                for (int t = 0; t < l; t++) {
                    double acc = bias[c];
                    for (int j = 0; j < k; j++) {
                        int src = t - (k - 1) + j;
                        double v = src >= 0 ? x[i][c][src] : state[i][c][k - 1 + src];
                        acc += w[c][j] * v;
                    }
                    y[i][c][t] = silu(acc);
                }
            }
        }
        return y;
    }

    /**
     * Mamba-1 scan. u, delta, z [b][d][l]; a [d][n]; bm, cm [b][g][n][l]; dSkip, bias [d]; state
     * [b][d][n] updated in place.
     */
    static double[][][] scan(
            double[][][] u,
            double[][][] delta,
            double[][] a,
            double[][][][] bm,
            double[][][][] cm,
            double[] dSkip,
            double[][][] z,
            double[] bias,
            double[][][] state) {
        int b = u.length;
        int d = u[0].length;
        int l = u[0][0].length;
        int n = a[0].length;
        int g = bm[0].length;
        double[][][] y = new double[b][d][l];
        for (int i = 0; i < b; i++) {
            for (int c = 0; c < d; c++) {
                int grp = c / (d / g);
                for (int t = 0; t < l; t++) {
                    double dt = softplus(delta[i][c][t] + bias[c]);
                    double acc = 0;
                    for (int s = 0; s < n; s++) {
                        state[i][c][s] =
                                Math.exp(dt * a[c][s]) * state[i][c][s]
                                        + dt * bm[i][grp][s][t] * u[i][c][t];
                        acc += state[i][c][s] * cm[i][grp][s][t];
                    }
                    y[i][c][t] = (acc + dSkip[c] * u[i][c][t]) * silu(z[i][c][t]);
                }
            }
        }
        return y;
    }

    /**
     * Mamba-2 recurrence. x, z [b][l][h][p]; dt [b][l][h]; a, dSkip, bias [h]; bm, cm [b][l][g][n];
     * state [b][h][p][n] updated in place.
     */
    static double[][][][] ssd(
            double[][][][] x,
            double[][][] dt,
            double[] a,
            double[][][][] bm,
            double[][][][] cm,
            double[] dSkip,
            double[][][][] z,
            double[] bias,
            double dtMin,
            double dtMax,
            double[][][][] state) {
        int b = x.length;
        int l = x[0].length;
        int h = x[0][0].length;
        int p = x[0][0][0].length;
        int g = bm[0][0].length;
        int n = bm[0][0][0].length;
        double[][][][] y = new double[b][l][h][p];
        for (int i = 0; i < b; i++) {
            for (int t = 0; t < l; t++) {
                for (int hd = 0; hd < h; hd++) {
                    int grp = hd / (h / g);
                    double step = softplus(dt[i][t][hd] + bias[hd]);
                    step = Math.min(dtMax, Math.max(dtMin, step));
                    double decay = Math.exp(step * a[hd]);
                    for (int q = 0; q < p; q++) {
                        double acc = 0;
                        for (int s = 0; s < n; s++) {
                            state[i][hd][q][s] =
                                    decay * state[i][hd][q][s]
                                            + step * bm[i][t][grp][s] * x[i][t][hd][q];
                            acc += state[i][hd][q][s] * cm[i][t][grp][s];
                        }
                        y[i][t][hd][q] = (acc + dSkip[hd] * x[i][t][hd][q]) * silu(z[i][t][hd][q]);
                    }
                }
            }
        }
        return y;
    }
}
