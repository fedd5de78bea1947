package io.github.mambadjl.hub;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SnapshotDownloaderTest {

    @TempDir Path cache;
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

    @Test
    void downloadsTheCheckpointFilesOfAFixtureRepository() throws IOException {
        Path dir =
                HubTestSupport.downloader(HubTestSupport.settings(hub, cache).build())
                        .download(HubTestSupport.REPO);

        assertEquals(
                cache.resolve("models--state-spaces--mamba-tiny/snapshots/" + tiny.commit()), dir);
        assertEquals(
                List.of("config.json", "generation_config.json", "model.safetensors"), list(dir));
        for (String f : list(dir)) {
            assertArrayEquals(tiny.file(f), Files.readAllBytes(dir.resolve(f)), f);
        }
        assertTrue(hub.contentRequests("golden.json").isEmpty());
        assertTrue(hub.contentRequests("golden.safetensors").isEmpty());
    }

    @Test
    void laysOutTheCacheAsHuggingFaceHubDoes() throws IOException {
        HubTestSupport.downloader(HubTestSupport.settings(hub, cache).build())
                .download(HubTestSupport.REPO);

        Path repo = cache.resolve("models--state-spaces--mamba-tiny");
        assertEquals(
                tiny.commit(), Files.readString(repo.resolve("refs/main"), StandardCharsets.UTF_8));
        String configEtag = FakeHub.gitSha1(tiny.file("config.json"));
        String weightsEtag = FakeHub.sha256(tiny.file("model.safetensors"));
        Path snapshot = repo.resolve("snapshots").resolve(tiny.commit());
        Path config = snapshot.resolve("config.json");
        Path weights = snapshot.resolve("model.safetensors");
        assertTrue(Files.isSymbolicLink(config));
        assertEquals(Paths.get("../../blobs/" + configEtag), Files.readSymbolicLink(config));
        assertEquals(Paths.get("../../blobs/" + weightsEtag), Files.readSymbolicLink(weights));
        assertArrayEquals(
                tiny.file("model.safetensors"),
                Files.readAllBytes(repo.resolve("blobs").resolve(weightsEtag)));
        List<String> blobs = list(repo.resolve("blobs"));
        assertEquals(3, blobs.size(), blobs.toString());
        assertTrue(blobs.stream().noneMatch(b -> b.endsWith(".incomplete")));
        assertTrue(
                Files.exists(
                        cache.resolve(
                                ".locks/models--state-spaces--mamba-tiny/"
                                        + weightsEtag
                                        + ".lock")));
    }

    @Test
    void aWarmCacheIsNotDownloadedAgain() throws IOException {
        SnapshotDownloader d =
                HubTestSupport.downloader(HubTestSupport.settings(hub, cache).build());
        d.download(HubTestSupport.REPO);
        long served = hub.bytesServed("model.safetensors");
        hub.clearRecords();

        d.download(HubTestSupport.REPO);

        assertEquals(tiny.file("model.safetensors").length, served);
        assertEquals(0, hub.bytesServed("model.safetensors"));
        assertTrue(
                hub.requests().stream().noneMatch(r -> r.method.equals("GET") && r.file != null));
    }

    @Test
    void aCommitRevisionInTheCacheNeedsNoRequest() throws IOException {
        SnapshotDownloader d =
                HubTestSupport.downloader(HubTestSupport.settings(hub, cache).build());
        d.download(HubTestSupport.REPO);
        hub.clearRecords();

        Path file =
                d.getFileDownloader()
                        .download(RepoId.of(HubTestSupport.REPO), tiny.commit(), "config.json");

        assertArrayEquals(tiny.file("config.json"), Files.readAllBytes(file));
        assertTrue(hub.requests().isEmpty(), hub.requests().toString());
    }

    @Test
    void takesOneSetOfWeightsWhenARepositoryShipsTwo() throws IOException {
        Map<String, byte[]> files = new TreeMap<>();
        for (String f :
                List.of(
                        "config.json",
                        "params.json",
                        "tokenizer.json",
                        "model-00001-of-00002.safetensors",
                        "model-00002-of-00002.safetensors",
                        "model.safetensors.index.json",
                        "consolidated.safetensors",
                        "README.md")) {
            files.put(f, ("contents of " + f).getBytes(StandardCharsets.UTF_8));
        }
        hub.addRepo("mistralai/Mamba-Codestral-7B-v0.1", files);

        Path dir =
                HubTestSupport.downloader(HubTestSupport.settings(hub, cache).build())
                        .download("mistralai/Mamba-Codestral-7B-v0.1");

        assertEquals(
                List.of(
                        "config.json",
                        "model-00001-of-00002.safetensors",
                        "model-00002-of-00002.safetensors",
                        "model.safetensors.index.json",
                        "params.json",
                        "tokenizer.json"),
                list(dir));
        assertTrue(hub.contentRequests("consolidated.safetensors").isEmpty());
    }

    @Test
    void aMissingFileIsReportedAsNotFound() {
        FileDownloader d = new FileDownloader(HubTestSupport.settings(hub, cache).build());
        HubNotFoundException e =
                assertThrows(
                        HubNotFoundException.class,
                        () -> d.download(RepoId.of(HubTestSupport.REPO), "main", "nope.json"));
        assertTrue(e.getMessage().contains("nope.json"), e.getMessage());
        assertTrue(e.getMessage().contains(HubTestSupport.REPO), e.getMessage());
    }

    @Test
    void anUnknownRepositoryOrRevisionIsReportedAsNotFound() {
        SnapshotDownloader d =
                HubTestSupport.downloader(HubTestSupport.settings(hub, cache).build());
        HubNotFoundException repo =
                assertThrows(HubNotFoundException.class, () -> d.download("nobody/nothing"));
        assertTrue(repo.getMessage().contains("'nobody/nothing' not found"), repo.getMessage());
        HubNotFoundException rev =
                assertThrows(
                        HubNotFoundException.class,
                        () -> d.download(RepoId.of(HubTestSupport.REPO), "v9", FileSelector.all()));
        assertTrue(rev.getMessage().contains("Revision 'v9'"), rev.getMessage());
    }

    @Test
    void aGatedRepositoryNeedsTheTokenWhichNeverReachesTheCdn() throws IOException {
        FakeHub.Repo gated =
                hub.addRepo("ibm-fms/gated-tiny", FakeHub.fixture("mamba-tiny")).gated();
        SnapshotDownloader anonymous =
                HubTestSupport.downloader(HubTestSupport.settings(hub, cache).build());
        GatedRepoException e =
                assertThrows(
                        GatedRepoException.class, () -> anonymous.download("ibm-fms/gated-tiny"));
        assertTrue(e.getMessage().contains("accept its terms"), e.getMessage());
        assertTrue(e.getMessage().contains("HF_TOKEN"), e.getMessage());
        assertTrue(e.getMessage().contains("No token was sent"), e.getMessage());
        hub.clearRecords();

        Path dir =
                HubTestSupport.downloader(
                                HubTestSupport.settings(hub, cache).token(FakeHub.TOKEN).build())
                        .download("ibm-fms/gated-tiny");

        assertArrayEquals(
                gated.file("model.safetensors"),
                Files.readAllBytes(dir.resolve("model.safetensors")));
        List<FakeHub.Request> cdn = hub.contentRequests("model.safetensors");
        assertEquals(1, cdn.size());
        assertTrue(cdn.get(0).host.startsWith("localhost:"), cdn.get(0).toString());
        assertNull(cdn.get(0).authorization, "the token must not leave the Hub's host");
        assertTrue(
                hub.requests().stream()
                        .filter(r -> r.method.equals("HEAD"))
                        .allMatch(r -> ("Bearer " + FakeHub.TOKEN).equals(r.authorization)));
    }

    @Test
    void aWrongTokenIsToldApart() throws IOException {
        hub.addRepo("ibm-fms/gated-tiny", FakeHub.fixture("mamba-tiny")).gated();
        SnapshotDownloader d =
                HubTestSupport.downloader(
                        HubTestSupport.settings(hub, cache).token("hf_wrong").build());
        GatedRepoException e =
                assertThrows(GatedRepoException.class, () -> d.download("ibm-fms/gated-tiny"));
        assertTrue(e.getMessage().contains("A token was sent"), e.getMessage());
        assertTrue(e.getMessage().contains(hub.endpoint() + "/ibm-fms/gated-tiny"), e.getMessage());
    }

    @Test
    void followsTheRedirectOfARenamedRepositoryWithItsToken() throws IOException {
        hub.rename("old-org/mamba-tiny", HubTestSupport.REPO);

        Path dir =
                HubTestSupport.downloader(
                                HubTestSupport.settings(hub, cache).token(FakeHub.TOKEN).build())
                        .download("old-org/mamba-tiny");

        assertEquals(cache.resolve("models--old-org--mamba-tiny/snapshots/" + tiny.commit()), dir);
        assertArrayEquals(tiny.file("config.json"), Files.readAllBytes(dir.resolve("config.json")));
        assertTrue(
                hub.requests().stream()
                        .filter(r -> r.path.contains("/" + HubTestSupport.REPO + "/resolve/"))
                        .allMatch(r -> ("Bearer " + FakeHub.TOKEN).equals(r.authorization)));
        assertTrue(hub.requests().stream().anyMatch(r -> r.path.startsWith("/old-org/")));
    }

    @Test
    void refusesFileNamesThatLeaveTheSnapshot() {
        HubCache c = new HubCache(cache);
        IllegalArgumentException e =
                assertThrows(
                        IllegalArgumentException.class,
                        () ->
                                c.snapshotPath(
                                        RepoId.of(HubTestSupport.REPO),
                                        tiny.commit(),
                                        "../../../etc/passwd"));
        assertTrue(e.getMessage().contains("leave the snapshot"), e.getMessage());
        assertFalse(Files.exists(cache.resolve("models--state-spaces--mamba-tiny")));
    }

    static List<String> list(Path dir) throws IOException {
        try (Stream<Path> s = Files.list(dir)) {
            return s.map(p -> p.getFileName().toString()).sorted().collect(Collectors.toList());
        }
    }
}
