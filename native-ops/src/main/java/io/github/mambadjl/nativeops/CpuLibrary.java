package io.github.mambadjl.nativeops;

import com.sun.jna.Native;
import com.sun.jna.Pointer;

/** JNA direct mapping of the CPU library's C ABI ({@code mambaops.h}). */
final class CpuLibrary {

    static {
        Native.register(CpuLibrary.class, NativeLibraries.cpu());
        int version = mops_abi_version();
        if (version != NativeLibraries.ABI_VERSION) {
            throw new UnsatisfiedLinkError(
                    "libmambaops.so has ABI version "
                            + version
                            + " but these bindings need "
                            + NativeLibraries.ABI_VERSION
                            + ": the native library and the jar come from different builds");
        }
    }

    private CpuLibrary() {}

    static native String mops_last_error();

    static native int mops_abi_version();

    static native String mops_cpu_build_info();

    static native int mops_cpu_isa_level(int level);

    static native int mops_cpu_causal_conv1d(
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

    static native int mops_cpu_causal_conv1d_update(
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

    static native int mops_cpu_selective_scan(
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

    static native int mops_cpu_selective_state_update(
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

    static native int mops_cpu_selective_state_update_projected(
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

    static native int mops_cpu_ssd(
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

    static native int mops_cpu_ssd_state_update(
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

    static native int mops_cpu_rms_norm_gated(
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

    static native int mops_cpu_add_rms_norm(
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

    static native int mops_cpu_memcpy(Pointer dst, Pointer src, long bytes);
}
