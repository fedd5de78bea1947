package io.github.mambadjl.zoo;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Application;
import ai.djl.ndarray.types.DataType;
import ai.djl.repository.MRL;
import ai.djl.repository.RemoteRepository;
import ai.djl.repository.Repository;
import ai.djl.repository.zoo.ModelZoo;
import ai.djl.repository.zoo.ZooProvider;
import io.github.mambadjl.config.ModelFamily;
import io.github.mambadjl.hub.HubRepository;
import java.net.URI;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;

/** The zoo's entries, their listing through DJL, and the djl:// scheme. */
class ZooListingTest {

    static final Set<String> NAMES =
            Set.of(
                    "mamba-130m",
                    "mamba-370m",
                    "mamba-790m",
                    "mamba-1.4b",
                    "mamba-2.8b",
                    "mamba-2.8b-slimpj",
                    "mamba-130m-hf",
                    "mamba-370m-hf",
                    "mamba-790m-hf",
                    "mamba-1.4b-hf",
                    "mamba-2.8b-hf",
                    "mamba2-130m",
                    "mamba2-370m",
                    "mamba2-780m",
                    "mamba2-1.3b",
                    "mamba2-2.7b",
                    "mamba-codestral-7b-v0.1",
                    "bamba-9b",
                    "bamba-9b-v2");

    @Test
    void listModelsShowsEveryEntry() {
        Set<String> listed = new TreeSet<>();
        for (Map.Entry<Application, List<MRL>> e : ModelZoo.listModels().entrySet()) {
            for (MRL mrl : e.getValue()) {
                if (MambaModelZoo.GROUP_ID.equals(mrl.getGroupId())) {
                    assertEquals(Application.NLP.TEXT_GENERATION, e.getKey());
                    listed.add(mrl.getArtifactId());
                }
            }
        }
        assertEquals(new TreeSet<>(NAMES), listed);
        MambaModelZoo zoo =
                assertInstanceOf(MambaModelZoo.class, ModelZoo.getModelZoo(MambaModelZoo.GROUP_ID));
        assertEquals(Set.of("Mamba", "PyTorch"), zoo.getSupportedEngines());
        assertEquals(NAMES.size(), zoo.getEntries().size());
    }

    @Test
    void entriesKnowTheirRepositoryFamilySizeLayoutAndType() {
        MambaModelZoo zoo = new MambaModelZoo();
        ZooEntry original = zoo.requireLoader("mamba-2.8b-slimpj").getEntry();
        assertEquals("state-spaces/mamba-2.8b-slimpj", original.getRepo().getId());
        assertEquals(ModelFamily.MAMBA, original.getFamily());
        assertEquals(RepoLayout.STATE_SPACES, original.getLayout());
        assertEquals(DataType.FLOAT32, original.getDataType());
        ZooEntry hf = zoo.requireLoader("mamba-130m-hf").getEntry();
        assertEquals(RepoLayout.HF, hf.getLayout());
        assertEquals("130M", hf.getParameters());
        ZooEntry mamba2 = zoo.requireLoader("mamba2-780m").getEntry();
        assertEquals(ModelFamily.MAMBA2, mamba2.getFamily());
        assertEquals(RepoLayout.STATE_SPACES, mamba2.getLayout());
        ZooEntry codestral = zoo.requireLoader("mamba-codestral-7b-v0.1").getEntry();
        assertEquals("mistralai/Mamba-Codestral-7B-v0.1", codestral.getRepo().getId());
        assertEquals(RepoLayout.MISTRAL, codestral.getLayout());
        assertEquals(DataType.BFLOAT16, codestral.getDataType());
        assertTrue(codestral.isGated());
        ZooEntry bamba = zoo.requireLoader("bamba-9b-v2").getEntry();
        assertEquals("ibm-ai-platform/Bamba-9B-v2", bamba.getRepo().getId());
        assertEquals(ModelFamily.BAMBA, bamba.getFamily());
        List<String> gated = new ArrayList<>();
        for (ZooEntry e : zoo.getEntries()) {
            if (e.isGated()) {
                gated.add(e.getName());
            }
        }
        assertEquals(List.of("mamba-codestral-7b-v0.1"), gated);
    }

    @Test
    void djlUrlsOfTheZooPointAtTheHub() {
        Repository r =
                Repository.newInstance("m", "djl://io.github.mambadjl/mamba2-1.3b?maxNewTokens=5");
        HubRepository hub = assertInstanceOf(HubRepository.class, r);
        assertEquals("state-spaces/mamba2-1.3b", hub.getRepoId().getId());
        MRL mrl = r.getResources().get(0);
        assertEquals(MambaModelZoo.GROUP_ID, mrl.getGroupId());
        assertEquals("mamba2-1.3b", mrl.getArtifactId());
        IllegalArgumentException e =
                assertThrows(
                        IllegalArgumentException.class,
                        () -> Repository.newInstance("m", "djl://io.github.mambadjl/mamba-3b"));
        assertTrue(e.getMessage().contains("mamba-2.8b-hf"), e.getMessage());
        assertTrue(e.getMessage().contains("hf://org/name"), e.getMessage());
    }

    @Test
    void djlUrlsOfOtherZoosKeepDjlsMeaning() {
        ZooProvider other =
                () ->
                        new ModelZoo() {
                            {
                                addModel(
                                        MRL.model(
                                                new RemoteRepository(
                                                        "x",
                                                        URI.create("https://example.invalid/")),
                                                Application.NLP.FILL_MASK,
                                                "test.other",
                                                "bert",
                                                null,
                                                null));
                            }

                            @Override
                            public String getGroupId() {
                                return "test.other";
                            }

                            @Override
                            public Set<String> getSupportedEngines() {
                                return Set.of("PyTorch");
                            }
                        };
        ModelZoo.registerModelZoo(other);
        Repository r = Repository.newInstance("m", "djl://test.other/bert/0.0.1");
        assertInstanceOf(RemoteRepository.class, r);
        MRL mrl = r.getResources().get(0);
        assertEquals("bert", mrl.getArtifactId());
        assertEquals("0.0.1", mrl.getVersion());
        assertEquals(Application.NLP.FILL_MASK, mrl.getApplication());
        assertThrows(
                IllegalArgumentException.class,
                () -> Repository.newInstance("m", "djl://no.such.zoo/x"));
    }
}
