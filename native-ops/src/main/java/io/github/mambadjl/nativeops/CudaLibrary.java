package io.github.mambadjl.nativeops;

import com.sun.jna.Native;
import com.sun.jna.Pointer;
import com.sun.jna.ptr.IntByReference;

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
}
