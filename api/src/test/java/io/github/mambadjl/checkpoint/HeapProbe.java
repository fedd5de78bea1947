package io.github.mambadjl.checkpoint;

import java.nio.ByteBuffer;
import java.nio.file.Paths;

/**
 * Reads every byte of a safetensors file's tensors and prints their sum and the heap in use; run in
 * a JVM with a small heap by {@link LargeFileTest}.
 */
public final class HeapProbe {

    private HeapProbe() {}

    /**
     * Reads the file.
     *
     * @param args the path of the safetensors file
     * @throws Exception if it cannot be read
     */
    public static void main(String[] args) throws Exception {
        long sum = 0;
        try (SafetensorsFile file = SafetensorsFile.open(Paths.get(args[0]))) {
            for (String name : file.names()) {
                ByteBuffer data = file.tensor(name).data();
                while (data.remaining() >= 8) {
                    sum += data.getLong();
                }
            }
        }
        System.gc();
        Runtime runtime = Runtime.getRuntime();
        System.out.println("sum=" + sum);
        System.out.println("usedMiB=" + (runtime.totalMemory() - runtime.freeMemory()) / (1 << 20));
    }
}
