package io.github.mambadjl.jmh;

import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Device;
import ai.djl.engine.Engine;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * {@link FastPathsAgreeTest} on the GPU with the real shapes (issue 8): a 4096-token prompt, long
 * enough for the chunked scan of Mamba-1 and the chunked SSD on tensor cores, read by the bfloat16
 * model in two pieces of 2048, then greedy steps recorded as a device graph. Four layers of each
 * shape (Bamba ten, so that its first attention layer, the tenth, is among them).
 */
@Tag("gpu")
class FastPathsAgreeGpuTest {

    @ParameterizedTest
    @CsvSource({"mamba-2.8b, 4", "mamba2-2.7b, 4", "codestral-7b, 4", "bamba-9b, 10"})
    void realShapesAgreeOnTheGpu(String name, int layers) {
        assertTrue(Engine.getEngine("Mamba").getGpuCount() > 0, "this test needs a GPU");
        FastPathsAgreeTest.check(ModelShapes.config(name, false, layers), Device.gpu(), 4096, 8);
    }
}
