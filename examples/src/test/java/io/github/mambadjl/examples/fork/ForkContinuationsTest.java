package io.github.mambadjl.examples.fork;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import ai.djl.ndarray.NDList;
import ai.djl.repository.zoo.ZooModel;
import io.github.mambadjl.examples.cli.EmbeddedModel;
import io.github.mambadjl.generate.GenerationConfig;
import io.github.mambadjl.generate.Generator;
import io.github.mambadjl.model.CausalLM;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Forks of a prefilled state continue exactly as a fresh run over prefix and continuation. */
class ForkContinuationsTest {

    private static Path dir;
    private static ZooModel<NDList, NDList> model;
    private static HuggingFaceTokenizer tokenizer;

    @BeforeAll
    static void load() throws Exception {
        dir = EmbeddedModel.extract();
        model = ForkContinuations.load(dir);
        tokenizer = HuggingFaceTokenizer.newInstance(dir.resolve("tokenizer.json"));
    }

    @AfterAll
    static void close() throws Exception {
        tokenizer.close();
        model.close();
        EmbeddedModel.delete(dir);
    }

    @Test
    void greedyForksEqualAFreshGeneration() {
        String prefix = "And the LORD spake unto Moses, saying,";
        List<String> forks =
                new ForkContinuations(model, tokenizer).continuations(prefix, 3, 24, 0f, 0);
        assertEquals(3, forks.size());
        long[] prompt = tokenizer.encode(prefix).getIds();
        Generator generator = new Generator((CausalLM) model.getBlock(), model.getNDManager());
        long[] fresh =
                generator.generate(
                                new long[][] {prompt},
                                GenerationConfig.builder().optMaxNewTokens(24).greedy().build())
                        .newTokens()[0];
        String expected = tokenizer.decode(fresh, true);
        for (String f : forks) {
            assertEquals(expected, f);
        }
    }

    @Test
    void sampledForksDivergeFromTheSamePrefix() {
        List<String> forks =
                new ForkContinuations(model, tokenizer)
                        .continuations("In the beginning", 4, 40, 1.0f, 11);
        assertTrue(new HashSet<>(forks).size() >= 3, "forks: " + forks);
        List<String> again =
                new ForkContinuations(model, tokenizer)
                        .continuations("In the beginning", 4, 40, 1.0f, 11);
        assertEquals(forks, again, "the same seeds give the same continuations");
    }
}
