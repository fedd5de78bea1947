package io.github.mambadjl.zoo;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.inference.Predictor;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.repository.zoo.Criteria;
import ai.djl.repository.zoo.ZooModel;
import io.github.mambadjl.checkpoint.SafetensorsFile;
import io.github.mambadjl.hub.CacheMissException;
import io.github.mambadjl.hub.FakeHub;
import io.github.mambadjl.hub.GatedRepoException;
import io.github.mambadjl.hub.HubTokenizers;
import io.github.mambadjl.model.CausalLM;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Criteria loads through djl:// and hf:// from the fake Hub, and text generation. */
class ZooCriteriaTest {

    static final String HF_130M = "djl://io.github.mambadjl/mamba-130m-hf";

    @TempDir Path cache;
    private FakeHub hub;
    private ZooFixtures.Golden mamba;

    @BeforeEach
    void start() throws Exception {
        hub = FakeHub.start();
        hub.addRepo("state-spaces/mamba-130m-hf", ZooFixtures.repo("mamba-tiny", true));
        mamba = new ZooFixtures.Golden("mamba-tiny");
        ZooFixtures.use(ZooFixtures.settings(hub, cache).build());
    }

    @AfterEach
    void stop() {
        ZooFixtures.reset();
        hub.close();
    }

    static <O> Criteria.Builder<String, O> text(String url, Class<O> output) {
        return Criteria.builder()
                .setTypes(String.class, output)
                .optModelUrls(url)
                .optEngine("PyTorch");
    }

    @Test
    void djlUrlGeneratesTheGreedyTokens() throws Exception {
        try (ZooModel<String, String> model =
                        text(HF_130M, String.class)
                                .optArgument("maxNewTokens", 12)
                                .build()
                                .loadModel();
                Predictor<String, String> p = model.newPredictor()) {
            assertEquals(mamba.expectedText(), p.predict(mamba.promptText()));
            TextGenerationBlock block =
                    assertInstanceOf(TextGenerationBlock.class, model.getBlock());
            assertInstanceOf(CausalLM.class, block.getModel());
            assertEquals(DataType.FLOAT32, model.getDataType());
        }
        assertEquals(1, hub.contentRequests("model.safetensors").size());
        assertTrue(
                cache.resolve("models--state-spaces--mamba-130m-hf/refs/main").toFile().isFile());
    }

    @Test
    void groupAndArtifactIdsFindTheZooLoader() throws Exception {
        Criteria<String, String> criteria =
                Criteria.builder()
                        .setTypes(String.class, String.class)
                        .optGroupId(MambaModelZoo.GROUP_ID)
                        .optArtifactId("mamba-130m-hf")
                        .optEngine("PyTorch")
                        .optArgument("maxNewTokens", 12)
                        .build();
        try (ZooModel<String, String> model = criteria.loadModel();
                Predictor<String, String> p = model.newPredictor()) {
            assertEquals(mamba.expectedText(), p.predict(mamba.promptText()));
        }
    }

    @Test
    void hfUrlGeneratesAndStopsAtTheEndOfSequence() throws Exception {
        FakeHub.Repo repo = hub.addRepo("acme/mamba2-tiny", ZooFixtures.repo("mamba2-tiny", true));
        ZooFixtures.Golden g = new ZooFixtures.Golden("mamba2-tiny");
        assertEquals(9, g.newTokens.length);
        assertEquals(0, g.newTokens[8]);
        for (String url :
                new String[] {"hf://acme/mamba2-tiny", "hf://acme/mamba2-tiny@" + repo.commit()}) {
            try (ZooModel<String, String> model =
                            text(url, String.class)
                                    .optArgument("maxNewTokens", 12)
                                    .build()
                                    .loadModel();
                    Predictor<String, String> p = model.newPredictor()) {
                assertEquals(g.expectedText(), p.predict(g.promptText()), url);
                assertTrue(model.getModelPath().endsWith(repo.commit()), url);
            }
        }
    }

    @Test
    void streamingYieldsOnePiecePerTokenAndTheSameText() throws Exception {
        try (ZooModel<String, TextStream> model =
                        text(HF_130M, TextStream.class)
                                .optArgument("maxNewTokens", 12)
                                .build()
                                .loadModel();
                Predictor<String, TextStream> p = model.newPredictor()) {
            List<String> pieces = new ArrayList<>();
            try (TextStream s = p.streamingPredict(mamba.promptText()).getIterativeOutput()) {
                s.forEachRemaining(pieces::add);
                assertArrayEquals(mamba.newTokens, s.getTokenIds());
            }
            long visible = java.util.Arrays.stream(mamba.newTokens).filter(t -> t != 0).count();
            assertEquals(visible, pieces.size(), pieces.toString());
            assertEquals(mamba.expectedText(), String.join("", pieces));
            try (TextStream whole = p.predict(mamba.promptText())) {
                assertEquals(mamba.expectedText(), whole.readAll());
            }
        }
    }

    @Test
    void aStreamClosedEarlyComputesNoMore() throws Exception {
        try (ZooModel<String, TextStream> model =
                        text(HF_130M, TextStream.class)
                                .optArgument("maxNewTokens", 12)
                                .build()
                                .loadModel();
                Predictor<String, TextStream> p = model.newPredictor()) {
            TextStream s = p.streamingPredict(mamba.promptText()).getIterativeOutput();
            assertEquals("t" + mamba.newTokens[0], s.next());
            s.close();
            assertEquals(1, s.getTokenIds().length);
            assertTrue(!s.hasNext());
        }
    }

    @Test
    void criteriaArgumentsTakeEffect() throws Exception {
        String[] words = mamba.expectedText().split(" ");
        try (ZooModel<String, String> model =
                        text(HF_130M, String.class)
                                .optArgument("maxNewTokens", "3")
                                .build()
                                .loadModel();
                Predictor<String, String> p = model.newPredictor()) {
            assertEquals(
                    String.join(" ", words[0], words[1], words[2]), p.predict(mamba.promptText()));
        }
        // a stop string that straddles the first two tokens: the text ends inside the first one
        String stop = words[0].substring(1) + " " + words[1].substring(0, 2);
        String before = words[0].substring(0, 1);
        try (ZooModel<String, String> model =
                        text(HF_130M, String.class)
                                .optArgument("maxNewTokens", 12)
                                .optArgument("stop", List.of("zzz", stop))
                                .build()
                                .loadModel();
                Predictor<String, String> p = model.newPredictor()) {
            assertEquals(before, p.predict(mamba.promptText()));
        }
        try (ZooModel<String, TextStream> model =
                        text(HF_130M, TextStream.class)
                                .optArgument("maxNewTokens", 12)
                                .optArgument("stop", stop)
                                .build()
                                .loadModel();
                Predictor<String, TextStream> p = model.newPredictor();
                TextStream s = p.streamingPredict(mamba.promptText()).getIterativeOutput()) {
            assertEquals(before, s.readAll());
            assertEquals(2, s.getTokenIds().length, "generation ends at the stop string");
        }
    }

    @Test
    void aSeedMakesSamplingReproducible() throws Exception {
        String a = sample(7);
        assertEquals(a, sample(7));
        assertNotEquals(a, sample(8));
        assertNotEquals(mamba.expectedText(), a);
    }

    private String sample(long seed) throws Exception {
        try (ZooModel<String, String> model =
                        text(HF_130M, String.class)
                                .optArgument("maxNewTokens", 12)
                                .optArgument("temperature", 2.0)
                                .optArgument("topK", 50)
                                .optArgument("topP", 0.95)
                                .optArgument("repetitionPenalty", 1.1)
                                .optArgument("seed", seed)
                                .build()
                                .loadModel();
                Predictor<String, String> p = model.newPredictor()) {
            String first = p.predict(mamba.promptText());
            assertEquals(first, p.predict(mamba.promptText()), "one seed, one text");
            return first;
        }
    }

    @Test
    void badArgumentsSayWhatIsWrong() {
        Exception e =
                assertThrows(
                        Exception.class,
                        () ->
                                text(HF_130M, String.class)
                                        .optArgument("topK", 5)
                                        .build()
                                        .loadModel());
        assertTrue(causes(e).contains("topK applies only to sampling"), causes(e));
        Exception n =
                assertThrows(
                        Exception.class,
                        () ->
                                text(HF_130M, String.class)
                                        .optArgument("maxNewTokens", "many")
                                        .build()
                                        .loadModel());
        assertTrue(causes(n).contains("maxNewTokens must be a number"), causes(n));
        IllegalArgumentException u =
                assertThrows(
                        IllegalArgumentException.class,
                        () ->
                                text("djl://io.github.mambadjl/mamba-1m", String.class)
                                        .build()
                                        .loadModel());
        assertTrue(u.getMessage().contains("mamba-130m-hf"), u.getMessage());
    }

    @Test
    void theNdListContractIsUnchanged() throws Exception {
        Criteria<NDList, NDList> criteria =
                Criteria.builder()
                        .setTypes(NDList.class, NDList.class)
                        .optModelUrls(HF_130M)
                        .optEngine("PyTorch")
                        .build();
        try (ZooModel<NDList, NDList> model = criteria.loadModel();
                Predictor<NDList, NDList> p = model.newPredictor();
                SafetensorsFile golden =
                        SafetensorsFile.open(
                                FakeHub.fixture("mamba-tiny").resolve("golden.safetensors"))) {
            assertInstanceOf(CausalLM.class, model.getBlock());
            NDArray ids =
                    golden.tensor("input_ids").toNDArray(model.getNDManager(), DataType.INT64);
            NDList out = p.predict(new NDList(ids));
            assertEquals(new Shape(2, 21, 96), out.head().getShape());
            assertEquals(DataType.FLOAT32, out.head().getDataType());
            float[] expected = golden.tensor("logits").toFloatArray();
            float[] got = out.head().toFloatArray();
            double worst = 0;
            for (int i = 0; i < got.length; i++) {
                worst = Math.max(worst, Math.abs(got[i] - expected[i]));
            }
            assertTrue(worst < 1e-4, "logits differ by " + worst);
        }
    }

    @Test
    void originalCheckpointsTakeTheGptNeoxTokenizer() throws Exception {
        hub.addRepo("state-spaces/mamba-130m", ZooFixtures.repo("mamba-tiny-ssm", false));
        hub.addRepo(HubTokenizers.GPT_NEOX_20B, ZooFixtures.neox());
        try (ZooModel<String, String> model =
                        text("djl://io.github.mambadjl/mamba-130m", String.class)
                                .optArgument("maxNewTokens", 12)
                                .build()
                                .loadModel();
                Predictor<String, String> p = model.newPredictor()) {
            assertEquals(mamba.expectedText(), p.predict(mamba.promptText()));
        }
        assertEquals(1, hub.contentRequests("tokenizer.json").size());
    }

    @Test
    void codestralIsGatedAndLoadsWithAToken() throws Exception {
        hub.addRepo(
                        "mistralai/Mamba-Codestral-7B-v0.1",
                        ZooFixtures.repo("mamba2-mistral-tiny", true))
                .gated();
        String url = "djl://io.github.mambadjl/mamba-codestral-7b-v0.1";
        Exception e =
                assertThrows(Exception.class, () -> text(url, String.class).build().loadModel());
        assertTrue(chain(e, GatedRepoException.class), causes(e));
        assertTrue(causes(e).contains("HF_TOKEN"), causes(e));

        ZooFixtures.use(ZooFixtures.settings(hub, cache).token(FakeHub.TOKEN).build());
        ZooFixtures.Golden g = new ZooFixtures.Golden("mamba2-mistral-tiny");
        try (ZooModel<String, String> model =
                        text(url, String.class)
                                .optArgument("maxNewTokens", 12)
                                .build()
                                .loadModel();
                Predictor<String, String> p = model.newPredictor()) {
            assertEquals(g.expectedText(), p.predict(g.promptText()));
            assertEquals(DataType.FLOAT32, model.getDataType(), "bfloat16 entry on PyTorch");
            String settings = model.getProperty(ZooArguments.HUB_SETTINGS);
            assertTrue(settings.contains("token=set"), settings);
            assertTrue(
                    !settings.contains(FakeHub.TOKEN), "the token is not in the model properties");
        }
        IllegalArgumentException bf16 =
                assertThrows(
                        IllegalArgumentException.class,
                        () ->
                                text(url, String.class)
                                        .optArgument("dataType", "bfloat16")
                                        .build()
                                        .loadModel());
        assertTrue(bf16.getMessage().contains("PyTorch"), bf16.getMessage());
    }

    @Test
    void offlineFromAWarmCache() throws Exception {
        String first;
        try (ZooModel<String, String> model =
                        text(HF_130M, String.class)
                                .optArgument("maxNewTokens", 4)
                                .build()
                                .loadModel();
                Predictor<String, String> p = model.newPredictor()) {
            first = p.predict(mamba.promptText());
        }
        hub.clearRecords();
        ZooFixtures.use(ZooFixtures.settings(hub, cache).offline(true).build());
        for (String url : new String[] {HF_130M, "hf://state-spaces/mamba-130m-hf"}) {
            try (ZooModel<String, String> model =
                            text(url, String.class)
                                    .optArgument("maxNewTokens", 4)
                                    .build()
                                    .loadModel();
                    Predictor<String, String> p = model.newPredictor()) {
                assertEquals(first, p.predict(mamba.promptText()));
            }
        }
        assertTrue(hub.requests().isEmpty(), hub.requests().toString());
    }

    @Test
    void offlineWithAColdCacheFailsClearly(@TempDir Path cold) {
        ZooFixtures.use(ZooFixtures.settings(hub, cold).offline(true).build());
        CacheMissException e =
                assertThrows(
                        CacheMissException.class,
                        () -> text(HF_130M, String.class).build().loadModel());
        assertTrue(e.getMessage().contains("state-spaces/mamba-130m-hf"), e.getMessage());
        assertTrue(e.getMessage().contains(cold.toString()), e.getMessage());
        assertTrue(hub.requests().isEmpty());
    }

    @Test
    void twoConcurrentLoadsOfOneModel() throws Exception {
        Callable<String> load =
                () -> {
                    try (ZooModel<String, String> model =
                                    text(HF_130M, String.class)
                                            .optArgument("maxNewTokens", 12)
                                            .build()
                                            .loadModel();
                            Predictor<String, String> p = model.newPredictor()) {
                        return p.predict(mamba.promptText());
                    }
                };
        ExecutorService pool = Executors.newFixedThreadPool(2);
        try {
            Future<String> a = pool.submit(load);
            Future<String> b = pool.submit(load);
            assertEquals(mamba.expectedText(), a.get());
            assertEquals(mamba.expectedText(), b.get());
        } finally {
            pool.shutdownNow();
        }
        assertEquals(1, hub.contentRequests("model.safetensors").size());
    }

    @Test
    void theSnapshotFolderHoldsOnlyRepositoryFiles() throws Exception {
        try (ZooModel<String, String> model =
                text(HF_130M, String.class).optArgument("maxNewTokens", 1).build().loadModel()) {
            String[] files = model.getModelPath().toFile().list();
            java.util.Arrays.sort(files);
            assertArrayEquals(
                    new String[] {
                        "config.json",
                        "generation_config.json",
                        "model.safetensors",
                        "tokenizer.json"
                    },
                    files);
        }
    }

    private static boolean chain(Throwable t, Class<?> type) {
        for (Throwable c = t; c != null; c = c.getCause()) {
            if (type.isInstance(c)) {
                return true;
            }
        }
        return false;
    }

    private static String causes(Throwable t) {
        StringBuilder sb = new StringBuilder();
        for (Throwable c = t; c != null; c = c.getCause()) {
            sb.append(c.getClass().getSimpleName())
                    .append(": ")
                    .append(c.getMessage())
                    .append(" | ");
        }
        return sb.toString();
    }
}
