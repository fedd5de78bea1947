package io.github.mambadjl.nativeops;

import org.junit.jupiter.api.Tag;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The CUDA chunked SSD and its state update: the same cases as {@link SsdCpuTest}, run on the GPU,
 * plus shapes that cross the kernel's blocks, tiles and chunks (chunk size 16), and single steps.
 */
@Tag("gpu")
class SsdGpuTest extends SsdCpuTest {

    private final Backend gpu = new GpuBackend();

    @Override
    Backend backend() {
        return gpu;
    }

    @ParameterizedTest(name = "b {0} l {1} h {2} p {3} g {4} n {5} z {6} D[h,p] {7} packed {8} {9}")
    @CsvSource({
        "2, 100, 4, 64, 2, 128, true, true, true, BFLOAT16",
        "1, 67, 6, 32, 3, 64, true, false, false, FLOAT32",
        "1, 33, 2, 16, 1, 256, false, true, true, FLOAT16",
        "2, 48, 3, 24, 1, 16, true, false, false, FLOAT32",
        // one step: the decoding kernel (a warp per 4 head channels where headdim allows)
        "2, 1, 3, 8, 3, 128, true, true, true, BFLOAT16",
        "1, 1, 2, 4, 1, 256, false, false, false, FLOAT32",
        "3, 1, 4, 6, 2, 40, true, false, true, FLOAT16"
    })
    void gpuBlocksAndChunksMatchOracle(
            int batch,
            int len,
            int heads,
            int headdim,
            int groups,
            int n,
            boolean withZ,
            boolean dPerChannel,
            boolean packed,
            DType dtype) {
        matchesFloat64Oracle(
                batch, len, heads, headdim, groups, n, withZ, dPerChannel, packed, dtype);
    }
}
