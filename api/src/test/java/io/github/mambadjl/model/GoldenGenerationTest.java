package io.github.mambadjl.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.repository.zoo.ZooModel;
import io.github.mambadjl.checkpoint.SafetensorsFile;
import io.github.mambadjl.checkpoint.TensorData;
import io.github.mambadjl.generate.GenerationConfig;
import io.github.mambadjl.generate.GenerationResult;
import io.github.mambadjl.generate.Generator;
import java.util.Arrays;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Greedy generation through the cache equals transformers' tokens and step logits. */
class GoldenGenerationTest {

    @ParameterizedTest
    @ValueSource(
            strings = {
                "mamba-tiny",
                "mamba-tiny-ssm",
                "mamba2-tiny",
                "mamba2-mistral-tiny",
                "bamba-tiny"
            })
    void greedyGenerationMatchesTransformers(String model) throws Exception {
        try (ZooModel<NDList, NDList> zoo = GoldenCriteriaTest.criteria(model, false).loadModel();
                SafetensorsFile golden = SafetensorsFile.open(Fixtures.goldens(model))) {
            CausalLM lm = (CausalLM) zoo.getBlock();
            TensorData input = golden.tensor("input_ids");
            int promptLength = (int) input.shape()[1];
            long[] prompt = Arrays.copyOf(longs(input), promptLength);
            TensorData expectedIds = golden.tensor("generated_ids");
            long[] expected = longs(expectedIds);
            TensorData scores = golden.tensor("generated_scores");
            int steps = (int) scores.shape()[1];
            int vocab = (int) scores.shape()[2];
            Integer eos = lm.config().eosTokenId();
            GenerationConfig config =
                    GenerationConfig.builder()
                            .optMaxNewTokens(12)
                            .optStopTokenIds(eos == null ? new long[0] : new long[] {eos})
                            .optOutputScores(true)
                            .build();
            NDManager manager = zoo.getNDManager();
            GenerationResult result =
                    new Generator(lm, manager).generate(new long[][] {prompt}, config);
            assertArrayEquals(expected, result.sequences()[0], model + " generated ids");
            assertEquals(steps, result.scores().size());
            float[] expectedScores = scores.toFloatArray();
            double worst = 0;
            for (int s = 0; s < steps; s++) {
                float[] got = result.scores().get(s)[0];
                for (int v = 0; v < vocab; v++) {
                    worst = Math.max(worst, Math.abs(got[v] - expectedScores[s * vocab + v]));
                }
            }
            assertTrue(worst <= GoldenCriteriaTest.TOL, model + " step logits differ by " + worst);
        }
    }

    private static long[] longs(TensorData t) {
        long[] out = new long[(int) t.numel()];
        t.data().asLongBuffer().get(out);
        return out;
    }
}
