package io.github.mambadjl.jmh;

import ai.djl.ndarray.BaseNDManager;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import io.github.mambadjl.nativeops.CpuTensorOps;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.lang.reflect.Field;
import java.util.Arrays;
import java.util.Map;

/**
 * The CPU time of {@link CpuModelBenchmark#decodeStep} on the calling thread ({@link
 * ThreadMXBean}), steadier than JMH's wall time on a machine shared with other work: run it with
 * {@code OMP_NUM_THREADS=1} so that the caller does all the work. Also counts what one step
 * creates: the arrays left on the step's manager when it closes (every array an operation returned,
 * views included) and the native host allocations ({@link CpuTensorOps#cacheStats()}).
 *
 * <pre>
 * OMP_NUM_THREADS=1 java -cp jmh/target/benchmarks.jar io.github.mambadjl.jmh.DecodeCpuTime \
 *     [engine=Mamba] [warmup=200] [steps=200] [dtype=float32]
 * </pre>
 */
public final class DecodeCpuTime {

    private DecodeCpuTime() {}

    /**
     * Measures decoding steps and prints the CPU time per step and the counts.
     *
     * @param args {@code [engine [warmup [steps [dtype]]]]}
     * @throws Exception if the model cannot be loaded
     */
    public static void main(String[] args) throws Exception {
        CpuModelBenchmark.LoadedModel s = new CpuModelBenchmark.LoadedModel();
        s.engine = args.length > 0 ? args[0] : "Mamba";
        int warmup = args.length > 1 ? Integer.parseInt(args[1]) : 200;
        int steps = args.length > 2 ? Integer.parseInt(args[2]) : 200;
        s.dtype = args.length > 3 ? args[3] : "float32";
        s.load();
        try {
            ThreadMXBean bean = ManagementFactory.getThreadMXBean();
            for (int i = 0; i < warmup; i++) {
                step(s, false);
            }
            double[] cpu = new double[steps];
            double[] wall = new double[steps];
            long arrays = 0;
            long[] before = CpuTensorOps.cacheStats();
            long blocksBefore = CpuTensorOps.inUse()[1];
            for (int i = 0; i < steps; i++) {
                long c0 = bean.getCurrentThreadCpuTime();
                long w0 = System.nanoTime();
                arrays += step(s, true);
                wall[i] = (System.nanoTime() - w0) / 1e6;
                cpu[i] = (bean.getCurrentThreadCpuTime() - c0) / 1e6;
            }
            long[] after = CpuTensorOps.cacheStats();
            long blocksAfter = CpuTensorOps.inUse()[1];
            Arrays.sort(cpu);
            Arrays.sort(wall);
            System.out.printf(
                    "engine %s, %d steps: CPU ms per step median %.2f, min %.2f, p90 %.2f;"
                            + " wall ms median %.2f, min %.2f%n",
                    s.engine,
                    steps,
                    cpu[steps / 2],
                    cpu[0],
                    cpu[steps * 9 / 10],
                    wall[steps / 2],
                    wall[0]);
            System.out.printf(
                    "per step: %.1f arrays created, %.1f native host allocations (%.1f from the"
                            + " cache), %.1f blocks kept%n",
                    (double) arrays / steps,
                    (double) (after[2] + after[3] - before[2] - before[3]) / steps,
                    (double) (after[2] - before[2]) / steps,
                    (double) (blocksAfter - blocksBefore) / steps);
        } finally {
            s.close();
        }
    }

    private static int step(CpuModelBenchmark.LoadedModel s, boolean count) throws Exception {
        try (NDManager step = s.manager.newSubManager()) {
            NDArray token = s.nextToken.duplicate();
            token.attach(step);
            s.lm.forward(s.ps, token, null, s.cache, false, false).logits();
            return count ? resources(step) : 0;
        }
    }

    private static int resources(NDManager manager) throws ReflectiveOperationException {
        Field f = BaseNDManager.class.getDeclaredField("resources");
        f.setAccessible(true);
        return ((Map<?, ?>) f.get(manager)).size();
    }
}
