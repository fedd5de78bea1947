package io.github.mambadjl.examples.fork;

import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.repository.zoo.Criteria;
import ai.djl.repository.zoo.ZooModel;
import ai.djl.training.ParameterStore;
import ai.djl.translate.NoopTranslator;
import io.github.mambadjl.cache.InferenceCache;
import io.github.mambadjl.examples.cli.EmbeddedModel;
import io.github.mambadjl.model.CausalLM;
import io.github.mambadjl.model.MambaBlockFactory;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Random;

/**
 * Processes a prefix once, then continues it several ways from copies of the model's state: a Mamba
 * model's whole memory of the prefix is its {@link InferenceCache} (a fixed-size state per layer),
 * so {@link InferenceCache#fork()} makes each continuation cost only its own tokens.
 *
 * <pre>
 * java -cp examples/target/mamba-djl.jar io.github.mambadjl.examples.fork.ForkContinuations \
 *     "And the LORD spake unto Moses, saying," 4 80
 * </pre>
 */
public final class ForkContinuations {

    private final ZooModel<NDList, NDList> model;
    private final HuggingFaceTokenizer tokenizer;
    private final CausalLM lm;

    /**
     * Wraps a model loaded through Criteria and its tokenizer.
     *
     * @param model a Mamba-family model loaded as {@code NDList -> NDList}
     * @param tokenizer its tokenizer
     */
    public ForkContinuations(ZooModel<NDList, NDList> model, HuggingFaceTokenizer tokenizer) {
        this.model = model;
        this.tokenizer = tokenizer;
        this.lm = (CausalLM) model.getBlock();
    }

    /**
     * Loads a checkpoint directory through DJL Criteria on the PyTorch engine.
     *
     * @param dir the directory (config.json, model.safetensors)
     * @return the model
     * @throws Exception if loading fails
     */
    public static ZooModel<NDList, NDList> load(Path dir) throws Exception {
        return Criteria.builder()
                .setTypes(NDList.class, NDList.class)
                .optModelPath(dir)
                .optEngine("PyTorch")
                .optArgument("blockFactory", MambaBlockFactory.class.getName())
                .optTranslator(new NoopTranslator())
                .build()
                .loadModel();
    }

    /**
     * Runs the example on the embedded model.
     *
     * @param args the prefix, the number of continuations, the tokens per continuation
     * @throws Exception if loading or generation fails
     */
    public static void main(String[] args) throws Exception {
        String prefix = args.length > 0 ? args[0] : "And the LORD spake unto Moses, saying,";
        int forks = args.length > 1 ? Integer.parseInt(args[1]) : 4;
        int tokens = args.length > 2 ? Integer.parseInt(args[2]) : 80;
        Path dir = EmbeddedModel.extract();
        try (ZooModel<NDList, NDList> model = load(dir);
                HuggingFaceTokenizer tokenizer =
                        HuggingFaceTokenizer.newInstance(dir.resolve("tokenizer.json"))) {
            ForkContinuations example = new ForkContinuations(model, tokenizer);
            long start = System.nanoTime();
            List<String> texts = example.continuations(prefix, forks, tokens, 0.8f, 1);
            double seconds = (System.nanoTime() - start) / 1e9;
            System.out.println("prefix: " + prefix);
            for (int i = 0; i < texts.size(); i++) {
                System.out.println("  [" + i + "] ..." + texts.get(i));
            }
            System.out.printf(
                    Locale.ROOT,
                    "%d continuations of %d tokens from one prefill, %.1f s%n",
                    forks,
                    tokens,
                    seconds);
        } finally {
            EmbeddedModel.delete(dir);
        }
    }

    /**
     * Prefills the prefix once and continues it {@code forks} times from forks of its state.
     *
     * @param prefix the text to continue
     * @param forks the number of continuations
     * @param tokens the new tokens of each
     * @param temperature the sampling temperature; 0 for greedy
     * @param seed the seed of continuation 0 (continuation {@code i} uses {@code seed + i})
     * @return the new text of each continuation
     */
    public List<String> continuations(
            String prefix, int forks, int tokens, float temperature, long seed) {
        long[] prompt = tokenizer.encode(prefix).getIds();
        List<String> texts = new ArrayList<>();
        try (NDManager manager = model.getNDManager().newSubManager()) {
            ParameterStore ps = new ParameterStore(manager, false);
            InferenceCache prefixState = lm.newCache(manager, 1);
            float[] last =
                    lastLogits(
                            lm.forward(
                                            ps,
                                            manager.create(prompt, new Shape(1, prompt.length)),
                                            null,
                                            prefixState,
                                            false,
                                            false)
                                    .logits());
            for (int f = 0; f < forks; f++) {
                Random random = new Random(seed + f);
                long[] fresh = new long[tokens];
                try (NDManager step = manager.newSubManager();
                        InferenceCache state = prefixState.fork()) {
                    float[] logits = last;
                    for (int t = 0; t < tokens; t++) {
                        fresh[t] = choose(logits, temperature, random);
                        if (t + 1 < tokens) {
                            logits =
                                    lastLogits(
                                            lm.forward(
                                                            ps,
                                                            step.create(
                                                                    new long[] {fresh[t]},
                                                                    new Shape(1, 1)),
                                                            null,
                                                            state,
                                                            false,
                                                            false)
                                                    .logits());
                        }
                    }
                }
                texts.add(tokenizer.decode(fresh, true));
            }
            prefixState.close();
        }
        return texts;
    }

    private static float[] lastLogits(NDArray logits) {
        long length = logits.getShape().get(1);
        return logits.get(0).get(length - 1).toFloatArray();
    }

    private static long choose(float[] logits, float temperature, Random random) {
        int best = 0;
        for (int i = 1; i < logits.length; i++) {
            if (logits[i] > logits[best]) {
                best = i;
            }
        }
        if (temperature <= 0) {
            return best;
        }
        double[] p = new double[logits.length];
        double sum = 0;
        for (int i = 0; i < logits.length; i++) {
            p[i] = Math.exp((logits[i] - logits[best]) / temperature);
            sum += p[i];
        }
        double u = random.nextDouble() * sum;
        for (int i = 0; i < p.length; i++) {
            u -= p[i];
            if (u <= 0) {
                return i;
            }
        }
        return best;
    }
}
