package io.github.mambadjl.engine;

import ai.djl.Device;
import ai.djl.inference.Predictor;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.repository.zoo.ZooModel;
import io.github.mambadjl.generate.GenerationConfig;
import io.github.mambadjl.generate.Generator;
import io.github.mambadjl.model.CausalLM;
import io.github.mambadjl.nativeops.CudaTensorOps;
import io.github.mambadjl.nativeops.CudaTensorOps.PoolStats;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Paths;
import java.util.Random;

/**
 * Run in a JVM of its own by {@link MambaReliabilityTest} (CPU) and {@link MambaGpuReliabilityTest}
 * (GPU): load/close cycles with predictions and generation, printing native bytes, native blocks
 * and the resident set size before and after; on the GPU also the device bytes and blocks of the
 * engine and the memory the driver reports in use (after the pool gave its cache back).
 */
public final class MemoryCycles {

    private static final String[] MODELS = {"mamba-tiny", "mamba2-tiny", "bamba-tiny"};

    private MemoryCycles() {}

    /**
     * Runs the cycles.
     *
     * @param args the number of cycles, the number of predictions per cycle, and optionally the
     *     device ({@code cpu}, the default, or {@code gpu})
     * @throws Exception if a model fails
     */
    public static void main(String[] args) throws Exception {
        int cycles = Integer.parseInt(args[0]);
        int predictions = Integer.parseInt(args[1]);
        Device device = args.length > 2 && args[2].equals("gpu") ? Device.gpu() : Device.cpu();
        Random random = new Random(7);
        run(10, predictions, random, device); // warm-up: classes, JIT, allocator arenas
        settle(device);
        long bytes = MambaNDManager.hostBytesInUse();
        long blocks = MambaNDManager.hostBlocksInUse();
        long rss = rssKiB();
        long[] gpu = deviceMemory(device);
        for (int done = 0; done < cycles; done += 10) {
            run(Math.min(10, cycles - done), predictions, random, device);
            settle(device);
            System.out.println("PROGRESS " + (done + 10) + " rss " + rssKiB());
        }
        System.out.println("BYTES " + bytes + " " + MambaNDManager.hostBytesInUse());
        System.out.println("BLOCKS " + blocks + " " + MambaNDManager.hostBlocksInUse());
        System.out.println("RSS_KIB " + rss + " " + rssKiB());
        if (device.isGpu()) {
            long[] after = deviceMemory(device);
            System.out.println("DEVICE_BYTES " + gpu[0] + " " + after[0]);
            System.out.println("DEVICE_BLOCKS " + gpu[1] + " " + after[1]);
            System.out.println("DEVICE_USED " + gpu[2] + " " + after[2]);
        }
    }

    /** The engine's device bytes and blocks in use, and the bytes the driver reports in use. */
    private static long[] deviceMemory(Device device) {
        if (!device.isGpu()) {
            return new long[3];
        }
        int id = device.getDeviceId();
        PoolStats stats = CudaTensorOps.poolStats(id);
        return new long[] {
            MambaNDManager.deviceBytesInUse(id),
            MambaNDManager.deviceBlocksInUse(id),
            stats.totalBytes() - stats.freeBytes()
        };
    }

    private static void run(int cycles, int predictions, Random random, Device device)
            throws Exception {
        for (int c = 0; c < cycles; c++) {
            String model = MODELS[c % MODELS.length];
            try (ZooModel<NDList, NDList> zoo =
                            Goldens.criteria(Goldens.model(model))
                                    .optDevice(device)
                                    .build()
                                    .loadModel();
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

    private static void settle(Device device) throws InterruptedException {
        for (int i = 0; i < 3; i++) {
            System.gc();
            Thread.sleep(50);
        }
        if (device.isGpu()) {
            CudaTensorOps.trimPool(device.getDeviceId(), 0);
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
