package io.github.mambadjl.jmh;

import io.github.mambadjl.nativeops.AddRmsNormArgs;
import io.github.mambadjl.nativeops.CausalConv1dArgs;
import io.github.mambadjl.nativeops.CausalConv1dUpdateArgs;
import io.github.mambadjl.nativeops.CpuKernels;
import io.github.mambadjl.nativeops.DType;
import io.github.mambadjl.nativeops.NativeTensor;
import io.github.mambadjl.nativeops.RmsNormGatedArgs;
import io.github.mambadjl.nativeops.SelectiveScanArgs;
import io.github.mambadjl.nativeops.SelectiveStateUpdateArgs;
import io.github.mambadjl.nativeops.SsdArgs;
import io.github.mambadjl.nativeops.SsdStateUpdateArgs;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;

/**
 * The CPU kernels at the shapes of the 130m models (Mamba-1: d_inner 1536, N 16; Mamba-2: 24 heads
 * of 64, N 128), float32, batch 1, L 2048, next to {@link #copyFloor}: a parallel copy of 64 MiB
 * whose time gives the memory bandwidth of the same run. jmh/NOTES.md turns the bytes each kernel
 * must move into its floor.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
public class CpuKernelBenchmark {

    static final int L = 2048;
    static final int D = 1536;
    static final int N1 = 16;
    static final int HEADS = 24;
    static final int HEADDIM = 64;
    static final int N2 = 128;
    static final long COPY_BYTES = 64L << 20;

    private final List<ByteBuffer> buffers = new ArrayList<>();

    private NativeTensor copySrc;
    private NativeTensor copyDst;
    private CausalConv1dArgs conv;
    private CausalConv1dUpdateArgs convUpdate;
    private SelectiveScanArgs scan;
    private SelectiveStateUpdateArgs scanUpdate;
    private SsdArgs ssd;
    private SsdStateUpdateArgs ssdUpdate;
    private RmsNormGatedArgs gatedNorm;
    private AddRmsNormArgs addNorm;

    /** Allocates and fills every tensor once. */
    @Setup
    public void setup() {
        Random rnd = new Random(42);
        copySrc = tensor(rnd, 0, 1, COPY_BYTES / 4);
        copyDst = tensor(rnd, 0, 1, COPY_BYTES / 4);

        conv =
                new CausalConv1dArgs(
                        tensor(rnd, 0, 1, 1, D, L),
                        tensor(rnd, 0, 0.5, D, 4),
                        tensor(rnd, 0, 0.1, D),
                        null,
                        tensor(rnd, 0, 0, 1, D, 3),
                        tensor(rnd, 0, 0, 1, D, L),
                        true);
        convUpdate =
                new CausalConv1dUpdateArgs(
                        tensor(rnd, 0, 1, 1, D),
                        tensor(rnd, 0, 0.5, D, 4),
                        tensor(rnd, 0, 0.1, D),
                        tensor(rnd, 0, 1, 1, D, 3),
                        tensor(rnd, 0, 0, 1, D),
                        true);

        scan =
                new SelectiveScanArgs(
                        tensor(rnd, 0, 1, 1, D, L),
                        tensor(rnd, -1, 0.5, 1, D, L),
                        tensor(rnd, -1, 0.5, D, N1),
                        tensor(rnd, 0, 1, 1, 1, N1, L),
                        tensor(rnd, 0, 1, 1, 1, N1, L),
                        tensor(rnd, 0, 1, D),
                        tensor(rnd, 0, 1, 1, D, L),
                        tensor(rnd, 0, 0.1, D),
                        true,
                        null,
                        tensor(rnd, 0, 0, 1, D, N1),
                        tensor(rnd, 0, 0, 1, D, L));
        scanUpdate =
                new SelectiveStateUpdateArgs(
                        tensor(rnd, 0, 1, 1, D, N1),
                        tensor(rnd, 0, 1, 1, D),
                        tensor(rnd, -1, 0.5, 1, D),
                        tensor(rnd, -1, 0.5, D, N1),
                        tensor(rnd, 0, 1, 1, 1, N1),
                        tensor(rnd, 0, 1, 1, 1, N1),
                        tensor(rnd, 0, 1, D),
                        tensor(rnd, 0, 1, 1, D),
                        tensor(rnd, 0, 0.1, D),
                        true,
                        tensor(rnd, 0, 0, 1, D));

        ssd =
                new SsdArgs(
                        tensor(rnd, 0, 1, 1, L, HEADS, HEADDIM),
                        tensor(rnd, -1, 0.5, 1, L, HEADS),
                        tensor(rnd, -1, 0.5, HEADS),
                        tensor(rnd, 0, 1, 1, L, 1, N2),
                        tensor(rnd, 0, 1, 1, L, 1, N2),
                        tensor(rnd, 0, 1, HEADS),
                        null,
                        tensor(rnd, 0, 0.1, HEADS),
                        true,
                        0,
                        Float.POSITIVE_INFINITY,
                        256,
                        null,
                        tensor(rnd, 0, 0, 1, HEADS, HEADDIM, N2),
                        tensor(rnd, 0, 0, 1, L, HEADS, HEADDIM));
        ssdUpdate =
                new SsdStateUpdateArgs(
                        tensor(rnd, 0, 1, 1, HEADS, HEADDIM, N2),
                        tensor(rnd, 0, 1, 1, HEADS, HEADDIM),
                        tensor(rnd, -1, 0.5, 1, HEADS),
                        tensor(rnd, -1, 0.5, HEADS),
                        tensor(rnd, 0, 1, 1, 1, N2),
                        tensor(rnd, 0, 1, 1, 1, N2),
                        tensor(rnd, 0, 1, HEADS),
                        tensor(rnd, 0, 1, 1, HEADS, HEADDIM),
                        tensor(rnd, 0, 0.1, HEADS),
                        true,
                        0,
                        Float.POSITIVE_INFINITY,
                        tensor(rnd, 0, 0, 1, HEADS, HEADDIM));

        gatedNorm =
                new RmsNormGatedArgs(
                        tensor(rnd, 0, 1, L, D),
                        tensor(rnd, 0, 1, L, D),
                        tensor(rnd, 1, 0.1, D),
                        D,
                        1e-5f,
                        false,
                        tensor(rnd, 0, 0, L, D));
        addNorm =
                new AddRmsNormArgs(
                        tensor(rnd, 0, 1, L, D / 2),
                        tensor(rnd, 0, 1, L, D / 2),
                        tensor(rnd, 1, 0.1, D / 2),
                        1e-5f,
                        tensor(rnd, 0, 0, L, D / 2),
                        tensor(rnd, 0, 0, L, D / 2));
    }

    private NativeTensor tensor(Random rnd, double mean, double scale, long... shape) {
        long n = 1;
        for (long d : shape) {
            n *= d;
        }
        ByteBuffer buf = ByteBuffer.allocateDirect(Math.toIntExact(n * 4));
        buf.order(ByteOrder.nativeOrder());
        for (long i = 0; i < n; i++) {
            buf.putFloat((float) (mean + scale * rnd.nextGaussian()));
        }
        buf.clear();
        buffers.add(buf);
        return NativeTensor.of(buf, DType.FLOAT32, shape);
    }

    /** The memory floor: a parallel copy of 64 MiB (128 MiB of traffic). */
    @Benchmark
    public void copyFloor() {
        CpuKernels.copy(copyDst, copySrc, COPY_BYTES);
    }

    /** Causal conv1d, D 1536, L 2048, width 4, SiLU, final state. */
    @Benchmark
    public void causalConv1d() {
        CpuKernels.causalConv1d(conv);
    }

    /** One conv1d decoding step, D 1536. */
    @Benchmark
    public void causalConv1dUpdate() {
        CpuKernels.causalConv1dUpdate(convUpdate);
    }

    /** Mamba-1 selective scan, D 1536, L 2048, N 16, z, delta bias, softplus. */
    @Benchmark
    public void selectiveScan() {
        CpuKernels.selectiveScan(scan);
    }

    /** One Mamba-1 decoding step, D 1536, N 16. */
    @Benchmark
    public void selectiveStateUpdate() {
        CpuKernels.selectiveStateUpdate(scanUpdate);
    }

    /** Mamba-2 SSD, L 2048, 24 heads of 64, one group, N 128. */
    @Benchmark
    public void ssd() {
        CpuKernels.ssd(ssd);
    }

    /** One Mamba-2 decoding step, 24 heads of 64, N 128. */
    @Benchmark
    public void ssdStateUpdate() {
        CpuKernels.ssdStateUpdate(ssdUpdate);
    }

    /** Gated RMSNorm, 2048 rows of 1536, one group, gate before the norm. */
    @Benchmark
    public void rmsNormGated() {
        CpuKernels.rmsNormGated(gatedNorm);
    }

    /** Residual add + RMSNorm, 2048 rows of 768, float32 residual. */
    @Benchmark
    public void addRmsNorm() {
        CpuKernels.addRmsNorm(addNorm);
    }
}
