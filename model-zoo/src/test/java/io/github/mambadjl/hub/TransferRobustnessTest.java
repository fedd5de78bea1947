package io.github.mambadjl.hub;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Resume, retries, timeouts, integrity checks and progress of blob downloads. */
class TransferRobustnessTest {

    private static final String BIG = "model.safetensors";
    private static final RepoId REPO = RepoId.of("org/big");

    @TempDir Path cache;
    private FakeHub hub;
    private byte[] weights;
    private FakeHub.Repo repo;

    @BeforeEach
    void startHub() throws IOException {
        hub = FakeHub.start();
        weights = new byte[300_000];
        new Random(7).nextBytes(weights);
        repo =
                hub.addRepo(
                        REPO.getId(),
                        Map.of("config.json", "{\"d_model\": 8}".getBytes(), BIG, weights));
    }

    @AfterEach
    void stopHub() {
        hub.close();
    }

    private FileDownloader downloader() {
        return new FileDownloader(HubTestSupport.settings(hub, cache).build());
    }

    private Path blob() {
        return new HubCache(cache).blobPath(REPO, FakeHub.sha256(weights));
    }

    @Test
    void resumesWithRangeAfterTheConnectionIsCut() throws IOException {
        hub.inject("get:" + BIG, FakeHub.Fault.cutAfter(100_000));

        Path file = downloader().download(REPO, "main", BIG);

        assertArrayEquals(weights, Files.readAllBytes(file));
        List<FakeHub.Request> gets = hub.contentRequests(BIG);
        assertEquals(2, gets.size(), gets.toString());
        assertEquals(null, gets.get(0).range);
        assertTrue(gets.get(1).range.startsWith("bytes="), gets.toString());
        long resumedFrom = Long.parseLong(gets.get(1).range.replaceAll("\\D", ""));
        assertTrue(resumedFrom > 0 && resumedFrom <= 100_000, gets.toString());
        assertEquals(weights.length, hub.bytesServed(BIG) - (100_000 - resumedFrom));
    }

    @Test
    void resumesAnIncompleteFileLeftByAnEarlierProcess() throws IOException {
        Path incomplete = new HubCache(cache).incompletePath(REPO, FakeHub.sha256(weights));
        Files.createDirectories(incomplete.getParent());
        Files.write(incomplete, Arrays.copyOf(weights, 123_456));

        Path file = downloader().download(REPO, "main", BIG);

        assertArrayEquals(weights, Files.readAllBytes(file));
        assertEquals("bytes=123456-", hub.contentRequests(BIG).get(0).range);
        assertEquals(weights.length - 123_456, hub.bytesServed(BIG));
        assertFalse(Files.exists(incomplete));
    }

    @Test
    void restartsWhenTheServerIgnoresOrMisplacesTheRange() throws IOException {
        Path incomplete = new HubCache(cache).incompletePath(REPO, FakeHub.sha256(weights));
        Files.createDirectories(incomplete.getParent());
        byte[] stale = new byte[50_000];
        Files.write(incomplete, stale);
        hub.inject("get:" + BIG, FakeHub.Fault.ignoreRange());

        assertArrayEquals(weights, Files.readAllBytes(downloader().download(REPO, "main", BIG)));
        assertEquals("bytes=50000-", hub.contentRequests(BIG).get(0).range);

        Files.delete(blob());
        Files.write(incomplete, Arrays.copyOf(weights, 70_000));
        hub.clearRecords();
        hub.inject("get:" + BIG, FakeHub.Fault.shiftedRange());

        assertArrayEquals(weights, Files.readAllBytes(downloader().download(REPO, "main", BIG)));
        List<FakeHub.Request> gets = hub.contentRequests(BIG);
        assertEquals(2, gets.size(), gets.toString());
        assertEquals(null, gets.get(1).range, "a misplaced range restarts from the first byte");
    }

    @Test
    void retriesAfterServerErrors() throws IOException {
        hub.inject("api", FakeHub.Fault.status(503));
        hub.inject("head:" + BIG, FakeHub.Fault.status(502));
        hub.inject("get:" + BIG, FakeHub.Fault.status(500));
        hub.inject("get:" + BIG, FakeHub.Fault.status(429));

        Path dir =
                new SnapshotDownloader(downloader())
                        .download(REPO, "main", FileSelector.checkpoint());

        assertArrayEquals(weights, Files.readAllBytes(dir.resolve(BIG)));
        assertEquals(3, hub.contentRequests(BIG).size());
    }

    @Test
    void givesUpAfterTheBoundedNumberOfRetries() {
        for (int i = 0; i < 4; i++) {
            hub.inject("get:" + BIG, FakeHub.Fault.status(503));
        }
        HubConnectionException e =
                assertThrows(
                        HubConnectionException.class,
                        () -> downloader().download(REPO, "main", BIG));
        assertTrue(e.getMessage().contains("after 4 attempts"), e.getMessage());
        assertTrue(e.getMessage().contains("HTTP 503"), e.getMessage());
        assertEquals(4, hub.contentRequests(BIG).size());
        assertFalse(Files.exists(blob()));
    }

    @Test
    void retriesAfterTimeouts() throws IOException {
        FileDownloader d =
                new FileDownloader(
                        HubTestSupport.settings(hub, cache)
                                .connectTimeout(Duration.ofMillis(300))
                                .readTimeout(Duration.ofMillis(300))
                                .build());
        hub.inject("head:" + BIG, FakeHub.Fault.stallHeaders(1500));
        hub.inject("get:" + BIG, FakeHub.Fault.stallBody(50_000, 1500));

        Path file = d.download(REPO, "main", BIG);

        assertArrayEquals(weights, Files.readAllBytes(file));
        List<FakeHub.Request> gets = hub.contentRequests(BIG);
        assertEquals(2, gets.size(), gets.toString());
        assertEquals("bytes=50000-", gets.get(1).range);
    }

    @Test
    void aBodyThatDoesNotHashToTheEtagIsRejectedAndFetchedAgain() throws IOException {
        hub.inject("get:" + BIG, FakeHub.Fault.corrupt());

        Path file = downloader().download(REPO, "main", BIG);

        assertArrayEquals(weights, Files.readAllBytes(file));
        assertEquals(2, hub.contentRequests(BIG).size());
    }

    @Test
    void aBodyThatNeverHashesRightNeverEntersTheCache() {
        for (int i = 0; i < 4; i++) {
            hub.inject("get:" + BIG, FakeHub.Fault.corrupt());
        }
        IntegrityException e =
                assertThrows(
                        IntegrityException.class, () -> downloader().download(REPO, "main", BIG));
        assertTrue(e.getMessage().contains(FakeHub.sha256(weights)), e.getMessage());
        assertFalse(Files.exists(blob()));
        assertFalse(
                Files.exists(new HubCache(cache).incompletePath(REPO, FakeHub.sha256(weights))));
        assertFalse(Files.exists(new HubCache(cache).snapshotPath(REPO, repo.commit(), BIG)));
    }

    @Test
    void aCorruptedBlobInTheCacheIsDetectedAndFetchedAgain() throws IOException {
        FileDownloader d = downloader();
        d.download(REPO, "main", BIG);
        byte[] damaged = weights.clone();
        damaged[1000] ^= 1;
        Files.write(blob(), damaged);
        hub.clearRecords();

        Path file = d.download(REPO, "main", BIG);

        assertArrayEquals(weights, Files.readAllBytes(file));
        assertEquals(1, hub.contentRequests(BIG).size());
    }

    @Test
    void aTruncatedBlobInTheCacheIsFetchedAgainEvenWithoutHashing() throws IOException {
        FileDownloader d =
                new FileDownloader(
                        HubTestSupport.settings(hub, cache).verifyCachedBlobs(false).build());
        d.download(REPO, "main", BIG);
        Files.write(blob(), Arrays.copyOf(weights, 1000));
        hub.clearRecords();

        Path file = d.download(REPO, "main", BIG);

        assertArrayEquals(weights, Files.readAllBytes(file));
        assertEquals(1, hub.contentRequests(BIG).size());
    }

    @Test
    void refusesADownloadThatCannotFitOnTheDisk() {
        hub.announceSize(BIG, Long.MAX_VALUE / 2);

        HubException e =
                assertThrows(HubException.class, () -> downloader().download(REPO, "main", BIG));

        assertTrue(e.getMessage().startsWith("Not enough disk space for '" + BIG), e.getMessage());
        assertTrue(e.getMessage().contains("HF_HUB_CACHE"), e.getMessage());
        assertTrue(hub.contentRequests(BIG).isEmpty());
    }

    @Test
    void showsDjlsProgressBarByDefault() throws IOException {
        FileDownloader d =
                new FileDownloader(
                        HubTestSupport.settings(hub, cache).progressThreshold(1).build());
        PrintStream stdout = System.out;
        ByteArrayOutputStream captured = new ByteArrayOutputStream();
        System.setOut(new PrintStream(captured, true, StandardCharsets.UTF_8));
        try {
            d.download(REPO, "main", BIG);
        } finally {
            System.setOut(stdout);
        }
        String shown = captured.toString(StandardCharsets.UTF_8);
        assertTrue(shown.contains("100% |"), shown);
        assertTrue(shown.contains("mode...nsors:"), shown);
    }

    @Test
    void reportsProgressOnLargeFiles() throws IOException {
        RecordingProgress progress = new RecordingProgress();
        FileDownloader d =
                new FileDownloader(
                        new HubClient(
                                HubTestSupport.settings(hub, cache)
                                        .progressThreshold(100_000)
                                        .build()),
                        () -> progress);
        hub.inject("get:" + BIG, FakeHub.Fault.cutAfter(100_000));

        d.download(REPO, "main", "config.json");
        assertEquals(null, progress.message, "small files show no progress bar");
        d.download(REPO, "main", BIG);

        assertEquals(BIG, progress.message);
        assertEquals(weights.length, progress.max);
        assertEquals(weights.length, progress.current.get());
        assertEquals(weights.length, progress.highest);
        assertTrue(progress.ended);
    }
}
