package io.github.mambadjl.examples.selectivecopy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import java.io.OutputStream;
import java.io.PrintStream;
import java.util.Random;
import org.junit.jupiter.api.Test;

class SelectiveCopyingTest {

    @Test
    void sequencesHoldTheDataTokensInOrderAmongNoise() {
        SelectiveCopyingTask task = new SelectiveCopyingTask(10, 3, 4);
        try (NDManager manager = NDManager.newBaseManager("PyTorch")) {
            NDList batch = task.batch(manager, 50, new Random(3));
            long[] x = batch.get(0).toLongArray();
            long[] y = batch.get(1).toLongArray();
            assertEquals(50 * 13, x.length);
            assertEquals(50 * 3, y.length);
            boolean spread = false;
            for (int b = 0; b < 50; b++) {
                int found = 0;
                for (int t = 0; t < 10; t++) {
                    long v = x[b * 13 + t];
                    if (v != SelectiveCopyingTask.NOISE) {
                        assertEquals(y[b * 3 + found], v);
                        assertTrue(v >= 2 && v < 6);
                        spread |= t >= 3 && found == 0;
                        found++;
                    }
                }
                assertEquals(3, found);
                for (int t = 10; t < 13; t++) {
                    assertEquals(SelectiveCopyingTask.MARKER, x[b * 13 + t]);
                }
            }
            assertTrue(spread, "the data tokens must not always start the sequence");
        }
    }

    @Test
    void mamba2NetworkLearnsToCopySelectivelyWellAboveChance() {
        SelectiveCopying.Result r =
                SelectiveCopying.train(
                        SelectiveCopying.Settings.defaults(),
                        new PrintStream(OutputStream.nullOutputStream()));
        assertEquals(0.25, r.chance(), 1e-9);
        assertTrue(
                r.tokenAccuracy() > 2 * r.chance(),
                "token accuracy " + r.tokenAccuracy() + " is not well above chance " + r.chance());
        assertTrue(r.sequenceAccuracy() > 0.2, "whole sequences " + r.sequenceAccuracy());
    }

    @Test
    void theNetworkOutputsOneRowOfLogitsPerDataToken() {
        SelectiveCopying.Settings s = SelectiveCopying.Settings.defaults();
        try (ai.djl.Model model = ai.djl.Model.newInstance("shape", "PyTorch");
                NDManager manager = NDManager.newBaseManager("PyTorch")) {
            model.setBlock(SelectiveCopying.network(s));
            model.getBlock()
                    .initialize(
                            manager,
                            ai.djl.ndarray.types.DataType.FLOAT32,
                            new ai.djl.ndarray.types.Shape(3, s.task().length()));
            NDArray ids = s.task().batch(manager, 3, new Random(1)).get(0);
            NDArray out =
                    model.getBlock()
                            .forward(
                                    new ai.djl.training.ParameterStore(manager, false),
                                    new NDList(ids),
                                    false)
                            .head();
            assertEquals(new ai.djl.ndarray.types.Shape(3 * 2, 6), out.getShape());
        }
    }
}
