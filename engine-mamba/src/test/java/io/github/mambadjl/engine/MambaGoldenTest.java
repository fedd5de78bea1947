package io.github.mambadjl.engine;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.inference.Predictor;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.nn.Parameter;
import ai.djl.repository.zoo.ZooModel;
import io.github.mambadjl.checkpoint.SafetensorsFile;
import io.github.mambadjl.checkpoint.TensorData;
import io.github.mambadjl.generate.GenerationConfig;
import io.github.mambadjl.generate.GenerationResult;
import io.github.mambadjl.generate.Generator;
import io.github.mambadjl.model.CausalLM;
import java.util.Arrays;
import java.util.Map;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Every golden fixture through the contract of the blocks issue on the Mamba engine: DJL Criteria
 * with {@code optEngine("Mamba")}, no block factory; logits, every hidden state and the step logits
 * of greedy decoding within 1e-4 of transformers (float64), generated ids identical.
 */
class MambaGoldenTest {

    static final double TOL = 1e-4;

    @ParameterizedTest
    @MethodSource("io.github.mambadjl.engine.Goldens#models")
    void logitsAndHiddenStatesMatchTransformers(String model) throws Exception {
        try (ZooModel<NDList, NDList> zoo =
                        Goldens.criteria(Goldens.model(model))
                                .optArgument("outputHiddenStates", "true")
                                .build()
                                .loadModel();
                Predictor<NDList, NDList> predictor = zoo.newPredictor();
                NDManager manager = zoo.getNDManager().newSubManager();
                SafetensorsFile golden = SafetensorsFile.open(Goldens.goldens(model))) {
            assertInstanceOf(MambaModel.class, zoo.getWrappedModel());
            assertInstanceOf(CausalLM.class, zoo.getBlock());
            NDArray ids = golden.tensor("input_ids").toNDArray(manager);
            NDList out = predictor.predict(new NDList(ids));
            out.attach(manager);
            NDArray logits = out.get(0);
            assertInstanceOf(MambaNDArray.class, logits, "the logits are the engine's");
            assertEquals(DataType.FLOAT32, logits.getDataType());
            double worst = Goldens.maxDiff(model + " logits", golden.tensor("logits"), logits);
            assertTrue(worst <= TOL, model + " logits differ by " + worst);
            int layers = out.size() - 1;
            assertTrue(golden.names().contains("hidden_states." + (layers - 1)));
            assertTrue(!golden.names().contains("hidden_states." + layers));
            for (int i = 0; i < layers; i++) {
                String name = "hidden_states." + i;
                double d = Goldens.maxDiff(model + " " + name, golden.tensor(name), out.get(i + 1));
                assertTrue(d <= TOL, model + " " + name + " differs by " + d);
            }
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"mamba-tiny", "mamba2-tiny", "bamba-tiny"})
    void plainCriteriaReturnsOnlyLogitsAndAcceptsAMask(String model) throws Exception {
        try (ZooModel<NDList, NDList> zoo =
                        Goldens.criteria(Goldens.model(model)).build().loadModel();
                Predictor<NDList, NDList> predictor = zoo.newPredictor();
                NDManager manager = zoo.getNDManager().newSubManager();
                SafetensorsFile golden = SafetensorsFile.open(Goldens.goldens(model))) {
            NDArray ids = golden.tensor("input_ids").toNDArray(manager);
            NDList out = predictor.predict(new NDList(ids, ids.onesLike()));
            out.attach(manager);
            assertEquals(1, out.size());
            double worst = Goldens.maxDiff(model, golden.tensor("logits"), out.get(0));
            assertTrue(worst <= TOL, model + " logits differ by " + worst);
        }
    }

    /** The bytes of every A_log parameter: the model keeps -exp(A_log) after its first forward. */
    private static long stateMatrixBytes(CausalLM lm) {
        long bytes = 0;
        for (Map.Entry<String, Parameter> p : lm.namedParameters().entrySet()) {
            if (p.getKey().endsWith("A_log")) {
                NDArray a = p.getValue().getArray();
                bytes += a.getShape().size() * a.getDataType().getNumOfBytes();
            }
        }
        return bytes;
    }

    @ParameterizedTest
    @MethodSource("io.github.mambadjl.engine.Goldens#models")
    void greedyGenerationMatchesTransformers(String model) throws Exception {
        try (ZooModel<NDList, NDList> zoo =
                        Goldens.criteria(Goldens.model(model)).build().loadModel();
                SafetensorsFile golden = SafetensorsFile.open(Goldens.goldens(model))) {
            CausalLM lm = (CausalLM) zoo.getBlock();
            TensorData input = golden.tensor("input_ids");
            int promptLength = (int) input.shape()[1];
            long[] prompt = Arrays.copyOf(Goldens.longs(input), promptLength);
            long[] expected = Goldens.longs(golden.tensor("generated_ids"));
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
            long bytes = MambaNDManager.hostBytesInUse();
            GenerationResult result =
                    new Generator(lm, zoo.getNDManager()).generate(new long[][] {prompt}, config);
            assertEquals(
                    bytes + stateMatrixBytes(lm),
                    MambaNDManager.hostBytesInUse(),
                    "generation leaves no native memory behind (cache on the engine's arrays) but"
                            + " the state matrices A = -exp(A_log) kept with the model");
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
            assertTrue(worst <= TOL, model + " step logits differ by " + worst);
        }
    }
}
