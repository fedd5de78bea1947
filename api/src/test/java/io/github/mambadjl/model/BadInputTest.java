package io.github.mambadjl.model;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.repository.zoo.Criteria;
import ai.djl.training.ParameterStore;
import ai.djl.translate.NoopTranslator;
import io.github.mambadjl.cache.InferenceCache;
import io.github.mambadjl.checkpoint.Checkpoint;
import io.github.mambadjl.checkpoint.SafetensorsFile;
import io.github.mambadjl.checkpoint.SafetensorsWriter;
import io.github.mambadjl.checkpoint.TensorData;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Wrong inputs and inconsistent weights give exceptions that say what to do. */
class BadInputTest {

    @Test
    void wrongShapesAndCachesAreRejected() throws Exception {
        try (NDManager manager = NDManager.newBaseManager("PyTorch");
                Checkpoint checkpoint = Checkpoint.open(Fixtures.root().resolve("mamba-tiny"))) {
            CausalLM lm = CausalLM.fromConfig(checkpoint.config());
            lm.loadWeights(checkpoint, manager, DataType.FLOAT32);
            ParameterStore ps = new ParameterStore(manager, false);
            IllegalArgumentException e =
                    assertThrows(
                            IllegalArgumentException.class,
                            () ->
                                    lm.forward(
                                            ps,
                                            manager.zeros(new Shape(4), DataType.INT64),
                                            null,
                                            null,
                                            false,
                                            false));
            assertTrue(e.getMessage().contains("[batch, seq]"), e.getMessage());
            assertThrows(
                    IllegalArgumentException.class,
                    () ->
                            lm.forward(
                                    ps,
                                    manager.zeros(new Shape(2, 3), DataType.INT64),
                                    manager.ones(new Shape(2, 4), DataType.INT64),
                                    null,
                                    false,
                                    false));
            try (InferenceCache cache = lm.newCache(manager, 1)) {
                assertThrows(
                        IllegalArgumentException.class,
                        () ->
                                lm.forward(
                                        ps,
                                        manager.zeros(new Shape(2, 3), DataType.INT64),
                                        null,
                                        cache,
                                        false,
                                        false));
            }
            assertThrows(
                    IllegalStateException.class,
                    () -> lm.loadWeights(checkpoint, manager, DataType.FLOAT32));
        }
    }

    @Test
    void missingOrMisshapenWeightsAreNamed(@TempDir Path dir) throws Exception {
        Path source = Fixtures.root().resolve("mamba2-tiny");
        try (NDManager manager = NDManager.newBaseManager("PyTorch");
                SafetensorsFile weights =
                        SafetensorsFile.open(source.resolve("model.safetensors"));
                Checkpoint checkpoint = Checkpoint.open(source)) {
            List<TensorData> kept = new ArrayList<>();
            for (String name : weights.names()) {
                if (!name.equals("backbone.layers.1.mixer.D")) {
                    kept.add(weights.tensor(name));
                }
            }
            Path file = dir.resolve("partial.safetensors");
            SafetensorsWriter.write(file, kept, Map.of());
            try (SafetensorsFile partial = SafetensorsFile.open(file)) {
                CausalLM lm = CausalLM.fromConfig(checkpoint.config());
                IllegalArgumentException e =
                        assertThrows(
                                IllegalArgumentException.class,
                                () -> lm.loadWeights(partial, manager, DataType.FLOAT32));
                assertTrue(e.getMessage().contains("backbone.layers.1.mixer.D"), e.getMessage());
            }
        }
    }

    @Test
    void criteriaOnADirectoryWithoutCheckpointSaysWhatIsMissing(@TempDir Path dir)
            throws Exception {
        Files.writeString(dir.resolve("notes.txt"), "no model here");
        Criteria<NDList, NDList> criteria =
                Criteria.builder()
                        .setTypes(NDList.class, NDList.class)
                        .optModelPath(dir)
                        .optEngine("PyTorch")
                        .optArgument("blockFactory", "io.github.mambadjl.model.MambaBlockFactory")
                        .optTranslator(new NoopTranslator())
                        .build();
        Exception e = assertThrows(Exception.class, criteria::loadModel);
        assertTrue(e.getMessage().contains("config.json"), e.getMessage());
    }
}
