package io.github.mambadjl.hub;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** Every golden fixture served as a Hub repository downloads to its checkpoint files. */
class GoldenFixtureReposTest {

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

    @ParameterizedTest
    @CsvSource({
        "mamba-tiny, config.json generation_config.json model.safetensors",
        "mamba-tiny-ssm, config.json pytorch_model.bin",
        "mamba2-tiny, config.json generation_config.json model.safetensors",
        "mamba2-mistral-tiny, consolidated.safetensors params.json",
        "bamba-tiny, config.json generation_config.json model.safetensors"
    })
    void downloadsTheCheckpointOfEachFixture(String fixture, String expected) throws IOException {
        Path source = FakeHub.fixture(fixture);
        FakeHub.Repo repo = hub.addRepo("fixtures/" + fixture, source);

        Path dir =
                new SnapshotDownloader(HubTestSupport.settings(hub, cache).build())
                        .download("fixtures/" + fixture);

        List<String> files = Arrays.asList(expected.split(" "));
        assertEquals(files, SnapshotDownloaderTest.list(dir));
        for (String f : files) {
            assertArrayEquals(
                    Files.readAllBytes(source.resolve(f)), Files.readAllBytes(dir.resolve(f)));
            assertEquals(
                    dir.getParent().getParent().resolve("blobs").toRealPath(),
                    dir.resolve(f).toRealPath().getParent());
        }
        assertEquals(repo.commit(), dir.getFileName().toString());
    }
}
