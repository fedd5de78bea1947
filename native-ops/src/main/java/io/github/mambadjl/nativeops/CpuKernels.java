package io.github.mambadjl.nativeops;

import static io.github.mambadjl.nativeops.ArgChecks.ptr;
import static io.github.mambadjl.nativeops.ArgChecks.strides;

import java.util.function.Supplier;

/**
 * The CPU kernels of {@code libmambaops.so}, with argument checks in Java (shapes, dtypes, memory
 * bounds) and the native status turned into a {@link NativeOpException}.
 */
public final class CpuKernels {

    /** The instruction sets of the CPU library's kernel and engine-op paths, lowest first. */
    public enum InstructionSet {
        /** Portable code for x86-64-v2 (SSE4.2): what any CPU that loads the library runs. */
        BASELINE,
        /** AVX2, FMA and F16C. */
        AVX2,
        /** AVX-512F (with AVX2, FMA and F16C). */
        AVX512
    }

    private CpuKernels() {}

    /**
     * Returns the instruction set that the CPU paths use: the best this CPU supports unless {@link
     * #limitInstructionSet} lowered it.
     *
     * @return the instruction set in effect
     */
    public static InstructionSet instructionSet() {
        return InstructionSet.values()[CpuLibrary.mops_cpu_isa_level(-1)];
    }

    /**
     * Caps the instruction set of every CPU path (kernels and engine ops) for all threads, so that
     * tests can run each path on one machine; the CPU's own set is never exceeded. Results differ
     * between sets only in the rounding of float32 sums.
     *
     * @param cap the highest instruction set to use; {@link InstructionSet#AVX512} restores the
     *     default
     * @return the instruction set now in effect (lower than {@code cap} on a CPU without it)
     */
    public static InstructionSet limitInstructionSet(InstructionSet cap) {
        return InstructionSet.values()[CpuLibrary.mops_cpu_isa_level(cap.ordinal())];
    }

    /**
     * Returns a description of the loaded CPU library and of its SIMD path.
     *
     * @return the build information
     */
    public static String buildInfo() {
        return CpuLibrary.mops_cpu_build_info();
    }

    /**
     * Runs the depthwise causal conv1d (see {@link CausalConv1dArgs}).
     *
     * @param a the checked arguments
     * @throws IllegalArgumentException if a tensor lies outside its memory
     * @throws NativeOpException if the native library refuses the call
     */
    public static void causalConv1d(CausalConv1dArgs a) {
        a.checkBounds();
        int status =
                CpuLibrary.mops_cpu_causal_conv1d(
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
        check(status, CausalConv1dArgs.OP, a::shapes);
    }

    /**
     * Runs one decoding step of the causal conv1d (see {@link CausalConv1dUpdateArgs}).
     *
     * @param a the checked arguments
     * @throws IllegalArgumentException if a tensor lies outside its memory
     * @throws NativeOpException if the native library refuses the call
     */
    public static void causalConv1dUpdate(CausalConv1dUpdateArgs a) {
        a.checkBounds();
        int status =
                CpuLibrary.mops_cpu_causal_conv1d_update(
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
        check(status, CausalConv1dUpdateArgs.OP, a::shapes);
    }

    /**
     * Runs the Mamba-1 selective scan (see {@link SelectiveScanArgs}).
     *
     * @param a the checked arguments
     * @throws IllegalArgumentException if a tensor lies outside its memory
     * @throws NativeOpException if the native library refuses the call
     */
    public static void selectiveScan(SelectiveScanArgs a) {
        a.checkBounds();
        int status =
                CpuLibrary.mops_cpu_selective_scan(
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
        check(status, SelectiveScanArgs.OP, a::shapes);
    }

    /**
     * Runs one decoding step of the Mamba-1 scan (see {@link SelectiveStateUpdateArgs}).
     *
     * @param a the checked arguments
     * @throws IllegalArgumentException if a tensor lies outside its memory
     * @throws NativeOpException if the native library refuses the call
     */
    public static void selectiveStateUpdate(SelectiveStateUpdateArgs a) {
        a.checkBounds();
        int status =
                CpuLibrary.mops_cpu_selective_state_update(
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
        check(status, SelectiveStateUpdateArgs.OP, a::shapes);
    }

    /**
     * Runs one decoding step of the Mamba-1 scan with its {@code dt_proj} folded in (see {@link
     * SelectiveStateUpdateProjectedArgs}).
     *
     * @param a the checked arguments
     * @throws IllegalArgumentException if a tensor lies outside its memory
     * @throws NativeOpException if the native library refuses the call
     */
    public static void selectiveStateUpdateProjected(SelectiveStateUpdateProjectedArgs a) {
        a.checkBounds();
        int status =
                CpuLibrary.mops_cpu_selective_state_update_projected(
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
        check(status, SelectiveStateUpdateProjectedArgs.OP, a::shapes);
    }

    /**
     * Runs the Mamba-2 chunked SSD (see {@link SsdArgs}).
     *
     * @param a the checked arguments
     * @throws IllegalArgumentException if a tensor lies outside its memory
     * @throws NativeOpException if the native library refuses the call
     */
    public static void ssd(SsdArgs a) {
        a.checkBounds();
        int status =
                CpuLibrary.mops_cpu_ssd(
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
        check(status, SsdArgs.OP, a::shapes);
    }

    /**
     * Runs one decoding step of Mamba-2 (see {@link SsdStateUpdateArgs}).
     *
     * @param a the checked arguments
     * @throws IllegalArgumentException if a tensor lies outside its memory
     * @throws NativeOpException if the native library refuses the call
     */
    public static void ssdStateUpdate(SsdStateUpdateArgs a) {
        a.checkBounds();
        int status =
                CpuLibrary.mops_cpu_ssd_state_update(
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
        check(status, SsdStateUpdateArgs.OP, a::shapes);
    }

    /**
     * Runs the gated RMSNorm (see {@link RmsNormGatedArgs}).
     *
     * @param a the checked arguments
     * @throws IllegalArgumentException if a tensor lies outside its memory
     * @throws NativeOpException if the native library refuses the call
     */
    public static void rmsNormGated(RmsNormGatedArgs a) {
        a.checkBounds();
        int status =
                CpuLibrary.mops_cpu_rms_norm_gated(
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
        check(status, RmsNormGatedArgs.OP, a::shapes);
    }

    /**
     * Runs RMSNorm fused with the residual add (see {@link AddRmsNormArgs}).
     *
     * @param a the checked arguments
     * @throws IllegalArgumentException if a tensor lies outside its memory
     * @throws NativeOpException if the native library refuses the call
     */
    public static void addRmsNorm(AddRmsNormArgs a) {
        a.checkBounds();
        int status =
                CpuLibrary.mops_cpu_add_rms_norm(
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
        check(status, AddRmsNormArgs.OP, a::shapes);
    }

    /**
     * Copies memory with all OpenMP threads: the bandwidth floor of the memory-bound kernels.
     *
     * @param dst the destination, at least {@code bytes} long
     * @param src the source, at least {@code bytes} long, not overlapping dst
     * @param bytes the number of bytes
     * @throws IllegalArgumentException if either tensor holds fewer than {@code bytes} bytes
     */
    public static void copy(NativeTensor dst, NativeTensor src, long bytes) {
        if (bytes < 0 || dst.capacityBytes() < bytes || src.capacityBytes() < bytes) {
            throw new IllegalArgumentException(
                    "copy of "
                            + bytes
                            + " bytes from "
                            + src.describe()
                            + " to "
                            + dst.describe()
                            + " does not fit");
        }
        check(CpuLibrary.mops_cpu_memcpy(dst.pointer(), src.pointer(), bytes), "copy");
    }

    static void check(int status, String op) {
        check(status, op, () -> "");
    }

    /** Throws for a non-zero status; the arguments are described only then. */
    static void check(int status, String op, Supplier<String> shapes) {
        if (status != 0) {
            throw new NativeOpException(
                    op, Status.of(status), CpuLibrary.mops_last_error(), shapes.get());
        }
    }
}
