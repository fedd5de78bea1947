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
}
