package io.github.mambadjl.nativeops;

/** Float64 reference implementations of the kernels, written from the formulas of mamba_ssm. */
final class Oracles {

    private Oracles() {}

    static double softplus(double v) {
        return v <= 20 ? Math.log1p(Math.exp(v)) : v;
    }

    static double silu(double v) {
        return v / (1 + Math.exp(-v));
    }

    /** Result of a scan: outputs and final states, canonical layouts. */
    record ScanResult(double[] out, double[] state) {}

    /**
     * Mamba-1 scan. u, delta, z: [b,d,l]; A [d,n]; B, C [b,g,n,l]; D, bias [d]; init [b,d,n].
     * Optional arrays may be null.
     */
    static ScanResult selectiveScan(
            int batch,
            int dim,
            int len,
            int n,
            int groups,
            float[] u,
            float[] delta,
            float[] a,
            float[] b,
            float[] c,
            float[] d,
            float[] z,
            float[] bias,
            boolean softplus,
            float[] init) {
        double[] out = new double[batch * dim * len];
        double[] state = new double[batch * dim * n];
        int perGroup = dim / groups;
        for (int bb = 0; bb < batch; bb++) {
            for (int dd = 0; dd < dim; dd++) {
                int g = dd / perGroup;
                double[] s = new double[n];
                for (int k = 0; k < n; k++) {
                    s[k] = init == null ? 0 : init[(bb * dim + dd) * n + k];
                }
                for (int t = 0; t < len; t++) {
                    int i = (bb * dim + dd) * len + t;
                    double dt = delta[i] + (bias == null ? 0 : bias[dd]);
                    if (softplus) {
                        dt = softplus(dt);
                    }
                    double y = 0;
                    for (int k = 0; k < n; k++) {
                        int bi = ((bb * groups + g) * n + k) * len + t;
                        s[k] = s[k] * Math.exp(dt * a[dd * n + k]) + dt * b[bi] * u[i];
                        y += c[bi] * s[k];
                    }
                    if (d != null) {
                        y += d[dd] * u[i];
                    }
                    if (z != null) {
                        y *= silu(z[i]);
                    }
                    out[i] = y;
                }
                for (int k = 0; k < n; k++) {
                    state[(bb * dim + dd) * n + k] = s[k];
                }
            }
        }
        return new ScanResult(out, state);
    }

    /**
     * Mamba-2 SSD. x, z: [b,l,h,p]; dt [b,l,h]; A [h]; B, C [b,l,g,n]; D [h] or [h,p]; dtBias [h];
     * init [b,h,p,n].
     */
    static ScanResult ssd(
            int batch,
            int len,
            int heads,
            int headdim,
            int groups,
            int n,
            float[] x,
            float[] dt,
            float[] a,
            float[] b,
            float[] c,
            float[] d,
            boolean dPerChannel,
            float[] z,
            float[] dtBias,
            boolean softplus,
            float dtMin,
            float dtMax,
            float[] init) {
        double[] out = new double[batch * len * heads * headdim];
        double[] state = new double[batch * heads * headdim * n];
        int headsPerGroup = heads / groups;
        for (int bb = 0; bb < batch; bb++) {
            for (int h = 0; h < heads; h++) {
                int g = h / headsPerGroup;
                double[][] s = new double[headdim][n];
                for (int p = 0; p < headdim; p++) {
                    for (int k = 0; k < n; k++) {
                        s[p][k] = init == null ? 0 : init[((bb * heads + h) * headdim + p) * n + k];
                    }
                }
                for (int t = 0; t < len; t++) {
                    double v = dt[(bb * len + t) * heads + h] + (dtBias == null ? 0 : dtBias[h]);
                    if (softplus) {
                        v = softplus(v);
                    }
                    v = Math.min(Math.max(v, dtMin), dtMax);
                    double decay = Math.exp(v * a[h]);
                    int bi = ((bb * len + t) * groups + g) * n;
                    for (int p = 0; p < headdim; p++) {
                        int xi = ((bb * len + t) * heads + h) * headdim + p;
                        double y = 0;
                        for (int k = 0; k < n; k++) {
                            s[p][k] = s[p][k] * decay + v * b[bi + k] * x[xi];
                            y += c[bi + k] * s[p][k];
                        }
                        if (d != null) {
                            y += (dPerChannel ? d[h * headdim + p] : d[h]) * x[xi];
                        }
                        if (z != null) {
                            y *= silu(z[xi]);
                        }
                        out[xi] = y;
                    }
                }
                for (int p = 0; p < headdim; p++) {
                    for (int k = 0; k < n; k++) {
                        state[((bb * heads + h) * headdim + p) * n + k] = s[p][k];
                    }
                }
            }
        }
        return new ScanResult(out, state);
    }

    /** Gated RMSNorm over rows of hidden in groups; z may be null. */
    static double[] rmsNormGated(
            int rows,
            int hidden,
            int group,
            float[] x,
            float[] z,
            float[] w,
            double eps,
            boolean normBeforeGate) {
        double[] out = new double[rows * hidden];
        for (int r = 0; r < rows; r++) {
            double[] v = new double[hidden];
            for (int i = 0; i < hidden; i++) {
                v[i] = x[r * hidden + i];
                if (z != null && !normBeforeGate) {
                    v[i] *= silu(z[r * hidden + i]);
                }
            }
            for (int g0 = 0; g0 < hidden; g0 += group) {
                double ss = 0;
                for (int i = g0; i < g0 + group; i++) {
                    ss += v[i] * v[i];
                }
                double scale = 1 / Math.sqrt(ss / group + eps);
                for (int i = g0; i < g0 + group; i++) {
                    double y = v[i] * scale * w[i];
                    if (z != null && normBeforeGate) {
                        y *= silu(z[r * hidden + i]);
                    }
                    out[r * hidden + i] = y;
                }
            }
        }
        return out;
    }

    /** RMSNorm of rows (the input already holding the residual sum). */
    static double[] rmsNorm(int rows, int hidden, float[] sum, float[] w, double eps) {
        double[] out = new double[rows * hidden];
        for (int r = 0; r < rows; r++) {
            double ss = 0;
            for (int i = 0; i < hidden; i++) {
                ss += (double) sum[r * hidden + i] * sum[r * hidden + i];
            }
            double scale = 1 / Math.sqrt(ss / hidden + eps);
            for (int i = 0; i < hidden; i++) {
                out[r * hidden + i] = sum[r * hidden + i] * scale * w[i];
            }
        }
        return out;
    }
}
