package io.github.mambadjl.engine;

import ai.djl.Device;
import com.sun.jna.Pointer;
import io.github.mambadjl.nativeops.CpuTensorOps.Binary;
import io.github.mambadjl.nativeops.CpuTensorOps.Reduce;
import io.github.mambadjl.nativeops.CpuTensorOps.Unary;
import io.github.mambadjl.nativeops.CudaTensorOps;
import io.github.mambadjl.nativeops.SamplingSettings;
import io.github.mambadjl.nativeops.TensorDType;

/**
 * One CUDA device: device memory from the engine pool and the CUDA library's engine ops, all queued
 * on the device's single engine stream (so work, allocation and release stay in order without
 * synchronising); while a thread records a step ({@link GraphRecording}), that thread's work goes
 * to a recording stream of the device instead.
 */
final class CudaBackend implements Backend {

    /** System property: {@code true} lets float32 GEMMs use TF32 tensor cores (less exact). */
    static final String TF32_PROPERTY = "mambadjl.cuda.tf32";

    private static final CudaBackend[] DEVICES = new CudaBackend[64];

    private final int deviceId;
    private final long stream;
    private final boolean allowTf32;
    private volatile GraphRecording recording;
    private long recordingStream;

    private CudaBackend(int deviceId, long stream) {
        this.deviceId = deviceId;
        this.stream = stream;
        this.allowTf32 = Boolean.getBoolean(TF32_PROPERTY);
    }

    /**
     * Returns the backend of a GPU.
     *
     * @param deviceId the GPU index
     * @return the backend
     * @throws UnsupportedOperationException when CUDA or a GPU is missing
     * @throws IllegalArgumentException for an index that does not exist
     */
    static CudaBackend of(int deviceId) {
        if (deviceId >= 0 && deviceId < DEVICES.length) {
            synchronized (DEVICES) {
                if (DEVICES[deviceId] != null) {
                    return DEVICES[deviceId];
                }
            }
        }
        CudaTensorOps.requireAvailable("The Mamba engine's gpu(" + deviceId + ")");
        int count = CudaTensorOps.deviceCount();
        if (deviceId < 0 || deviceId >= count || deviceId >= DEVICES.length) {
            throw new IllegalArgumentException(
                    "gpu("
                            + deviceId
                            + ") does not exist: this machine has "
                            + count
                            + " CUDA device(s), gpu(0) to gpu("
                            + (count - 1)
                            + ")");
        }
        synchronized (DEVICES) {
            if (DEVICES[deviceId] == null) {
                DEVICES[deviceId] = new CudaBackend(deviceId, CudaTensorOps.stream(deviceId));
            }
            return DEVICES[deviceId];
        }
    }

    /**
     * Returns the stream for the calling thread's work on this device: the engine stream, or the
     * recording stream while this thread records a step.
     *
     * @return the {@code cudaStream_t} address
     */
    long stream() {
        GraphRecording r = recording;
        return r != null && r.isOwner() ? r.stream() : stream;
    }

    /**
     * Returns the device's engine stream, whatever the calling thread records.
     *
     * @return the {@code cudaStream_t} address
     */
    long engineStream() {
        return stream;
    }

    /**
     * Returns the calling thread's stream ({@link #stream()}) as a JNA pointer, for the SSM kernels
     * of {@code CudaKernels}.
     *
     * @return the stream
     */
    Pointer streamPointer() {
        return new Pointer(stream());
    }

    int deviceId() {
        return deviceId;
    }

    /**
     * Starts recording this device's stream into a CUDA graph.
     *
     * @return the recording, ended by {@link GraphRecording#finish()} or {@link
     *     GraphRecording#discard()}
     * @throws IllegalStateException when a recording is already in progress
     */
    synchronized GraphRecording startRecording() {
        if (recording != null) {
            throw new IllegalStateException(
                    "gpu(" + deviceId + ") is already recording a step: one at a time");
        }
        if (recordingStream == 0) {
            recordingStream = CudaTensorOps.createStream(deviceId);
        }
        recording = GraphRecording.start(this, recordingStream);
        return recording;
    }

    /**
     * Returns the recording in progress on this device, or {@code null}.
     *
     * @return the recording
     */
    GraphRecording recording() {
        return recording;
    }

    /**
     * Marks a recording as ended.
     *
     * @param ended the recording
     */
    synchronized void endRecording(GraphRecording ended) {
        if (recording == ended) {
            recording = null;
        }
    }

    /** Waits for the work queued on this device's stream. */
    void synchronize() {
        CudaTensorOps.synchronize(stream());
    }

    /** {@inheritDoc} */
    @Override
    public Device device() {
        return Device.gpu(deviceId);
    }

    /** {@inheritDoc} */
    @Override
    public ArrayMemory allocate(long bytes, boolean zero) {
        return DeviceMemory.allocate(this, bytes, zero);
    }

    /** {@inheritDoc} */
    @Override
    public void copy(
            long[] shape,
            TensorDType srcType,
            long src,
            long[] srcStrides,
            TensorDType dstType,
            long dst,
            long[] dstStrides) {
        CudaTensorOps.copy(stream(), shape, srcType, src, srcStrides, dstType, dst, dstStrides);
    }

    /** {@inheritDoc} */
    @Override
    public void fill(TensorDType type, long dst, long count, double value) {
        CudaTensorOps.fill(stream(), type, dst, count, value);
    }

    /** {@inheritDoc} */
    @Override
    public void unary(
            Unary op,
            TensorDType type,
            long[] shape,
            long x,
            long[] xStrides,
            double scalar,
            long out) {
        CudaTensorOps.unary(stream(), op, type, shape, x, xStrides, scalar, out);
    }

    /** {@inheritDoc} */
    @Override
    public void binary(
            Binary op,
            TensorDType type,
            long[] shape,
            long a,
            long[] aStrides,
            long b,
            long[] bStrides,
            long out) {
        CudaTensorOps.binary(stream(), op, type, shape, a, aStrides, b, bStrides, out);
    }

    /** {@inheritDoc} */
    @Override
    public void where(
            TensorDType type,
            long[] shape,
            long cond,
            long[] condStrides,
            long a,
            long[] aStrides,
            long b,
            long[] bStrides,
            long out) {
        CudaTensorOps.where(
                stream(), type, shape, cond, condStrides, a, aStrides, b, bStrides, out);
    }

    /** {@inheritDoc} */
    @Override
    public void reduce(
            Reduce op, TensorDType type, long x, long outer, long n, long inner, long out) {
        CudaTensorOps.reduce(stream(), op, type, x, outer, n, inner, out);
    }

    /** {@inheritDoc} */
    @Override
    public void softmax(
            TensorDType type, long x, long outer, long n, long inner, boolean log, long out) {
        CudaTensorOps.softmax(stream(), type, x, outer, n, inner, log, out);
    }

    /** {@inheritDoc} */
    @Override
    public void cumsum(TensorDType type, long x, long outer, long n, long inner, long out) {
        CudaTensorOps.cumsum(stream(), type, x, outer, n, inner, out);
    }

    /** {@inheritDoc} */
    @Override
    public void matmul(
            TensorDType type,
            long batch,
            long m,
            long n,
            long k,
            long a,
            long[] aStrides,
            long b,
            long[] bStrides,
            long out) {
        CudaTensorOps.matmul(
                stream(), type, batch, m, n, k, a, aStrides, b, bStrides, out, allowTf32);
    }

    /**
     * Runs {@link CudaTensorOps#rmsNormLinear} (the pre-norm in the prologue of the GEMV) on this
     * device's stream.
     */
    void rmsNormLinear(
            TensorDType type,
            long rows,
            long n,
            long k,
            long x,
            long xRowStride,
            long normWeight,
            float eps,
            long w,
            long wRowStride,
            long out) {
        CudaTensorOps.rmsNormLinear(
                stream(), type, rows, n, k, x, xRowStride, normWeight, eps, w, wRowStride, out);
    }

    /**
     * Runs {@link CudaTensorOps#matmulAdd} (a product and the add of another matrix in one call) on
     * this device's stream.
     */
    void matmulAdd(
            TensorDType type,
            long m,
            long n,
            long k,
            long a,
            long[] aStrides,
            long b,
            long[] bStrides,
            long addend,
            long out) {
        CudaTensorOps.matmulAdd(
                stream(),
                type,
                m,
                n,
                k,
                a,
                aStrides[0],
                aStrides[1],
                b,
                bStrides[0],
                bStrides[1],
                addend,
                out);
    }

    /**
     * Runs {@link CudaTensorOps#linearAdd} (the residual add in the epilogue of the GEMV) on this
     * device's stream.
     */
    void linearAdd(
            TensorDType type,
            long rows,
            long n,
            long k,
            long x,
            long xRowStride,
            long w,
            long wRowStride,
            long addend,
            long addendRowStride,
            long out) {
        CudaTensorOps.linearAdd(
                stream(),
                type,
                rows,
                n,
                k,
                x,
                xRowStride,
                w,
                wRowStride,
                addend,
                addendRowStride,
                out);
    }

    /** {@inheritDoc} */
    @Override
    public void take(
            TensorDType type,
            long x,
            long outer,
            long n,
            long inner,
            long indices,
            long count,
            long out) {
        CudaTensorOps.take(stream(), type, x, outer, n, inner, indices, count, out);
    }

    /** {@inheritDoc} */
    @Override
    public void topK(
            TensorDType type,
            long x,
            long outer,
            long n,
            long inner,
            long k,
            boolean largest,
            long values,
            long indices) {
        CudaTensorOps.topK(stream(), type, x, outer, n, inner, k, largest, values, indices);
    }

    /** {@inheritDoc} */
    @Override
    public void sampleTokens(
            TensorDType type,
            long logits,
            long rows,
            long vocab,
            long rowStride,
            SamplingSettings settings,
            long draws,
            long tokens) {
        CudaTensorOps.sampleTokens(
                stream(), type, logits, rows, vocab, rowStride, settings, draws, tokens);
    }
}
