package io.github.mambadjl.nativeops;

import org.junit.jupiter.api.Tag;

/**
 * The CUDA conv1d update and the long conv: the same cases as {@link CausalConv1dUpdateCpuTest},
 * run on the GPU.
 */
@Tag("gpu")
class CausalConv1dUpdateGpuTest extends CausalConv1dUpdateCpuTest {

    private final Backend gpu = new GpuBackend();

    @Override
    Backend backend() {
        return gpu;
    }

    @Override
    int longLength() {
        return 1_048_576;
    }
}
