package io.github.mambadjl.engine;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Device;
import ai.djl.inference.Predictor;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.repository.zoo.ZooModel;
import io.github.mambadjl.generate.GenerationConfig;
import io.github.mambadjl.generate.Generator;
import io.github.mambadjl.model.CausalLM;
import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Many predictors on one model in parallel give the serial results bit for bit; load/close cycles
 * with predictions and generation leave native memory and the resident set where they started.
 */
class MambaReliabilityTest {

    private static final int THREADS = 8;
    private static final int CALLS = 4;

    /** The logits (flattened) of one call, and the ids greedy generation produced. */
    private record Result(float[] logits, long[] generated) {}

    private static long[][] inputs(int thread) {
        Random random = new Random(1000 + thread);
        long[][] out = new long[CALLS][];
        for (int c = 0; c < CALLS; c++) {
            out[c] = new long[2 * (5 + c)];
            for (int i = 0; i < out[c].length; i++) {
                out[c][i] = random.nextInt(96);
            }
        }
        return out;
    }

    private static List<Result> work(ZooModel<NDList, NDList> zoo, int thread) throws Exception {
        List<Result> results = new ArrayList<>();
        try (Predictor<NDList, NDList> predictor = zoo.newPredictor()) {
            for (long[] ids : inputs(thread)) {
                try (NDManager manager = zoo.getNDManager().newSubManager()) {
                    NDList out =
                            predictor.predict(
                                    new NDList(manager.create(ids, new Shape(2, ids.length / 2))));
                    out.attach(manager);
                    long[] generated =
                            new Generator((CausalLM) zoo.getBlock(), manager)
                                    .generate(
                                            new long[][] {java.util.Arrays.copyOf(ids, 5)},
                                            GenerationConfig.builder().optMaxNewTokens(3).build())
                                    .sequences()[0];
                    results.add(new Result(out.get(0).toFloatArray(), generated));
                }
            }
        }
        return results;
    }

    @Test
    void eightPredictorsOnOneModelGiveTheSerialResults() throws Exception {
        assertParallelGivesSerialResults(Device.cpu());
    }

    /**
     * Asserts that {@value #THREADS} threads, each with its own predictor on one model, give the
     * results of the same calls made one after the other, bit for bit.
     *
     * @param device where the models run
     * @throws Exception if a model fails
     */
    static void assertParallelGivesSerialResults(Device device) throws Exception {
        for (String model : new String[] {"mamba-tiny", "bamba-tiny"}) {
            try (ZooModel<NDList, NDList> zoo =
                    Goldens.criteria(Goldens.model(model)).optDevice(device).build().loadModel()) {
                List<List<Result>> serial = new ArrayList<>();
                for (int t = 0; t < THREADS; t++) {
                    serial.add(work(zoo, t));
                }
                ExecutorService pool = Executors.newFixedThreadPool(THREADS);
                try {
                    List<Future<List<Result>>> parallel = new ArrayList<>();
                    for (int t = 0; t < THREADS; t++) {
                        int thread = t;
                        parallel.add(pool.submit(() -> work(zoo, thread)));
                    }
                    for (int t = 0; t < THREADS; t++) {
                        List<Result> got = parallel.get(t).get(2, TimeUnit.MINUTES);
                        for (int c = 0; c < CALLS; c++) {
                            String what = model + " thread " + t + " call " + c;
                            assertArrayEquals(
                                    serial.get(t).get(c).logits(), got.get(c).logits(), what);
                            assertArrayEquals(
                                    serial.get(t).get(c).generated(), got.get(c).generated(), what);
                        }
                    }
                } finally {
                    pool.shutdownNow();
                }
            }
        }
    }

    @Test
    void loadCloseCyclesLeaveNativeMemoryAndRssWhereTheyStarted(@TempDir Path dir)
            throws Exception {
        List<String> output = memoryCycles(dir, "50", "10");
        long[] bytes = values(output, "BYTES");
        long[] blocks = values(output, "BLOCKS");
        long[] rss = values(output, "RSS_KIB");
        assertEquals(bytes[0], bytes[1], "native bytes after 50 cycles");
        assertEquals(blocks[0], blocks[1], "native blocks after 50 cycles");
        long growthKiB = rss[1] - rss[0];
        assertTrue(
                growthKiB < 8 * 1024,
                "RSS grew by " + growthKiB + " KiB over 50 cycles: " + String.join("\n", output));
    }

    /**
     * Runs {@link MemoryCycles} in a JVM of its own and returns its output.
     *
     * @param dir a folder for the log
     * @param args the arguments of {@link MemoryCycles#main}
     * @return the lines it printed
     * @throws Exception if it fails or times out
     */
    static List<String> memoryCycles(Path dir, String... args) throws Exception {
        String java = Paths.get(System.getProperty("java.home"), "bin", "java").toString();
        File log = dir.resolve("cycles.log").toFile();
        // A fixed, pre-touched heap, the C1 compiler only and two malloc arenas: the heap, the
        // JIT's code cache and glibc's per-thread arenas otherwise keep growing for a while after
        // start, which is not memory that the engine holds. The probe warms up for 10 cycles.
        List<String> command =
                new ArrayList<>(
                        List.of(
                                java,
                                "-Xms128m",
                                "-Xmx128m",
                                "-XX:+AlwaysPreTouch",
                                "-XX:+UseSerialGC",
                                "-XX:TieredStopAtLevel=1",
                                "-Dai.djl.offline=true",
                                "-Dmambadjl.fixtures=" + Goldens.root(),
                                "-cp",
                                System.getProperty("java.class.path"),
                                MemoryCycles.class.getName()));
        command.addAll(List.of(args));
        ProcessBuilder builder =
                new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log);
        builder.environment().put("MALLOC_ARENA_MAX", "2");
        builder.environment().put("OMP_WAIT_POLICY", "passive");
        Process process = builder.start();
        assertTrue(process.waitFor(5, TimeUnit.MINUTES), "the cycles timed out");
        List<String> output = Files.readAllLines(log.toPath());
        assertEquals(0, process.exitValue(), String.join("\n", output));
        return output;
    }

    static long[] values(List<String> output, String key) {
        for (String line : output) {
            if (line.startsWith(key + " ")) {
                String[] parts = line.split(" ");
                return new long[] {Long.parseLong(parts[1]), Long.parseLong(parts[2])};
            }
        }
        throw new AssertionError("no " + key + " line in: " + String.join("\n", output));
    }
}
