package io.github.mambadjl.engine;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;

/** Threads that each run a small forward on their own manager get the serial results. */
class MambaConcurrencyTest {

    private static float[] forward(float[] x, float[] w) {
        try (NDManager manager = Engine.getEngine(MambaEngine.ENGINE_NAME).newBaseManager()) {
            NDArray input = manager.create(x, new Shape(4, 64));
            NDArray weight = manager.create(w, new Shape(96, 64));
            NDArray h = input.matMul(weight.transpose());
            NDArray gated = h.getNDArrayInternal().swish(1f).mul(h.get(":, 0:1"));
            return gated.logSoftmax(-1).cumSum(1).toFloatArray();
        }
    }

    @Test
    void eightThreadsMatchTheSerialRun() throws Exception {
        Random random = new Random();
        float[][] xs = new float[8][4 * 64];
        float[] w = new float[96 * 64];
        for (float[] x : xs) {
            for (int i = 0; i < x.length; i++) {
                x[i] = random.nextFloat() - 0.5f;
            }
        }
        for (int i = 0; i < w.length; i++) {
            w[i] = random.nextFloat() - 0.5f;
        }
        float[][] serial = new float[8][];
        for (int t = 0; t < 8; t++) {
            serial[t] = forward(xs[t], w);
        }
        long before = MambaNDManager.hostBytesInUse();
        ExecutorService pool = Executors.newFixedThreadPool(8);
        try {
            List<Future<float[]>> results = new ArrayList<>();
            for (int round = 0; round < 20; round++) {
                for (int t = 0; t < 8; t++) {
                    float[] x = xs[t];
                    results.add(pool.submit(() -> forward(x, w)));
                }
            }
            for (int i = 0; i < results.size(); i++) {
                assertArrayEquals(serial[i % 8], results.get(i).get(), "task " + i);
            }
        } finally {
            pool.shutdown();
        }
        assertEquals(before, MambaNDManager.hostBytesInUse());
    }
}
