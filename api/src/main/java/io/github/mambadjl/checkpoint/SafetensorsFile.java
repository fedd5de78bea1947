package io.github.mambadjl.checkpoint;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.MappedByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.NoSuchElementException;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * A safetensors file opened for reading, memory-mapped: tensor data never enters the Java heap and
 * files larger than 2 GiB work (each tensor is mapped on its own, so a single tensor must be
 * smaller than 2 GiB).
 *
 * <p>The header is validated fully when the file is opened: header length within the file, strict
 * JSON, known dtypes, {@code data_offsets} in range, not overlapping and covering the byte buffer
 * exactly, and each shape times dtype size equal to its byte length.
 *
 * <p>Java cannot unmap a buffer safely, so {@link #close()} closes the file and makes every tensor
 * of it unreadable; the mappings themselves are released by the garbage collector.
 */
public final class SafetensorsFile implements TensorSource {

    private final Path file;
    private final FileChannel channel;
    private final SafetensorsHeader header;
    private final Map<String, TensorData> tensors;
    private final Map<String, MappedByteBuffer> mappings = new ConcurrentHashMap<>();
    private volatile boolean closed;

    private SafetensorsFile(Path file, FileChannel channel, SafetensorsHeader header) {
        this.file = file;
        this.channel = channel;
        this.header = header;
        Map<String, TensorData> map = new LinkedHashMap<>();
        for (SafetensorsHeader.Entry entry : header.entries()) {
            map.put(
                    entry.name(),
                    new TensorData(entry.name(), entry.dtype(), entry.shape(), () -> map(entry)));
        }
        this.tensors = Collections.unmodifiableMap(map);
    }

    /**
     * Opens and validates a safetensors file.
     *
     * @param file the file
     * @return the open file
     * @throws IOException if the file cannot be read
     * @throws CheckpointException if the file is malformed; the message says how
     */
    public static SafetensorsFile open(Path file) throws IOException {
        FileChannel channel = FileChannel.open(file, StandardOpenOption.READ);
        try {
            return new SafetensorsFile(file, channel, SafetensorsHeader.read(channel, file));
        } catch (IOException | RuntimeException e) {
            channel.close();
            throw e;
        }
    }

    /**
     * Returns the file's path.
     *
     * @return the path
     */
    public Path path() {
        return file;
    }

    /**
     * Returns the string map stored under {@code __metadata__}, empty if there is none.
     *
     * @return the metadata
     */
    public Map<String, String> metadata() {
        return header.metadata();
    }

    /** {@inheritDoc} */
    @Override
    public Set<String> names() {
        return tensors.keySet();
    }

    /** {@inheritDoc} */
    @Override
    public TensorData tensor(String name) {
        TensorData tensor = tensors.get(name);
        if (tensor == null) {
            throw new NoSuchElementException("No tensor " + name + " in " + file);
        }
        return tensor;
    }

    private ByteBuffer map(SafetensorsHeader.Entry entry) throws IOException {
        if (closed) {
            throw new IllegalStateException(
                    "Safetensors file " + file + " is closed; tensor " + entry.name());
        }
        long length = entry.end() - entry.begin();
        if (length > Integer.MAX_VALUE) {
            throw new CheckpointException(
                    "Tensor "
                            + entry.name()
                            + " in "
                            + file
                            + " has "
                            + length
                            + " bytes; a single tensor larger than 2 GiB cannot be viewed as one"
                            + " buffer. Re-save the checkpoint with smaller tensors");
        }
        MappedByteBuffer mapped = mappings.get(entry.name());
        if (mapped == null) {
            mapped =
                    channel.map(
                            FileChannel.MapMode.READ_ONLY,
                            header.dataStart() + entry.begin(),
                            length);
            mappings.put(entry.name(), mapped);
        }
        return mapped.asReadOnlyBuffer().order(ByteOrder.LITTLE_ENDIAN);
    }

    /** Closes the file; its tensors can no longer be read. */
    @Override
    public void close() {
        closed = true;
        mappings.clear();
        try {
            channel.close();
        } catch (IOException e) {
            throw new java.io.UncheckedIOException("Cannot close " + file, e);
        }
    }

    /** {@inheritDoc} */
    @Override
    public String toString() {
        return "SafetensorsFile[" + file + ", " + tensors.size() + " tensors]";
    }
}
