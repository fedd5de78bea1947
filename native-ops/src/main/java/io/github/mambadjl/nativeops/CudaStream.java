package io.github.mambadjl.nativeops;

import com.sun.jna.Pointer;
import com.sun.jna.ptr.PointerByReference;

/** A non-blocking CUDA stream of the CUDA library; closing it destroys the stream. */
public final class CudaStream implements AutoCloseable {

    private Pointer handle;

    private CudaStream(Pointer handle) {
        this.handle = handle;
    }

    /**
     * Creates a stream on the current device.
     *
     * @return the stream
     * @throws NativeOpException if CUDA refuses
     */
    public static CudaStream create() {
        PointerByReference ref = new PointerByReference();
        CudaKernels.check(CudaLibrary.mops_cuda_stream_create(ref), "cuda_stream_create");
        return new CudaStream(ref.getValue());
    }

    /**
     * Returns the handle to pass to the kernels.
     *
     * @return the {@code cudaStream_t}
     */
    public Pointer handle() {
        if (handle == null) {
            throw new IllegalStateException("the CUDA stream is closed");
        }
        return handle;
    }

    /**
     * Waits until all work queued on the stream has finished.
     *
     * @throws NativeOpException if a queued kernel or copy failed
     */
    public void synchronize() {
        CudaKernels.check(
                CudaLibrary.mops_cuda_stream_synchronize(handle()), "cuda_stream_synchronize");
    }

    /** Waits for the queued work and destroys the stream. */
    @Override
    public void close() {
        if (handle != null) {
            Pointer h = handle;
            handle = null;
            CudaKernels.check(CudaLibrary.mops_cuda_stream_destroy(h), "cuda_stream_destroy");
        }
    }
}
