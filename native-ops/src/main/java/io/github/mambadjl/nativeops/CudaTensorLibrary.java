package io.github.mambadjl.nativeops;

import com.sun.jna.Native;

/**
 * JNA direct mapping of the engine ops of the CUDA library (the "engine ops (CUDA library)" section
 * of {@code mambaops.h}). Device addresses and streams are passed as {@code long}; shapes and
 * strides as {@code long[]}. Loading this class fails with an {@link UnsatisfiedLinkError} when the
 * CUDA library is absent; {@link CudaTensorOps} checks availability first.
 */
final class CudaTensorLibrary {

    static {
        // CudaKernels' library class checks the ABI version of the same library.
        CudaKernels.deviceCount();
        Native.register(
                CudaTensorLibrary.class,
                NativeLibraries.cuda()
                        .orElseThrow(
                                () ->
                                        new UnsatisfiedLinkError(
                                                NativeLibraries.cudaUnavailableReason())));
    }

    private CudaTensorLibrary() {}

    static native String mops_cuda_last_error();

    static native int mops_cuda_engine_stream_create(int device, long[] stream);

    static native int mops_cuda_stream_synchronize(long stream);

    static native int mops_cuda_engine_alloc(long stream, long bytes, int zero, long[] out);

    static native int mops_cuda_engine_free(long stream, long ptr);

    static native int mops_cuda_engine_in_use(int device, long[] bytes, long[] blocks);

    static native int mops_cuda_engine_pool_stats(
            int device, long[] reserved, long[] used, long[] free, long[] total);

    static native int mops_cuda_gemv_mode(int mode);

    static native int mops_cuda_engine_pool_high(
            int device, int reset, long[] poolUsedHigh, long[] graphUsedHigh);

    static native int mops_cuda_engine_pool_trim(int device, long keepBytes);

    static native int mops_cuda_graph_begin(long stream);

    static native int mops_cuda_graph_end(long stream, long launchStream, int discard, long[] exec);

    static native int mops_cuda_graph_launch(long exec, long stream);

    static native int mops_cuda_graph_destroy(long exec);

    static native int mops_cuda_engine_transfer(
            long stream, long dst, long src, long bytes, int toDevice);

    static native int mops_cuda_copy(
            long stream,
            int rank,
            long[] shape,
            int srcDtype,
            long src,
            long[] srcStrides,
            int dstDtype,
            long dst,
            long[] dstStrides);

    static native int mops_cuda_fill(long stream, int dtype, long dst, long count, double value);

    static native int mops_cuda_unary(
            long stream,
            int op,
            int dtype,
            int rank,
            long[] shape,
            long x,
            long[] xStrides,
            double scalar,
            long out);

    static native int mops_cuda_binary(
            long stream,
            int op,
            int dtype,
            int rank,
            long[] shape,
            long a,
            long[] aStrides,
            long b,
            long[] bStrides,
            long out);

    static native int mops_cuda_where(
            long stream,
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

    static native int mops_cuda_reduce(
            long stream, int op, int dtype, long x, long outer, long n, long inner, long out);

    static native int mops_cuda_softmax(
            long stream, int dtype, long x, long outer, long n, long inner, int log, long out);

    static native int mops_cuda_cumsum(
            long stream, int dtype, long x, long outer, long n, long inner, long out);

    static native int mops_cuda_take(
            long stream,
            int dtype,
            long x,
            long outer,
            long n,
            long inner,
            long indices,
            long count,
            long out);

    static native int mops_cuda_topk(
            long stream,
            int dtype,
            long x,
            long outer,
            long n,
            long inner,
            long k,
            int largest,
            long values,
            long indices);

    static native int mops_cuda_sample_tokens(
            long stream,
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

    static native int mops_cuda_gemm_load();

    static native int mops_cuda_matmul(
            long stream,
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
            long out,
            int allowTf32);

    static native int mops_cuda_rms_norm_linear(
            long stream,
            int dtype,
            long rows,
            long n,
            long k,
            long x,
            long xRowStride,
            long normWeight,
            float eps,
            long w,
            long wRowStride,
            long out);

    static native int mops_cuda_matmul_add(
            long stream,
            int dtype,
            long m,
            long n,
            long k,
            long a,
            long aRowStride,
            long aColStride,
            long b,
            long bRowStride,
            long bColStride,
            long addend,
            long out);

    static native int mops_cuda_linear_add(
            long stream,
            int dtype,
            long rows,
            long n,
            long k,
            long x,
            long xRowStride,
            long w,
            long wRowStride,
            long addend,
            long addendRowStride,
            long out);

    static native int mops_cuda_attention(
            long stream,
            int dtype,
            long batch,
            long qHeads,
            long kvHeads,
            long qLen,
            long kvLen,
            long headDim,
            long qOffset,
            float scale,
            long q,
            long[] qStrides,
            long k,
            long[] kStrides,
            long v,
            long[] vStrides,
            long out,
            long[] outStrides);
}
