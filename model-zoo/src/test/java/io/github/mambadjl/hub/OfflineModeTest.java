package io.github.mambadjl.hub;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code HF_HUB_OFFLINE=1} and an unreachable Hub: the cache answers, or a clear error. */
class OfflineModeTest {

    @TempDir Path home;
    private FakeHub hub;
    private FakeHub.Repo tiny;

    @BeforeEach
    void startHub() throws IOException {
        hub = FakeHub.start();
        tiny = hub.addRepo(HubTestSupport.REPO, FakeHub.fixture("mamba-tiny"));
    }

    @AfterEach
    void stopHub() {
        hub.close();
    }

    private HubSettings fromEnv(boolean offline) {
        return HubSettings.fromEnvironment(
                        Map.of(
                                "HF_HOME", home.toString(),
                                "HF_ENDPOINT", hub.endpoint(),
                                "HF_HUB_OFFLINE", offline ? "1" : "0"))
                .toBuilder()
                .backoff(Duration.ofMillis(10), Duration.ofMillis(20))
                .maxRetries(1)
                .build();
    }

    @Test
    void aWarmCacheServesOfflineWithoutAnyRequest() throws IOException {
        Path online = new SnapshotDownloader(fromEnv(false)).download(HubTestSupport.REPO);
        hub.clearRecords();

        Path offline = new SnapshotDownloader(fromEnv(true)).download(HubTestSupport.REPO);

        assertEquals(online, offline);
        assertEquals(
                home.resolve("hub/models--state-spaces--mamba-tiny/snapshots/" + tiny.commit()),
                offline);
        assertArrayEquals(
                tiny.file("model.safetensors"),
                Files.readAllBytes(offline.resolve("model.safetensors")));
        Path file =
                new FileDownloader(fromEnv(true))
                        .download(RepoId.of(HubTestSupport.REPO), "main", "config.json");
        assertArrayEquals(tiny.file("config.json"), Files.readAllBytes(file));
        assertTrue(hub.requests().isEmpty(), hub.requests().toString());
    }

    @Test
    void aColdCacheFailsOfflineNamingTheRepositoryAndTheCache() {
        CacheMissException e =
                assertThrows(
                        CacheMissException.class,
                        () -> new SnapshotDownloader(fromEnv(true)).download(HubTestSupport.REPO));
        assertTrue(e.getMessage().contains("'" + HubTestSupport.REPO + "'"), e.getMessage());
        assertTrue(
                e.getMessage()
                        .contains(home.resolve("hub/models--state-spaces--mamba-tiny").toString()),
                e.getMessage());
        assertTrue(e.getMessage().contains("HF_HUB_OFFLINE"), e.getMessage());
        CacheMissException file =
                assertThrows(
                        CacheMissException.class,
                        () ->
                                new FileDownloader(fromEnv(true))
                                        .download(
                                                RepoId.of(HubTestSupport.REPO),
                                                "main",
                                                "config.json"));
        assertTrue(file.getMessage().contains("config.json"), file.getMessage());
        assertTrue(hub.requests().isEmpty());
    }

    @Test
    void aCachedSnapshotWithoutWeightsIsNotEnoughOffline() throws IOException {
        new FileDownloader(fromEnv(false))
                .download(RepoId.of(HubTestSupport.REPO), "main", "config.json");

        CacheMissException e =
                assertThrows(
                        CacheMissException.class,
                        () -> new SnapshotDownloader(fromEnv(true)).download(HubTestSupport.REPO));
        assertTrue(e.getMessage().contains("lacks the files needed"), e.getMessage());
    }

    @Test
    void aCorruptedBlobIsReportedOffline() throws IOException {
        Path dir = new SnapshotDownloader(fromEnv(false)).download(HubTestSupport.REPO);
        Path blob = dir.resolve("model.safetensors").toRealPath();
        byte[] b = Files.readAllBytes(blob);
        b[b.length / 2] ^= 1;
        Files.write(blob, b);

        IntegrityException e =
                assertThrows(
                        IntegrityException.class,
                        () -> new SnapshotDownloader(fromEnv(true)).download(HubTestSupport.REPO));
        assertTrue(e.getMessage().contains("corrupted"), e.getMessage());
    }

    @Test
    void anUnreachableHubFallsBackToTheCache() throws IOException {
        Path online = new SnapshotDownloader(fromEnv(false)).download(HubTestSupport.REPO);
        HubSettings settings = fromEnv(false);
        hub.close();

        Path fallback = new SnapshotDownloader(settings).download(HubTestSupport.REPO);

        assertEquals(online, fallback);
    }

    @Test
    void anUnreachableHubWithAColdCacheSaysBoth() throws IOException {
        HubSettings settings = fromEnv(false);
        hub.close();

        CacheMissException e =
                assertThrows(
                        CacheMissException.class,
                        () -> new SnapshotDownloader(settings).download(HubTestSupport.REPO));
        assertTrue(e.getMessage().contains("cannot be reached"), e.getMessage());
        assertEquals(1, e.getSuppressed().length);
        assertTrue(e.getSuppressed()[0] instanceof HubConnectionException);
    }
}
