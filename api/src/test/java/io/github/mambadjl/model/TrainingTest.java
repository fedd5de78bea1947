package io.github.mambadjl.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Model;
import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.SequentialBlock;
import ai.djl.training.DefaultTrainingConfig;
import ai.djl.training.GradientCollector;
import ai.djl.training.ParameterStore;
import ai.djl.training.Trainer;
import ai.djl.training.loss.Loss;
import ai.djl.training.optimizer.Optimizer;
import ai.djl.training.tracker.Tracker;
import io.github.mambadjl.checkpoint.SafetensorsFile;
import io.github.mambadjl.config.Mamba2Config;
import io.github.mambadjl.config.MambaConfig;
import io.github.mambadjl.config.ModelConfig;
import io.github.mambadjl.config.TimeStepLimit;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Trains byte-level Mamba and Mamba2 LMs with DJL's {@link Trainer} on a real text (the golden
 * fixtures' README), then saves the weights as HF safetensors and loads them back.
 */
class TrainingTest {

    private static final int VOCAB = 256;
    private static final int BATCH = 8;
    private static final int LENGTH = 32;

    static MambaConfig mambaConfig() {
        return new MambaConfig(
                VOCAB, VOCAB, 32, 2, 8, 2, 64, 4, false, true, "silu", 4, 1.0, 0.001, 0.1, 1e-4,
                "random", 1e-5, true, true, 0.02, false, null, null, null);
    }

    static Mamba2Config mamba2Config() {
        return new Mamba2Config(
                VOCAB,
                VOCAB,
                32,
                2,
                4,
                16,
                2,
                8,
                2,
                64,
                4,
                8,
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
                false,
                0.02,
                null,
                null,
                null);
    }

    @Test
    void mambaLossFallsAndWeightsRoundTrip(@TempDir Path dir) throws Exception {
        trainAndRoundTrip(mambaConfig(), dir);
    }

    @Test
    void mamba2LossFallsAndWeightsRoundTrip(@TempDir Path dir) throws Exception {
        trainAndRoundTrip(mamba2Config(), dir);
    }

    private void trainAndRoundTrip(ModelConfig config, Path dir) throws Exception {
        byte[] text =
                Files.readString(Fixtures.root().resolve("README.md"), StandardCharsets.UTF_8)
                        .getBytes(StandardCharsets.UTF_8);
        CausalLM lm = CausalLM.fromConfig(config);
        SequentialBlock net = new SequentialBlock();
        net.add(lm);
        net.add(list -> new NDList(list.head().reshape(-1, VOCAB)));
        Random random = new Random(1);
        // the initial weights come from the engine's generator: seed it, so that the loss curve
        // (and this test's verdict) is the same at every run
        Engine.getEngine("PyTorch").setRandomSeed(1);
        try (Model model = Model.newInstance("tiny-lm", "PyTorch")) {
            model.setBlock(net);
            DefaultTrainingConfig trainingConfig =
                    new DefaultTrainingConfig(Loss.softmaxCrossEntropyLoss())
                            .optOptimizer(
                                    Optimizer.adam()
                                            .optLearningRateTracker(Tracker.fixed(0.01f))
                                            .build());
            try (Trainer trainer = model.newTrainer(trainingConfig)) {
                trainer.initialize(new Shape(BATCH, LENGTH));
                int steps = 100;
                double first = 0;
                double last = 0;
                for (int step = 0; step < steps; step++) {
                    try (NDManager batch = trainer.getManager().newSubManager()) {
                        long[] x = new long[BATCH * LENGTH];
                        long[] y = new long[BATCH * LENGTH];
                        for (int b = 0; b < BATCH; b++) {
                            int start = random.nextInt(text.length - LENGTH - 1);
                            for (int t = 0; t < LENGTH; t++) {
                                x[b * LENGTH + t] = text[start + t] & 0xFF;
                                y[b * LENGTH + t] = text[start + t + 1] & 0xFF;
                            }
                        }
                        NDArray input = batch.create(x, new Shape(BATCH, LENGTH));
                        NDArray labels = batch.create(y, new Shape(BATCH * LENGTH));
                        try (GradientCollector gc = trainer.newGradientCollector()) {
                            NDList predictions = trainer.forward(new NDList(input));
                            NDArray loss =
                                    trainer.getLoss().evaluate(new NDList(labels), predictions);
                            gc.backward(loss);
                            double value = loss.getFloat();
                            if (step < 10) {
                                first += value / 10;
                            } else if (step >= steps - 10) {
                                last += value / 10;
                            }
                        }
                        trainer.step();
                    }
                }
                assertTrue(
                        last < 0.7 * first,
                        config.family() + ": loss fell only from " + first + " to " + last);
            }

            Path file = dir.resolve("model.safetensors");
            lm.saveSafetensors(file);
            try (NDManager manager = NDManager.newBaseManager("PyTorch");
                    SafetensorsFile saved = SafetensorsFile.open(file)) {
                CausalLM reloaded = CausalLM.fromConfig(config);
                reloaded.loadWeights(saved, manager, DataType.FLOAT32);
                assertEquals(lm.namedParameters().keySet(), saved.names());
                NDArray ids = manager.create(new long[] {72, 101, 108, 108, 111}, new Shape(1, 5));
                NDArray before =
                        lm.forward(
                                        new ParameterStore(manager, false),
                                        ids,
                                        null,
                                        null,
                                        false,
                                        false)
                                .logits();
                NDArray after =
                        reloaded.forward(
                                        new ParameterStore(manager, false),
                                        ids,
                                        null,
                                        null,
                                        false,
                                        false)
                                .logits();
                assertEquals(0f, before.sub(after).abs().max().getFloat());
            }
        }
    }
}
