package io.github.mambadjl.engine;

import ai.djl.ndarray.NDArray;
import io.github.mambadjl.nativeops.CausalConv1dArgs;
import io.github.mambadjl.nativeops.CausalConv1dUpdateArgs;
import io.github.mambadjl.nativeops.CpuKernels;
import io.github.mambadjl.nativeops.CudaKernels;
import io.github.mambadjl.nativeops.RmsNormGatedArgs;
import io.github.mambadjl.nativeops.SelectiveScanArgs;
import io.github.mambadjl.nativeops.SelectiveStateUpdateArgs;
import io.github.mambadjl.nativeops.SelectiveStateUpdateProjectedArgs;
import io.github.mambadjl.nativeops.SsdArgs;
import io.github.mambadjl.nativeops.SsdStateUpdateArgs;

/**
 * Runs one native SSM kernel where an array lives: the CPU kernels ({@link CpuKernels}) for host
 * arrays, the CUDA kernels ({@link CudaKernels}, same argument records) on the device's engine
 * stream for GPU arrays. The engine's {@code SsmKernels} provider builds the arguments from arrays
 * of one device and calls these methods with one of those arrays as the anchor.
 */
final class SsmKernelDispatch {

    private SsmKernelDispatch() {}

    /** The engine stream of the anchor's GPU, or {@code null} for a host array. */
    private static CudaBackend gpu(NDArray anchor) {
        if (!(anchor instanceof MambaNDArray)) {
            throw new IllegalArgumentException("the SSM kernels need arrays of the Mamba engine");
        }
        Backend b = ((MambaNDArray) anchor).backend();
        return b instanceof CudaBackend ? (CudaBackend) b : null;
    }

    static void causalConv1d(NDArray anchor, CausalConv1dArgs a) {
        CudaBackend g = gpu(anchor);
        if (g == null) {
            CpuKernels.causalConv1d(a);
        } else {
            CudaKernels.causalConv1d(g.streamPointer(), a);
        }
    }

    static void causalConv1dUpdate(NDArray anchor, CausalConv1dUpdateArgs a) {
        CudaBackend g = gpu(anchor);
        if (g == null) {
            CpuKernels.causalConv1dUpdate(a);
        } else {
            CudaKernels.causalConv1dUpdate(g.streamPointer(), a);
        }
    }

    static void selectiveScan(NDArray anchor, SelectiveScanArgs a) {
        CudaBackend g = gpu(anchor);
        if (g == null) {
            CpuKernels.selectiveScan(a);
        } else {
            CudaKernels.selectiveScan(g.streamPointer(), a);
        }
    }

    static void selectiveStateUpdate(NDArray anchor, SelectiveStateUpdateArgs a) {
        CudaBackend g = gpu(anchor);
        if (g == null) {
            CpuKernels.selectiveStateUpdate(a);
        } else {
            CudaKernels.selectiveStateUpdate(g.streamPointer(), a);
        }
    }

    static void selectiveStateUpdateProjected(NDArray anchor, SelectiveStateUpdateProjectedArgs a) {
        CudaBackend g = gpu(anchor);
        if (g == null) {
            CpuKernels.selectiveStateUpdateProjected(a);
        } else {
            CudaKernels.selectiveStateUpdateProjected(g.streamPointer(), a);
        }
    }

    static void ssd(NDArray anchor, SsdArgs a) {
        CudaBackend g = gpu(anchor);
        if (g == null) {
            CpuKernels.ssd(a);
        } else {
            CudaKernels.ssd(g.streamPointer(), a);
        }
    }

    static void ssdStateUpdate(NDArray anchor, SsdStateUpdateArgs a) {
        CudaBackend g = gpu(anchor);
        if (g == null) {
            CpuKernels.ssdStateUpdate(a);
        } else {
            CudaKernels.ssdStateUpdate(g.streamPointer(), a);
        }
    }

    static void rmsNormGated(NDArray anchor, RmsNormGatedArgs a) {
        CudaBackend g = gpu(anchor);
        if (g == null) {
            CpuKernels.rmsNormGated(a);
        } else {
            CudaKernels.rmsNormGated(g.streamPointer(), a);
        }
    }
}
