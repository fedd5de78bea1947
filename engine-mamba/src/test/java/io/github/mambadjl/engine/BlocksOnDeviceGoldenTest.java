package io.github.mambadjl.engine;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Device;
import ai.djl.engine.Engine;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import io.github.mambadjl.checkpoint.Checkpoint;
import io.github.mambadjl.checkpoint.SafetensorsFile;
import io.github.mambadjl.checkpoint.TensorData;
import io.github.mambadjl.generate.GenerationConfig;
import io.github.mambadjl.generate.GenerationResult;
import io.github.mambadjl.generate.Generator;
import io.github.mambadjl.model.CausalLM;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.Arrays;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The blocks and the generator of the {@code api} module on the Mamba engine's arrays: greedy
 * generation with the cache on the device gives transformers' tokens and step logits (float32,
 * 1e-4) for the golden tiny models, on the CPU and on the GPU.
 */
class BlocksOnDeviceGoldenTest {

    private static final double TOL = 1e-4;

    static void generate(String model, Device device) throws Exception {
        Path root = Paths.get(System.getProperty("mambadjl.fixtures"));
        Path goldens =
                root.resolve(model.equals("mamba-tiny-ssm") ? "mamba-tiny" : model)
                        .resolve("golden.safetensors");
        try (NDManager manager = Engine.getEngine("Mamba").newBaseManager(device);
                Checkpoint checkpoint = Checkpoint.open(root.resolve(model));
                SafetensorsFile golden = SafetensorsFile.open(goldens)) {
            CausalLM lm = CausalLM.fromConfig(checkpoint.config());
            lm.loadWeights(checkpoint, manager, DataType.FLOAT32);
            TensorData input = golden.tensor("input_ids");
            int promptLength = (int) input.shape()[1];
            long[] prompt = Arrays.copyOf(longs(input), promptLength);
            long[] expected = longs(golden.tensor("generated_ids"));
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
            assertTrue(worst <= TOL, model + " on " + device + ": logits differ by " + worst);
        }
    }

    private static long[] longs(TensorData t) {
        long[] out = new long[(int) t.numel()];
        t.data().asLongBuffer().get(out);
        return out;
    }

    @ParameterizedTest
    @ValueSource(strings = {"mamba-tiny", "mamba2-tiny", "bamba-tiny"})
    void onTheCpu(String model) throws Exception {
        generate(model, Device.cpu());
    }

    @ParameterizedTest
    @MethodSource("io.github.mambadjl.engine.Goldens#models")
    @Tag("gpu")
    void onTheGpu(String model) throws Exception {
        generate(model, Device.gpu());
    }
}
