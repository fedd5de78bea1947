package io.github.mambadjl.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.repository.zoo.ZooModel;
import ai.djl.training.ParameterStore;
import io.github.mambadjl.cache.InferenceCache;
import io.github.mambadjl.config.ModelConfig;
import io.github.mambadjl.model.CausalLM;
import io.github.mambadjl.nativeops.CpuTensorOps;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Decoding with a cache on the engine: each step frees what it allocates (the cache's states are
 * replaced, not accumulated; an attention layer's keys and values grow by one position and nothing
 * derived from them stays behind), a step's intermediates come from the cache of freed host blocks,
 * and closing the model empties that cache; a prompt's forward frees each layer's intermediates
 * when the layer is done.
 */
class MambaDecodeMemoryTest {

    @ParameterizedTest
    @ValueSource(strings = {"mamba-tiny", "mamba2-tiny", "bamba-tiny"})
    void decodingStepsKeepNativeMemoryFlatAndReuseBlocks(String model) throws Exception {
        long bytes = MambaNDManager.hostBytesInUse();
        long blocks = MambaNDManager.hostBlocksInUse();
        try (ZooModel<NDList, NDList> zoo =
                Goldens.criteria(Goldens.model(model)).build().loadModel()) {
            CausalLM lm = (CausalLM) zoo.getBlock();
            try (NDManager manager = zoo.getNDManager().newSubManager()) {
                ParameterStore ps = new ParameterStore(manager, false);
                InferenceCache cache = lm.newCache(manager, 1);
                NDArray token = manager.create(new long[] {3}, new Shape(1, 1));
                long[] inUse = new long[2];
                long[] stats = new long[0];
                long stateBytes = 0;
                for (int step = 0; step < 8; step++) {
                    if (step == 4) {
                        inUse = CpuTensorOps.inUse();
                        stats = CpuTensorOps.cacheStats();
                        stateBytes = bytes(cache.toStates());
                    }
                    try (NDManager stepManager = manager.newSubManager()) {
                        NDArray ids = token.duplicate();
                        ids.attach(stepManager);
                        lm.forward(ps, ids, null, cache, false, false).logits();
                    }
                }
                long[] after = CpuTensorOps.cacheStats();
                // only an attention layer's keys and values grow, by one position per step
                long growth = bytes(cache.toStates()) - stateBytes;
                assertEquals(model.startsWith("bamba"), growth > 0, model + ": state growth");
                assertEquals(
                        inUse[0] + growth, CpuTensorOps.inUse()[0], model + ": bytes per step");
                assertEquals(inUse[1], CpuTensorOps.inUse()[1], model + ": blocks per step");
                assertTrue(
                        after[2] - stats[2] > 10 * (after[3] - stats[3]),
                        model
                                + ": steps mostly served from the cache, hits "
                                + (after[2] - stats[2])
                                + ", misses "
                                + (after[3] - stats[3]));
            }
        }
        assertEquals(bytes, MambaNDManager.hostBytesInUse());
        assertEquals(blocks, MambaNDManager.hostBlocksInUse());
        assertEquals(0, CpuTensorOps.cacheStats()[0], "closing the model empties the cache");
        assertEquals(HostBlockCache.DEFAULT_LIMIT, CpuTensorOps.cacheStats()[4]);
    }

    @ParameterizedTest
    @ValueSource(strings = {"mamba-tiny", "mamba2-tiny", "bamba-tiny"})
    void aPromptKeepsOneLayersIntermediatesAtATime(String model) throws Exception {
        try (ZooModel<NDList, NDList> zoo =
                Goldens.criteria(Goldens.model(model)).build().loadModel()) {
            CausalLM lm = (CausalLM) zoo.getBlock();
            ModelConfig config = lm.config();
            int length = 64;
            long[] ids = new long[length];
            for (int i = 0; i < length; i++) {
                ids[i] = 3 + i % (config.vocabSize() - 3);
            }
            try (NDManager manager = zoo.getNDManager().newSubManager()) {
                ParameterStore ps = new ParameterStore(manager, false);
                NDArray input = manager.create(ids, new Shape(1, length));
                long before = CpuTensorOps.inUse()[0];
                NDArray logits = lm.forward(ps, input, null, null, false, false).logits();
                long alive = CpuTensorOps.inUse()[0] - before;
                long logitsBytes = logits.size() * 4;
                long hiddenBytes = (long) length * config.hiddenSize() * 4;
                // the logits, the final norm's input and output and the head's view: no layer's
                // intermediates, whatever the depth
                assertTrue(
                        alive <= logitsBytes + 3 * hiddenBytes,
                        model
                                + ": "
                                + alive
                                + " bytes alive after the forward of "
                                + config.numHiddenLayers()
                                + " layers");
            }
        }
    }

    private static long bytes(NDList arrays) {
        long total = 0;
        for (NDArray a : arrays) {
            total += a.size() * a.getDataType().getNumOfBytes();
        }
        return total;
    }
}
