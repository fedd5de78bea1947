package io.github.mambadjl.nativeops;

import static io.github.mambadjl.nativeops.CausalConv1dArgs.ptr;

/**
 * The CPU kernels of {@code libmambaops.so}, with argument checks in Java (shapes, dtypes, memory
 * bounds) and the native status turned into a {@link NativeOpException}.
 */
public final class CpuKernels {

    private CpuKernels() {}

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
        check(status, CausalConv1dArgs.OP, a.shapes());
    }

    static void check(int status, String op, String shapes) {
        if (status != 0) {
            throw new NativeOpException(
                    op, Status.of(status), CpuLibrary.mops_last_error(), shapes);
        }
    }
}
