package io.github.mambadjl.engine;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Device;
import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import io.github.mambadjl.checkpoint.Checkpoint;
import io.github.mambadjl.generate.GenerationConfig;
import io.github.mambadjl.generate.GenerationSession;
import io.github.mambadjl.generate.Generator;
import io.github.mambadjl.kernel.TokenSampling;
import io.github.mambadjl.model.CausalLM;
import java.util.HashSet;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Sampled generation with the tokens chosen by the engine ({@link TokenSampling}) draws what the
 * generator's host sampler draws from the same seed: the host path is taken by asking for the
 * scores, which needs the logits on the host and changes nothing else. {@code
 * SampledGenerationGpuTest} runs the same on the GPU, where the steps are also recorded.
 */
class SampledGenerationTest {

    Device device() {
        return Device.cpu();
    }

    @ParameterizedTest(name = "{0}: T {1}, top-k {2}, top-p {3}, min-p {4}")
    @CsvSource({
        "mamba-tiny, 1.0, 0, 1.0, 0.0",
        "mamba-tiny, 0.7, 20, 0.9, 0.0",
        "mamba2-tiny, 1.3, 0, 0.8, 0.05",
        "mamba2-mistral-tiny, 0.9, 5, 1.0, 0.0",
        "bamba-tiny, 1.1, 0, 0.95, 0.02"
    })
    void engineSamplingDrawsWhatTheHostSamplerDraws(
            String model, float temperature, int topK, float topP, float minP) throws Exception {
        try (NDManager manager = Engine.getEngine("Mamba").newBaseManager(device());
                Checkpoint checkpoint = Checkpoint.open(Goldens.root().resolve(model))) {
            CausalLM lm = CausalLM.fromConfig(checkpoint.config());
            lm.loadWeights(checkpoint, manager, DataType.FLOAT32);
            Generator generator = new Generator(lm, manager);
            long vocab = lm.config().vocabSize();
            long[][] prompts = {{1, 5, 9, 2}, {(7 % vocab), 3, 3, 8}};
            GenerationConfig.Builder settings =
                    GenerationConfig.builder()
                            .optMaxNewTokens(20)
                            .optSample(temperature)
                            .optTopK(topK)
                            .optTopP(topP)
                            .optMinP(minP)
                            .optSeed(1234);
            long[][] onEngine;
            try (GenerationSession session = generator.start(prompts, settings.build())) {
                session.finish(null);
                onEngine = session.result().sequences();
                assertEquals(recordsSampledSteps(), session.isRecorded());
            }
            long[][] onHost;
            try (GenerationSession session =
                    generator.start(prompts, settings.optOutputScores(true).build())) {
                session.finish(null);
                assertFalse(session.isRecorded());
                onHost = session.result().sequences();
            }
            assertArrayEquals(onHost[0], onEngine[0], model + " row 0");
            assertArrayEquals(onHost[1], onEngine[1], model + " row 1");
            Set<Long> distinct = new HashSet<>();
            for (int i = prompts[0].length; i < onEngine[0].length; i++) {
                distinct.add(onEngine[0][i]);
            }
            if (topK != 1) {
                assertTrue(distinct.size() > 1, "sampling chose one token only: " + distinct);
            }
        }
    }

    /** Whether sampled decoding steps are recorded on this device (Bamba's in pieces). */
    boolean recordsSampledSteps() {
        return false;
    }

    @Test
    void theEngineSamplesWhereItsArraysAre() {
        try (NDManager manager = Engine.getEngine("Mamba").newBaseManager(device())) {
            NDArray logits = manager.create(new float[] {0f, 0f, 5f, 0f, 9f, 1f}, new Shape(2, 3));
            TokenSampling sampling = TokenSampling.of(logits);
            assertNotNull(sampling);
            NDArray draws = manager.create(new long[] {0, (1L << 53) - 1}, new Shape(2));
            NDArray tokens = sampling.sampleTokens(logits, draws, 1f, 1, 1f, 0f);
            assertEquals(device(), tokens.getDevice());
            assertArrayEquals(new long[] {2, 1}, tokens.toLongArray());
            IllegalArgumentException e =
                    assertThrows(
                            IllegalArgumentException.class,
                            () -> sampling.sampleTokens(logits, draws, 0f, 0, 1f, 0f));
            assertTrue(e.getMessage().contains("temperature"), e.getMessage());
            e =
                    assertThrows(
                            IllegalArgumentException.class,
                            () ->
                                    sampling.sampleTokens(
                                            logits,
                                            manager.create(new long[] {0}, new Shape(1)),
                                            1f,
                                            0,
                                            1f,
                                            0f));
            assertTrue(e.getMessage().contains("one per row"), e.getMessage());
        }
    }
}
