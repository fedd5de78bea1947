package io.github.mambadjl.nativeops;

import org.junit.jupiter.api.Tag;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The CUDA selective scan and its state update: the same cases as {@link SelectiveScanCpuTest}, run
 * on the GPU, plus shapes that cross the kernel's blocks (32 rows of one batch and group for N 16),
 * its shared-memory tiles (8 to 32 steps), its lane layouts (1 to 32 lanes per row) and the
 * single-step kernel (length 1).
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

    @ParameterizedTest(
            name = "b {0} d {1} l {2} n {3} g {4} z {5} bias {6} softplus {7} [b,l,d] {8} {9}")
    @CsvSource({
        "2, 150, 97, 16, 1, true, true, true, false, BFLOAT16",
        "2, 150, 97, 16, 2, true, true, true, true, FLOAT32",
        "1, 70, 65, 128, 1, false, true, true, false, FLOAT32",
        "1, 9, 33, 256, 1, true, false, true, true, FLOAT16",
        "3, 66, 40, 64, 3, true, true, true, false, FLOAT32",
        "2, 40, 50, 5, 4, false, false, true, false, FLOAT32",
        "2, 70, 1, 16, 2, true, true, true, false, BFLOAT16",
        "1, 8, 1, 200, 1, false, true, true, true, FLOAT32"
    })
    void gpuBlocksAndTilesMatchOracle(
            int batch,
            int dim,
            int len,
            int n,
            int groups,
            boolean withZ,
            boolean withBias,
            boolean softplus,
            boolean transposed,
            DType dtype) {
        matchesFloat64Oracle(
                batch, dim, len, n, groups, withZ, withBias, softplus, transposed, dtype);
    }
}
