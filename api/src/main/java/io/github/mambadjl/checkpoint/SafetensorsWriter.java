package io.github.mambadjl.checkpoint;

import com.google.gson.Gson;
import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.Collection;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;

/**
 * Writes tensors to a safetensors file, in the given order, with the header padded with spaces to a
 * multiple of 8 bytes as the reference implementation does. The file is written next to its
 * destination and moved into place, so a failed write never leaves a half-written file.
 */
public final class SafetensorsWriter {

    private SafetensorsWriter() {}

    /**
     * Writes a safetensors file.
     *
     * @param file the destination; replaced if it exists
     * @param tensors the tensors, with unique names
     * @param metadata the {@code __metadata__} strings, possibly empty
     * @throws IOException if the file cannot be written
     * @throws IllegalArgumentException if two tensors have the same name or a name is {@code
     *     __metadata__}
     */
    public static void write(
            Path file, Collection<TensorData> tensors, Map<String, String> metadata)
            throws IOException {
        JsonObject header = new JsonObject();
        if (!metadata.isEmpty()) {
            JsonObject meta = new JsonObject();
            metadata.forEach(meta::addProperty);
            header.add(SafetensorsHeader.METADATA_KEY, meta);
        }
        Set<String> names = new HashSet<>();
        long offset = 0;
        for (TensorData tensor : tensors) {
            if (SafetensorsHeader.METADATA_KEY.equals(tensor.name()) || !names.add(tensor.name())) {
                throw new IllegalArgumentException(
                        "Duplicate or reserved tensor name: " + tensor.name());
            }
            JsonObject entry = new JsonObject();
            entry.addProperty("dtype", tensor.dtype().name());
            JsonArray shape = new JsonArray();
            for (long dim : tensor.shape()) {
                shape.add(dim);
            }
            entry.add("shape", shape);
            JsonArray offsets = new JsonArray();
            offsets.add(offset);
            offset += tensor.byteSize();
            offsets.add(offset);
            entry.add("data_offsets", offsets);
            header.add(tensor.name(), entry);
        }
        byte[] json = new Gson().toJson(header).getBytes(StandardCharsets.UTF_8);
        int padded = (json.length + 7) / 8 * 8;
        ByteBuffer head = ByteBuffer.allocate(8 + padded).order(ByteOrder.LITTLE_ENDIAN);
        head.putLong(padded).put(json);
        while (head.hasRemaining()) {
            head.put((byte) ' ');
        }
        head.flip();
        Path absolute = file.toAbsolutePath();
        Path temp =
                Files.createTempFile(absolute.getParent(), absolute.getFileName() + ".", ".tmp");
        try {
            try (FileChannel channel =
                    FileChannel.open(
                            temp, StandardOpenOption.WRITE, StandardOpenOption.TRUNCATE_EXISTING)) {
                writeFully(channel, head);
                for (TensorData tensor : tensors) {
                    ByteBuffer data = tensor.data();
                    if (data.remaining() != tensor.byteSize()) {
                        throw new IOException(
                                "Tensor "
                                        + tensor.name()
                                        + " yields "
                                        + data.remaining()
                                        + " bytes instead of "
                                        + tensor.byteSize());
                    }
                    writeFully(channel, data);
                }
            }
            Files.move(temp, absolute, StandardCopyOption.REPLACE_EXISTING);
        } finally {
            Files.deleteIfExists(temp);
        }
    }

    private static void writeFully(FileChannel channel, ByteBuffer buffer) throws IOException {
        while (buffer.hasRemaining()) {
            channel.write(buffer);
        }
    }
}
