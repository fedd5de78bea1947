package io.github.mambadjl.checkpoint;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParseException;
import com.google.gson.JsonParser;
import java.io.IOException;
import java.io.Reader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.NoSuchElementException;
import java.util.Set;
import java.util.TreeMap;

/**
 * A checkpoint split into several safetensors shards by a {@code model.safetensors.index.json}
 * ({@code {"metadata": {...}, "weight_map": {tensor: shard file}}}). Opening it checks that every
 * referenced shard is present and valid, that every indexed tensor is in its shard, and that no
 * tensor is in two shards.
 */
public final class ShardedSafetensors implements TensorSource {

    /** The usual file name of the index. */
    public static final String INDEX_FILE = "model.safetensors.index.json";

    private final Path index;
    private final List<SafetensorsFile> shards;
    private final Map<String, TensorData> tensors;

    private ShardedSafetensors(
            Path index, List<SafetensorsFile> shards, Map<String, TensorData> tensors) {
        this.index = index;
        this.shards = shards;
        this.tensors = tensors;
    }

    /**
     * Opens every shard named by an index file.
     *
     * @param index the index file; shard names are resolved against its directory
     * @return the open checkpoint
     * @throws IOException if a file cannot be read
     * @throws CheckpointException if the index is malformed, a shard is missing or invalid, or the
     *     shards disagree with the index
     */
    public static ShardedSafetensors open(Path index) throws IOException {
        Path dir = index.toAbsolutePath().getParent();
        Map<String, String> weightMap = readWeightMap(index);
        Map<String, SafetensorsFile> byShard = new TreeMap<>();
        try {
            for (Map.Entry<String, String> entry : weightMap.entrySet()) {
                String shard = entry.getValue();
                if (byShard.containsKey(shard)) {
                    continue;
                }
                Path shardPath = dir.resolve(shard).normalize();
                if (!shardPath.startsWith(dir) || shardPath.equals(dir)) {
                    throw new CheckpointException(
                            "Index "
                                    + index
                                    + " names shard \""
                                    + shard
                                    + "\" outside its directory; refusing to read it");
                }
                if (!Files.isRegularFile(shardPath)) {
                    throw new CheckpointException(
                            "Shard "
                                    + shard
                                    + " referenced by "
                                    + index
                                    + " (for tensor "
                                    + entry.getKey()
                                    + ") is missing; download every shard of the checkpoint");
                }
                byShard.put(shard, SafetensorsFile.open(shardPath));
            }
            Map<String, TensorData> tensors = new LinkedHashMap<>();
            Map<String, String> owner = new LinkedHashMap<>();
            for (Map.Entry<String, SafetensorsFile> shard : byShard.entrySet()) {
                for (String name : shard.getValue().names()) {
                    String previous = owner.putIfAbsent(name, shard.getKey());
                    if (previous != null) {
                        throw new CheckpointException(
                                "Tensor "
                                        + name
                                        + " is in two shards, "
                                        + previous
                                        + " and "
                                        + shard.getKey()
                                        + " (index "
                                        + index
                                        + "); every tensor must be in exactly one shard");
                    }
                    tensors.put(name, shard.getValue().tensor(name));
                }
            }
            for (Map.Entry<String, String> entry : weightMap.entrySet()) {
                if (!entry.getValue().equals(owner.get(entry.getKey()))) {
                    throw new CheckpointException(
                            "Index "
                                    + index
                                    + " places tensor "
                                    + entry.getKey()
                                    + " in shard "
                                    + entry.getValue()
                                    + ", but that shard does not hold it"
                                    + (owner.containsKey(entry.getKey())
                                            ? " (it is in " + owner.get(entry.getKey()) + ")"
                                            : "")
                                    + "; the checkpoint is inconsistent");
                }
            }
            return new ShardedSafetensors(
                    index,
                    Collections.unmodifiableList(new ArrayList<>(byShard.values())),
                    Collections.unmodifiableMap(tensors));
        } catch (IOException | RuntimeException e) {
            byShard.values().forEach(SafetensorsFile::close);
            throw e;
        }
    }

    private static Map<String, String> readWeightMap(Path index) throws IOException {
        JsonElement root;
        try (Reader reader = Files.newBufferedReader(index, StandardCharsets.UTF_8)) {
            root = JsonParser.parseReader(reader);
        } catch (JsonParseException e) {
            throw new CheckpointException(
                    "Index " + index + " is not valid JSON: " + e.getMessage(), e);
        }
        if (!root.isJsonObject()
                || !root.getAsJsonObject().has("weight_map")
                || !root.getAsJsonObject().get("weight_map").isJsonObject()) {
            throw new CheckpointException(
                    "Index " + index + " has no \"weight_map\" object; it is not a shard index");
        }
        JsonObject map = root.getAsJsonObject().getAsJsonObject("weight_map");
        Map<String, String> weightMap = new LinkedHashMap<>();
        for (Map.Entry<String, JsonElement> entry : map.entrySet()) {
            JsonElement value = entry.getValue();
            if (!value.isJsonPrimitive() || !value.getAsJsonPrimitive().isString()) {
                throw new CheckpointException(
                        "Index "
                                + index
                                + " maps tensor "
                                + entry.getKey()
                                + " to "
                                + value
                                + " instead of a shard file name");
            }
            weightMap.put(entry.getKey(), value.getAsString());
        }
        if (weightMap.isEmpty()) {
            throw new CheckpointException("Index " + index + " lists no tensors");
        }
        return weightMap;
    }

    /**
     * Returns the open shards, in file name order.
     *
     * @return the shards
     */
    public List<SafetensorsFile> shards() {
        return shards;
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
            throw new NoSuchElementException("No tensor " + name + " in the shards of " + index);
        }
        return tensor;
    }

    /** Closes every shard. */
    @Override
    public void close() {
        RuntimeException failure = null;
        for (SafetensorsFile shard : shards) {
            try {
                shard.close();
            } catch (RuntimeException e) {
                failure = e;
            }
        }
        if (failure != null) {
            throw failure;
        }
    }
}
