package io.github.mambadjl.checkpoint;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ShardedSafetensorsTest {

    @TempDir Path tmp;

    private Path index;

    @BeforeEach
    void writeShards() throws IOException {
        SafetensorsWriter.write(
                tmp.resolve("s1.safetensors"),
                List.of(TensorData.ofFloats("a", new long[] {2}, 1, 2)),
                Map.of());
        SafetensorsWriter.write(
                tmp.resolve("s2.safetensors"),
                List.of(
                        TensorData.ofFloats("b", new long[] {1}, 3),
                        TensorData.ofFloats("c", new long[] {1}, 4)),
                Map.of());
        index = tmp.resolve(ShardedSafetensors.INDEX_FILE);
    }

    private void writeIndex(String weightMap) throws IOException {
        Files.writeString(
                index, "{\"metadata\": {\"total_size\": 16}, \"weight_map\": {" + weightMap + "}}");
    }

    private void assertRejected(String... fragments) throws IOException {
        CheckpointException e =
                assertThrows(CheckpointException.class, () -> ShardedSafetensors.open(index));
        for (String fragment : fragments) {
            assertTrue(e.getMessage().contains(fragment), e.getMessage());
        }
        assertEquals(0, OpenFiles.count(tmp.resolve("s1.safetensors")));
        assertEquals(0, OpenFiles.count(tmp.resolve("s2.safetensors")));
    }

    @Test
    void readsEveryShard() throws IOException {
        writeIndex(
                "\"a\": \"s1.safetensors\", \"b\": \"s2.safetensors\", \"c\": \"s2.safetensors\"");
        try (ShardedSafetensors sharded = ShardedSafetensors.open(index)) {
            assertEquals(2, sharded.shards().size());
            assertArrayEquals(new float[] {1, 2}, sharded.tensor("a").toFloatArray());
            assertArrayEquals(new float[] {4}, sharded.tensor("c").toFloatArray());
        }
        assertEquals(0, OpenFiles.count(tmp.resolve("s2.safetensors")));
    }

    @Test
    void rejectsAMissingShard() throws IOException {
        writeIndex("\"a\": \"s1.safetensors\", \"b\": \"s3.safetensors\"");
        assertRejected("Shard s3.safetensors", "tensor b", "is missing");
    }

    @Test
    void rejectsATensorInTwoShards() throws IOException {
        SafetensorsWriter.write(
                tmp.resolve("s3.safetensors"),
                List.of(TensorData.ofFloats("a", new long[] {1}, 9)),
                Map.of());
        writeIndex(
                "\"a\": \"s1.safetensors\", \"b\": \"s2.safetensors\", \"x\": \"s3.safetensors\"");
        assertRejected("Tensor a is in two shards", "s1.safetensors", "s3.safetensors");
    }

    @Test
    void rejectsATensorAbsentFromItsShard() throws IOException {
        writeIndex("\"a\": \"s2.safetensors\", \"b\": \"s1.safetensors\"");
        assertRejected("places tensor a in shard s2.safetensors", "(it is in s1.safetensors)");
    }

    @Test
    void rejectsShardsOutsideTheDirectory() throws IOException {
        writeIndex("\"a\": \"../s1.safetensors\"");
        assertRejected("outside its directory");
    }

    @Test
    void rejectsAnIndexWithoutWeightMap() throws IOException {
        Files.writeString(index, "{\"metadata\": {}}");
        assertRejected("no \"weight_map\"");
    }
}
