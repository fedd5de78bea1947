package io.github.mambadjl.zoo;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;

import ai.djl.inference.Predictor;
import ai.djl.ndarray.types.DataType;
import ai.djl.repository.zoo.ZooModel;
import io.github.mambadjl.hub.FakeHub;
import io.github.mambadjl.model.CausalLM;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The zoo on the Mamba engine, whose Model.load reads the checkpoint directory itself. */
class MambaEngineZooTest {

    @TempDir Path cache;
    private FakeHub hub;

    @BeforeEach
    void start() throws Exception {
        hub = FakeHub.start();
        hub.addRepo("state-spaces/mamba-130m-hf", ZooFixtures.repo("mamba-tiny", true));
        hub.addRepo("acme/mamba2-tiny", ZooFixtures.repo("mamba2-tiny", true));
        ZooFixtures.use(ZooFixtures.settings(hub, cache).build());
    }

    @AfterEach
    void stop() {
        ZooFixtures.reset();
        hub.close();
    }

    @Test
    void djlAndHfUrlsGenerateTheGreedyTokensOnTheMambaEngine() throws Exception {
        ZooFixtures.Golden mamba = new ZooFixtures.Golden("mamba-tiny");
        try (ZooModel<String, String> model =
                        ZooCriteriaTest.text(ZooCriteriaTest.HF_130M, String.class)
                                .optEngine("Mamba")
                                .optArgument("maxNewTokens", 12)
                                .build()
                                .loadModel();
                Predictor<String, String> p = model.newPredictor()) {
            assertEquals("Mamba", model.getNDManager().getEngine().getEngineName());
            assertEquals(DataType.FLOAT32, model.getDataType());
            TextGenerationBlock block =
                    assertInstanceOf(TextGenerationBlock.class, model.getBlock());
            assertInstanceOf(CausalLM.class, block.getModel());
            assertEquals(mamba.expectedText(), p.predict(mamba.promptText()));
        }
        ZooFixtures.Golden mamba2 = new ZooFixtures.Golden("mamba2-tiny");
        try (ZooModel<String, TextStream> model =
                        ZooCriteriaTest.text("hf://acme/mamba2-tiny", TextStream.class)
                                .optEngine("Mamba")
                                .optArgument("maxNewTokens", 12)
                                .build()
                                .loadModel();
                Predictor<String, TextStream> p = model.newPredictor();
                TextStream s = p.streamingPredict(mamba2.promptText()).getIterativeOutput()) {
            List<String> pieces = new ArrayList<>();
            s.forEachRemaining(pieces::add);
            assertEquals(mamba2.expectedText(), String.join("", pieces));
            assertEquals(8, pieces.size());
        }
    }

    @Test
    void theEntryDataTypeReachesTheMambaEngine() throws Exception {
        hub.addRepo(
                "mistralai/Mamba-Codestral-7B-v0.1", ZooFixtures.repo("mamba2-mistral-tiny", true));
        String url = "djl://io.github.mambadjl/mamba-codestral-7b-v0.1";
        try (ZooModel<String, String> model =
                ZooCriteriaTest.text(url, String.class)
                        .optEngine("Mamba")
                        .optArgument("maxNewTokens", 2)
                        .build()
                        .loadModel()) {
            assertEquals(DataType.BFLOAT16, model.getDataType(), "the entry's bfloat16");
        }
        ZooFixtures.Golden g = new ZooFixtures.Golden("mamba2-mistral-tiny");
        try (ZooModel<String, String> model =
                        ZooCriteriaTest.text(url, String.class)
                                .optEngine("Mamba")
                                .optArgument("dataType", "float32")
                                .optArgument("maxNewTokens", 12)
                                .build()
                                .loadModel();
                Predictor<String, String> p = model.newPredictor()) {
            assertEquals(DataType.FLOAT32, model.getDataType());
            assertEquals(g.expectedText(), p.predict(g.promptText()));
        }
    }
}
