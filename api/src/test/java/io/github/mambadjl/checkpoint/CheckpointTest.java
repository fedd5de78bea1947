package io.github.mambadjl.checkpoint;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import io.github.mambadjl.config.BambaConfig;
import io.github.mambadjl.config.Fixtures;
import io.github.mambadjl.config.Mamba2Config;
import io.github.mambadjl.config.MambaConfig;
import io.github.mambadjl.config.ModelFamily;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.NoSuchElementException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CheckpointTest {

    @TempDir Path tmp;

    @Test
    void loadsHuggingFaceMamba() throws IOException {
        try (Checkpoint ckpt = Checkpoint.open(Fixtures.dir("mamba-tiny"))) {
            assertEquals(CheckpointLayout.HF_SAFETENSORS, ckpt.layout());
            assertInstanceOf(MambaConfig.class, ckpt.config());
            assertTrue(ckpt.tiedEmbeddings());
            assertEquals(TensorDType.F32, ckpt.weightType());
            assertEquals(ExpectedWeights.of(ckpt.config()).size() + 1, ckpt.names().size());
            TensorData head = ckpt.tensor(WeightNames.LM_HEAD);
            assertEquals(WeightNames.LM_HEAD, head.name());
            assertEquals(ckpt.tensor("backbone.embeddings.weight").data(), head.data());
            assertArrayEquals(
                    new long[] {36, 128},
                    ckpt.tensor("backbone.layers.1.mixer.x_proj.weight").shape());
            assertThrows(NoSuchElementException.class, () -> ckpt.tensor("backbone.nope"));
        }
    }

    @Test
    void stateSpacesBinGivesTheSameTensorsBitForBit() throws IOException {
        try (Checkpoint bin = Checkpoint.open(Fixtures.dir("mamba-tiny-ssm"));
                Checkpoint hf = Checkpoint.open(Fixtures.dir("mamba-tiny"))) {
            assertEquals(CheckpointLayout.STATE_SPACES_PYTORCH_BIN, bin.layout());
            assertTrue(bin.tiedEmbeddings());
            assertEquals(hf.names(), bin.names());
            for (String name : hf.names()) {
                TensorData a = hf.tensor(name);
                TensorData b = bin.tensor(name);
                assertEquals(a.dtype(), b.dtype(), name);
                assertArrayEquals(a.shape(), b.shape(), name);
                assertEquals(a.data(), b.data(), name);
            }
        }
    }

    @Test
    void keepsThePaddedVocabularyOfStateSpacesCheckpoints() throws IOException {
        Path dir = Files.createDirectory(tmp.resolve("padded"));
        Path source = Fixtures.dir("mamba-tiny-ssm");
        Files.copy(source.resolve("pytorch_model.bin"), dir.resolve("pytorch_model.bin"));
        Files.writeString(
                dir.resolve("config.json"),
                Files.readString(source.resolve("config.json"))
                        .replace("\"vocab_size\": 96", "\"vocab_size\": 90"));
        try (Checkpoint ckpt = Checkpoint.open(dir)) {
            assertEquals(90, ckpt.config().vocabSize());
            assertEquals(96, ckpt.config().paddedVocabSize());
            assertArrayEquals(new long[] {96, 64}, ckpt.tensor(WeightNames.LM_HEAD).shape());
        }
    }

    @Test
    void loadsHuggingFaceMamba2Untied() throws IOException {
        try (Checkpoint ckpt = Checkpoint.open(Fixtures.dir("mamba2-tiny"))) {
            assertInstanceOf(Mamba2Config.class, ckpt.config());
            assertFalse(ckpt.tiedEmbeddings());
            assertArrayEquals(new long[] {96, 64}, ckpt.tensor(WeightNames.LM_HEAD).shape());
            assertFalse(
                    ckpt.tensor(WeightNames.LM_HEAD)
                            .data()
                            .equals(ckpt.tensor("backbone.embeddings.weight").data()));
            assertArrayEquals(
                    new long[] {328, 64},
                    ckpt.tensor("backbone.layers.0.mixer.in_proj.weight").shape());
        }
    }

    @Test
    void loadsMistralConsolidatedUnderInternalNames() throws IOException {
        try (Checkpoint ckpt = Checkpoint.open(Fixtures.dir("mamba2-mistral-tiny"));
                SafetensorsFile raw =
                        SafetensorsFile.open(
                                Fixtures.dir("mamba2-mistral-tiny")
                                        .resolve("consolidated.safetensors"))) {
            assertEquals(CheckpointLayout.MISTRAL_CONSOLIDATED, ckpt.layout());
            assertEquals(TensorDType.BF16, ckpt.weightType());
            assertFalse(ckpt.tiedEmbeddings());
            assertEquals(ExpectedWeights.of(ckpt.config()).keySet(), ckpt.names());
            assertEquals(
                    raw.tensor("model.backbone.embedding.weight").data(),
                    ckpt.tensor("backbone.embeddings.weight").data());
            assertEquals(
                    raw.tensor("model.lm_head.weight").data(),
                    ckpt.tensor("lm_head.weight").data());
            assertArrayEquals(
                    new long[] {770, 64},
                    ckpt.tensor("backbone.layers.1.mixer.in_proj.weight").shape());
        }
    }

    @Test
    void loadsBamba() throws IOException {
        try (Checkpoint ckpt = Checkpoint.open(Fixtures.dir("bamba-tiny"))) {
            assertEquals(ModelFamily.BAMBA, ckpt.config().family());
            assertInstanceOf(BambaConfig.class, ckpt.config());
            assertFalse(ckpt.tiedEmbeddings());
            assertEquals(ExpectedWeights.of(ckpt.config()).keySet(), ckpt.names());
            assertTrue(ckpt.contains("model.layers.1.self_attn.k_proj.weight"));
            assertFalse(ckpt.contains("model.layers.1.mamba.in_proj.weight"));
            assertArrayEquals(
                    new long[] {160, 1, 4},
                    ckpt.tensor("model.layers.2.mamba.conv1d.weight").shape());
        }
    }

    @Test
    void convertsToNDArrays() throws IOException {
        try (Checkpoint mistral = Checkpoint.open(Fixtures.dir("mamba2-mistral-tiny"));
                Checkpoint mamba = Checkpoint.open(Fixtures.dir("mamba-tiny"));
                NDManager manager = NDManager.newBaseManager("PyTorch")) {
            TensorData bf16 = mistral.tensor("backbone.layers.0.mixer.D");
            NDArray asFloat = bf16.toNDArray(manager, DataType.FLOAT32);
            assertEquals(DataType.FLOAT32, asFloat.getDataType());
            assertArrayEquals(bf16.toFloatArray(), asFloat.toFloatArray());
            TensorData f32 = mamba.tensor("backbone.layers.0.mixer.A_log");
            NDArray same = f32.toNDArray(manager);
            assertEquals(f32.djlShape(), same.getShape());
            assertArrayEquals(f32.toFloatArray(), same.toFloatArray());
            // Writing to the array must not touch the read-only file mapping.
            same.addi(1);
            assertEquals(f32.toFloatArray()[0] + 1, same.toFloatArray()[0]);
            NDArray half = f32.toNDArray(manager, DataType.FLOAT64);
            assertEquals(DataType.FLOAT64, half.getDataType());
            assertEquals(f32.toFloatArray()[5], (float) half.toDoubleArray()[5]);
        }
    }

    @Test
    void loadsShardedSafetensors() throws IOException {
        Path dir = Files.createDirectory(tmp.resolve("sharded"));
        Files.copy(Fixtures.dir("mamba2-tiny").resolve("config.json"), dir.resolve("config.json"));
        StringBuilder index = new StringBuilder("{\"metadata\": {}, \"weight_map\": {");
        try (SafetensorsFile whole =
                SafetensorsFile.open(Fixtures.dir("mamba2-tiny").resolve("model.safetensors"))) {
            List<TensorData> first = new ArrayList<>();
            List<TensorData> second = new ArrayList<>();
            for (String name : whole.names()) {
                String shard =
                        name.contains("layers.1")
                                ? "model-00002-of-00002.safetensors"
                                : "model-00001-of-00002.safetensors";
                (shard.contains("00001-") ? first : second).add(whole.tensor(name));
                index.append('"').append(name).append("\": \"").append(shard).append("\",");
            }
            index.setLength(index.length() - 1);
            SafetensorsWriter.write(
                    dir.resolve("model-00001-of-00002.safetensors"), first, Map.of());
            SafetensorsWriter.write(
                    dir.resolve("model-00002-of-00002.safetensors"), second, Map.of());
        }
        Files.writeString(dir.resolve(ShardedSafetensors.INDEX_FILE), index.append("}}"));
        try (Checkpoint sharded = Checkpoint.open(dir);
                Checkpoint single = Checkpoint.open(Fixtures.dir("mamba2-tiny"))) {
            assertEquals(CheckpointLayout.HF_SHARDED_SAFETENSORS, sharded.layout());
            assertEquals(single.names(), sharded.names());
            for (String name : single.names()) {
                assertEquals(single.tensor(name).data(), sharded.tensor(name).data(), name);
            }
        }
        Files.delete(dir.resolve("model-00002-of-00002.safetensors"));
        CheckpointException e = assertThrows(CheckpointException.class, () -> Checkpoint.open(dir));
        assertTrue(
                e.getMessage().contains("Shard model-00002-of-00002.safetensors"), e.getMessage());
        assertTrue(e.getMessage().contains("is missing"), e.getMessage());
        assertEquals(0, OpenFiles.count(dir.resolve("model-00001-of-00002.safetensors")));
    }

    /** Copies the mamba2-tiny fixture, replacing its weights by the given ones. */
    private Path mamba2With(List<TensorData> tensors) throws IOException {
        Path dir = Files.createTempDirectory(tmp, "m2");
        Files.copy(Fixtures.dir("mamba2-tiny").resolve("config.json"), dir.resolve("config.json"));
        SafetensorsWriter.write(dir.resolve("model.safetensors"), tensors, Map.of());
        return dir;
    }

    private List<TensorData> mamba2Tensors() throws IOException {
        List<TensorData> tensors = new ArrayList<>();
        try (SafetensorsFile whole =
                SafetensorsFile.open(Fixtures.dir("mamba2-tiny").resolve("model.safetensors"))) {
            for (String name : whole.names()) {
                TensorData t = whole.tensor(name);
                java.nio.ByteBuffer copy = java.nio.ByteBuffer.allocate((int) t.byteSize());
                copy.put(t.data()).flip();
                tensors.add(TensorData.of(name, t.dtype(), t.shape(), copy));
            }
        }
        return tensors;
    }

    @Test
    void rejectsShapeThatDisagreesWithTheConfig() throws IOException {
        List<TensorData> tensors = mamba2Tensors();
        tensors.replaceAll(
                t ->
                        t.name().equals("backbone.layers.1.mixer.conv1d.weight")
                                ? TensorData.ofFloats(t.name(), new long[] {192, 4}, new float[768])
                                : t);
        Path dir = mamba2With(tensors);
        CheckpointException e = assertThrows(CheckpointException.class, () -> Checkpoint.open(dir));
        assertTrue(
                e.getMessage().contains("backbone.layers.1.mixer.conv1d.weight"), e.getMessage());
        assertTrue(e.getMessage().contains("[192, 4]"), e.getMessage());
        assertTrue(e.getMessage().contains("[192, 1, 4]"), e.getMessage());
        assertEquals(0, OpenFiles.count(dir.resolve("model.safetensors")));
    }

    @Test
    void rejectsMissingRequiredTensor() throws IOException {
        List<TensorData> tensors = mamba2Tensors();
        tensors.removeIf(t -> t.name().equals("backbone.layers.0.mixer.dt_bias"));
        Path dir = mamba2With(tensors);
        CheckpointException e = assertThrows(CheckpointException.class, () -> Checkpoint.open(dir));
        assertTrue(e.getMessage().contains("lacks 1 required tensor"), e.getMessage());
        assertTrue(e.getMessage().contains("backbone.layers.0.mixer.dt_bias"), e.getMessage());
        assertEquals(0, OpenFiles.count(dir.resolve("model.safetensors")));
    }

    @Test
    void rejectsIntegerWeights() throws IOException {
        List<TensorData> tensors = mamba2Tensors();
        tensors.replaceAll(
                t ->
                        t.name().equals("backbone.norm_f.weight")
                                ? TensorData.of(t.name(), TensorDType.I32, t.shape(), t.data())
                                : t);
        CheckpointException e =
                assertThrows(CheckpointException.class, () -> Checkpoint.open(mamba2With(tensors)));
        assertTrue(e.getMessage().contains("backbone.norm_f.weight"), e.getMessage());
        assertTrue(e.getMessage().contains("dtype I32"), e.getMessage());
    }

    @Test
    void warnsAboutUnexpectedTensorsAndLoads() throws IOException {
        List<TensorData> tensors = mamba2Tensors();
        tensors.add(TensorData.ofFloats("backbone.layers.0.mixer.surprise", new long[] {1}, 3));
        Path dir = mamba2With(tensors);
        PrintStream err = System.err;
        ByteArrayOutputStream captured = new ByteArrayOutputStream();
        System.setErr(new PrintStream(captured, true, StandardCharsets.UTF_8));
        try (Checkpoint ckpt = Checkpoint.open(dir)) {
            assertTrue(ckpt.contains("backbone.layers.0.mixer.surprise"));
        } finally {
            System.setErr(err);
        }
        String log = captured.toString(StandardCharsets.UTF_8);
        assertTrue(log.contains("Ignoring 1 unexpected tensor"), log);
        assertTrue(log.contains("backbone.layers.0.mixer.surprise"), log);
    }

    @Test
    void tiesWhenTheLmHeadIsAbsent() throws IOException {
        List<TensorData> tensors = mamba2Tensors();
        tensors.removeIf(t -> t.name().equals(WeightNames.LM_HEAD));
        try (Checkpoint ckpt = Checkpoint.open(mamba2With(tensors))) {
            assertTrue(ckpt.tiedEmbeddings());
            assertEquals(
                    ckpt.tensor("backbone.embeddings.weight").data(),
                    ckpt.tensor(WeightNames.LM_HEAD).data());
        }
    }

    @Test
    void closingMakesTensorsUnreadable() throws IOException {
        Checkpoint ckpt = Checkpoint.open(Fixtures.dir("mamba-tiny-ssm"));
        TensorData d = ckpt.tensor("backbone.layers.0.mixer.D");
        ckpt.close();
        assertThrows(IllegalStateException.class, d::data);
        assertEquals(
                0, OpenFiles.count(Fixtures.dir("mamba-tiny-ssm").resolve("pytorch_model.bin")));
    }

    @Test
    void reportsDirectoriesItCannotRead() throws IOException {
        Path empty = Files.createDirectory(tmp.resolve("empty"));
        CheckpointException none =
                assertThrows(CheckpointException.class, () -> Checkpoint.open(empty));
        assertTrue(none.getMessage().contains("no config.json"), none.getMessage());

        Path configOnly = Files.createDirectory(tmp.resolve("config-only"));
        Files.copy(
                Fixtures.dir("mamba-tiny").resolve("config.json"),
                configOnly.resolve("config.json"));
        CheckpointException noWeights =
                assertThrows(CheckpointException.class, () -> Checkpoint.open(configOnly));
        assertTrue(
                noWeights.getMessage().contains("has a config.json but no weights"),
                noWeights.getMessage());

        Files.write(configOnly.resolve("mamba-130m.Q8_0.gguf"), new byte[] {'G', 'G', 'U', 'F'});
        CheckpointException gguf =
                assertThrows(CheckpointException.class, () -> Checkpoint.open(configOnly));
        assertTrue(gguf.getMessage().contains("mamba-130m.Q8_0.gguf"), gguf.getMessage());
        assertTrue(gguf.getMessage().contains("convert them to safetensors"), gguf.getMessage());

        Path file = configOnly.resolve("config.json");
        assertTrue(
                assertThrows(CheckpointException.class, () -> Checkpoint.open(file))
                        .getMessage()
                        .contains("is not a directory"));
    }
}
