package io.github.mambadjl.nativeops;

import org.junit.jupiter.api.Tag;

/**
 * The CUDA gated RMSNorm and add+RMSNorm: the same cases as {@link RmsNormCpuTest}, run on the GPU.
 */
@Tag("gpu")
class RmsNormGpuTest extends RmsNormCpuTest {

    private final Backend gpu = new GpuBackend();

    @Override
    Backend backend() {
        return gpu;
    }
}
