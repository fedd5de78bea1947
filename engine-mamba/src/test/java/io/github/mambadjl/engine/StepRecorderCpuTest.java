package io.github.mambadjl.engine;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Device;
import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import io.github.mambadjl.checkpoint.Checkpoint;
import io.github.mambadjl.generate.GenerationConfig;
import io.github.mambadjl.generate.GenerationSession;
import io.github.mambadjl.generate.Generator;
import io.github.mambadjl.kernel.StepRecorder;
import io.github.mambadjl.model.CausalLM;
import java.nio.file.Paths;
import org.junit.jupiter.api.Test;

/** On the CPU the Mamba engine records no steps: greedy decoding runs every operation as before. */
class StepRecorderCpuTest {

    @Test
    void theCpuRecordsNothingAndSaysWhy() {
        try (NDManager manager = Engine.getEngine("Mamba").newBaseManager(Device.cpu())) {
            NDArray x = manager.create(new float[] {1, 2});
            assertNull(StepRecorder.of(x), "no recorder for CPU arrays");
            assertFalse(MambaSsmKernels.INSTANCE.canRecord(Device.cpu()));
            IllegalArgumentException e =
                    assertThrows(
                            IllegalArgumentException.class,
                            () ->
                                    MambaSsmKernels.INSTANCE.record(
                                            Device.cpu(), () -> new NDList(x)));
            assertTrue(e.getMessage().contains("GPU"), e.getMessage());
        }
    }

    @Test
    void greedyDecodingOnTheCpuIsNotRecorded() throws Exception {
        try (NDManager manager = Engine.getEngine("Mamba").newBaseManager(Device.cpu());
                Checkpoint checkpoint =
                        Checkpoint.open(
                                Paths.get(System.getProperty("mambadjl.fixtures"))
                                        .resolve("mamba2-tiny"))) {
            CausalLM lm = CausalLM.fromConfig(checkpoint.config());
            lm.loadWeights(checkpoint, manager, DataType.FLOAT32);
            try (GenerationSession session =
                    new Generator(lm, manager)
                            .start(
                                    new long[][] {{1, 2, 3}},
                                    GenerationConfig.builder().optMaxNewTokens(10).build())) {
                session.finish(null);
                assertFalse(session.isRecorded());
                assertTrue(session.result().newTokens()[0].length == 10);
            }
        }
    }
}
