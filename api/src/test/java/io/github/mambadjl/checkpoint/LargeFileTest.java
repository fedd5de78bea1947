package io.github.mambadjl.checkpoint;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.File;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Files larger than 2 and 4 GiB, made sparse so that they cost no disk. */
class LargeFileTest {

    private static final long GIB = 1L << 30;

    @TempDir Path tmp;

    /** Writes a sparse safetensors file whose tensors are all zero except the ones given. */
    static void sparse(Path file, String header, long dataBytes, long valuesAt, byte[] values)
            throws IOException {
        byte[] json = header.getBytes(StandardCharsets.UTF_8);
        try (RandomAccessFile raf = new RandomAccessFile(file.toFile(), "rw")) {
            raf.setLength(8 + json.length + dataBytes);
            ByteBuffer length = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
            raf.write(length.putLong(json.length).array());
            raf.write(json);
            if (values != null) {
                raf.seek(8 + json.length + valuesAt);
                raf.write(values);
            }
        }
    }

    private static String entry(String name, String dtype, long numel, long begin, long end) {
        return "\""
                + name
                + "\": {\"dtype\": \""
                + dtype
                + "\", \"shape\": ["
                + numel
                + "], \"data_offsets\": ["
                + begin
                + ", "
                + end
                + "]}";
    }

    @Test
    void readsATensorPastFourGiB() throws IOException {
        long chunk = 1_500_000_000L;
        long tail = 3 * chunk;
        String header =
                "{"
                        + entry("pad0", "U8", chunk, 0, chunk)
                        + ", "
                        + entry("pad1", "U8", chunk, chunk, 2 * chunk)
                        + ", "
                        + entry("pad2", "U8", chunk, 2 * chunk, tail)
                        + ", "
                        + entry("x", "F32", 4, tail, tail + 16)
                        + "}";
        ByteBuffer values = ByteBuffer.allocate(16).order(ByteOrder.LITTLE_ENDIAN);
        values.putFloat(1.5f).putFloat(-2f).putFloat(3.25f).putFloat(Float.MAX_VALUE);
        Path file = tmp.resolve("big.safetensors");
        sparse(file, header, tail + 16, tail, values.array());
        assertTrue(Files.size(file) > 4 * GIB);
        try (SafetensorsFile st = SafetensorsFile.open(file)) {
            assertArrayEquals(
                    new float[] {1.5f, -2f, 3.25f, Float.MAX_VALUE}, st.tensor("x").toFloatArray());
            assertEquals(chunk, st.tensor("pad2").data().remaining());
            assertEquals(0, st.tensor("pad2").data().get((int) (chunk - 1)));
        }
    }

    @Test
    void readsOneGibWithASixtyFourMegabyteHeap() throws Exception {
        Path file = tmp.resolve("gib.safetensors");
        ByteBuffer marker = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(42);
        sparse(file, "{" + entry("w", "I64", GIB / 8, 0, GIB) + "}", GIB, GIB - 8, marker.array());
        String java = Paths.get(System.getProperty("java.home"), "bin", "java").toString();
        ProcessBuilder builder =
                new ProcessBuilder(
                        java,
                        "-Xmx64m",
                        "-cp",
                        System.getProperty("java.class.path"),
                        HeapProbe.class.getName(),
                        file.toString());
        builder.redirectErrorStream(true);
        File log = tmp.resolve("probe.log").toFile();
        builder.redirectOutput(log);
        Process process = builder.start();
        assertTrue(process.waitFor(5, TimeUnit.MINUTES), "heap probe timed out");
        List<String> output = Files.readAllLines(log.toPath());
        assertEquals(0, process.exitValue(), String.join("\n", output));
        assertTrue(output.contains("sum=42"), String.join("\n", output));
        long usedMb = Long.parseLong(output.get(output.size() - 1).replace("usedMiB=", ""));
        assertTrue(usedMb < 16, "heap in use after reading 1 GiB: " + usedMb + " MiB");
    }
}
