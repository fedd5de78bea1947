package io.github.mambadjl.generate;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

import ai.djl.Model;
import ai.djl.inference.Predictor;
import ai.djl.modality.nlp.generate.CausalLMOutput;
import ai.djl.modality.nlp.generate.SearchConfig;
import ai.djl.modality.nlp.generate.TextGenerator;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import io.github.mambadjl.checkpoint.Checkpoint;
import io.github.mambadjl.model.CausalLM;
import java.nio.file.Paths;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** DJL's TextGenerator (greedy) over a CausalLM equals this project's Generator. */
class TextGeneratorTranslatorTest {

    @ParameterizedTest
    @ValueSource(strings = {"mamba-tiny", "bamba-tiny"})
    void djlGreedySearchEqualsGenerator(String name) throws Exception {
        long[] prompt = {5, 17, 42, 8, 77, 3, 61};
        try (Model model = Model.newInstance(name, "PyTorch");
                Checkpoint checkpoint =
                        Checkpoint.open(
                                Paths.get(System.getProperty("mambadjl.fixtures")).resolve(name))) {
            CausalLM lm = CausalLM.fromConfig(checkpoint.config());
            lm.loadWeights(checkpoint, model.getNDManager(), DataType.FLOAT32);
            model.setBlock(lm);
            long[] expected =
                    new Generator(lm, model.getNDManager())
                            .generate(
                                    new long[][] {prompt},
                                    GenerationConfig.builder().optMaxNewTokens(6).build())
                            .sequences()[0];
            SearchConfig search = new SearchConfig();
            search.setMaxSeqLength(prompt.length + 6);
            search.setPadTokenId(-1);
            try (Predictor<NDList, CausalLMOutput> predictor =
                            model.newPredictor(new TextGeneratorTranslator());
                    NDManager manager = NDManager.newBaseManager("PyTorch")) {
                NDArray ids = manager.create(prompt, new Shape(1, prompt.length));
                NDArray out = new TextGenerator(predictor, "greedy", search).greedySearch(ids);
                assertArrayEquals(expected, out.toLongArray());
            }
        }
    }
}
