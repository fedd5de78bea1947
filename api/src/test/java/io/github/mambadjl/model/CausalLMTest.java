package io.github.mambadjl.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.ParameterStore;
import io.github.mambadjl.config.Mamba2Config;
import io.github.mambadjl.config.MambaConfig;
import io.github.mambadjl.config.TimeStepLimit;
import org.junit.jupiter.api.Test;

/** The causal LM block: padded vocabularies, tied heads, shapes, hidden-state outputs. */
class CausalLMTest {

    private static MambaConfig config(int vocab, int padded, boolean tied) {
        return new MambaConfig(
                vocab, padded, 16, 3, 4, 2, 32, 4, false, true, "silu", 1, 1.0, 0.001, 0.1, 1e-4,
                "random", 1e-5, true, tied, 0.02, false, null, null, null);
    }

    @Test
    void paddedVocabularyRowsAreTrimmedFromTheLogits() {
        CausalLM lm = CausalLM.fromConfig(config(90, 96, false));
        try (NDManager manager = NDManager.newBaseManager("PyTorch")) {
            Shape ids = new Shape(2, 5);
            lm.initialize(manager, DataType.FLOAT32, ids);
            assertEquals(
                    new Shape(96, 16),
                    lm.namedParameters().get("lm_head.weight").getArray().getShape());
            NDArray input = manager.arange(0, 10, 1, DataType.INT64).reshape(ids);
            NDList out = lm.forward(new ParameterStore(manager, false), new NDList(input), false);
            assertEquals(new Shape(2, 5, 90), out.head().getShape());
            assertArrayEquals(
                    new Shape[] {new Shape(2, 5, 90)}, lm.getOutputShapes(new Shape[] {ids}));
        }
    }

    @Test
    void tiedModelsHaveNoHeadAndHiddenStatesAreOptional() {
        CausalLM lm = CausalLM.fromConfig(config(64, 64, true));
        assertFalse(lm.namedParameters().containsKey("lm_head.weight"));
        assertTrue(lm.namedParameters().containsKey("backbone.layers.2.mixer.A_log"));
        assertTrue(lm.namedParameters().containsKey("backbone.norm_f.weight"));
        try (NDManager manager = NDManager.newBaseManager("PyTorch")) {
            Shape ids = new Shape(1, 4);
            lm.initialize(manager, DataType.FLOAT32, ids);
            lm.setOutputHiddenStates(true);
            NDArray input = manager.arange(0, 4, 1, DataType.INT64).reshape(ids);
            NDList out = lm.forward(new ParameterStore(manager, false), new NDList(input), false);
            assertEquals(5, out.size(), "logits and 3 layers + final norm");
            assertEquals(5, lm.getOutputShapes(new Shape[] {ids}).length);
            assertEquals(new Shape(1, 4, 16), out.get(4).getShape());
            // tied: the logits are the final hidden state times the embedding
            NDArray embedding = lm.namedParameters().get("backbone.embeddings.weight").getArray();
            NDArray expected = out.get(4).matMul(embedding.transpose());
            assertEquals(0f, expected.sub(out.get(0)).abs().max().getFloat(), 1e-6f);
        }
    }

    @Test
    void layerNormMamba2IsRejectedWithAReason() {
        Mamba2Config layerNorm =
                new Mamba2Config(
                        64,
                        64,
                        16,
                        1,
                        2,
                        16,
                        1,
                        4,
                        2,
                        32,
                        4,
                        8,
                        false,
                        true,
                        "silu",
                        0.001,
                        0.1,
                        1e-4,
                        TimeStepLimit.NONE,
                        false,
                        false,
                        1e-5,
                        true,
                        true,
                        0.02,
                        null,
                        null,
                        null);
        IllegalArgumentException e =
                assertThrows(IllegalArgumentException.class, () -> CausalLM.fromConfig(layerNorm));
        assertTrue(e.getMessage().contains("rms_norm"), e.getMessage());
    }
}
