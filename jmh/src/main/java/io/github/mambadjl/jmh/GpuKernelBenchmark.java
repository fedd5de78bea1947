package io.github.mambadjl.jmh;

import com.sun.jna.Pointer;
import io.github.mambadjl.nativeops.CausalConv1dArgs;
import io.github.mambadjl.nativeops.CausalConv1dUpdateArgs;
import io.github.mambadjl.nativeops.CudaKernels;
import io.github.mambadjl.nativeops.CudaStream;
import io.github.mambadjl.nativeops.CudaTensorOps;
import io.github.mambadjl.nativeops.DType;
import io.github.mambadjl.nativeops.DeviceBuffer;
import io.github.mambadjl.nativeops.NativeTensor;
import io.github.mambadjl.nativeops.SamplingSettings;
import io.github.mambadjl.nativeops.SelectiveScanArgs;
import io.github.mambadjl.nativeops.SsdArgs;
import io.github.mambadjl.nativeops.SsdStateUpdateArgs;
import io.github.mambadjl.nativeops.TensorDType;
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
import org.openjdk.jmh.annotations.TearDown;

/**
 * The CUDA kernels at the bfloat16 shapes of issue 6's H100 target table, next to {@link
 * #copyFloor}, a 1 GiB device-to-device copy giving the memory bandwidth of the same run. Each
 * operation queues the kernel and synchronises the stream, so the small kernels include one launch
 * and one synchronisation.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
public class GpuKernelBenchmark {

    static final long COPY_BYTES = 1L << 30;
    static final int SAMPLE_ROWS = 64;
    static final int SAMPLE_VOCAB = 50280;
    static final SamplingSettings SAMPLING = new SamplingSettings(0.8f, 0, 0.9f, 0f);

    private final List<DeviceBuffer> buffers = new ArrayList<>();
    private CudaStream stream;
    private DeviceBuffer copySrc;
    private DeviceBuffer copyDst;
    private CausalConv1dArgs conv;
    private CausalConv1dUpdateArgs convUpdate;
    private SelectiveScanArgs scanB8;
    private SelectiveScanArgs scanLong;
    private SelectiveScanArgs scanPrefill;
    private SsdArgs ssdCodestral;
    private SsdArgs ssdB4;
    private SsdStateUpdateArgs ssdUpdate;
    private NativeTensor sampleLogits;
    private DeviceBuffer sampleDraws;
    private DeviceBuffer sampleTokens;

    /** Allocates the device tensors and fills them with random values. */
    @Setup
    public void setup() {
        if (!CudaKernels.isAvailable()) {
            throw new IllegalStateException("GpuKernelBenchmark needs a CUDA GPU");
        }
        stream = CudaStream.create();
        Random rnd = new Random(42);
        copySrc = DeviceBuffer.allocate(stream, COPY_BYTES);
        copyDst = DeviceBuffer.allocate(stream, COPY_BYTES);
        buffers.add(copySrc);
        buffers.add(copyDst);
        DType bf = DType.BFLOAT16;

        conv =
                new CausalConv1dArgs(
                        dev(rnd, bf, 0, 1, 8, 4096, 4096),
                        dev(rnd, bf, 0, 0.5, 4096, 4),
                        dev(rnd, bf, 0, 0.1, 4096),
                        null,
                        null,
                        dev(rnd, bf, 0, 0, 8, 4096, 4096),
                        true);
        convUpdate =
                new CausalConv1dUpdateArgs(
                        dev(rnd, bf, 0, 1, 1, 8192),
                        dev(rnd, bf, 0, 0.5, 8192, 4),
                        dev(rnd, bf, 0, 0.1, 8192),
                        dev(rnd, DType.FLOAT32, 0, 1, 1, 8192, 3),
                        dev(rnd, bf, 0, 0, 1, 8192),
                        true);
        scanB8 = scan(rnd, 8, 4096, 4096, 16, true);
        scanLong = scan(rnd, 1, 5120, 16384, 16, false);
        scanPrefill = scanChannelsLast(rnd, 1, 5120, 8192, 16, 160);
        ssdCodestral = ssd(rnd, 1, 4096, 128, 64, 8, 128);
        ssdB4 = ssd(rnd, 4, 4096, 80, 64, 1, 128);
        ssdUpdate =
                new SsdStateUpdateArgs(
                        dev(rnd, DType.FLOAT32, 0, 1, 64, 128, 64, 128),
                        dev(rnd, bf, 0, 1, 64, 128, 64),
                        dev(rnd, bf, -1, 0.5, 64, 128),
                        dev(rnd, DType.FLOAT32, -1, 0.5, 128),
                        dev(rnd, bf, 0, 1, 64, 8, 128),
                        dev(rnd, bf, 0, 1, 64, 8, 128),
                        dev(rnd, DType.FLOAT32, 0, 1, 128),
                        dev(rnd, bf, 0, 1, 64, 128, 64),
                        dev(rnd, DType.FLOAT32, 0, 0.1, 128),
                        true,
                        0,
                        Float.POSITIVE_INFINITY,
                        dev(rnd, bf, 0, 0, 64, 128, 64));
        sampleLogits = dev(rnd, bf, 0, 1, SAMPLE_ROWS, SAMPLE_VOCAB);
        sampleDraws = DeviceBuffer.allocate(stream, 8L * SAMPLE_ROWS);
        sampleTokens = DeviceBuffer.allocate(stream, 8L * SAMPLE_ROWS);
        buffers.add(sampleDraws);
        buffers.add(sampleTokens);
        ByteBuffer draws =
                ByteBuffer.allocateDirect(8 * SAMPLE_ROWS).order(ByteOrder.nativeOrder());
        for (int r = 0; r < SAMPLE_ROWS; r++) {
            draws.putLong(rnd.nextLong() >>> 11);
        }
        draws.flip();
        sampleDraws.copyFrom(draws);
        stream.synchronize();
    }

    private SelectiveScanArgs scan(Random rnd, int b, int d, int l, int n, boolean withZ) {
        DType bf = DType.BFLOAT16;
        return new SelectiveScanArgs(
                dev(rnd, bf, 0, 1, b, d, l),
                dev(rnd, bf, -1, 0.5, b, d, l),
                dev(rnd, DType.FLOAT32, -1, 0.5, d, n),
                dev(rnd, bf, 0, 1, b, 1, n, l),
                dev(rnd, bf, 0, 1, b, 1, n, l),
                dev(rnd, DType.FLOAT32, 0, 1, d),
                withZ ? dev(rnd, bf, 0, 1, b, d, l) : null,
                dev(rnd, DType.FLOAT32, 0, 0.1, d),
                true,
                null,
                null,
                dev(rnd, bf, 0, 0, b, d, l));
    }

    /**
     * A scan in the layouts the engine passes: u, delta, z and out channels-last ([b, l, d] in
     * memory, read as [b, d, l]); B and C views of the [b, l, r + 2n] projection, after its r dt
     * columns.
     */
    private SelectiveScanArgs scanChannelsLast(Random rnd, int b, int d, int l, int n, int r) {
        DType bf = DType.BFLOAT16;
        long[] bdl = {b, d, l};
        long[] lastStrides = {(long) l * d, 1, d};
        long w = r + 2L * n;
        NativeTensor proj = dev(rnd, bf, 0, 1, b, l, w);
        long[] bcShape = {b, 1, n, l};
        long[] bcStrides = {l * w, n, 1, w};
        return new SelectiveScanArgs(
                dev(rnd, bf, 0, 1, b, l, d).view(0, bdl, lastStrides),
                dev(rnd, bf, -1, 0.5, b, l, d).view(0, bdl, lastStrides),
                dev(rnd, DType.FLOAT32, -1, 0.5, d, n),
                proj.view(r, bcShape, bcStrides),
                proj.view(r + n, bcShape, bcStrides),
                dev(rnd, DType.FLOAT32, 0, 1, d),
                dev(rnd, bf, 0, 1, b, l, d).view(0, bdl, lastStrides),
                dev(rnd, DType.FLOAT32, 0, 0.1, d),
                true,
                null,
                null,
                dev(rnd, bf, 0, 0, b, l, d).view(0, bdl, lastStrides));
    }

    private SsdArgs ssd(Random rnd, int b, int l, int h, int p, int g, int n) {
        DType bf = DType.BFLOAT16;
        return new SsdArgs(
                dev(rnd, bf, 0, 1, b, l, h, p),
                dev(rnd, bf, -1, 0.5, b, l, h),
                dev(rnd, DType.FLOAT32, -1, 0.5, h),
                dev(rnd, bf, 0, 1, b, l, g, n),
                dev(rnd, bf, 0, 1, b, l, g, n),
                dev(rnd, DType.FLOAT32, 0, 1, h),
                null,
                dev(rnd, DType.FLOAT32, 0, 0.1, h),
                true,
                0,
                Float.POSITIVE_INFINITY,
                256,
                null,
                null,
                dev(rnd, bf, 0, 0, b, l, h, p));
    }

    /** A device tensor of random values (mean, scale), filled through a 1 MiB host buffer. */
    private NativeTensor dev(Random rnd, DType dtype, double mean, double scale, long... shape) {
        long n = 1;
        for (long d : shape) {
            n *= d;
        }
        long bytes = n * dtype.byteSize();
        DeviceBuffer buf = DeviceBuffer.allocate(stream, bytes);
        buffers.add(buf);
        // one random block repeated: the benchmarks need plausible values, not fresh ones
        int blockElems = (int) Math.min(n, 1 << 18);
        ByteBuffer host =
                ByteBuffer.allocateDirect(blockElems * dtype.byteSize())
                        .order(ByteOrder.nativeOrder());
        for (int i = 0; i < blockElems; i++) {
            float v = (float) (mean + scale * rnd.nextGaussian());
            if (dtype == DType.FLOAT32) {
                host.putFloat(v);
            } else {
                host.putShort((short) (Float.floatToRawIntBits(v) >>> 16));
            }
        }
        NativeTensor whole = buf.tensor(dtype, n);
        for (long off = 0; off < n; off += blockElems) {
            long count = Math.min(blockElems, n - off);
            host.clear().limit((int) (count * dtype.byteSize()));
            buf.copyFrom(host, off * dtype.byteSize());
            stream.synchronize();
        }
        return whole.view(0, shape, NativeTensor.contiguousStrides(shape));
    }

    /** Frees the device memory and the stream. */
    @TearDown
    public void tearDown() {
        for (DeviceBuffer b : buffers) {
            b.close();
        }
        buffers.clear();
        stream.close();
    }

    /** The memory floor: a 1 GiB device-to-device copy (2 GiB of traffic). */
    @Benchmark
    public void copyFloor() {
        copyDst.copyFromDevice(copySrc, COPY_BYTES);
        stream.synchronize();
    }

    /** Causal conv1d, B 8, D 4096, L 4096, W 4, SiLU, bf16 (target 0.20 ms). */
    @Benchmark
    public void causalConv1d() {
        CudaKernels.causalConv1d(stream.handle(), conv);
        stream.synchronize();
    }

    /** Conv1d update, B 1, D 8192 (target 6 µs). */
    @Benchmark
    public void causalConv1dUpdate() {
        CudaKernels.causalConv1dUpdate(stream.handle(), convUpdate);
        stream.synchronize();
    }

    /** Selective scan, B 8, D 4096, L 4096, N 16, z, softplus, bf16 (target 1.15 ms). */
    @Benchmark
    public void selectiveScanB8() {
        CudaKernels.selectiveScan(stream.handle(), scanB8);
        stream.synchronize();
    }

    /** Selective scan, B 1, D 5120, L 16384, N 16, bf16 (target 1.0 ms). */
    @Benchmark
    public void selectiveScanLong() {
        CudaKernels.selectiveScan(stream.handle(), scanLong);
        stream.synchronize();
    }

    /**
     * Selective scan of the mamba-2.8b prefill: B 1, D 5120, L 8192, N 16, z, softplus, bf16, the
     * engine's channels-last layouts (u, delta, z, out as [b, l, d]; B and C inside the [b, l, 192]
     * projection).
     */
    @Benchmark
    public void selectiveScanPrefill() {
        CudaKernels.selectiveScan(stream.handle(), scanPrefill);
        stream.synchronize();
    }

    /** SSD, b 1, l 4096, h 128, p 64, g 8, n 128, chunk 256, bf16 (target 0.50 ms). */
    @Benchmark
    public void ssdCodestral() {
        CudaKernels.ssd(stream.handle(), ssdCodestral);
        stream.synchronize();
    }

    /** SSD, b 4, l 4096, h 80, p 64, g 1, n 128, bf16 (target 0.45 ms). */
    @Benchmark
    public void ssdB4() {
        CudaKernels.ssd(stream.handle(), ssdB4);
        stream.synchronize();
    }

    /**
     * Token sampling of one row of 50 280 bf16 logits (standard normal: a flat distribution whose
     * nucleus is most of the vocabulary), temperature 0.8, top-p 0.9: the sampled decoding step's
     * choice at batch 1.
     */
    @Benchmark
    public void sampleTokensB1() {
        sample(1);
    }

    /** {@link #sampleTokensB1} for 64 rows (one block each). */
    @Benchmark
    public void sampleTokensB64() {
        sample(SAMPLE_ROWS);
    }

    private void sample(int rows) {
        CudaTensorOps.sampleTokens(
                Pointer.nativeValue(stream.handle()),
                TensorDType.BFLOAT16,
                sampleLogits.address(),
                rows,
                SAMPLE_VOCAB,
                SAMPLE_VOCAB,
                SAMPLING,
                sampleDraws.address(),
                sampleTokens.address());
        stream.synchronize();
    }

    /** Mamba-2 state update, Codestral shape, batch 64, bf16 (target 1.1 x floor). */
    @Benchmark
    public void ssdStateUpdate() {
        CudaKernels.ssdStateUpdate(stream.handle(), ssdUpdate);
        stream.synchronize();
    }
}
