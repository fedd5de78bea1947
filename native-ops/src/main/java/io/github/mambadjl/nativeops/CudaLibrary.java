package io.github.mambadjl.nativeops;

import com.sun.jna.Native;
import com.sun.jna.Pointer;
import com.sun.jna.ptr.IntByReference;
import com.sun.jna.ptr.PointerByReference;

/** JNA direct mapping of the CUDA library's C ABI ({@code mambaops.h}). */
final class CudaLibrary {

    static {
        Native.register(
                CudaLibrary.class,
                NativeLibraries.cuda()
                        .orElseThrow(
                                () ->
                                        new UnsatisfiedLinkError(
                                                NativeLibraries.cudaUnavailableReason())));
        int version = mops_cuda_abi_version();
        if (version != NativeLibraries.ABI_VERSION) {
            throw new UnsatisfiedLinkError(
                    "libmambaops_cuda.so has ABI version "
                            + version
                            + " but these bindings need "
                            + NativeLibraries.ABI_VERSION);
        }
    }

    private CudaLibrary() {}

    static native String mops_cuda_last_error();

    static native int mops_cuda_abi_version();

    static native int mops_cuda_device_count(IntByReference count);

    static native int mops_cuda_causal_conv1d(
            Pointer stream,
            int dtype,
            Pointer x,
            long batch,
            long dim,
            long seqlen,
            long xBatchStride,
            long xDimStride,
            long xTimeStride,
            Pointer weight,
            int width,
            Pointer bias,
            Pointer initialState,
            Pointer finalState,
            Pointer out,
            long outBatchStride,
            long outDimStride,
            long outTimeStride,
            int silu);

    static native int mops_cuda_causal_conv1d_update(
            Pointer stream,
            int dtype,
            Pointer x,
            long batch,
            long dim,
            long xBatchStride,
            long xDimStride,
            Pointer weight,
            int width,
            Pointer bias,
            Pointer convState,
            Pointer out,
            long outBatchStride,
            long outDimStride,
            int silu);

    static native int mops_cuda_selective_scan(
            Pointer stream,
            int dtype,
            long batch,
            long dim,
            long seqlen,
            long dstate,
            long ngroups,
            Pointer u,
            long[] uStrides,
            Pointer delta,
            long[] deltaStrides,
            Pointer a,
            Pointer b,
            long[] bStrides,
            Pointer c,
            long[] cStrides,
            Pointer d,
            Pointer z,
            long[] zStrides,
            Pointer deltaBias,
            int softplus,
            Pointer initialState,
            Pointer finalState,
            Pointer out,
            long[] outStrides);

    static native int mops_cuda_selective_state_update(
            Pointer stream,
            int dtype,
            long batch,
            long dim,
            long dstate,
            long ngroups,
            Pointer state,
            Pointer x,
            long[] xStrides,
            Pointer dt,
            long[] dtStrides,
            Pointer a,
            Pointer b,
            long[] bStrides,
            Pointer c,
            long[] cStrides,
            Pointer d,
            Pointer z,
            long[] zStrides,
            Pointer dtBias,
            int softplus,
            Pointer out,
            long[] outStrides);

    static native int mops_cuda_selective_state_update_projected(
            Pointer stream,
            int dtype,
            long batch,
            long dim,
            long dstate,
            long ngroups,
            Pointer state,
            Pointer x,
            long[] xStrides,
            Pointer dtLow,
            long dtLowBatchStride,
            Pointer dtProjWeight,
            long dtProjRowStride,
            long dtRank,
            Pointer a,
            Pointer b,
            long[] bStrides,
            Pointer c,
            long[] cStrides,
            Pointer d,
            Pointer z,
            long[] zStrides,
            Pointer dtBias,
            int softplus,
            Pointer out,
            long[] outStrides);

    static native int mops_cuda_ssd(
            Pointer stream,
            int dtype,
            long batch,
            long seqlen,
            long nheads,
            long headdim,
            long ngroups,
            long dstate,
            long chunkSize,
            Pointer x,
            long[] xStrides,
            Pointer dt,
            long[] dtStrides,
            Pointer a,
            Pointer b,
            long[] bStrides,
            Pointer c,
            long[] cStrides,
            Pointer d,
            int dPerChannel,
            Pointer z,
            long[] zStrides,
            Pointer dtBias,
            int softplus,
            float dtMin,
            float dtMax,
            Pointer initialStates,
            Pointer finalStates,
            Pointer out,
            long[] outStrides);

    static native int mops_cuda_ssd_state_update(
            Pointer stream,
            int dtype,
            long batch,
            long nheads,
            long headdim,
            long ngroups,
            long dstate,
            Pointer state,
            Pointer x,
            long[] xStrides,
            Pointer dt,
            long[] dtStrides,
            Pointer a,
            Pointer b,
            long[] bStrides,
            Pointer c,
            long[] cStrides,
            Pointer d,
            int dPerChannel,
            Pointer z,
            long[] zStrides,
            Pointer dtBias,
            int softplus,
            float dtMin,
            float dtMax,
            Pointer out,
            long[] outStrides);

    static native int mops_cuda_rms_norm_gated(
            Pointer stream,
            int dtype,
            long rows,
            long hidden,
            long groupSize,
            Pointer x,
            long xRowStride,
            Pointer z,
            long zRowStride,
            Pointer weight,
            float eps,
            int normBeforeGate,
            Pointer out,
            long outRowStride);

    static native int mops_cuda_add_rms_norm(
            Pointer stream,
            int dtype,
            long rows,
            long hidden,
            Pointer x,
            Pointer residual,
            int residualDtype,
            Pointer weight,
            float eps,
            Pointer out,
            Pointer residualOut);

    static native int mops_cuda_malloc(Pointer stream, long bytes, PointerByReference ptr);

    static native int mops_cuda_free(Pointer stream, Pointer ptr);

    static native int mops_cuda_memcpy_h2d(Pointer stream, Pointer dst, Pointer src, long bytes);

    static native int mops_cuda_memcpy_d2h(Pointer stream, Pointer dst, Pointer src, long bytes);

    static native int mops_cuda_memcpy_d2d(Pointer stream, Pointer dst, Pointer src, long bytes);

    static native int mops_cuda_stream_create(PointerByReference stream);

    static native int mops_cuda_stream_destroy(Pointer stream);

    static native int mops_cuda_stream_synchronize(Pointer stream);
}
