package io.github.mambadjl.engine;

import ai.djl.Device;
import ai.djl.engine.Engine;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/** The fused CUDA attention kernel against a float64 oracle. */
@Tag("gpu")
class FusedAttentionGpuTest {

    @Test
    void fusedKernelMatchesTheOracle() {
        try (NDManager gpu = Engine.getEngine("Mamba").newBaseManager(Device.gpu())) {
            // dims: batch, qHeads, kvHeads, qLen, kvLen, headDim
            FusedAttentionTest.check(
                    gpu, DataType.FLOAT32, new int[] {2, 8, 2, 5, 12, 64}, 7, 1e-5);
            // prefill without a cache, several key tiles, MHA
            FusedAttentionTest.check(
                    gpu, DataType.FLOAT32, new int[] {1, 4, 4, 300, 300, 128}, 0, 1e-5);
            // decode: one query over a long cache
            FusedAttentionTest.check(
                    gpu, DataType.FLOAT32, new int[] {1, 8, 2, 1, 4096, 128}, 4095, 1e-5);
            // long prefill after a cache, GQA 4:1
            FusedAttentionTest.check(
                    gpu, DataType.FLOAT32, new int[] {1, 8, 2, 700, 2048, 64}, 1348, 1e-5);
            // head sizes that are not 32, 64, 128 (partial last lane group), and the largest
            FusedAttentionTest.check(
                    gpu, DataType.FLOAT32, new int[] {2, 2, 1, 33, 40, 80}, 7, 1e-5);
            FusedAttentionTest.check(
                    gpu, DataType.FLOAT32, new int[] {1, 2, 1, 17, 17, 256}, 0, 1e-5);
            // storage types: float32 accumulation, one rounding of the output
            FusedAttentionTest.check(
                    gpu, DataType.BFLOAT16, new int[] {1, 8, 2, 64, 128, 128}, 64, 1e-2);
            FusedAttentionTest.check(
                    gpu, DataType.FLOAT16, new int[] {1, 8, 2, 64, 128, 128}, 64, 2e-3);
        }
    }
}
