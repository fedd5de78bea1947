package io.github.mambadjl.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.ParameterStore;
import io.github.mambadjl.cache.InferenceCache;
import io.github.mambadjl.checkpoint.Checkpoint;
import java.util.Random;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Logits for the last positions only ({@code logitsToKeep}), as transformers' logits_to_keep. */
class LogitsToKeepTest {

    private NDManager manager;
    private ParameterStore ps;

    @BeforeEach
    void setUp() {
        manager = NDManager.newBaseManager("PyTorch");
        ps = new ParameterStore(manager, false);
    }

    @AfterEach
    void tearDown() {
        manager.close();
    }

    private CausalLM load(String model) throws Exception {
        try (Checkpoint checkpoint = Checkpoint.open(Fixtures.root().resolve(model))) {
            CausalLM lm = CausalLM.fromConfig(checkpoint.config());
            lm.loadWeights(checkpoint, manager, DataType.FLOAT32);
            return lm;
        }
    }

    private NDArray randomIds(int batch, int length) {
        Random random = new Random(11);
        long[] ids = new long[batch * length];
        for (int i = 0; i < ids.length; i++) {
            ids[i] = 1 + random.nextInt(95);
        }
        return manager.create(ids, new Shape(batch, length));
    }

    private static void assertEqualLogits(NDArray want, NDArray got) {
        assertEquals(want.getShape(), got.getShape());
        float[] a = want.toFloatArray();
        float[] b = got.toFloatArray();
        for (int i = 0; i < a.length; i++) {
            assertEquals(a[i], b[i], 1e-6 * Math.max(1, Math.abs(a[i])), "logit " + i);
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"mamba-tiny", "mamba2-tiny", "bamba-tiny"})
    void keptLogitsAreTheLastPositionsOfAllLogits(String model) throws Exception {
        CausalLM lm = load(model);
        NDArray ids = randomIds(2, 9);
        NDArray all = lm.forward(ps, ids, null, null, false, false).logits();
        assertEqualLogits(
                all.get(":, -1:, :"), lm.forward(ps, ids, null, null, false, false, 1).logits());
        assertEqualLogits(
                all.get(":, -3:, :"), lm.forward(ps, ids, null, null, false, false, 3).logits());
        assertEqualLogits(all, lm.forward(ps, ids, null, null, false, false, 9).logits());
        assertEqualLogits(all, lm.forward(ps, ids, null, null, false, false, 50).logits());
        LanguageModelOutput out = lm.forward(ps, ids, null, null, true, false, 1);
        assertEquals(9, out.hiddenStates().get(0).getShape().get(1));
    }

    @Test
    void aPrefillWithTheLastLogitsLeavesTheCacheAsAFullOne() throws Exception {
        CausalLM lm = load("mamba-tiny");
        NDArray prompt = randomIds(1, 7);
        NDArray next = manager.create(new long[] {5}, new Shape(1, 1));
        try (InferenceCache full = lm.newCache(manager, 1);
                InferenceCache last = lm.newCache(manager, 1)) {
            lm.forward(ps, prompt, null, full, false, false);
            lm.forward(ps, prompt, null, last, false, false, 1);
            assertEqualLogits(
                    lm.forward(ps, next, null, full, false, false).logits(),
                    lm.forward(ps, next, null, last, false, false).logits());
        }
    }

    @Test
    void aNegativeCountIsRefused() throws Exception {
        CausalLM lm = load("mamba-tiny");
        IllegalArgumentException e =
                assertThrows(
                        IllegalArgumentException.class,
                        () -> lm.forward(ps, randomIds(1, 3), null, null, false, false, -1));
        assertTrue(e.getMessage().contains("logitsToKeep"), e.getMessage());
    }
}
