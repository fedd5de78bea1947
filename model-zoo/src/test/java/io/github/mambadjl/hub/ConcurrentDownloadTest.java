package io.github.mambadjl.hub;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Several threads and several JVMs downloading one repository into one cache. */
class ConcurrentDownloadTest {

    private static final String WEIGHTS = "model.safetensors";

    @TempDir Path cache;
    private FakeHub hub;
    private FakeHub.Repo tiny;

    @BeforeEach
    void startHub() throws IOException {
        hub = FakeHub.start();
        tiny = hub.addRepo(HubTestSupport.REPO, FakeHub.fixture("mamba-tiny"));
        hub.throttle(16 * 1024, 10);
    }

    @AfterEach
    void stopHub() {
        hub.close();
    }

    @Test
    void threadsShareOneDownload() throws Exception {
        int n = 4;
        hub.holdContentUntilHeads(WEIGHTS, n);
        ExecutorService pool = Executors.newFixedThreadPool(n);
        CountDownLatch go = new CountDownLatch(1);
        try {
            List<Future<Path>> results = new ArrayList<>();
            for (int i = 0; i < n; i++) {
                SnapshotDownloader d =
                        new SnapshotDownloader(HubTestSupport.settings(hub, cache).build());
                Callable<Path> task =
                        () -> {
                            go.await();
                            return d.download(HubTestSupport.REPO);
                        };
                results.add(pool.submit(task));
            }
            go.countDown();
            for (Future<Path> f : results) {
                Path dir = f.get(60, TimeUnit.SECONDS);
                assertArrayEquals(tiny.file(WEIGHTS), Files.readAllBytes(dir.resolve(WEIGHTS)));
            }
        } finally {
            pool.shutdownNow();
        }
        assertEquals(1, hub.contentRequests(WEIGHTS).size(), hub.requests().toString());
        assertEquals(tiny.file(WEIGHTS).length, hub.bytesServed(WEIGHTS));
    }

    @Test
    void processesShareOneDownload() throws Exception {
        hub.holdContentUntilHeads(WEIGHTS, 2);
        String java = Paths.get(System.getProperty("java.home"), "bin", "java").toString();
        List<Process> processes = new ArrayList<>();
        for (int i = 0; i < 2; i++) {
            processes.add(
                    new ProcessBuilder(
                                    java,
                                    "-cp",
                                    System.getProperty("java.class.path"),
                                    DownloadMain.class.getName(),
                                    hub.endpoint(),
                                    cache.toString(),
                                    HubTestSupport.REPO)
                            .redirectErrorStream(true)
                            .start());
        }
        List<String> outputs = new ArrayList<>();
        for (Process p : processes) {
            assertTrue(p.waitFor(120, TimeUnit.SECONDS), "a download process hung");
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            assertEquals(0, p.exitValue(), out);
            outputs.add(out.strip());
        }
        Path expected =
                cache.resolve("models--state-spaces--mamba-tiny/snapshots/" + tiny.commit());
        for (String out : outputs) {
            assertTrue(out.endsWith(expected.toString()), out);
        }
        assertArrayEquals(tiny.file(WEIGHTS), Files.readAllBytes(expected.resolve(WEIGHTS)));
        assertEquals(1, hub.contentRequests(WEIGHTS).size(), hub.requests().toString());
    }
}
