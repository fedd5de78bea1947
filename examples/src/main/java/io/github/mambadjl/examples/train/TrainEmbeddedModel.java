package io.github.mambadjl.examples.train;

import ai.djl.Model;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.SequentialBlock;
import ai.djl.training.DefaultTrainingConfig;
import ai.djl.training.GradientCollector;
import ai.djl.training.Trainer;
import ai.djl.training.loss.Loss;
import ai.djl.training.optimizer.Optimizer;
import ai.djl.training.tracker.CosineTracker;
import ai.djl.training.tracker.WarmUpTracker;
import io.github.mambadjl.config.Mamba2Config;
import io.github.mambadjl.config.TimeStepLimit;
import io.github.mambadjl.model.CausalLM;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Random;

/**
 * Trains the embedded default model of the command line: a byte-level Mamba2 language model on the
 * King James Bible, with DJL's {@link Trainer} on the PyTorch engine (the NDArray reference of the
 * Mamba2 blocks, chunked SSD), and writes {@code config.json}, {@code model.safetensors}, {@code
 * tokenizer.json} and {@code training-log.txt} into the output directory.
 *
 * <pre>
 * java -cp examples/target/mamba-djl.jar io.github.mambadjl.examples.train.TrainEmbeddedModel \
 *     --text kjv.txt --out examples/src/main/resources/io/github/mambadjl/examples/model
 * </pre>
 *
 * <p>{@code kjv.txt} is what {@code examples/train/fetch-kjv.sh} writes: one verse a line, each
 * preceded by its reference ({@code Ge1:1 In the beginning...}); the references are dropped.
 */
public final class TrainEmbeddedModel {

    private final TrainingOptions options;
    private final PrintStream log;

    private TrainEmbeddedModel(TrainingOptions options, PrintStream log) {
        this.options = options;
        this.log = log;
    }

    /**
     * Trains the model.
     *
     * @param args {@code --text FILE --out DIR} and the options of {@link TrainingOptions}
     * @throws Exception if reading, training or writing fails
     */
    public static void main(String[] args) throws Exception {
        TrainingOptions options = TrainingOptions.parse(args);
        Files.createDirectories(options.out());
        Path logFile = options.out().resolve("training-log.txt");
        try (PrintStream log =
                new PrintStream(
                        new TeeOutputStream(Files.newOutputStream(logFile), System.out),
                        true,
                        StandardCharsets.UTF_8)) {
            new TrainEmbeddedModel(options, log).run();
        }
    }

    /**
     * Returns the architecture of the embedded model: byte vocabulary, tied embeddings.
     *
     * @param options the sizes
     * @return the config
     */
    static Mamba2Config modelConfig(TrainingOptions options) {
        int hidden = options.hiddenSize();
        int inner = 2 * hidden;
        int headDim = options.headDim();
        return new Mamba2Config(
                ByteTokenizerJson.VOCAB_SIZE,
                ByteTokenizerJson.VOCAB_SIZE,
                hidden,
                options.layers(),
                inner / headDim,
                headDim,
                1,
                options.stateSize(),
                2,
                inner,
                4,
                options.chunkSize(),
                false,
                true,
                "silu",
                0.001,
                0.1,
                1e-4,
                TimeStepLimit.NONE,
                false,
                true,
                1e-5,
                true,
                true,
                0.02,
                null,
                (int) '\n',
                null);
    }

    private void run() throws IOException {
        byte[] all = KjvText.read(options.text());
        int heldOutStart = (int) (all.length * (1 - options.heldOutFraction()));
        byte[] train = java.util.Arrays.copyOfRange(all, 0, heldOutStart);
        byte[] heldOut = java.util.Arrays.copyOfRange(all, heldOutStart, all.length);
        Mamba2Config config = modelConfig(options);
        log.printf(
                Locale.ROOT,
                "text: %s, %d bytes after dropping verse references; training on the first %d,"
                        + " held out the last %d (from \"%s...\")%n",
                options.text().getFileName(),
                all.length,
                train.length,
                heldOut.length,
                new String(heldOut, 0, 60, StandardCharsets.UTF_8).replace('\n', ' '));
        log.println("config: " + config);
        log.println("options: " + options);

        CausalLM lm = CausalLM.fromConfig(config);
        SequentialBlock net = new SequentialBlock();
        net.add(lm);
        net.add(list -> new NDList(list.head().reshape(-1, ByteTokenizerJson.VOCAB_SIZE)));
        Random random = new Random(options.seed());
        int batch = options.batch();
        int length = options.length();
        try (Model model = Model.newInstance("kjv-mamba2", "PyTorch")) {
            model.setBlock(net);
            int warmUp = Math.max(1, options.steps() / 20);
            DefaultTrainingConfig trainingConfig =
                    new DefaultTrainingConfig(Loss.softmaxCrossEntropyLoss())
                            .optOptimizer(
                                    Optimizer.adam()
                                            .optLearningRateTracker(
                                                    WarmUpTracker.builder()
                                                            .optWarmUpSteps(warmUp)
                                                            .optWarmUpBeginValue(0f)
                                                            .setMainTracker(
                                                                    CosineTracker.builder()
                                                                            .setBaseValue(
                                                                                    options.lr())
                                                                            .optFinalValue(
                                                                                    options.lr()
                                                                                            / 20)
                                                                            .setMaxUpdates(
                                                                                    options.steps()
                                                                                            - warmUp)
                                                                            .build())
                                                            .build())
                                            .optClipGrad(1f)
                                            .build());
            try (Trainer trainer = model.newTrainer(trainingConfig)) {
                trainer.initialize(new Shape(batch, length));
                long params =
                        lm.namedParameters().values().stream()
                                .mapToLong(p -> p.getArray().size())
                                .sum();
                log.printf(Locale.ROOT, "parameters: %d%n", params);
                long start = System.nanoTime();
                double sum = 0;
                int count = 0;
                long budget = (long) (options.maxMinutes() * 60e9);
                for (int step = 1; step <= options.steps(); step++) {
                    if (budget > 0 && System.nanoTime() - start > budget) {
                        log.printf(
                                Locale.ROOT,
                                "stopped before step %d: the %.0f-minute budget is spent%n",
                                step,
                                options.maxMinutes());
                        double h = heldOutLoss(trainer, heldOut, batch, length);
                        log.printf(
                                Locale.ROOT,
                                "final held-out loss %.4f (%.3f bits/byte)%n",
                                h,
                                h / Math.log(2));
                        break;
                    }
                    try (NDManager manager = trainer.getManager().newSubManager()) {
                        NDList pair = windows(manager, train, random, batch, length);
                        try (GradientCollector gc = trainer.newGradientCollector()) {
                            NDList predictions = trainer.forward(new NDList(pair.get(0)));
                            NDArray loss =
                                    trainer.getLoss()
                                            .evaluate(new NDList(pair.get(1)), predictions);
                            gc.backward(loss);
                            sum += loss.getFloat();
                            count++;
                        }
                        trainer.step();
                    }
                    if (step % options.logEvery() == 0 || step == options.steps()) {
                        double seconds = (System.nanoTime() - start) / 1e9;
                        String heldOutText = "";
                        if (step % options.evalEvery() == 0 || step == options.steps()) {
                            double h = heldOutLoss(trainer, heldOut, batch, length);
                            heldOutText =
                                    String.format(
                                            Locale.ROOT,
                                            "  held-out loss %.4f (%.3f bits/byte)",
                                            h,
                                            h / Math.log(2));
                        }
                        log.printf(
                                Locale.ROOT,
                                "step %5d  train loss %.4f  %6.0f s  %5.0f bytes/s%s%n",
                                step,
                                sum / count,
                                seconds,
                                (double) step * batch * length / seconds,
                                heldOutText);
                        sum = 0;
                        count = 0;
                    }
                }
            }
            lm.saveSafetensors(options.out().resolve("model.safetensors"));
            HfConfigJson.write(config, options.out().resolve("config.json"));
            ByteTokenizerJson.write(options.out().resolve("tokenizer.json"));
            log.println("wrote " + options.out().toAbsolutePath());
        }
    }

    private static NDList windows(
            NDManager manager, byte[] text, Random random, int batch, int length) {
        long[] x = new long[batch * length];
        long[] y = new long[batch * length];
        for (int b = 0; b < batch; b++) {
            int start = random.nextInt(text.length - length - 1);
            for (int t = 0; t < length; t++) {
                x[b * length + t] = text[start + t] & 0xFF;
                y[b * length + t] = text[start + t + 1] & 0xFF;
            }
        }
        return new NDList(
                manager.create(x, new Shape(batch, length)),
                manager.create(y, new Shape((long) batch * length)));
    }

    /** The mean loss over consecutive, non-overlapping windows covering the held-out slice. */
    private static double heldOutLoss(Trainer trainer, byte[] heldOut, int batch, int length) {
        int windows = (heldOut.length - 1) / length;
        double sum = 0;
        int count = 0;
        for (int first = 0; first + batch <= windows; first += batch) {
            try (NDManager manager = trainer.getManager().newSubManager()) {
                long[] x = new long[batch * length];
                long[] y = new long[batch * length];
                for (int b = 0; b < batch; b++) {
                    int start = (first + b) * length;
                    for (int t = 0; t < length; t++) {
                        x[b * length + t] = heldOut[start + t] & 0xFF;
                        y[b * length + t] = heldOut[start + t + 1] & 0xFF;
                    }
                }
                NDList predictions =
                        trainer.evaluate(new NDList(manager.create(x, new Shape(batch, length))));
                sum +=
                        trainer.getLoss()
                                .evaluate(
                                        new NDList(
                                                manager.create(
                                                        y, new Shape((long) batch * length))),
                                        predictions)
                                .getFloat();
                count++;
            }
        }
        return sum / count;
    }
}
