package io.github.mambadjl.examples.selectivecopy;

import ai.djl.Model;
import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Block;
import ai.djl.nn.Blocks;
import ai.djl.nn.ParallelBlock;
import ai.djl.nn.SequentialBlock;
import ai.djl.nn.core.Linear;
import ai.djl.nn.norm.LayerNorm;
import ai.djl.nn.transformer.IdEmbedding;
import ai.djl.training.DefaultTrainingConfig;
import ai.djl.training.GradientCollector;
import ai.djl.training.Trainer;
import ai.djl.training.loss.Loss;
import ai.djl.training.optimizer.Optimizer;
import ai.djl.training.tracker.Tracker;
import io.github.mambadjl.nn.Mamba;
import io.github.mambadjl.nn.Mamba2;
import java.io.PrintStream;
import java.util.List;
import java.util.Locale;
import java.util.Random;

/**
 * Trains a custom network, DJL blocks around mamba-djl's {@link Mamba2} (or {@link Mamba}) mixers,
 * with DJL's {@link Trainer} on the {@link SelectiveCopyingTask}, and reports its accuracy on fresh
 * sequences.
 *
 * <pre>
 * java -cp examples/target/mamba-djl.jar io.github.mambadjl.examples.selectivecopy.SelectiveCopying
 * </pre>
 *
 * <p>The network: DJL's {@link IdEmbedding}, then per layer a residual {@link ParallelBlock} of
 * {@link LayerNorm} and the mixer, a final {@link LayerNorm} and a {@link Linear} head, all in a
 * {@link SequentialBlock}; it runs on the PyTorch engine, whose autograd differentiates the mixers'
 * NDArray reference kernels.
 */
public final class SelectiveCopying {

    /**
     * The settings of a run.
     *
     * @param task the task's sizes
     * @param mixer {@code mamba2} or {@code mamba}
     * @param hidden the model width
     * @param layers the number of mixer layers
     * @param steps the optimizer steps
     * @param batch the sequences per step
     * @param lr Adam's learning rate
     * @param seed the seed of data and initialisation
     */
    public record Settings(
            SelectiveCopyingTask task,
            String mixer,
            int hidden,
            int layers,
            int steps,
            int batch,
            float lr,
            long seed) {

        /**
         * Returns the defaults (those of the figure in the README).
         *
         * @return the settings
         */
        public static Settings defaults() {
            return new Settings(
                    new SelectiveCopyingTask(10, 2, 4), "mamba2", 32, 2, 300, 32, 1e-2f, 1);
        }
    }

    /**
     * The outcome of a run.
     *
     * @param tokenAccuracy the share of data tokens output right, on fresh sequences
     * @param sequenceAccuracy the share of sequences copied without error
     * @param chance the token accuracy of guessing ({@code 1 / symbols})
     * @param finalLoss the mean training loss of the last steps
     */
    public record Result(
            double tokenAccuracy, double sequenceAccuracy, double chance, double finalLoss) {}

    private SelectiveCopying() {}

    /**
     * Runs the example with the defaults, or {@code --steps N}, {@code --mixer mamba|mamba2}.
     *
     * @param args optional {@code --steps N} and {@code --mixer NAME}
     * @throws Exception if training fails
     */
    public static void main(String[] args) throws Exception {
        Settings s = parse(args);
        Result r = train(s, System.out);
        System.out.printf(
                Locale.ROOT,
                "selective copying: token accuracy %.1f%% (chance %.1f%%), whole sequences %.1f%%%n",
                100 * r.tokenAccuracy(),
                100 * r.chance(),
                100 * r.sequenceAccuracy());
    }

    /**
     * Reads {@code --name value} options over the defaults: {@code --steps}, {@code --mixer},
     * {@code --hidden}, {@code --layers}, {@code --batch}, {@code --lr}, {@code --seed}, {@code
     * --context}, {@code --tokens}, {@code --symbols}.
     *
     * @param args the options
     * @return the settings
     */
    public static Settings parse(String[] args) {
        Settings d = Settings.defaults();
        java.util.Map<String, String> o = new java.util.HashMap<>();
        for (int i = 0; i < args.length; i += 2) {
            if (i + 1 >= args.length || !args[i].startsWith("--")) {
                throw new IllegalArgumentException("expected --name value pairs, got " + args[i]);
            }
            o.put(args[i].substring(2), args[i + 1]);
        }
        SelectiveCopyingTask t = d.task();
        Settings s =
                new Settings(
                        new SelectiveCopyingTask(
                                Integer.parseInt(o.getOrDefault("context", "" + t.context())),
                                Integer.parseInt(o.getOrDefault("tokens", "" + t.tokens())),
                                Integer.parseInt(o.getOrDefault("symbols", "" + t.symbols()))),
                        o.getOrDefault("mixer", d.mixer()),
                        Integer.parseInt(o.getOrDefault("hidden", "" + d.hidden())),
                        Integer.parseInt(o.getOrDefault("layers", "" + d.layers())),
                        Integer.parseInt(o.getOrDefault("steps", "" + d.steps())),
                        Integer.parseInt(o.getOrDefault("batch", "" + d.batch())),
                        Float.parseFloat(o.getOrDefault("lr", "" + d.lr())),
                        Long.parseLong(o.getOrDefault("seed", "" + d.seed())));
        for (String key : o.keySet()) {
            if (!java.util.Set.of(
                            "context", "tokens", "symbols", "mixer", "hidden", "layers", "steps",
                            "batch", "lr", "seed")
                    .contains(key)) {
                throw new IllegalArgumentException("unknown option --" + key);
            }
        }
        return s;
    }

    /**
     * Builds the network.
     *
     * @param s the settings
     * @return the block: int64 {@code [batch, length]} in, logits {@code [batch * tokens, vocab]}
     *     of the marker positions out
     */
    public static Block network(Settings s) {
        SelectiveCopyingTask task = s.task();
        SequentialBlock net = new SequentialBlock();
        net.add(
                new IdEmbedding.Builder()
                        .setDictionarySize(task.vocabSize())
                        .setEmbeddingSize(s.hidden())
                        .build());
        for (int i = 0; i < s.layers(); i++) {
            SequentialBlock branch = new SequentialBlock();
            branch.add(LayerNorm.builder().axis(2).build());
            branch.add(mixer(s));
            net.add(
                    new ParallelBlock(
                            list ->
                                    new NDList(
                                            list.get(0)
                                                    .singletonOrThrow()
                                                    .add(list.get(1).singletonOrThrow())),
                            List.of(branch, Blocks.identityBlock())));
        }
        net.add(LayerNorm.builder().axis(2).build());
        net.add(Linear.builder().setUnits(task.vocabSize()).build());
        int vocab = task.vocabSize();
        net.add(
                list ->
                        new NDList(
                                list.head()
                                        .get(":, " + task.context() + ":, :")
                                        .reshape(-1, vocab)));
        return net;
    }

    private static Block mixer(Settings s) {
        if (s.mixer().equals("mamba")) {
            return Mamba.builder().setHiddenSize(s.hidden()).optStateSize(16).build();
        }
        if (!s.mixer().equals("mamba2")) {
            throw new IllegalArgumentException("mixer must be mamba or mamba2, got " + s.mixer());
        }
        int inner = 2 * s.hidden();
        return Mamba2.builder()
                .setHiddenSize(s.hidden())
                .setHeads(inner / 16, 16)
                .optStateSize(16)
                .optChunkSize(s.task().length())
                .build();
    }

    /**
     * Trains the network and measures it on 512 fresh sequences.
     *
     * @param s the settings
     * @param log where the progress goes
     * @return the accuracies
     */
    public static Result train(Settings s, PrintStream log) {
        SelectiveCopyingTask task = s.task();
        Random random = new Random(s.seed());
        Engine.getEngine("PyTorch").setRandomSeed((int) s.seed());
        try (Model model = Model.newInstance("selective-copying", "PyTorch")) {
            model.setBlock(network(s));
            DefaultTrainingConfig config =
                    new DefaultTrainingConfig(Loss.softmaxCrossEntropyLoss())
                            .optOptimizer(
                                    Optimizer.adam()
                                            .optLearningRateTracker(Tracker.fixed(s.lr()))
                                            .optClipGrad(1f)
                                            .build());
            double recent = 0;
            int recentCount = 0;
            try (Trainer trainer = model.newTrainer(config)) {
                trainer.initialize(new Shape(s.batch(), task.length()));
                for (int step = 1; step <= s.steps(); step++) {
                    try (NDManager manager = trainer.getManager().newSubManager()) {
                        NDList data = task.batch(manager, s.batch(), random);
                        try (GradientCollector gc = trainer.newGradientCollector()) {
                            NDList out = trainer.forward(new NDList(data.get(0)));
                            NDArray loss = trainer.getLoss().evaluate(new NDList(data.get(1)), out);
                            gc.backward(loss);
                            double value = loss.getFloat();
                            if (step > s.steps() - 20) {
                                recent += value;
                                recentCount++;
                            }
                            if (step % 25 == 0) {
                                log.printf(Locale.ROOT, "step %4d  loss %.4f%n", step, value);
                            }
                        }
                        trainer.step();
                    }
                }
                return evaluate(trainer, task, random, recent / recentCount);
            }
        }
    }

    private static Result evaluate(
            Trainer trainer, SelectiveCopyingTask task, Random random, double finalLoss) {
        int sequences = 512;
        try (NDManager manager = trainer.getManager().newSubManager()) {
            NDList data = task.batch(manager, sequences, random);
            NDArray predicted = trainer.evaluate(new NDList(data.get(0))).head().argMax(1);
            NDArray right =
                    predicted
                            .eq(data.get(1))
                            .toType(DataType.FLOAT32, false)
                            .reshape(sequences, task.tokens());
            double tokens = right.mean().getFloat();
            double whole = right.min(new int[] {1}).mean().getFloat();
            return new Result(tokens, whole, 1.0 / task.symbols(), finalLoss);
        }
    }
}
