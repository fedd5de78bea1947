package io.github.mambadjl.engine;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Device;
import ai.djl.engine.Engine;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import io.github.mambadjl.checkpoint.Checkpoint;
import io.github.mambadjl.generate.GenerationConfig;
import io.github.mambadjl.generate.GenerationSession;
import io.github.mambadjl.generate.Generator;
import io.github.mambadjl.kernel.ReplayingRecorder;
import io.github.mambadjl.model.CausalLM;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Recorded sampled steps on the CPU engine, with a stand-in recorder that runs a recorded piece's
 * code again at every replay ({@link ReplayingRecorder}): the draws written before each replay
 * reach the engine's sampling, and the tokens are the host sampler's, for a model without attention
 * and for Bamba (its attention layers between the recorded pieces). On a GPU, {@code
 * SampledGenerationGpuTest} checks the same with real CUDA graphs.
 */
class RecordedSamplingCpuTest {

    @ParameterizedTest
    @ValueSource(strings = {"mamba2-tiny", "bamba-tiny"})
    void recordedSampledStepsDrawTheHostSamplersTokens(String model) throws Exception {
        try (NDManager manager = Engine.getEngine("Mamba").newBaseManager(Device.cpu());
                Checkpoint checkpoint = Checkpoint.open(Goldens.root().resolve(model))) {
            CausalLM lm = CausalLM.fromConfig(checkpoint.config());
            lm.loadWeights(checkpoint, manager, DataType.FLOAT32);
            Generator generator = new Generator(lm, manager);
            long[][] prompts = {{1, 5, 9, 2}, {7, 3, 3, 8}};
            GenerationConfig.Builder settings =
                    GenerationConfig.builder()
                            .optMaxNewTokens(16)
                            .optSample(0.9f)
                            .optTopK(30)
                            .optTopP(0.95f)
                            .optSeed(77);
            long[][] recorded;
            try (ReplayingRecorder replaying = ReplayingRecorder.install("Mamba");
                    GenerationSession session = generator.start(prompts, settings.build())) {
                session.finish(null);
                assertTrue(session.isRecorded(), model + ": the sampled steps were recorded");
                recorded = session.result().sequences();
            }
            try (GenerationSession session =
                    generator.start(prompts, settings.optOutputScores(true).build())) {
                session.finish(null);
                assertArrayEquals(session.result().sequences()[0], recorded[0], model + " row 0");
                assertArrayEquals(session.result().sequences()[1], recorded[1], model + " row 1");
            }
        }
    }
}
