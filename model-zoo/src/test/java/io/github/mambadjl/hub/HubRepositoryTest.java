package io.github.mambadjl.hub;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.repository.Artifact;
import ai.djl.repository.MRL;
import ai.djl.repository.Repository;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The {@code hf://} scheme, driven the way DJL's model loader drives a repository. */
class HubRepositoryTest {

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
        Repository.registerRepositoryFactory(new HubRepositoryFactory());
        hub.close();
    }

    @Test
    void theSchemeIsRegisteredThroughServiceLoader() {
        Repository r = Repository.newInstance("m", "hf://state-spaces/mamba-130m-hf@v1");
        HubRepository h = assertInstanceOf(HubRepository.class, r);
        assertEquals("state-spaces/mamba-130m-hf", h.getRepoId().getId());
        assertEquals("v1", h.getRevision());
        assertEquals(
                "main", ((HubRepository) Repository.newInstance("m", "hf://gpt2")).getRevision());
    }

    @Test
    void preparesTheSnapshotAsTheModelDirectory() throws IOException {
        Repository.registerRepositoryFactory(
                new HubRepositoryFactory(HubTestSupport.settings(hub, cache).build()));
        Repository repo =
                Repository.newInstance(
                        "mamba", "hf://" + HubTestSupport.REPO + "?blockFactory=x.Y");

        MRL mrl = repo.getResources().get(0);
        Artifact artifact = mrl.match(Map.of());
        RecordingProgress progress = new RecordingProgress();
        mrl.prepare(artifact, progress);
        Path dir = repo.getResourceDirectory(artifact);

        assertEquals(
                cache.resolve("models--state-spaces--mamba-tiny/snapshots/" + tiny.commit()), dir);
        assertEquals("x.Y", artifact.getArguments().get("blockFactory"));
        assertEquals("mamba-tiny", artifact.getName());
        assertArrayEquals(
                tiny.file("model.safetensors"),
                Files.readAllBytes(dir.resolve("model.safetensors")));
        assertEquals(cache, repo.getCacheDirectory());
        Artifact.Item item = new Artifact.Item();
        item.setArtifact(artifact);
        assertArrayEquals(
                new String[] {"config.json", "generation_config.json", "model.safetensors"},
                repo.listDirectory(item, ""));
        try (InputStream in = repo.openStream(item, "config.json")) {
            assertArrayEquals(tiny.file("config.json"), in.readAllBytes());
        }
        assertTrue(mrl.isPrepared(artifact));
    }

    @Test
    void badUrlsSayHowToWriteThem() {
        IllegalArgumentException e =
                assertThrows(
                        IllegalArgumentException.class,
                        () -> Repository.newInstance("m", "hf://state-spaces/mamba@"));
        assertTrue(e.getMessage().contains("hf://org/name@revision"), e.getMessage());
        IllegalArgumentException id =
                assertThrows(
                        IllegalArgumentException.class,
                        () -> Repository.newInstance("m", "hf://a/b/c"));
        assertTrue(id.getMessage().contains("not a valid"), id.getMessage());
    }
}
