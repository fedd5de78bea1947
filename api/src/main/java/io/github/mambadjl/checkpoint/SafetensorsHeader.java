package io.github.mambadjl.checkpoint;

import com.google.gson.Gson;
import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.Strictness;
import com.google.gson.stream.JsonReader;
import com.google.gson.stream.JsonToken;
import java.io.IOException;
import java.io.StringReader;
import java.math.BigDecimal;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The parsed and fully validated header of a safetensors file: nothing of a file is exposed before
 * this validation succeeds.
 */
final class SafetensorsHeader {

    /** The largest header accepted, as in the reference implementation (100 MB). */
    static final long MAX_HEADER_BYTES = 100_000_000L;

    static final String METADATA_KEY = "__metadata__";

    /** One tensor's entry: offsets are relative to the start of the byte buffer. */
    record Entry(String name, TensorDType dtype, long[] shape, long begin, long end) {}

    private final long dataStart;
    private final List<Entry> entries;
    private final Map<String, String> metadata;

    private SafetensorsHeader(long dataStart, List<Entry> entries, Map<String, String> metadata) {
        this.dataStart = dataStart;
        this.entries = entries;
        this.metadata = metadata;
    }

    long dataStart() {
        return dataStart;
    }

    List<Entry> entries() {
        return entries;
    }

    Map<String, String> metadata() {
        return metadata;
    }

    static SafetensorsHeader read(FileChannel channel, Path file) throws IOException {
        long fileSize = channel.size();
        if (fileSize < 8) {
            throw new CheckpointException(
                    "Safetensors file "
                            + file
                            + " is truncated: it has "
                            + fileSize
                            + " bytes but must start with an 8-byte header length; download it"
                            + " again");
        }
        ByteBuffer lengthBytes = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
        readFully(channel, lengthBytes, 0);
        long headerLength = lengthBytes.flip().getLong();
        if (headerLength < 0 || headerLength > fileSize - 8) {
            throw new CheckpointException(
                    "Safetensors file "
                            + file
                            + " declares a header of "
                            + Long.toUnsignedString(headerLength)
                            + " bytes but the file has only "
                            + fileSize
                            + " bytes: the file is truncated or not a safetensors file; download"
                            + " it again");
        }
        if (headerLength > MAX_HEADER_BYTES) {
            throw new CheckpointException(
                    "Safetensors file "
                            + file
                            + " declares a header of "
                            + headerLength
                            + " bytes, more than the limit of "
                            + MAX_HEADER_BYTES
                            + "; the file is corrupt or not a safetensors file");
        }
        ByteBuffer headerBytes = ByteBuffer.allocate((int) headerLength);
        readFully(channel, headerBytes, 8);
        headerBytes.flip();
        String json;
        try {
            json =
                    StandardCharsets.UTF_8
                            .newDecoder()
                            .onMalformedInput(CodingErrorAction.REPORT)
                            .onUnmappableCharacter(CodingErrorAction.REPORT)
                            .decode(headerBytes)
                            .toString();
        } catch (CharacterCodingException e) {
            throw new CheckpointException(
                    "The header of safetensors file " + file + " is not valid UTF-8", e);
        }
        JsonObject root = parseStrict(json, file);
        long dataSize = fileSize - 8 - headerLength;
        Map<String, String> metadata = new LinkedHashMap<>();
        List<Entry> entries = new ArrayList<>();
        for (Map.Entry<String, JsonElement> field : root.entrySet()) {
            if (METADATA_KEY.equals(field.getKey())) {
                readMetadata(field.getValue(), file, metadata);
            } else {
                entries.add(readEntry(field.getKey(), field.getValue(), file, dataSize));
            }
        }
        checkLayout(entries, dataSize, file);
        return new SafetensorsHeader(
                8 + headerLength,
                Collections.unmodifiableList(entries),
                Collections.unmodifiableMap(metadata));
    }

    private static void readFully(FileChannel channel, ByteBuffer buffer, long position)
            throws IOException {
        long at = position;
        while (buffer.hasRemaining()) {
            int n = channel.read(buffer, at);
            if (n < 0) {
                throw new CheckpointException("Unexpected end of file at byte " + at);
            }
            at += n;
        }
    }

    private static JsonObject parseStrict(String json, Path file) throws CheckpointException {
        try {
            JsonReader reader = new JsonReader(new StringReader(json));
            reader.setStrictness(Strictness.STRICT);
            JsonElement element = new Gson().getAdapter(JsonElement.class).read(reader);
            if (reader.peek() != JsonToken.END_DOCUMENT) {
                throw new IOException("unexpected content after the JSON object");
            }
            if (element == null || !element.isJsonObject()) {
                throw new IOException("the header must be a JSON object");
            }
            return element.getAsJsonObject();
        } catch (IOException | RuntimeException e) {
            throw new CheckpointException(
                    "The header of safetensors file "
                            + file
                            + " is not well-formed JSON ("
                            + e.getMessage()
                            + "); the file is corrupt or not a safetensors file",
                    e);
        }
    }

    private static void readMetadata(JsonElement value, Path file, Map<String, String> metadata)
            throws CheckpointException {
        if (!value.isJsonObject()) {
            throw new CheckpointException(
                    "__metadata__ in safetensors file " + file + " must be a JSON object");
        }
        for (Map.Entry<String, JsonElement> item : value.getAsJsonObject().entrySet()) {
            JsonElement v = item.getValue();
            if (!v.isJsonPrimitive() || !v.getAsJsonPrimitive().isString()) {
                throw new CheckpointException(
                        "__metadata__."
                                + item.getKey()
                                + " in safetensors file "
                                + file
                                + " must be a string, got "
                                + v);
            }
            metadata.put(item.getKey(), v.getAsString());
        }
    }

    private static Entry readEntry(String name, JsonElement value, Path file, long dataSize)
            throws CheckpointException {
        String where = "tensor " + name + " in safetensors file " + file;
        if (!value.isJsonObject()) {
            throw new CheckpointException("The header entry of " + where + " is not an object");
        }
        JsonObject object = value.getAsJsonObject();
        JsonElement dtypeElement = object.get("dtype");
        if (dtypeElement == null
                || !dtypeElement.isJsonPrimitive()
                || !dtypeElement.getAsJsonPrimitive().isString()) {
            throw new CheckpointException("The dtype of " + where + " is missing or not a string");
        }
        TensorDType dtype = TensorDType.fromSafetensors(dtypeElement.getAsString());
        if (dtype == null) {
            throw new CheckpointException(
                    "Unknown dtype \""
                            + dtypeElement.getAsString()
                            + "\" of "
                            + where
                            + "; supported: BOOL, U8, I8, I16, I32, I64, F16, BF16, F32, F64."
                            + " Convert the checkpoint to one of them");
        }
        long[] shape = longs(object.get("shape"), "shape", where, -1);
        long[] offsets = longs(object.get("data_offsets"), "data_offsets", where, 2);
        long begin = offsets[0];
        long end = offsets[1];
        if (begin > end || end > dataSize) {
            throw new CheckpointException(
                    "The data_offsets ["
                            + begin
                            + ", "
                            + end
                            + "] of "
                            + where
                            + " are out of range: the byte buffer has "
                            + dataSize
                            + " bytes. The file is truncated or corrupt; download it again");
        }
        long expected;
        try {
            expected = dtype.byteSize();
            for (long dim : shape) {
                expected = Math.multiplyExact(expected, dim);
            }
        } catch (ArithmeticException e) {
            throw new CheckpointException("The shape of " + where + " is too large");
        }
        if (expected != end - begin) {
            throw new CheckpointException(
                    "The shape "
                            + Arrays.toString(shape)
                            + " and dtype "
                            + dtype
                            + " of "
                            + where
                            + " need "
                            + expected
                            + " bytes but its data_offsets span "
                            + (end - begin)
                            + "; the file is corrupt");
        }
        return new Entry(name, dtype, shape, begin, end);
    }

    private static long[] longs(JsonElement element, String field, String where, int length)
            throws CheckpointException {
        if (element == null || !element.isJsonArray()) {
            throw new CheckpointException(
                    "The " + field + " of " + where + " is missing or not a list");
        }
        JsonArray array = element.getAsJsonArray();
        if (length >= 0 && array.size() != length) {
            throw new CheckpointException(
                    "The " + field + " of " + where + " must have " + length + " elements");
        }
        long[] values = new long[array.size()];
        for (int i = 0; i < values.length; i++) {
            JsonElement item = array.get(i);
            try {
                values[i] =
                        new BigDecimal(item.getAsJsonPrimitive().getAsString()).longValueExact();
            } catch (RuntimeException e) {
                values[i] = -1;
            }
            if (values[i] < 0) {
                throw new CheckpointException(
                        "The "
                                + field
                                + " of "
                                + where
                                + " must hold non-negative integers, got "
                                + array);
            }
        }
        return values;
    }

    private static void checkLayout(List<Entry> entries, long dataSize, Path file)
            throws CheckpointException {
        List<Entry> sorted = new ArrayList<>(entries);
        sorted.sort(Comparator.comparingLong(Entry::begin).thenComparingLong(Entry::end));
        long expected = 0;
        String previous = null;
        for (Entry entry : sorted) {
            if (entry.begin() < expected) {
                throw new CheckpointException(
                        "Tensors "
                                + previous
                                + " and "
                                + entry.name()
                                + " overlap in safetensors file "
                                + file
                                + " (data_offsets begin at "
                                + entry.begin()
                                + " before the previous tensor ends at "
                                + expected
                                + "); the file is corrupt");
            }
            if (entry.begin() > expected) {
                throw new CheckpointException(
                        "Safetensors file "
                                + file
                                + " has a gap of "
                                + (entry.begin() - expected)
                                + " unused bytes before tensor "
                                + entry.name()
                                + " (offset "
                                + expected
                                + "); the data_offsets must cover the byte buffer exactly. The"
                                + " file is corrupt");
            }
            expected = entry.end();
            previous = entry.name();
        }
        if (expected != dataSize) {
            throw new CheckpointException(
                    "Safetensors file "
                            + file
                            + " has "
                            + (dataSize - expected)
                            + " bytes after its last tensor; the data_offsets must cover the byte"
                            + " buffer exactly. The file is corrupt");
        }
    }
}
