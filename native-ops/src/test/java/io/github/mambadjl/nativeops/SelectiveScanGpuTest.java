package io.github.mambadjl.nativeops;

import org.junit.jupiter.api.Tag;

/**
 * The CUDA selective scan and its state update: the same cases as {@link SelectiveScanCpuTest}, run
 * on the GPU.
 */
@Tag("gpu")
class SelectiveScanGpuTest extends SelectiveScanCpuTest {

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
