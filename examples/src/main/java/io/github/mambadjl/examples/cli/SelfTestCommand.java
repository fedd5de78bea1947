package io.github.mambadjl.examples.cli;

import io.github.mambadjl.nativeops.CausalConv1dArgs;
import io.github.mambadjl.nativeops.CpuKernels;
import io.github.mambadjl.nativeops.DType;
import io.github.mambadjl.nativeops.NativeTensor;
import java.io.PrintStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Locale;
import java.util.Random;
import java.util.Set;

/**
 * {@code mamba-djl selftest}: runs the native causal conv1d on random data and compares it with a
 * float64 loop, a check that the native library loads and computes.
 */
final class SelfTestCommand {

    static final Set<String> VALUE_OPTIONS = Set.of();
    static final Set<String> FLAGS = Set.of("verbose", "help");

    static final String USAGE =
            "usage: mamba-djl selftest\n\nRuns the native causal conv1d against a float64 loop.";

    private SelfTestCommand() {}

    /** Runs the native causal conv1d on random data and compares it with a float64 loop. */
    static int run(PrintStream console) {
        console.println("native library: " + CpuKernels.buildInfo());
        int batch = 2;
        int dim = 4;
        int len = 6;
        int width = 4;
        Random rnd = new Random(42);
        ByteBuffer x = floats(batch * dim * len, rnd);
        ByteBuffer w = floats(dim * width, rnd);
        ByteBuffer out = floats(batch * dim * len, null);
        CpuKernels.causalConv1d(
                new CausalConv1dArgs(
                        NativeTensor.of(x, DType.FLOAT32, batch, dim, len),
                        NativeTensor.of(w, DType.FLOAT32, dim, width),
                        null,
                        null,
                        null,
                        NativeTensor.of(out, DType.FLOAT32, batch, dim, len),
                        true));
        double maxErr = 0;
        console.println("causal conv1d (SiLU), batch 0, channel 0: native | float64 reference");
        for (int b = 0; b < batch; b++) {
            for (int d = 0; d < dim; d++) {
                for (int t = 0; t < len; t++) {
                    double acc = 0;
                    for (int k = 0; k < width; k++) {
                        int src = t + k - (width - 1);
                        if (src >= 0) {
                            acc +=
                                    (double) w.getFloat((d * width + k) * 4)
                                            * x.getFloat(((b * dim + d) * len + src) * 4);
                        }
                    }
                    double ref = acc / (1 + Math.exp(-acc));
                    double got = out.getFloat(((b * dim + d) * len + t) * 4);
                    maxErr = Math.max(maxErr, Math.abs(ref - got));
                    if (b == 0 && d == 0) {
                        console.printf(Locale.ROOT, "  t=%d  %+.6f | %+.6f%n", t, got, ref);
                    }
                }
            }
        }
        console.printf(Locale.ROOT, "max |native - reference| = %.2e%n", maxErr);
        return maxErr < 1e-5 ? 0 : 1;
    }

    private static ByteBuffer floats(int n, Random rnd) {
        ByteBuffer b = ByteBuffer.allocateDirect(n * 4).order(ByteOrder.nativeOrder());
        for (int i = 0; i < n; i++) {
            b.putFloat(i * 4, rnd == null ? Float.NaN : (float) rnd.nextGaussian());
        }
        return b;
    }
}
