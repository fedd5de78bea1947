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

    void selectiveStateUpdateProjected(SelectiveStateUpdateProjectedArgs a);

    /**
     * The engine's product {@code dt[b, d] = sum_r low[b, r] * weight[d, r]} in the inputs' dtype
     * (the matmul of {@code low} by the transposed weight), into a contiguous {@code dt}: the
     * {@code dt_proj} that the projected step folds in.
     */
    void dtProjection(NativeTensor low, NativeTensor weight, NativeTensor dt);

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
                public void selectiveStateUpdateProjected(SelectiveStateUpdateProjectedArgs a) {
                    CpuKernels.selectiveStateUpdateProjected(a);
                }

                @Override
                public void dtProjection(NativeTensor low, NativeTensor weight, NativeTensor dt) {
                    CpuTensorOps.matmul(
                            TensorDType.valueOf(low.dtype().name()),
                            1,
                            low.size(0),
                            weight.size(0),
                            low.size(1),
                            low.address(),
                            new long[] {0, low.stride(0), low.stride(1)},
                            weight.address(),
                            new long[] {0, weight.stride(1), weight.stride(0)},
                            dt.address());
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
