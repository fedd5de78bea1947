package io.github.mambadjl.nativeops;

import org.junit.jupiter.api.Tag;

/**
 * The CUDA chunked SSD and its state update: the same cases as {@link SsdCpuTest}, run on the GPU.
 */
@Tag("gpu")
class SsdGpuTest extends SsdCpuTest {

    private final Backend gpu = new GpuBackend();

    @Override
    Backend backend() {
        return gpu;
    }
}
