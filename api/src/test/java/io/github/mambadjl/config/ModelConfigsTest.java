package io.github.mambadjl.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ModelConfigsTest {

    @TempDir Path tmp;

    private Path write(String name, String json) throws IOException {
        Path file = tmp.resolve(name);
        Files.writeString(file, json);
        return file;
    }

    @Test
    void readsHuggingFaceMamba() throws IOException {
        MambaConfig c = (MambaConfig) ModelConfigs.read(Fixtures.dir("mamba-tiny"));
        assertEquals(ModelFamily.MAMBA, c.family());
        assertEquals(64, c.hiddenSize());
        assertEquals(2, c.numHiddenLayers());
        assertEquals(96, c.vocabSize());
        assertEquals(96, c.paddedVocabSize());
        assertEquals(16, c.stateSize());
        assertEquals(128, c.intermediateSize());
        assertEquals(4, c.convKernel());
        assertEquals(4, c.timeStepRank());
        assertTrue(c.tieWordEmbeddings());
        assertTrue(c.residualInFp32());
        assertTrue(c.useConvBias());
        assertFalse(c.useBias());
        assertEquals(1e-5, c.layerNormEpsilon());
        assertEquals(0, c.eosTokenId());
    }

    @Test
    void readsHuggingFaceMamba2() throws IOException {
        Mamba2Config c = (Mamba2Config) ModelConfigs.read(Fixtures.dir("mamba2-tiny"));
        assertEquals(8, c.numHeads());
        assertEquals(16, c.headDim());
        assertEquals(2, c.nGroups());
        assertEquals(16, c.stateSize());
        assertEquals(8, c.chunkSize());
        assertEquals(128, c.intermediateSize());
        assertEquals(192, c.convDim());
        assertEquals(328, c.inProjSize());
        assertEquals(64, c.normGroupSize());
        assertFalse(c.tieWordEmbeddings());
        assertFalse(c.normBeforeGate());
        assertTrue(c.rmsNorm());
        assertTrue(c.timeStepLimit().isUnbounded());
        assertEquals(Double.POSITIVE_INFINITY, c.timeStepLimit().max());
    }

    @Test
    void readsHuggingFaceBamba() throws IOException {
        BambaConfig c = (BambaConfig) ModelConfigs.read(Fixtures.dir("bamba-tiny"));
        assertEquals(ModelFamily.BAMBA, c.family());
        assertEquals(List.of(1), c.attnLayerIndices());
        assertTrue(c.isAttentionLayer(1));
        assertFalse(c.isAttentionLayer(0));
        assertEquals(4, c.numAttentionHeads());
        assertEquals(2, c.numKeyValueHeads());
        assertEquals(16, c.headDim());
        assertEquals(8, c.rotaryDim());
        assertEquals(96, c.intermediateSize());
        assertEquals(8, c.mambaNHeads());
        assertEquals(16, c.mambaDHead());
        assertEquals(10000.0, c.ropeTheta());
        assertEquals(0.5, c.partialRotaryFactor());
        assertEquals(296, c.mixerConfig().inProjSize());
        assertFalse(c.residualInFp32());
        assertEquals(2, c.eosTokenId());
    }

    @Test
    void readsStateSpacesWithMambaSsmDefaults() throws IOException {
        MambaConfig ssm = (MambaConfig) ModelConfigs.read(Fixtures.dir("mamba-tiny-ssm"));
        MambaConfig hf = (MambaConfig) ModelConfigs.read(Fixtures.dir("mamba-tiny"));
        assertEquals(hf.hiddenSize(), ssm.hiddenSize());
        assertEquals(hf.stateSize(), ssm.stateSize());
        assertEquals(hf.intermediateSize(), ssm.intermediateSize());
        assertEquals(hf.timeStepRank(), ssm.timeStepRank());
        assertEquals(hf.convKernel(), ssm.convKernel());
        assertTrue(ssm.tieWordEmbeddings());
        assertNull(ssm.eosTokenId());
    }

    @Test
    void padsStateSpacesVocabulary() throws IOException {
        Path file =
                write(
                        "config.json",
                        "{\"d_model\": 768, \"n_layer\": 24, \"vocab_size\": 50277,"
                                + " \"ssm_cfg\": {\"layer\": \"Mamba2\"},"
                                + " \"pad_vocab_size_multiple\": 16, \"tie_embeddings\": true}");
        Mamba2Config c = (Mamba2Config) ModelConfigs.read(file);
        assertEquals(50277, c.vocabSize());
        assertEquals(50288, c.paddedVocabSize());
        assertEquals(24, c.numHeads());
        assertEquals(64, c.headDim());
        assertEquals(1, c.nGroups());
        assertEquals(128, c.stateSize());
        assertEquals(256, c.chunkSize());
        assertTrue(c.timeStepLimit().isUnbounded());
    }

    @Test
    void readsMistralParams() throws IOException {
        Mamba2Config c = (Mamba2Config) ModelConfigs.read(Fixtures.dir("mamba2-mistral-tiny"));
        assertEquals(64, c.hiddenSize());
        assertEquals(2, c.numHeads());
        assertEquals(64, c.headDim());
        assertEquals(2, c.nGroups());
        assertEquals(128, c.stateSize());
        assertEquals(256, c.chunkSize());
        assertEquals(4, c.convKernel());
        assertEquals(770, c.inProjSize());
        assertFalse(c.tieWordEmbeddings());
    }

    @Test
    void readsTimeStepLimitForms() throws IOException {
        String base =
                "{\"model_type\": \"mamba2\", \"hidden_size\": 64, \"num_heads\": 8,"
                        + " \"head_dim\": 16, \"n_groups\": 2, \"time_step_limit\": ";
        Mamba2Config bare =
                (Mamba2Config) ModelConfigs.read(write("a.json", base + "[0.0, Infinity]}"));
        assertEquals(Double.POSITIVE_INFINITY, bare.timeStepLimit().max());
        Mamba2Config finite =
                (Mamba2Config) ModelConfigs.read(write("b.json", base + "[0.01, 0.5]}"));
        assertEquals(0.01, finite.timeStepLimit().min());
        assertEquals(0.5, finite.timeStepLimit().max());
        Mamba2Config absent =
                (Mamba2Config)
                        ModelConfigs.read(
                                write(
                                        "c.json",
                                        "{\"model_type\": \"mamba2\", \"hidden_size\": 64,"
                                                + " \"num_heads\": 8, \"head_dim\": 16}"));
        assertTrue(absent.timeStepLimit().isUnbounded());
        ConfigException e =
                assertThrows(
                        ConfigException.class,
                        () -> ModelConfigs.read(write("d.json", base + "[0.5, 0.1]}")));
        assertTrue(e.getMessage().contains("time_step_limit"), e.getMessage());
        assertTrue(e.getMessage().contains("d.json"), e.getMessage());
    }

    @Test
    void readsLegacyRopeAndNullAttentionIndices() throws IOException {
        Path file =
                write(
                        "config.json",
                        "{\"model_type\": \"bamba\", \"hidden_size\": 64, \"num_hidden_layers\": 2,"
                                + " \"num_attention_heads\": 4, \"num_key_value_heads\": 4,"
                                + " \"mamba_n_heads\": 8, \"mamba_d_head\": \"auto\","
                                + " \"rope_theta\": 500.0, \"partial_rotary_factor\": 0.25,"
                                + " \"attn_layer_indices\": null}");
        BambaConfig c = (BambaConfig) ModelConfigs.read(file);
        assertEquals(500.0, c.ropeTheta());
        assertEquals(0.25, c.partialRotaryFactor());
        assertEquals(16, c.mambaDHead());
        assertTrue(c.attnLayerIndices().isEmpty());
    }

    @Test
    void resolvesAutoTimeStepRank() throws IOException {
        Path file =
                write(
                        "config.json",
                        "{\"model_type\": \"mamba\", \"hidden_size\": 70,"
                                + " \"time_step_rank\": \"auto\"}");
        assertEquals(5, ((MambaConfig) ModelConfigs.read(file)).timeStepRank());
    }

    private void assertInvalid(String json, String field) throws IOException {
        Path file = write("config.json", json);
        ConfigException e = assertThrows(ConfigException.class, () -> ModelConfigs.read(file));
        assertEquals(field, e.getField(), e.getMessage());
        assertTrue(e.getMessage().contains(field), e.getMessage());
        assertTrue(e.getMessage().contains(file.toString()), e.getMessage());
    }

    @Test
    void rejectsInvalidFields() throws IOException {
        assertInvalid("{\"model_type\": \"mamba\", \"hidden_size\": 0}", "hidden_size");
        assertInvalid("{\"model_type\": \"mamba\", \"hidden_size\": 6.5}", "hidden_size");
        assertInvalid("{\"model_type\": \"mamba\", \"state_size\": -1}", "state_size");
        assertInvalid(
                "{\"model_type\": \"mamba2\", \"hidden_size\": 64, \"num_heads\": 8,"
                        + " \"head_dim\": 8}",
                "num_heads");
        assertInvalid(
                "{\"model_type\": \"mamba2\", \"hidden_size\": 64, \"num_heads\": 8,"
                        + " \"head_dim\": 16, \"n_groups\": 3}",
                "n_groups");
        assertInvalid(
                "{\"model_type\": \"bamba\", \"hidden_size\": 64, \"num_attention_heads\": 4,"
                        + " \"num_key_value_heads\": 3, \"mamba_n_heads\": 8}",
                "num_key_value_heads");
        assertInvalid(
                "{\"model_type\": \"bamba\", \"hidden_size\": 64, \"num_hidden_layers\": 4,"
                        + " \"num_attention_heads\": 4, \"num_key_value_heads\": 2,"
                        + " \"mamba_n_heads\": 8, \"attn_layer_indices\": [1, 4]}",
                "attn_layer_indices");
        assertInvalid(
                "{\"model_type\": \"bamba\", \"hidden_size\": 64, \"num_attention_heads\": 4,"
                        + " \"num_key_value_heads\": 2, \"mamba_n_heads\": 8,"
                        + " \"rope_parameters\": {\"rope_type\": \"yarn\"}}",
                "rope_parameters.rope_type");
        assertInvalid("{\"model_type\": \"llama\"}", "model_type");
        assertInvalid("{\"d_model\": 64, \"vocab_size\": 10}", "n_layer");
        assertInvalid(
                "{\"d_model\": 64, \"n_layer\": 2, \"vocab_size\": 10,"
                        + " \"ssm_cfg\": {\"layer\": \"Mamba3\"}}",
                "ssm_cfg.layer");
        assertInvalid(
                "{\"d_model\": 64, \"n_layer\": 2, \"vocab_size\": 10,"
                        + " \"ssm_cfg\": {\"layer\": \"Mamba2\", \"headdim\": 48}}",
                "ssm_cfg.headdim");
        assertInvalid(
                "{\"d_model\": 64, \"n_layer\": 2, \"vocab_size\": 10, \"attn_layer_idx\": [1]}",
                "attn_layer_idx");
    }

    @Test
    void reportsMalformedAndMissingFiles() throws IOException {
        Path bad = write("config.json", "{\"model_type\": ");
        IOException e = assertThrows(IOException.class, () -> ModelConfigs.read(bad));
        assertTrue(e.getMessage().contains("not valid JSON"), e.getMessage());
        Path empty = Files.createDirectory(tmp.resolve("empty"));
        assertInstanceOf(
                NoSuchFileException.class,
                assertThrows(IOException.class, () -> ModelConfigs.read(empty)));
    }

    @Test
    void configsAreValueObjects() throws IOException {
        assertEquals(
                ModelConfigs.read(Fixtures.dir("bamba-tiny")),
                ModelConfigs.read(Fixtures.dir("bamba-tiny")));
        BambaConfig c = (BambaConfig) ModelConfigs.read(Fixtures.dir("bamba-tiny"));
        assertThrows(UnsupportedOperationException.class, () -> c.attnLayerIndices().add(2));
    }
}
