package io.github.mambadjl.jmh;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Device;
import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Parameter;
import ai.djl.training.ParameterStore;
import io.github.mambadjl.cache.InferenceCache;
import io.github.mambadjl.config.ModelConfig;
import io.github.mambadjl.generate.GenerationConfig;
import io.github.mambadjl.generate.GenerationResult;
import io.github.mambadjl.generate.Generator;
import io.github.mambadjl.model.CausalLM;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The bfloat16 paths of the {@code Mamba} engine against its float32 paths on the same weights: a
 * model of one of the benchmark's shapes gets random bfloat16 weights ({@link RandomWeights}), and
 * a second copy of it the same values widened to float32. Both read one random prompt, the bfloat16
 * model in two pieces (the states handed over by the cache), and the logits of the last positions
 * are compared; then both continue greedily, the bfloat16 model through the recorded decoding step
 * where the device records, the float32 model with its scores kept (the reference margins); last,
 * the bfloat16 model reads the float32 model's tokens one step at a time and the logits of every
 * step are compared (teacher forcing: the same inputs on both sides). On the GPU the bfloat16 side
 * is what the benchmark times: the GEMV and cuBLASLt products, the chunked scan and the tensor-core
 * SSD of the prefill, the one-step kernels and the recorded step; the float32 side is the path that
 * {@code RealShapesTest} checks against transformers.
 *
 * <p>Tolerance: the same weights on both sides, so the difference is the rounding of activations to
 * bfloat16 between operations (relative 2^-9 each) and the 16-bit inputs of the tensor-core
 * products. As for the golden fixtures in bfloat16 ({@code MambaModelLoadTest.halfTolerance}), the
 * logits must agree within 8 units of bfloat16's rounding (8 × 2^-8) of the largest float32 logit:
 * a real error (a wrong decay, a lost state between the pieces, a skipped norm) moves logits by
 * their whole range. Greedy tokens must be identical up to the first step whose float32 top-2
 * margin is within twice that tolerance (either logit may move by it); random weights give
 * near-ties, so the number of steps compared is printed, not required. The teacher-forced steps'
 * logits are held to the same tolerance at every step.
 *
 * <p>Here on the CPU the toy-sized variants of the four shapes run; {@link FastPathsAgreeGpuTest}
 * runs the real shapes on the GPU.
 */
class FastPathsAgreeTest {

    static final double TOLERANCE_UNITS = 8 * Math.scalb(1.0, -8);
    static final int STEPS = 16;

    @ParameterizedTest
    @ValueSource(strings = {"mamba-2.8b", "mamba2-2.7b", "codestral-7b", "bamba-9b"})
    void toyShapesAgreeOnTheCpu(String name) {
        check(ModelShapes.config(name, true, 0), Device.cpu(), 300, 8);
    }

    /**
     * Compares the bfloat16 and float32 paths of one model on a device.
     *
     * @param config the model's shape
     * @param device where both models run
     * @param length the prompt's length (the bfloat16 model reads it in two pieces)
     * @param kept the last positions whose logits are compared
     */
    static void check(ModelConfig config, Device device, int length, int kept) {
        Engine engine = Engine.getEngine("Mamba");
        try (NDManager m16 = engine.newBaseManager(device);
                NDManager m32 = engine.newBaseManager(device)) {
            CausalLM lm16 = CausalLM.fromConfig(config);
            RandomWeights.fill(lm16, m16, DataType.BFLOAT16, config.hiddenSize());
            CausalLM lm32 = CausalLM.fromConfig(config);
            Map<String, Parameter> weights16 = lm16.namedParameters();
            for (Map.Entry<String, Parameter> e : lm32.namedParameters().entrySet()) {
                NDArray wide = weights16.get(e.getKey()).getArray().toType(DataType.FLOAT32, true);
                wide.attach(m32);
                e.getValue().setArray(wide);
            }
            Random rnd = new Random(length);
            long[] prompt = new long[length];
            for (int i = 0; i < length; i++) {
                prompt[i] = rnd.nextInt(config.vocabSize());
            }
            String what = config.family() + " " + config.numHiddenLayers() + " layers";
            double tolerance;
            try (NDManager scope = m32.newSubManager()) {
                NDArray reference = lastLogits(lm32, m32, scope, prompt, length, kept);
                NDArray fast = lastLogits(lm16, m16, scope, prompt, length / 2, kept);
                double maxLogit = reference.abs().max().getFloat();
                tolerance = TOLERANCE_UNITS * maxLogit;
                double diff =
                        fast.toType(DataType.FLOAT32, false).sub(reference).abs().max().getFloat();
                System.out.printf(
                        "%s, %d tokens: logits differ by %.4g, tolerance %.4g (max |logit| %.4g)%n",
                        what, length, diff, tolerance, maxLogit);
                assertTrue(
                        diff <= tolerance,
                        what + ": the bfloat16 logits differ by " + diff + " > " + tolerance);
                assertTrue(diff > 0, what + ": the bfloat16 model really rounds");
            }
            GenerationResult reference =
                    compareGreedy(what, lm16, m16, lm32, m32, prompt, tolerance);
            compareSteps(what, lm16, m16, prompt, reference, tolerance);
        }
    }

    /**
     * Teacher-forced decoding: the bfloat16 model reads the prompt and then, one token per step,
     * the float32 model's greedy tokens, so both sides see the same inputs however near their ties
     * are; the logits of every step (the one-token paths: fused GEMVs, one-step kernels) must agree
     * with the float32 scores of that step within the tolerance.
     */
    private static void compareSteps(
            String what,
            CausalLM lm16,
            NDManager m16,
            long[] prompt,
            GenerationResult reference,
            double tolerance) {
        ParameterStore ps = new ParameterStore(m16, false);
        double worst = 0;
        try (NDManager seq = m16.newSubManager();
                InferenceCache cache = lm16.newCache(seq, 1)) {
            lm16.forward(
                    ps,
                    seq.create(prompt, new Shape(1, prompt.length)),
                    null,
                    cache,
                    false,
                    false,
                    1);
            for (int step = 1; step < STEPS; step++) {
                try (NDManager scope = seq.newSubManager()) {
                    long token = reference.newTokens()[0][step - 1];
                    NDArray ids = scope.create(new long[] {token}, new Shape(1, 1));
                    NDArray logits = lm16.forward(ps, ids, null, cache, false, false, 1).logits();
                    float[] fast = logits.toType(DataType.FLOAT32, false).toFloatArray();
                    float[] expected = reference.scores().get(step)[0];
                    double diff = 0;
                    for (int i = 0; i < expected.length; i++) {
                        diff = Math.max(diff, Math.abs(fast[i] - expected[i]));
                    }
                    assertTrue(
                            diff <= tolerance,
                            what
                                    + ": step "
                                    + step
                                    + " logits differ by "
                                    + diff
                                    + " > "
                                    + tolerance);
                    worst = Math.max(worst, diff);
                }
            }
        }
        System.out.printf(
                "%s: %d teacher-forced steps, logits differ by at most %.4g (tolerance %.4g)%n",
                what, STEPS - 1, worst, tolerance);
    }

    /**
     * The logits of the last {@code kept} positions of the prompt, read in two pieces split at
     * {@code split} (one piece where split is the whole length), as float32 {@code [kept, vocab]}.
     */
    private static NDArray lastLogits(
            CausalLM lm, NDManager weights, NDManager scope, long[] prompt, int split, int kept) {
        ParameterStore ps = new ParameterStore(weights, false);
        try (NDManager seq = weights.newSubManager();
                InferenceCache cache = lm.newCache(seq, 1)) {
            NDArray ids = seq.create(prompt, new Shape(1, prompt.length));
            NDArray logits =
                    lm.forward(ps, ids.get(":, 0:{}", split), null, cache, false, false, kept)
                            .logits();
            if (split < prompt.length) {
                NDArray rest = ids.get(":, {}:", split);
                logits = lm.forward(ps, rest, null, cache, false, false, kept).logits();
            }
            NDArray out = logits.get(0).toType(DataType.FLOAT32, true);
            out.attach(scope);
            return out;
        }
    }

    private static GenerationResult compareGreedy(
            String what,
            CausalLM lm16,
            NDManager m16,
            CausalLM lm32,
            NDManager m32,
            long[] prompt,
            double tolerance) {
        GenerationResult fast =
                new Generator(lm16, m16)
                        .generate(
                                new long[][] {prompt},
                                GenerationConfig.builder().optMaxNewTokens(STEPS).build());
        GenerationResult reference =
                new Generator(lm32, m32)
                        .generate(
                                new long[][] {prompt},
                                GenerationConfig.builder()
                                        .optMaxNewTokens(STEPS)
                                        .optOutputScores(true)
                                        .build());
        int compared = 0;
        for (int step = 0; step < STEPS; step++) {
            float[] row = reference.scores().get(step)[0];
            float[] top = topTwo(row);
            if (top[0] - top[1] <= 2 * tolerance) {
                break;
            }
            assertEquals(
                    reference.newTokens()[0][step],
                    fast.newTokens()[0][step],
                    what
                            + ": greedy token "
                            + step
                            + " (float32 margin "
                            + (top[0] - top[1])
                            + ")");
            compared++;
        }
        System.out.printf(
                "%s: greedy tokens identical over the %d steps with a clear margin%n",
                what, compared);
        return reference;
    }

    private static float[] topTwo(float[] row) {
        float first = Float.NEGATIVE_INFINITY;
        float second = Float.NEGATIVE_INFINITY;
        for (float v : row) {
            if (v > first) {
                second = first;
                first = v;
            } else if (v > second) {
                second = v;
            }
        }
        return new float[] {first, second};
    }
}
