package io.github.mambadjl.generate;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import io.github.mambadjl.checkpoint.Checkpoint;
import io.github.mambadjl.model.CausalLM;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The generation API on the bamba-tiny fixture (Mamba2 and attention layers). */
class GeneratorTest {

    private static NDManager manager;
    private static Generator generator;

    private static final long[] PROMPT = {5, 17, 42, 8, 77, 3, 61};
    private static final long[] OTHER = {9, 12, 90, 4};

    @BeforeAll
    static void load() throws Exception {
        manager = NDManager.newBaseManager("PyTorch");
        try (Checkpoint checkpoint =
                Checkpoint.open(
                        Paths.get(System.getProperty("mambadjl.fixtures")).resolve("bamba-tiny"))) {
            CausalLM lm = CausalLM.fromConfig(checkpoint.config());
            lm.loadWeights(checkpoint, manager, DataType.FLOAT32);
            generator = new Generator(lm, manager);
        }
    }

    @AfterAll
    static void close() {
        manager.close();
    }

    private static GenerationConfig.Builder config() {
        return GenerationConfig.builder().optMaxNewTokens(8);
    }

    @Test
    void batchedPromptsOfDifferentLengthsEqualThemAlone() {
        GenerationConfig greedy = config().build();
        GenerationResult both = generator.generate(new long[][] {PROMPT, OTHER}, greedy);
        GenerationResult first = generator.generate(new long[][] {PROMPT}, greedy);
        GenerationResult second = generator.generate(new long[][] {OTHER}, greedy);
        assertArrayEquals(first.sequences()[0], both.sequences()[0]);
        assertArrayEquals(second.sequences()[0], both.sequences()[1]);
        assertEquals(8, both.newTokens()[0].length);
        assertArrayEquals(PROMPT, Arrays.copyOf(both.sequences()[0], PROMPT.length), "prompt kept");
    }

    @Test
    void stopTokenEndsARowAndLaterTokensArePadding() {
        long[] free = generator.generate(new long[][] {PROMPT}, config().build()).newTokens()[0];
        long stop = free[2];
        int firstStop = 0;
        while (free[firstStop] != stop) {
            firstStop++;
        }
        GenerationConfig stopping = config().optStopTokenIds(stop).optPadTokenId(0).build();
        GenerationResult result = generator.generate(new long[][] {PROMPT, OTHER}, stopping);
        assertArrayEquals(Arrays.copyOf(free, firstStop + 1), result.newTokens()[0]);
    }

    @Test
    void seededSamplingIsReproducibleAndDiffersFromGreedy() {
        GenerationConfig sampled = config().optSample(1.5f).optSeed(42).optMaxNewTokens(12).build();
        long[] a = generator.generate(new long[][] {PROMPT}, sampled).newTokens()[0];
        long[] b = generator.generate(new long[][] {PROMPT}, sampled).newTokens()[0];
        assertArrayEquals(a, b);
        GenerationConfig otherSeed =
                config().optSample(1.5f).optSeed(43).optMaxNewTokens(12).build();
        long[] c = generator.generate(new long[][] {PROMPT}, otherSeed).newTokens()[0];
        long[] greedy =
                generator.generate(new long[][] {PROMPT}, config().optMaxNewTokens(12).build())
                        .newTokens()[0];
        assertFalse(Arrays.equals(a, c) && Arrays.equals(a, greedy));
    }

    @Test
    void topKOneAndTinyTopPAndFullMinPAreGreedy() {
        long[] greedy = generator.generate(new long[][] {PROMPT}, config().build()).newTokens()[0];
        for (GenerationConfig c :
                List.of(
                        config().optSample(2f).optTopK(1).optSeed(1).build(),
                        config().optSample(2f).optTopP(1e-6f).optSeed(2).build(),
                        config().optSample(2f).optMinP(1f).optSeed(3).build())) {
            assertArrayEquals(greedy, generator.generate(new long[][] {PROMPT}, c).newTokens()[0]);
        }
    }

    @Test
    void greedyChoosesOnTheDeviceWhatTheHostWouldChoose() {
        GenerationResult onDevice =
                generator.generate(new long[][] {PROMPT, OTHER}, config().build());
        GenerationResult onHost =
                generator.generate(
                        new long[][] {PROMPT, OTHER}, config().optOutputScores(true).build());
        assertArrayEquals(onHost.sequences()[0], onDevice.sequences()[0]);
        assertArrayEquals(onHost.sequences()[1], onDevice.sequences()[1]);
        for (int step = 0; step < onHost.scores().size(); step++) {
            float[] row = onHost.scores().get(step)[1];
            int best = 0;
            for (int v = 1; v < row.length; v++) {
                best = row[v] > row[best] ? v : best;
            }
            assertEquals(best, onDevice.newTokens()[1][step], "step " + step);
        }
    }

    @Test
    void samplerFiltersFollowTheirDefinitions() {
        float[] logits = {2f, 1f, 0f, -1f, 3f};
        long[] none = new long[0];
        TokenSampler topK =
                new TokenSampler(
                        GenerationConfig.builder().optSample(1f).optTopK(2).optSeed(5).build());
        TokenSampler topP =
                new TokenSampler(
                        GenerationConfig.builder().optSample(1f).optTopP(0.8f).optSeed(6).build());
        TokenSampler minP =
                new TokenSampler(
                        GenerationConfig.builder().optSample(1f).optMinP(0.3f).optSeed(7).build());
        boolean[] seenK = new boolean[5];
        boolean[] seenP = new boolean[5];
        boolean[] seenMin = new boolean[5];
        for (int i = 0; i < 400; i++) {
            seenK[(int) topK.next(logits.clone(), none, 0)] = true;
            seenP[(int) topP.next(logits.clone(), none, 0)] = true;
            seenMin[(int) minP.next(logits.clone(), none, 0)] = true;
        }
        // top-2: tokens 4 and 0
        assertArrayEquals(new boolean[] {true, false, false, false, true}, seenK);
        // probabilities 0.637 (4), 0.234 (0), 0.086 (1): 0.8 needs tokens 4 and 0
        assertArrayEquals(new boolean[] {true, false, false, false, true}, seenP);
        // min-p 0.3 of 0.637 = 0.19: tokens 4 and 0
        assertArrayEquals(new boolean[] {true, false, false, false, true}, seenMin);
    }

    @Test
    void samplingDrawsWhatSortingTheWholeVocabularyWould() {
        // the sampler orders only what can matter; a plain sort of every token by logit (ties by
        // id) followed by the same filters draws the same tokens from the same seed
        GenerationConfig[] configs = {
            GenerationConfig.builder().optSample(0.8f).optSeed(11).build(),
            GenerationConfig.builder().optSample(1f).optTopK(40).optSeed(12).build(),
            GenerationConfig.builder().optSample(0.7f).optTopP(0.9f).optSeed(13).build(),
            GenerationConfig.builder().optSample(1.3f).optMinP(0.05f).optSeed(14).build(),
            GenerationConfig.builder()
                    .optSample(0.9f)
                    .optTopK(500)
                    .optTopP(0.8f)
                    .optMinP(0.02f)
                    .optSeed(15)
                    .build()
        };
        Random logitsRandom = new Random(3);
        long[] none = new long[0];
        for (GenerationConfig c : configs) {
            TokenSampler sampler = new TokenSampler(c);
            Random oracleRandom = new Random(c.seed());
            for (int draw = 0; draw < 60; draw++) {
                int vocab = draw % 2 == 0 ? 1000 : 50280;
                float[] logits = new float[vocab];
                for (int i = 0; i < vocab; i++) {
                    // a few exact ties, as rounded logits have
                    logits[i] = Math.round(logitsRandom.nextGaussian() * 3 * 64) / 64f;
                }
                long expected = sortedDraw(logits.clone(), c, oracleRandom);
                assertEquals(expected, sampler.next(logits.clone(), none, 0), c + ", draw " + draw);
            }
        }
    }

    /** Sampling as a full stable sort by logit would do it: the definition the sampler follows. */
    private static long sortedDraw(float[] logits, GenerationConfig c, Random random) {
        int v = logits.length;
        Integer[] order = new Integer[v];
        for (int i = 0; i < v; i++) {
            order[i] = i;
        }
        Arrays.sort(order, (a, b) -> Float.compare(logits[b], logits[a]));
        int keep = c.topK() > 0 ? Math.min(v, c.topK()) : v;
        double max = logits[order[0]] / c.temperature();
        double[] p = new double[keep];
        double sum = 0;
        for (int r = 0; r < keep; r++) {
            p[r] = Math.exp(logits[order[r]] / c.temperature() - max);
            sum += p[r];
        }
        if (c.topP() < 1f) {
            double cumulative = 0;
            for (int r = 0; r < keep; r++) {
                cumulative += p[r];
                if (cumulative >= c.topP() * sum) {
                    keep = r + 1;
                    break;
                }
            }
        }
        if (c.minP() > 0f) {
            int r = 1;
            while (r < keep && p[r] >= c.minP() * p[0]) {
                r++;
            }
            keep = r;
        }
        double total = 0;
        for (int r = 0; r < keep; r++) {
            total += p[r];
        }
        double u = random.nextDouble() * total;
        for (int r = 0; r < keep; r++) {
            u -= p[r];
            if (u < 0) {
                return order[r];
            }
        }
        return order[keep - 1];
    }

    @Test
    void repetitionPenaltyFollowsTransformers() {
        TokenSampler greedy =
                new TokenSampler(GenerationConfig.builder().optRepetitionPenalty(4f).build());
        // token 0 (logit 2) seen: 2 / 4 = 0.5 < 1 -> token 1 wins
        assertEquals(1, greedy.next(new float[] {2f, 1f, -3f}, new long[] {0}, 1));
        // a seen negative logit is multiplied: -0.1 * 4 = -0.4 < -0.2
        assertEquals(1, greedy.next(new float[] {-0.1f, -0.2f}, new long[] {0}, 1));
        assertEquals(0, greedy.next(new float[] {-0.1f, -0.2f}, new long[] {0}, 0));
    }

    @Test
    void tokensStreamBeforeTheGenerationEnds() {
        List<Long> streamed = new ArrayList<>();
        GenerationResult result =
                generator.generate(
                        new long[][] {PROMPT}, config().build(), (r, t) -> streamed.add(t));
        assertEquals(8, streamed.size());
        assertArrayEquals(
                result.newTokens()[0], streamed.stream().mapToLong(Long::longValue).toArray());
        try (GenerationSession session = generator.start(new long[][] {PROMPT}, config().build())) {
            long[] first = session.next();
            assertEquals(result.newTokens()[0][0], first[0]);
            assertEquals(1, session.result().newTokens()[0].length, "one step computed so far");
            int count = 1;
            while (session.hasNext()) {
                session.next();
                count++;
            }
            assertEquals(8, count);
        }
    }

    @Test
    void badSettingsAreRejected() {
        assertThrows(
                IllegalArgumentException.class,
                () -> GenerationConfig.builder().optMaxNewTokens(0).build());
        assertThrows(
                IllegalArgumentException.class,
                () -> GenerationConfig.builder().optSample(0f).build());
        assertThrows(
                IllegalArgumentException.class,
                () -> GenerationConfig.builder().optTopP(0f).build());
        assertThrows(
                IllegalArgumentException.class,
                () -> generator.generate(new long[][] {{}}, config().build()));
        assertNotEquals(null, config().build().toString());
        assertTrue(config().build().stopTokenIds().length == 0);
    }
}
