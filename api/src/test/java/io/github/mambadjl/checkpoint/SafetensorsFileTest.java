package io.github.mambadjl.checkpoint;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SafetensorsFileTest {

    @TempDir Path tmp;

    /** Writes a safetensors file with a hand-made header and data section. */
    static Path raw(Path file, String header, int dataBytes) throws IOException {
        byte[] json = header.getBytes(StandardCharsets.UTF_8);
        ByteBuffer buffer =
                ByteBuffer.allocate(8 + json.length + dataBytes).order(ByteOrder.LITTLE_ENDIAN);
        buffer.putLong(json.length).put(json);
        Files.write(file, buffer.array());
        return file;
    }

    private CheckpointException assertRejected(Path file, String... fragments) throws IOException {
        CheckpointException e =
                assertThrows(CheckpointException.class, () -> SafetensorsFile.open(file));
        for (String fragment : fragments) {
            assertTrue(e.getMessage().contains(fragment), e.getMessage());
        }
        assertEquals(0, OpenFiles.count(file), "file left open after a failed open");
        return e;
    }

    @Test
    void roundTripsEveryDtypeAndMetadata() throws IOException {
        Path file = tmp.resolve("all.safetensors");
        ByteBuffer bf16 = ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN);
        bf16.putShort((short) 0x3F80).putShort((short) 0xC040).flip(); // 1.0, -3.0
        ByteBuffer f16 = ByteBuffer.allocate(6).order(ByteOrder.LITTLE_ENDIAN);
        f16.putShort((short) 0x3C00).putShort((short) 0x0001).putShort((short) 0xFC00).flip();
        List<TensorData> tensors =
                List.of(
                        TensorData.ofFloats("f32", new long[] {2, 3}, 1, 2, 3, 4, 5, -6.5f),
                        TensorData.of("bf16", TensorDType.BF16, new long[] {2}, bf16),
                        TensorData.of("f16", TensorDType.F16, new long[] {3}, f16),
                        TensorData.ofLongs("i64", new long[] {2}, Long.MIN_VALUE, 7),
                        TensorData.of(
                                "i32",
                                TensorDType.I32,
                                new long[] {1},
                                ByteBuffer.allocate(4)
                                        .order(ByteOrder.LITTLE_ENDIAN)
                                        .putInt(0, -9)),
                        TensorData.of(
                                "bool",
                                TensorDType.BOOL,
                                new long[] {2},
                                ByteBuffer.wrap(new byte[] {1, 0})),
                        TensorData.of(
                                "empty",
                                TensorDType.F32,
                                new long[] {0, 4},
                                ByteBuffer.allocate(0)));
        SafetensorsWriter.write(file, tensors, Map.of("format", "pt"));
        try (SafetensorsFile st = SafetensorsFile.open(file)) {
            assertEquals(Map.of("format", "pt"), st.metadata());
            assertEquals(
                    List.of("f32", "bf16", "f16", "i64", "i32", "bool", "empty"),
                    List.copyOf(st.names()));
            assertArrayEquals(new long[] {2, 3}, st.tensor("f32").shape());
            assertArrayEquals(new float[] {1, 2, 3, 4, 5, -6.5f}, st.tensor("f32").toFloatArray());
            assertArrayEquals(new float[] {1, -3}, st.tensor("bf16").toFloatArray());
            float[] half = st.tensor("f16").toFloatArray();
            assertEquals(1f, half[0]);
            assertEquals(5.9604645e-8f, half[1]);
            assertEquals(Float.NEGATIVE_INFINITY, half[2]);
            assertEquals(Long.MIN_VALUE, st.tensor("i64").data().getLong(0));
            assertEquals(7, st.tensor("i64").data().getLong(8));
            assertEquals(-9, st.tensor("i32").data().getInt(0));
            assertEquals(TensorDType.BOOL, st.tensor("bool").dtype());
            assertEquals(0, st.tensor("empty").data().remaining());
            assertTrue(st.tensor("f32").data().isReadOnly());
            assertTrue(st.tensor("f32").data().isDirect(), "data must be a mapped view");
        }
        ByteBuffer head = ByteBuffer.wrap(Files.readAllBytes(file)).order(ByteOrder.LITTLE_ENDIAN);
        assertEquals(0, head.getLong(0) % 8, "header length must be padded to 8 bytes");
    }

    @Test
    void closeMakesTensorsUnreadableAndReleasesTheFile() throws IOException {
        Path file = tmp.resolve("a.safetensors");
        SafetensorsWriter.write(
                file, List.of(TensorData.ofFloats("x", new long[] {1}, 1)), Map.of());
        SafetensorsFile st = SafetensorsFile.open(file);
        TensorData x = st.tensor("x");
        assertEquals(1, OpenFiles.count(file));
        st.close();
        assertEquals(0, OpenFiles.count(file));
        assertThrows(IllegalStateException.class, x::data);
    }

    @Test
    void rejectsFileShorterThanTheHeaderLength() throws IOException {
        Path file = tmp.resolve("tiny.safetensors");
        Files.write(file, new byte[] {1, 2, 3});
        assertRejected(file, "truncated", "8-byte header length");
    }

    @Test
    void rejectsHeaderLengthLargerThanTheFile() throws IOException {
        Path file = tmp.resolve("long.safetensors");
        ByteBuffer buffer = ByteBuffer.allocate(16).order(ByteOrder.LITTLE_ENDIAN);
        buffer.putLong(1_000_000).put("{}      ".getBytes(StandardCharsets.US_ASCII));
        Files.write(file, buffer.array());
        assertRejected(file, "1000000", "truncated");
        ByteBuffer negative = ByteBuffer.allocate(16).order(ByteOrder.LITTLE_ENDIAN);
        negative.putLong(-1).put("{}      ".getBytes(StandardCharsets.US_ASCII));
        Files.write(file, negative.array());
        assertRejected(file, "18446744073709551615");
    }

    @Test
    void rejectsTruncatedData() throws IOException {
        Path file = tmp.resolve("cut.safetensors");
        SafetensorsWriter.write(
                file,
                List.of(
                        TensorData.ofFloats("a", new long[] {4}, 1, 2, 3, 4),
                        TensorData.ofFloats("b", new long[] {4}, 1, 2, 3, 4)),
                Map.of());
        byte[] bytes = Files.readAllBytes(file);
        Files.write(file, Arrays.copyOf(bytes, bytes.length - 5));
        assertRejected(file, "tensor b", "out of range", "truncated");
    }

    @Test
    void rejectsHeaderThatIsNotJson() throws IOException {
        assertRejected(raw(tmp.resolve("a"), "{\"a\": {\"dtype\": ", 0), "not well-formed JSON");
        assertRejected(raw(tmp.resolve("b"), "[1, 2]", 0), "not well-formed JSON", "object");
        assertRejected(raw(tmp.resolve("c"), "{} {}", 0), "not well-formed JSON");
        assertRejected(raw(tmp.resolve("d"), "{'a': 1}", 0), "not well-formed JSON");
    }

    @Test
    void rejectsUnknownDtype() throws IOException {
        Path file =
                raw(
                        tmp.resolve("u.safetensors"),
                        "{\"x\": {\"dtype\": \"F4\", \"shape\": [2], \"data_offsets\": [0, 1]}}",
                        1);
        assertRejected(file, "Unknown dtype \"F4\"", "tensor x");
    }

    @Test
    void rejectsOffsetsOutOfRange() throws IOException {
        Path file =
                raw(
                        tmp.resolve("o.safetensors"),
                        "{\"x\": {\"dtype\": \"F32\", \"shape\": [2], \"data_offsets\": [0, 8]}}",
                        4);
        assertRejected(file, "data_offsets [0, 8]", "out of range");
        Path reversed =
                raw(
                        tmp.resolve("r.safetensors"),
                        "{\"x\": {\"dtype\": \"F32\", \"shape\": [0], \"data_offsets\": [4, 0]}}",
                        4);
        assertRejected(reversed, "out of range");
    }

    @Test
    void rejectsOverlappingTensors() throws IOException {
        Path file =
                raw(
                        tmp.resolve("ov.safetensors"),
                        "{\"a\": {\"dtype\": \"F32\", \"shape\": [2], \"data_offsets\": [0, 8]},"
                                + " \"b\": {\"dtype\": \"F32\", \"shape\": [2], \"data_offsets\": [4, 12]}}",
                        12);
        assertRejected(file, "Tensors a and b overlap");
    }

    @Test
    void rejectsGapsAndTrailingBytes() throws IOException {
        Path gap =
                raw(
                        tmp.resolve("gap.safetensors"),
                        "{\"a\": {\"dtype\": \"F32\", \"shape\": [1], \"data_offsets\": [0, 4]},"
                                + " \"b\": {\"dtype\": \"F32\", \"shape\": [1], \"data_offsets\": [8, 12]}}",
                        12);
        assertRejected(gap, "gap of 4 unused bytes before tensor b");
        Path trailing =
                raw(
                        tmp.resolve("trail.safetensors"),
                        "{\"a\": {\"dtype\": \"F32\", \"shape\": [1], \"data_offsets\": [0, 4]}}",
                        8);
        assertRejected(trailing, "4 bytes after its last tensor");
    }

    @Test
    void rejectsShapeThatDisagreesWithTheByteLength() throws IOException {
        Path file =
                raw(
                        tmp.resolve("s.safetensors"),
                        "{\"a\": {\"dtype\": \"BF16\", \"shape\": [3], \"data_offsets\": [0, 4]}}",
                        4);
        assertRejected(file, "need 6 bytes", "span 4");
        Path negative =
                raw(
                        tmp.resolve("n.safetensors"),
                        "{\"a\": {\"dtype\": \"F32\", \"shape\": [-1], \"data_offsets\": [0, 4]}}",
                        4);
        assertRejected(negative, "non-negative integers");
    }

    @Test
    void rejectsMalformedMetadata() throws IOException {
        Path file = raw(tmp.resolve("m.safetensors"), "{\"__metadata__\": {\"a\": 1}}", 0);
        assertRejected(file, "__metadata__.a", "must be a string");
    }

    @Test
    void writerRejectsDuplicateNames() {
        TensorData a = TensorData.ofFloats("a", new long[] {1}, 1);
        assertThrows(
                IllegalArgumentException.class,
                () ->
                        SafetensorsWriter.write(
                                tmp.resolve("d.safetensors"), List.of(a, a), Map.of()));
        assertTrue(Files.notExists(tmp.resolve("d.safetensors")));
    }
}
