package io.github.mambadjl.nativeops;

import static io.github.mambadjl.nativeops.ArgChecks.ptr;
import static io.github.mambadjl.nativeops.ArgChecks.strides;

import com.sun.jna.Pointer;
import com.sun.jna.ptr.IntByReference;
import java.util.function.Supplier;

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
        check(CudaLibrary.mops_cuda_device_count(count), "cuda_device_count");
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
        check(status, "cuda_" + CausalConv1dArgs.OP, a::shapes);
    }

    /**
     * Queues one decoding step of the causal conv1d (see {@link CausalConv1dUpdateArgs}) on a
     * stream.
     *
     * @param stream the CUDA stream, or {@code null} for the default stream
     * @param a the checked arguments (device memory)
     * @throws IllegalArgumentException if a tensor lies outside its memory
     * @throws NativeOpException if the native library refuses the call or the launch fails
     */
    public static void causalConv1dUpdate(Pointer stream, CausalConv1dUpdateArgs a) {
        a.checkBounds();
        int status =
                CudaLibrary.mops_cuda_causal_conv1d_update(
                        stream,
                        a.x().dtype().code(),
                        a.x().pointer(),
                        a.x().size(0),
                        a.x().size(1),
                        a.x().stride(0),
                        a.x().stride(1),
                        a.weight().pointer(),
                        a.width(),
                        ptr(a.bias()),
                        a.convState().pointer(),
                        a.out().pointer(),
                        a.out().stride(0),
                        a.out().stride(1),
                        a.silu() ? 1 : 0);
        check(status, "cuda_" + CausalConv1dUpdateArgs.OP, a::shapes);
    }

    /**
     * Queues the Mamba-1 selective scan (see {@link SelectiveScanArgs}) on a stream.
     *
     * @param stream the CUDA stream, or {@code null} for the default stream
     * @param a the checked arguments (device memory)
     * @throws IllegalArgumentException if a tensor lies outside its memory
     * @throws NativeOpException if the native library refuses the call or the launch fails
     */
    public static void selectiveScan(Pointer stream, SelectiveScanArgs a) {
        a.checkBounds();
        int status =
                CudaLibrary.mops_cuda_selective_scan(
                        stream,
                        a.u().dtype().code(),
                        a.u().size(0),
                        a.u().size(1),
                        a.u().size(2),
                        a.b().size(2),
                        a.b().size(1),
                        a.u().pointer(),
                        strides(a.u()),
                        a.delta().pointer(),
                        strides(a.delta()),
                        a.a().pointer(),
                        a.b().pointer(),
                        strides(a.b()),
                        a.c().pointer(),
                        strides(a.c()),
                        ptr(a.d()),
                        ptr(a.z()),
                        strides(a.z()),
                        ptr(a.deltaBias()),
                        a.softplus() ? 1 : 0,
                        ptr(a.initialState()),
                        ptr(a.finalState()),
                        a.out().pointer(),
                        strides(a.out()));
        check(status, "cuda_" + SelectiveScanArgs.OP, a::shapes);
    }

    /**
     * Queues one decoding step of the Mamba-1 scan (see {@link SelectiveStateUpdateArgs}) on a
     * stream.
     *
     * @param stream the CUDA stream, or {@code null} for the default stream
     * @param a the checked arguments (device memory)
     * @throws IllegalArgumentException if a tensor lies outside its memory
     * @throws NativeOpException if the native library refuses the call or the launch fails
     */
    public static void selectiveStateUpdate(Pointer stream, SelectiveStateUpdateArgs a) {
        a.checkBounds();
        int status =
                CudaLibrary.mops_cuda_selective_state_update(
                        stream,
                        a.x().dtype().code(),
                        a.x().size(0),
                        a.x().size(1),
                        a.b().size(2),
                        a.b().size(1),
                        a.state().pointer(),
                        a.x().pointer(),
                        strides(a.x()),
                        a.dt().pointer(),
                        strides(a.dt()),
                        a.a().pointer(),
                        a.b().pointer(),
                        strides(a.b()),
                        a.c().pointer(),
                        strides(a.c()),
                        ptr(a.d()),
                        ptr(a.z()),
                        strides(a.z()),
                        ptr(a.dtBias()),
                        a.softplus() ? 1 : 0,
                        a.out().pointer(),
                        strides(a.out()));
        check(status, "cuda_" + SelectiveStateUpdateArgs.OP, a::shapes);
    }

    /**
     * Queues one decoding step of the Mamba-1 scan with its {@code dt_proj} folded in (see {@link
     * SelectiveStateUpdateProjectedArgs}) on a stream.
     *
     * @param stream the CUDA stream, or {@code null} for the default stream
     * @param a the checked arguments (device memory)
     * @throws IllegalArgumentException if a tensor lies outside its memory
     * @throws NativeOpException if the native library refuses the call or the launch fails
     */
    public static void selectiveStateUpdateProjected(
            Pointer stream, SelectiveStateUpdateProjectedArgs a) {
        a.checkBounds();
        int status =
                CudaLibrary.mops_cuda_selective_state_update_projected(
                        stream,
                        a.x().dtype().code(),
                        a.x().size(0),
                        a.x().size(1),
                        a.b().size(2),
                        a.b().size(1),
                        a.state().pointer(),
                        a.x().pointer(),
                        strides(a.x()),
                        a.dtLow().pointer(),
                        a.dtLow().stride(0),
                        a.dtProjWeight().pointer(),
                        a.dtProjWeight().stride(0),
                        a.dtLow().size(1),
                        a.a().pointer(),
                        a.b().pointer(),
                        strides(a.b()),
                        a.c().pointer(),
                        strides(a.c()),
                        ptr(a.d()),
                        ptr(a.z()),
                        strides(a.z()),
                        ptr(a.dtBias()),
                        a.softplus() ? 1 : 0,
                        a.out().pointer(),
                        strides(a.out()));
        check(status, "cuda_" + SelectiveStateUpdateProjectedArgs.OP, a::shapes);
    }

    /**
     * Queues the Mamba-2 chunked SSD (see {@link SsdArgs}) on a stream.
     *
     * @param stream the CUDA stream, or {@code null} for the default stream
     * @param a the checked arguments (device memory)
     * @throws IllegalArgumentException if a tensor lies outside its memory
     * @throws NativeOpException if the native library refuses the call or the launch fails
     */
    public static void ssd(Pointer stream, SsdArgs a) {
        a.checkBounds();
        int status =
                CudaLibrary.mops_cuda_ssd(
                        stream,
                        a.x().dtype().code(),
                        a.x().size(0),
                        a.x().size(1),
                        a.x().size(2),
                        a.x().size(3),
                        a.b().size(2),
                        a.b().size(3),
                        a.chunkSize(),
                        a.x().pointer(),
                        strides(a.x()),
                        a.dt().pointer(),
                        strides(a.dt()),
                        a.a().pointer(),
                        a.b().pointer(),
                        strides(a.b()),
                        a.c().pointer(),
                        strides(a.c()),
                        ptr(a.d()),
                        a.dPerChannel() ? 1 : 0,
                        ptr(a.z()),
                        strides(a.z()),
                        ptr(a.dtBias()),
                        a.softplus() ? 1 : 0,
                        a.dtMin(),
                        a.dtMax(),
                        ptr(a.initialStates()),
                        ptr(a.finalStates()),
                        a.out().pointer(),
                        strides(a.out()));
        check(status, "cuda_" + SsdArgs.OP, a::shapes);
    }

    /**
     * Queues one decoding step of Mamba-2 (see {@link SsdStateUpdateArgs}) on a stream.
     *
     * @param stream the CUDA stream, or {@code null} for the default stream
     * @param a the checked arguments (device memory)
     * @throws IllegalArgumentException if a tensor lies outside its memory
     * @throws NativeOpException if the native library refuses the call or the launch fails
     */
    public static void ssdStateUpdate(Pointer stream, SsdStateUpdateArgs a) {
        a.checkBounds();
        int status =
                CudaLibrary.mops_cuda_ssd_state_update(
                        stream,
                        a.x().dtype().code(),
                        a.x().size(0),
                        a.x().size(1),
                        a.x().size(2),
                        a.b().size(1),
                        a.b().size(2),
                        a.state().pointer(),
                        a.x().pointer(),
                        strides(a.x()),
                        a.dt().pointer(),
                        strides(a.dt()),
                        a.a().pointer(),
                        a.b().pointer(),
                        strides(a.b()),
                        a.c().pointer(),
                        strides(a.c()),
                        ptr(a.d()),
                        a.dPerChannel() ? 1 : 0,
                        ptr(a.z()),
                        strides(a.z()),
                        ptr(a.dtBias()),
                        a.softplus() ? 1 : 0,
                        a.dtMin(),
                        a.dtMax(),
                        a.out().pointer(),
                        strides(a.out()));
        check(status, "cuda_" + SsdStateUpdateArgs.OP, a::shapes);
    }

    /**
     * Queues the gated RMSNorm (see {@link RmsNormGatedArgs}) on a stream.
     *
     * @param stream the CUDA stream, or {@code null} for the default stream
     * @param a the checked arguments (device memory)
     * @throws IllegalArgumentException if a tensor lies outside its memory
     * @throws NativeOpException if the native library refuses the call or the launch fails
     */
    public static void rmsNormGated(Pointer stream, RmsNormGatedArgs a) {
        a.checkBounds();
        int status =
                CudaLibrary.mops_cuda_rms_norm_gated(
                        stream,
                        a.x().dtype().code(),
                        a.x().size(0),
                        a.x().size(1),
                        a.groupSize(),
                        a.x().pointer(),
                        RmsNormGatedArgs.rowStride(a.x()),
                        ptr(a.z()),
                        RmsNormGatedArgs.rowStride(a.z()),
                        a.weight().pointer(),
                        a.eps(),
                        a.normBeforeGate() ? 1 : 0,
                        a.out().pointer(),
                        RmsNormGatedArgs.rowStride(a.out()));
        check(status, "cuda_" + RmsNormGatedArgs.OP, a::shapes);
    }

    /**
     * Queues RMSNorm fused with the residual add (see {@link AddRmsNormArgs}) on a stream.
     *
     * @param stream the CUDA stream, or {@code null} for the default stream
     * @param a the checked arguments (device memory)
     * @throws IllegalArgumentException if a tensor lies outside its memory
     * @throws NativeOpException if the native library refuses the call or the launch fails
     */
    public static void addRmsNorm(Pointer stream, AddRmsNormArgs a) {
        a.checkBounds();
        int status =
                CudaLibrary.mops_cuda_add_rms_norm(
                        stream,
                        a.x().dtype().code(),
                        a.x().size(0),
                        a.x().size(1),
                        a.x().pointer(),
                        ptr(a.residual()),
                        a.residualDType().code(),
                        a.weight().pointer(),
                        a.eps(),
                        a.out().pointer(),
                        ptr(a.residualOut()));
        check(status, "cuda_" + AddRmsNormArgs.OP, a::shapes);
    }

    static void check(int status, String op) {
        check(status, op, () -> "");
    }

    /** Throws for a non-zero status; the arguments are described only then. */
    static void check(int status, String op, Supplier<String> shapes) {
        if (status != 0) {
            throw new NativeOpException(
                    op, Status.of(status), CudaLibrary.mops_cuda_last_error(), shapes.get());
        }
    }
}
