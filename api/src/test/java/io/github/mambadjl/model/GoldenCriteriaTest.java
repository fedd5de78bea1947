package io.github.mambadjl.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.inference.Predictor;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.repository.zoo.Criteria;
import ai.djl.repository.zoo.ZooModel;
import ai.djl.translate.NoopTranslator;
import io.github.mambadjl.checkpoint.SafetensorsFile;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Every golden fixture through the external contract: DJL Criteria, the PyTorch engine and {@link
 * MambaBlockFactory}; logits and every hidden state within 1e-4 of transformers.
 */
class GoldenCriteriaTest {

    static final double TOL = 1e-4;

    static Criteria<NDList, NDList> criteria(String model, boolean hidden) {
        Criteria.Builder<NDList, NDList> b =
                Criteria.builder()
                        .setTypes(NDList.class, NDList.class)
                        .optModelPath(Fixtures.root().resolve(model))
                        .optEngine("PyTorch")
                        .optArgument("blockFactory", "io.github.mambadjl.model.MambaBlockFactory")
                        .optTranslator(new NoopTranslator());
        if (hidden) {
            b.optArgument(MambaBlockFactory.OUTPUT_HIDDEN_STATES, "true");
        }
        return b.build();
    }

    @ParameterizedTest
    @ValueSource(
            strings = {
                "mamba-tiny",
                "mamba-tiny-ssm",
                "mamba2-tiny",
                "mamba2-mistral-tiny",
                "bamba-tiny"
            })
    void logitsAndHiddenStatesMatchTransformers(String model) throws Exception {
        try (ZooModel<NDList, NDList> zoo = criteria(model, true).loadModel();
                Predictor<NDList, NDList> predictor = zoo.newPredictor();
                NDManager manager = NDManager.newBaseManager("PyTorch");
                SafetensorsFile golden = SafetensorsFile.open(Fixtures.goldens(model))) {
            NDArray ids = golden.tensor("input_ids").toNDArray(manager);
            NDList out = predictor.predict(new NDList(ids));
            NDArray logits = out.get(0);
            assertEquals(DataType.FLOAT32, logits.getDataType());
            NDArray expected = golden.tensor("logits").toNDArray(manager);
            assertEquals(expected.getShape(), logits.getShape());
            assertClose(model + " logits", expected, logits);
            int layers = out.size() - 1;
            for (int i = 0; i < layers; i++) {
                assertClose(
                        model + " hidden_states." + i,
                        golden.tensor("hidden_states." + i).toNDArray(manager),
                        out.get(i + 1));
            }
            assertTrue(golden.names().contains("hidden_states." + (layers - 1)));
            assertTrue(!golden.names().contains("hidden_states." + layers));
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"mamba-tiny", "bamba-tiny"})
    void plainCriteriaReturnsOnlyLogitsAndAcceptsAMask(String model) throws Exception {
        try (ZooModel<NDList, NDList> zoo = criteria(model, false).loadModel();
                Predictor<NDList, NDList> predictor = zoo.newPredictor();
                NDManager manager = NDManager.newBaseManager("PyTorch");
                SafetensorsFile golden = SafetensorsFile.open(Fixtures.goldens(model))) {
            NDArray ids = golden.tensor("input_ids").toNDArray(manager);
            NDList out = predictor.predict(new NDList(ids, ids.onesLike()));
            assertEquals(1, out.size());
            assertClose(model, golden.tensor("logits").toNDArray(manager), out.get(0));
        }
    }

    static void assertClose(String what, NDArray expected, NDArray actual) {
        assertEquals(expected.getShape(), actual.getShape(), what + " shape");
        double diff =
                expected.toType(DataType.FLOAT64, false)
                        .sub(actual.toType(DataType.FLOAT64, false))
                        .abs()
                        .max()
                        .getDouble();
        assertTrue(diff <= TOL, what + ": max abs difference " + diff + " > " + TOL);
    }
}
