package io.github.mambadjl.nativeops;

import static io.github.mambadjl.nativeops.CausalConv1dArgs.ptr;

import com.sun.jna.Pointer;
import com.sun.jna.ptr.IntByReference;

/**
 * The CUDA kernels of {@code libmambaops_cuda.so}. All tensors are device memory; every kernel is
 * queued on the given stream ({@code null}: the default stream) and returns without synchronising.
 */
public final class CudaKernels {

    private CudaKernels() {}

    /**
     * Tells whether the CUDA library loaded and sees at least one GPU.
     *
     * @return true when CUDA kernels can run
     */
    public static boolean isAvailable() {
        if (NativeLibraries.cuda().isEmpty()) {
            return false;
        }
        try {
            return deviceCount() > 0;
        } catch (NativeOpException | UnsatisfiedLinkError e) {
            return false;
        }
    }

    /**
     * Returns the number of CUDA devices.
     *
     * @return the device count, 0 without a driver or GPU
     */
    public static int deviceCount() {
        IntByReference count = new IntByReference();
        check(CudaLibrary.mops_cuda_device_count(count), "cuda_device_count", "");
        return count.getValue();
    }

    /**
     * Queues the depthwise causal conv1d (see {@link CausalConv1dArgs}) on a stream.
     *
     * @param stream the CUDA stream, or {@code null} for the default stream
     * @param a the checked arguments (device memory)
     */
    public static void causalConv1d(Pointer stream, CausalConv1dArgs a) {
        a.checkBounds();
        int status =
                CudaLibrary.mops_cuda_causal_conv1d(
                        stream,
                        a.x().dtype().code(),
                        a.x().pointer(),
                        a.x().size(0),
                        a.x().size(1),
                        a.x().size(2),
                        a.x().stride(0),
                        a.x().stride(1),
                        a.x().stride(2),
                        a.weight().pointer(),
                        a.width(),
                        ptr(a.bias()),
                        ptr(a.initialState()),
                        ptr(a.finalState()),
                        a.out().pointer(),
                        a.out().stride(0),
                        a.out().stride(1),
                        a.out().stride(2),
                        a.silu() ? 1 : 0);
        check(status, "cuda_" + CausalConv1dArgs.OP, a.shapes());
    }

    static void check(int status, String op, String shapes) {
        if (status != 0) {
            throw new NativeOpException(
                    op, Status.of(status), CudaLibrary.mops_cuda_last_error(), shapes);
        }
    }
}
