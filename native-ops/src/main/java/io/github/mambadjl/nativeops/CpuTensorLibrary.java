package io.github.mambadjl.nativeops;

import com.sun.jna.Native;

/**
 * JNA direct mapping of the engine ops of the CPU library (the "engine ops" section of {@code
 * mambaops.h}). Addresses are passed as {@code long}; shapes and strides as {@code long[]}.
 */
final class CpuTensorLibrary {

    static {
        Native.register(CpuTensorLibrary.class, NativeLibraries.cpu());
    }

    private CpuTensorLibrary() {}

    static native String mops_last_error();

    static native int mops_cpu_host_alloc(long bytes, int zero, long[] out);

    static native int mops_cpu_host_free(long ptr);

    static native int mops_cpu_host_in_use(long[] bytes, long[] blocks);

    static native int mops_cpu_host_cache_limit(long limitBytes);

    static native int mops_cpu_host_cache_trim(long keepBytes);

    static native int mops_cpu_host_cache_stats(long[] stats);

    static native int mops_cpu_copy(
            int rank,
            long[] shape,
            int srcDtype,
            long src,
            long[] srcStrides,
            int dstDtype,
            long dst,
            long[] dstStrides);

    static native int mops_cpu_fill(int dtype, long dst, long count, double value);

    static native int mops_cpu_unary(
            int op,
            int dtype,
            int rank,
            long[] shape,
            long x,
            long[] xStrides,
            double scalar,
            long out);

    static native int mops_cpu_binary(
            int op,
            int dtype,
            int rank,
            long[] shape,
            long a,
            long[] aStrides,
            long b,
            long[] bStrides,
            long out);

    static native int mops_cpu_where(
            int dtype,
            int rank,
            long[] shape,
            long cond,
            long[] condStrides,
            long a,
            long[] aStrides,
            long b,
            long[] bStrides,
            long out);

    static native int mops_cpu_reduce(
            int op, int dtype, long x, long outer, long n, long inner, long out);

    static native int mops_cpu_softmax(
            int dtype, long x, long outer, long n, long inner, int log, long out);

    static native int mops_cpu_cumsum(int dtype, long x, long outer, long n, long inner, long out);

    static native int mops_cpu_matmul(
            int dtype,
            long batch,
            long m,
            long n,
            long k,
            long a,
            long aBatchStride,
            long aRowStride,
            long aColStride,
            long b,
            long bBatchStride,
            long bRowStride,
            long bColStride,
            long out);

    static native int mops_cpu_take(
            int dtype, long x, long outer, long n, long inner, long indices, long count, long out);

    static native int mops_cpu_topk(
            int dtype,
            long x,
            long outer,
            long n,
            long inner,
            long k,
            int largest,
            long values,
            long indices);

    static native int mops_cpu_sample_tokens(
            int dtype,
            long logits,
            long rows,
            long vocab,
            long rowStride,
            float temperature,
            long topK,
            float topP,
            float minP,
            long draws,
            long tokens);
}
