package io.github.mambadjl.engine;

import ai.djl.Device;
import io.github.mambadjl.nativeops.CpuTensorOps;
import io.github.mambadjl.nativeops.CpuTensorOps.Binary;
import io.github.mambadjl.nativeops.CpuTensorOps.Reduce;
import io.github.mambadjl.nativeops.CpuTensorOps.Unary;
import io.github.mambadjl.nativeops.SamplingSettings;
import io.github.mambadjl.nativeops.TensorDType;

/** The host backend: aligned host memory and the CPU library's engine ops. */
final class HostBackend implements Backend {

    static final HostBackend INSTANCE = new HostBackend();

    private HostBackend() {}

    /** {@inheritDoc} */
    @Override
    public Device device() {
        return Device.cpu();
    }

    /** {@inheritDoc} */
    @Override
    public ArrayMemory allocate(long bytes, boolean zero) {
        return HostMemory.allocate(bytes, zero);
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
        CpuTensorOps.copy(shape, srcType, src, srcStrides, dstType, dst, dstStrides);
    }

    /** {@inheritDoc} */
    @Override
    public void fill(TensorDType type, long dst, long count, double value) {
        CpuTensorOps.fill(type, dst, count, value);
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
        CpuTensorOps.unary(op, type, shape, x, xStrides, scalar, out);
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
        CpuTensorOps.binary(op, type, shape, a, aStrides, b, bStrides, out);
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
        CpuTensorOps.where(type, shape, cond, condStrides, a, aStrides, b, bStrides, out);
    }

    /** {@inheritDoc} */
    @Override
    public void reduce(
            Reduce op, TensorDType type, long x, long outer, long n, long inner, long out) {
        CpuTensorOps.reduce(op, type, x, outer, n, inner, out);
    }

    /** {@inheritDoc} */
    @Override
    public void softmax(
            TensorDType type, long x, long outer, long n, long inner, boolean log, long out) {
        CpuTensorOps.softmax(type, x, outer, n, inner, log, out);
    }

    /** {@inheritDoc} */
    @Override
    public void cumsum(TensorDType type, long x, long outer, long n, long inner, long out) {
        CpuTensorOps.cumsum(type, x, outer, n, inner, out);
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
        CpuTensorOps.matmul(type, batch, m, n, k, a, aStrides, b, bStrides, out);
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
        CpuTensorOps.take(type, x, outer, n, inner, indices, count, out);
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
        CpuTensorOps.topK(type, x, outer, n, inner, k, largest, values, indices);
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
        CpuTensorOps.sampleTokens(type, logits, rows, vocab, rowStride, settings, draws, tokens);
    }
}
