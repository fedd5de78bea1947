package io.github.mambadjl.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.ParameterStore;
import io.github.mambadjl.cache.InferenceCache;
import io.github.mambadjl.checkpoint.Checkpoint;
import io.github.mambadjl.generate.GenerationConfig;
import io.github.mambadjl.generate.GenerationSession;
import io.github.mambadjl.generate.Generator;
import io.github.mambadjl.generate.RecordedDecodingStep;
import io.github.mambadjl.kernel.ReplayingRecorder;
import java.util.Random;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The inference cache: stepwise and split prefill, left padding, snapshot, restore and fork; logits
 * of the last positions only ({@code logitsToKeep}, as transformers' logits_to_keep).
 */
class CacheConsistencyTest {

    private static final double TOL = 2e-5;

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

    private NDArray randomIds(int batch, int length, long seed) {
        Random random = new Random(seed);
        long[] ids = new long[batch * length];
        for (int i = 0; i < ids.length; i++) {
            ids[i] = 1 + random.nextInt(95);
        }
        return manager.create(ids, new Shape(batch, length));
    }

    @ParameterizedTest
    @ValueSource(strings = {"mamba-tiny", "mamba2-tiny", "bamba-tiny"})
    void stepByStepAndSplitPrefillEqualOneCall(String model) throws Exception {
        CausalLM lm = load(model);
        NDArray ids = randomIds(2, 19, 7);
        NDArray full = lm.forward(ps, ids, null, null, false, false).logits();
        try (InferenceCache cache = lm.newCache(manager, 2)) {
            NDList steps = new NDList();
            for (int t = 0; t < 19; t++) {
                steps.add(
                        lm.forward(ps, ids.get(":, {}:{}", t, t + 1), null, cache, false, false)
                                .logits());
            }
            assertClose(full, NDArrays.concat(steps, 1));
            assertEquals(19, cache.position());
        }
        try (InferenceCache cache = lm.newCache(manager, 2)) {
            NDArray a = lm.forward(ps, ids.get(":, 0:11"), null, cache, false, false).logits();
            NDArray b = lm.forward(ps, ids.get(":, 11:17"), null, cache, false, false).logits();
            NDArray c = lm.forward(ps, ids.get(":, 17:"), null, cache, false, false).logits();
            assertClose(full, NDArrays.concat(new NDList(a, b, c), 1));
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"mamba-tiny", "mamba2-tiny", "bamba-tiny"})
    void leftPaddedRowsEqualTheirRowsAlone(String model) throws Exception {
        CausalLM lm = load(model);
        NDArray longRow = randomIds(1, 15, 11);
        NDArray shortRow = randomIds(1, 9, 12);
        NDArray padded =
                NDArrays.concat(
                        new NDList(manager.zeros(new Shape(1, 6), DataType.INT64), shortRow), 1);
        NDArray ids = NDArrays.concat(new NDList(longRow, padded), 0);
        NDArray mask =
                NDArrays.concat(
                        new NDList(
                                manager.ones(new Shape(1, 15), DataType.INT64),
                                NDArrays.concat(
                                        new NDList(
                                                manager.zeros(new Shape(1, 6), DataType.INT64),
                                                manager.ones(new Shape(1, 9), DataType.INT64)),
                                        1)),
                        0);
        NDArray aloneLong = lm.forward(ps, longRow, null, null, false, false).logits();
        NDArray aloneShort = lm.forward(ps, shortRow, null, null, false, false).logits();
        try (InferenceCache cache = lm.newCache(manager, 2)) {
            NDArray batch = lm.forward(ps, ids, mask, cache, false, false).logits();
            assertClose(aloneLong, batch.get("0:1"));
            assertClose(aloneShort, batch.get("1:2, 6:"));
            // decoding continues each row as if it were alone
            NDArray next = manager.create(new long[] {5, 9}, new Shape(2, 1));
            NDArray stepped = lm.forward(ps, next, null, cache, false, false).logits();
            NDArray longNext =
                    lm.forward(
                                    ps,
                                    NDArrays.concat(new NDList(longRow, next.get("0:1")), 1),
                                    null,
                                    null,
                                    false,
                                    false)
                            .logits()
                            .get(":, -1:");
            NDArray shortNext =
                    lm.forward(
                                    ps,
                                    NDArrays.concat(new NDList(shortRow, next.get("1:2")), 1),
                                    null,
                                    null,
                                    false,
                                    false)
                            .logits()
                            .get(":, -1:");
            assertClose(longNext, stepped.get("0:1"));
            assertClose(shortNext, stepped.get("1:2"));
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"mamba-tiny", "mamba2-tiny", "bamba-tiny"})
    void snapshotRestoreAndForkGiveIdenticalContinuations(String model) throws Exception {
        CausalLM lm = load(model);
        NDArray prompt = randomIds(2, 12, 3);
        NDArray continuation = randomIds(2, 5, 4);
        try (InferenceCache cache = lm.newCache(manager, 2)) {
            lm.forward(ps, prompt, null, cache, false, false);
            try (InferenceCache snapshot = cache.snapshot();
                    InferenceCache fork = cache.fork()) {
                NDArray first = decode(lm, cache, continuation);
                NDArray fromFork = decode(lm, fork, continuation);
                assertClose(first, fromFork);
                cache.restore(snapshot);
                assertEquals(12, cache.position());
                assertClose(first, decode(lm, cache, continuation));
                // the snapshot itself was not advanced by any of this
                assertEquals(12, snapshot.position());
                assertClose(first, decode(lm, snapshot, continuation));
            }
            InferenceCache other = lm.newCache(manager, 1);
            assertThrows(IllegalArgumentException.class, () -> cache.restore(other));
            other.close();
        }
    }

    private NDArray decode(CausalLM lm, InferenceCache cache, NDArray tokens) {
        NDList out = new NDList();
        for (int t = 0; t < tokens.getShape().get(1); t++) {
            out.add(
                    lm.forward(ps, tokens.get(":, {}:{}", t, t + 1), null, cache, false, false)
                            .logits());
        }
        return NDArrays.concat(out, 1);
    }

    private static void assertClose(NDArray expected, NDArray actual) {
        assertEquals(expected.getShape(), actual.getShape());
        double diff = expected.sub(actual).abs().max().getFloat();
        assertTrue(diff <= TOL, "max abs difference " + diff);
    }

    @Test
    void rewindTakesBackPositionsOnlyWithoutAMask() throws Exception {
        CausalLM lm = load("mamba2-tiny");
        try (InferenceCache cache = lm.newCache(manager, 1)) {
            lm.forward(ps, randomIds(1, 5, 3), null, cache, false, false);
            cache.rewind(2);
            assertEquals(3, cache.position());
            IllegalStateException tooMany =
                    assertThrows(IllegalStateException.class, () -> cache.rewind(4));
            assertTrue(tooMany.getMessage().contains("4 of 3"), tooMany.getMessage());
        }
        try (InferenceCache masked = lm.newCache(manager, 2)) {
            NDArray mask = manager.create(new long[] {0, 1, 1, 1}, new Shape(2, 2));
            lm.forward(ps, randomIds(2, 2, 4), mask, masked, false, false);
            assertThrows(IllegalStateException.class, () -> masked.rewind(1));
        }
    }

    @Test
    void greedyDecodingRecordsOnlyWhereTheEngineCan() throws Exception {
        CausalLM lm = load("mamba2-tiny");
        try (InferenceCache cache = lm.newCache(manager, 1)) {
            lm.forward(ps, randomIds(1, 4, 5), null, cache, false, false);
            assertNull(
                    RecordedDecodingStep.record(lm, ps, cache, new long[] {7}),
                    "the PyTorch engine records no steps");
            assertEquals(4, cache.position(), "nothing ran");
        }
        GenerationConfig config = GenerationConfig.builder().optMaxNewTokens(10).build();
        try (GenerationSession session =
                new Generator(lm, manager).start(new long[][] {{1, 2, 3}}, config)) {
            session.finish(null);
            assertFalse(session.isRecorded());
        }
        assertTrue(config.recordSteps(), "recording is on by default");
        assertFalse(
                GenerationConfig.builder().optRecordSteps(false).build().recordSteps(),
                "and can be turned off");
    }

    @ParameterizedTest
    @ValueSource(strings = {"mamba-tiny", "mamba2-tiny", "bamba-tiny"})
    void recordedStepsGiveTheOrdinaryTokens(String model) throws Exception {
        // the replaying stand-in runs each recorded piece's code again at every replay: this
        // checks how the steps are split (Bamba: attention layers between the pieces) and driven
        CausalLM lm = load(model);
        long[][] prompts = {{1, 2, 3, 4}, {9, 8, 7, 6}};
        GenerationConfig.Builder config = GenerationConfig.builder().optMaxNewTokens(12);
        long[][] ordinary;
        try (GenerationSession session =
                new Generator(lm, manager).start(prompts, config.optRecordSteps(false).build())) {
            session.finish(null);
            ordinary = session.result().sequences();
        }
        try (ReplayingRecorder replaying = ReplayingRecorder.install("PyTorch");
                GenerationSession session =
                        new Generator(lm, manager)
                                .start(prompts, config.optRecordSteps(true).build())) {
            session.finish(null);
            assertTrue(session.isRecorded(), model + ": the steps were recorded");
            assertArrayEquals(ordinary[0], session.result().sequences()[0], model + " row 0");
            assertArrayEquals(ordinary[1], session.result().sequences()[1], model + " row 1");
        }
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
        NDArray ids = randomIds(2, 9, 11);
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
        NDArray prompt = randomIds(1, 7, 11);
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
                        () -> lm.forward(ps, randomIds(1, 3, 11), null, null, false, false, -1));
        assertTrue(e.getMessage().contains("logitsToKeep"), e.getMessage());
    }
}
