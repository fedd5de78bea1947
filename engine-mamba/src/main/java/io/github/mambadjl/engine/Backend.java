package io.github.mambadjl.engine;

import ai.djl.Device;
import io.github.mambadjl.nativeops.CpuTensorOps.Binary;
import io.github.mambadjl.nativeops.CpuTensorOps.Reduce;
import io.github.mambadjl.nativeops.CpuTensorOps.Unary;
import io.github.mambadjl.nativeops.SamplingSettings;
import io.github.mambadjl.nativeops.TensorDType;

/**
 * Where an array's memory lives and which native library runs its operations: the host (the CPU
 * library's engine ops) or one CUDA device (the CUDA library's engine ops on the device's stream).
 * The methods have the contracts of {@link io.github.mambadjl.nativeops.CpuTensorOps}; addresses
 * belong to this backend's memory.
 */
interface Backend {

    /**
     * Returns the backend of a DJL device.
     *
     * @param device the device ({@code null}: the CPU)
     * @return the backend
     * @throws UnsupportedOperationException for a GPU on a machine without CUDA, or another type
     * @throws IllegalArgumentException for a GPU index that does not exist
     */
    static Backend of(Device device) {
        if (device == null || Device.Type.CPU.equals(device.getDeviceType())) {
            return HostBackend.INSTANCE;
        }
        if (Device.Type.GPU.equals(device.getDeviceType())) {
            return CudaBackend.of(device.getDeviceId());
        }
        throw new UnsupportedOperationException(
                "The Mamba engine keeps arrays on the CPU or on CUDA GPUs; got device "
                        + device
                        + ". Use Device.cpu() or Device.gpu(i).");
    }

    /**
     * Returns the DJL device of this backend.
     *
     * @return the device
     */
    Device device();

    /**
     * Allocates memory with one reference.
     *
     * @param bytes the size
     * @param zero whether to zero it
     * @return the memory
     */
    ArrayMemory allocate(long bytes, boolean zero);

    /** Runs {@link io.github.mambadjl.nativeops.CpuTensorOps#copy}'s contract here. */
    void copy(
            long[] shape,
            TensorDType srcType,
            long src,
            long[] srcStrides,
            TensorDType dstType,
            long dst,
            long[] dstStrides);

    /** Runs {@link io.github.mambadjl.nativeops.CpuTensorOps#fill}'s contract here. */
    void fill(TensorDType type, long dst, long count, double value);

    /** Runs {@link io.github.mambadjl.nativeops.CpuTensorOps#unary}'s contract here. */
    void unary(
            Unary op,
            TensorDType type,
            long[] shape,
            long x,
            long[] xStrides,
            double scalar,
            long out);

    /** Runs {@link io.github.mambadjl.nativeops.CpuTensorOps#binary}'s contract here. */
    void binary(
            Binary op,
            TensorDType type,
            long[] shape,
            long a,
            long[] aStrides,
            long b,
            long[] bStrides,
            long out);

    /** Runs {@link io.github.mambadjl.nativeops.CpuTensorOps#where}'s contract here. */
    void where(
            TensorDType type,
            long[] shape,
            long cond,
            long[] condStrides,
            long a,
            long[] aStrides,
            long b,
            long[] bStrides,
            long out);

    /** Runs {@link io.github.mambadjl.nativeops.CpuTensorOps#reduce}'s contract here. */
    void reduce(Reduce op, TensorDType type, long x, long outer, long n, long inner, long out);

    /** Runs {@link io.github.mambadjl.nativeops.CpuTensorOps#softmax}'s contract here. */
    void softmax(TensorDType type, long x, long outer, long n, long inner, boolean log, long out);

    /** Runs {@link io.github.mambadjl.nativeops.CpuTensorOps#cumsum}'s contract here. */
    void cumsum(TensorDType type, long x, long outer, long n, long inner, long out);

    /** Runs {@link io.github.mambadjl.nativeops.CpuTensorOps#matmul}'s contract here. */
    void matmul(
            TensorDType type,
            long batch,
            long m,
            long n,
            long k,
            long a,
            long[] aStrides,
            long b,
            long[] bStrides,
            long out);

    /** Runs {@link io.github.mambadjl.nativeops.CpuTensorOps#take}'s contract here. */
    void take(
            TensorDType type,
            long x,
            long outer,
            long n,
            long inner,
            long indices,
            long count,
            long out);

    /** Runs {@link io.github.mambadjl.nativeops.CpuTensorOps#topK}'s contract here. */
    void topK(
            TensorDType type,
            long x,
            long outer,
            long n,
            long inner,
            long k,
            boolean largest,
            long values,
            long indices);

    /** Runs {@link io.github.mambadjl.nativeops.CpuTensorOps#sampleTokens}'s contract here. */
    void sampleTokens(
            TensorDType type,
            long logits,
            long rows,
            long vocab,
            long rowStride,
            SamplingSettings settings,
            long draws,
            long tokens);
}
