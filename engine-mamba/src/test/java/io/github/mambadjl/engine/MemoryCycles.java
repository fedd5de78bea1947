package io.github.mambadjl.engine;

import ai.djl.inference.Predictor;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.repository.zoo.ZooModel;
import io.github.mambadjl.generate.GenerationConfig;
import io.github.mambadjl.generate.Generator;
import io.github.mambadjl.model.CausalLM;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Paths;
import java.util.Random;

/**
 * Run in a JVM of its own by {@link MambaReliabilityTest}: load/close cycles with predictions and
 * generation, printing native bytes, native blocks and the resident set size before and after.
 */
public final class MemoryCycles {

    private static final String[] MODELS = {"mamba-tiny", "mamba2-tiny", "bamba-tiny"};

    private MemoryCycles() {}

    /**
     * Runs the cycles.
     *
     * @param args the number of cycles and the number of predictions per cycle
     * @throws Exception if a model fails
     */
    public static void main(String[] args) throws Exception {
        int cycles = Integer.parseInt(args[0]);
        int predictions = Integer.parseInt(args[1]);
        Random random = new Random(7);
        run(10, predictions, random); // warm-up: classes, JIT, allocator arenas
        settle();
        long bytes = MambaNDManager.hostBytesInUse();
        long blocks = MambaNDManager.hostBlocksInUse();
        long rss = rssKiB();
        for (int done = 0; done < cycles; done += 10) {
            run(Math.min(10, cycles - done), predictions, random);
            settle();
            System.out.println("PROGRESS " + (done + 10) + " rss " + rssKiB());
        }
        System.out.println("BYTES " + bytes + " " + MambaNDManager.hostBytesInUse());
        System.out.println("BLOCKS " + blocks + " " + MambaNDManager.hostBlocksInUse());
        System.out.println("RSS_KIB " + rss + " " + rssKiB());
    }

    private static void run(int cycles, int predictions, Random random) throws Exception {
        for (int c = 0; c < cycles; c++) {
            String model = MODELS[c % MODELS.length];
            try (ZooModel<NDList, NDList> zoo =
                            Goldens.criteria(Goldens.model(model)).build().loadModel();
                    Predictor<NDList, NDList> predictor = zoo.newPredictor()) {
                for (int p = 0; p < predictions; p++) {
                    try (NDManager manager = zoo.getNDManager().newSubManager()) {
                        long[] ids = new long[2 * 9];
                        for (int i = 0; i < ids.length; i++) {
                            ids[i] = random.nextInt(90);
                        }
                        NDList out =
                                predictor.predict(new NDList(manager.create(ids, new Shape(2, 9))));
                        out.attach(manager);
                    }
                }
                new Generator((CausalLM) zoo.getBlock(), zoo.getNDManager())
                        .generate(
                                new long[][] {{1, 2, 3, 4}},
                                GenerationConfig.builder().optMaxNewTokens(6).build());
            }
        }
    }

    private static void settle() throws InterruptedException {
        for (int i = 0; i < 3; i++) {
            System.gc();
            Thread.sleep(50);
        }
    }

    private static long rssKiB() throws IOException {
        for (String line : Files.readAllLines(Paths.get("/proc/self/status"))) {
            if (line.startsWith("VmRSS:")) {
                return Long.parseLong(line.replaceAll("[^0-9]", ""));
            }
        }
        throw new IllegalStateException("no VmRSS in /proc/self/status");
    }
}
