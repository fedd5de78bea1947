package io.github.mambadjl.hub;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class HubSettingsTest {

    @TempDir Path tmp;

    @Test
    void defaultsAreThoseOfHuggingFaceHub() {
        HubSettings s = HubSettings.fromEnvironment(Map.of());
        assertEquals("https://huggingface.co", s.getEndpoint());
        assertEquals(
                Paths.get(System.getProperty("user.home"), ".cache/huggingface/hub"),
                s.getHubCache());
        assertFalse(s.isOffline());
        assertEquals(Duration.ofSeconds(10), s.getConnectTimeout());
        assertEquals(5, s.getMaxRetries());
    }

    @Test
    void readsTheEnvironmentVariables() {
        HubSettings s =
                HubSettings.fromEnvironment(
                        Map.of(
                                "HF_HOME", tmp.toString(),
                                "HF_ENDPOINT", "http://mirror.local:8080/",
                                "HF_TOKEN", " hf_abc ",
                                "HF_HUB_OFFLINE", "yes",
                                "HF_HUB_ETAG_TIMEOUT", "2.5",
                                "HF_HUB_DISABLE_PROGRESS_BARS", "1",
                                "MAMBADJL_HUB_VERIFY_CACHE", "0"));
        assertEquals("http://mirror.local:8080", s.getEndpoint());
        assertEquals(tmp.resolve("hub"), s.getHubCache());
        assertEquals(Optional.of("hf_abc"), s.getToken());
        assertTrue(s.isOffline());
        assertEquals(Duration.ofMillis(2500), s.getConnectTimeout());
        assertFalse(s.isVerifyCachedBlobs());
        assertEquals(Long.MAX_VALUE, s.getProgressThreshold());
        assertEquals(10L << 20, HubSettings.fromEnvironment(Map.of()).getProgressThreshold());
    }

    @Test
    void hubCacheWinsOverHfHomeAndXdg() {
        HubSettings s =
                HubSettings.fromEnvironment(
                        Map.of(
                                "HF_HOME", tmp.resolve("home").toString(),
                                "HF_HUB_CACHE", tmp.resolve("elsewhere").toString()));
        assertEquals(tmp.resolve("elsewhere"), s.getHubCache());
        HubSettings xdg = HubSettings.fromEnvironment(Map.of("XDG_CACHE_HOME", tmp.toString()));
        assertEquals(tmp.resolve("huggingface/hub"), xdg.getHubCache());
    }

    @Test
    void readsTheTokenFileWhenHfTokenIsUnset() throws IOException {
        Files.writeString(tmp.resolve("token"), "hf_from_file\n");
        assertEquals(
                Optional.of("hf_from_file"),
                HubSettings.fromEnvironment(Map.of("HF_HOME", tmp.toString())).getToken());
        Path other = tmp.resolve("other-token");
        Files.writeString(other, "hf_other");
        assertEquals(
                Optional.of("hf_other"),
                HubSettings.fromEnvironment(
                                Map.of(
                                        "HF_HOME",
                                        tmp.toString(),
                                        "HF_TOKEN_PATH",
                                        other.toString()))
                        .getToken());
        assertEquals(
                Optional.of("hf_env"),
                HubSettings.fromEnvironment(Map.of("HF_HOME", tmp.toString(), "HF_TOKEN", "hf_env"))
                        .getToken());
    }

    @Test
    void offlineAcceptsTheTrueValuesOfHuggingFaceHubOnly() {
        for (String v : new String[] {"1", "ON", "true", "Yes"}) {
            assertTrue(HubSettings.fromEnvironment(Map.of("HF_HUB_OFFLINE", v)).isOffline(), v);
        }
        for (String v : new String[] {"0", "off", "false", "2"}) {
            assertFalse(HubSettings.fromEnvironment(Map.of("HF_HUB_OFFLINE", v)).isOffline(), v);
        }
    }

    @Test
    void badValuesSayWhatToSet() {
        IllegalArgumentException endpoint =
                assertThrows(
                        IllegalArgumentException.class,
                        () -> HubSettings.fromEnvironment(Map.of("HF_ENDPOINT", "huggingface.co")));
        assertTrue(endpoint.getMessage().contains("HF_ENDPOINT"), endpoint.getMessage());
        IllegalArgumentException timeout =
                assertThrows(
                        IllegalArgumentException.class,
                        () ->
                                HubSettings.fromEnvironment(
                                        Map.of("HF_HUB_DOWNLOAD_TIMEOUT", "ten")));
        assertTrue(timeout.getMessage().contains("HF_HUB_DOWNLOAD_TIMEOUT"), timeout.getMessage());
    }

    @Test
    void repositoryIdsAreValidatedAndMappedToCacheFolders() {
        assertEquals(
                "models--state-spaces--mamba-130m-hf",
                RepoId.of("state-spaces/mamba-130m-hf").cacheFolderName());
        assertEquals("models--gpt2", RepoId.of("gpt2").cacheFolderName());
        for (String bad : new String[] {"a/b/c", "a--b/c", "../x", "org/", "", "a b"}) {
            IllegalArgumentException e =
                    assertThrows(IllegalArgumentException.class, () -> RepoId.of(bad), bad);
            assertTrue(e.getMessage().contains("not a valid"), e.getMessage());
        }
    }
}
