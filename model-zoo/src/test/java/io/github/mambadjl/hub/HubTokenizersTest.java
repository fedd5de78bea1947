package io.github.mambadjl.hub;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class HubTokenizersTest {

    /** A tiny WordLevel tokenizer with a whitespace pre-tokenizer. */
    private static final String TOKENIZER =
            "{\"version\":\"1.0\",\"truncation\":null,\"padding\":null,"
                    + "\"added_tokens\":[{\"id\":0,\"content\":\"[UNK]\",\"single_word\":false,"
                    + "\"lstrip\":false,\"rstrip\":false,\"normalized\":false,\"special\":true}],"
                    + "\"normalizer\":null,\"pre_tokenizer\":{\"type\":\"Whitespace\"},"
                    + "\"post_processor\":null,\"decoder\":null,"
                    + "\"model\":{\"type\":\"WordLevel\",\"vocab\":{\"[UNK]\":0,\"hello\":1,"
                    + "\"world\":2,\"mamba\":3},\"unk_token\":\"[UNK]\"}}";

    @TempDir Path cache;
    private FakeHub hub;

    @BeforeEach
    void startHub() throws IOException {
        hub = FakeHub.start();
    }

    @AfterEach
    void stopHub() {
        hub.close();
    }

    @Test
    void loadsTheTokenizerOfACachedSnapshotOffline() throws IOException {
        Map<String, byte[]> files = new TreeMap<>();
        files.put("config.json", "{}".getBytes(StandardCharsets.UTF_8));
        files.put("model.safetensors", new byte[] {1, 2, 3});
        files.put("tokenizer.json", TOKENIZER.getBytes(StandardCharsets.UTF_8));
        hub.addRepo("state-spaces/mamba-tiny-hf", files);
        new SnapshotDownloader(HubTestSupport.settings(hub, cache).build())
                .download("state-spaces/mamba-tiny-hf");
        hub.clearRecords();

        SnapshotDownloader offline =
                new SnapshotDownloader(HubTestSupport.settings(hub, cache).offline(true).build());
        Path dir = offline.download("state-spaces/mamba-tiny-hf");
        try (HuggingFaceTokenizer t =
                HubTokenizers.load(dir, offline, RepoId.of(HubTokenizers.GPT_NEOX_20B), Map.of())) {
            assertArrayEquals(
                    new long[] {1, 3, 2, 0}, t.encode("hello mamba world python").getIds());
        }
        assertTrue(hub.requests().isEmpty());
    }

    @Test
    void fallsBackToTheGptNeoxTokenizerForOriginalCheckpoints() throws IOException {
        hub.addRepo("state-spaces/mamba-tiny", FakeHub.fixture("mamba-tiny-ssm"));
        Map<String, byte[]> neox = new TreeMap<>();
        neox.put("tokenizer.json", TOKENIZER.getBytes(StandardCharsets.UTF_8));
        neox.put("pytorch_model-00001-of-00046.bin", new byte[] {9});
        hub.addRepo(HubTokenizers.GPT_NEOX_20B, neox);
        SnapshotDownloader d = new SnapshotDownloader(HubTestSupport.settings(hub, cache).build());
        Path dir = d.download("state-spaces/mamba-tiny");

        try (HuggingFaceTokenizer t =
                HubTokenizers.load(dir, d, RepoId.of(HubTokenizers.GPT_NEOX_20B), Map.of())) {
            assertArrayEquals(new long[] {3, 1}, t.encode("mamba hello").getIds());
        }
        assertTrue(hub.contentRequests("pytorch_model-00001-of-00046.bin").isEmpty());
        assertEquals(1, hub.contentRequests("tokenizer.json").size());
    }

    @Test
    void aMissingOrBrokenTokenizerSaysSo() throws IOException {
        IOException missing =
                assertThrows(IOException.class, () -> HubTokenizers.fromSnapshot(cache, Map.of()));
        assertTrue(missing.getMessage().contains("No tokenizer.json"), missing.getMessage());
        Files.writeString(cache.resolve("tokenizer.json"), "{\"model\": ");
        IOException broken =
                assertThrows(IOException.class, () -> HubTokenizers.fromSnapshot(cache, Map.of()));
        assertTrue(broken.getMessage().contains("Cannot load the tokenizer"), broken.getMessage());
    }
}
