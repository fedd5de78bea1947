package io.github.mambadjl.nativeops;

/**
 * Where a kernel test runs its kernels. Arguments are always host tensors; the CPU backend calls
 * the CPU kernels on them, the GPU backend mirrors them to the device, runs the CUDA kernel and
 * copies the results back.
 */
interface Backend {

    void causalConv1d(CausalConv1dArgs a);

    void causalConv1dUpdate(CausalConv1dUpdateArgs a);

    void selectiveScan(SelectiveScanArgs a);

    void selectiveStateUpdate(SelectiveStateUpdateArgs a);

    void ssd(SsdArgs a);

    void ssdStateUpdate(SsdStateUpdateArgs a);

    void rmsNormGated(RmsNormGatedArgs a);

    void addRmsNorm(AddRmsNormArgs a);

    /** The CPU kernels. */
    Backend CPU =
            new Backend() {
                @Override
                public void causalConv1d(CausalConv1dArgs a) {
                    CpuKernels.causalConv1d(a);
                }

                @Override
                public void causalConv1dUpdate(CausalConv1dUpdateArgs a) {
                    CpuKernels.causalConv1dUpdate(a);
                }

                @Override
                public void selectiveScan(SelectiveScanArgs a) {
                    CpuKernels.selectiveScan(a);
                }

                @Override
                public void selectiveStateUpdate(SelectiveStateUpdateArgs a) {
                    CpuKernels.selectiveStateUpdate(a);
                }

                @Override
                public void ssd(SsdArgs a) {
                    CpuKernels.ssd(a);
                }

                @Override
                public void ssdStateUpdate(SsdStateUpdateArgs a) {
                    CpuKernels.ssdStateUpdate(a);
                }

                @Override
                public void rmsNormGated(RmsNormGatedArgs a) {
                    CpuKernels.rmsNormGated(a);
                }

                @Override
                public void addRmsNorm(AddRmsNormArgs a) {
                    CpuKernels.addRmsNorm(a);
                }
            };
}
