package io.github.mambadjl.cache;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;

/**
 * The inference state of a whole causal LM for one batch: per layer, the conv and SSM states (or
 * the keys and values of an attention layer), the number of positions processed so far and the
 * attention mask of those positions.
 *
 * <p>A cache is filled by a prefill call and then advanced one token per decoding step. Because the
 * SSM state has a constant size, {@link #snapshot()}, {@link #restore(InferenceCache)} and {@link
 * #fork()} are cheap: process a shared prefix once, then continue it many times. Close the cache to
 * free its arrays.
 */
public final class InferenceCache implements AutoCloseable {

    private final NDManager manager;
    private final int batchSize;
    private final List<LayerState> layers;
    private long position;
    private NDArray attentionMask;

    private InferenceCache(NDManager manager, int batchSize, List<LayerState> layers) {
        this.manager = manager;
        this.batchSize = batchSize;
        this.layers = layers;
    }

    /**
     * Creates an empty cache.
     *
     * @param parent the manager under which the cache allocates its own sub-manager
     * @param batchSize the number of sequences
     * @param attentionLayers for each layer, whether it is an attention layer
     * @return an empty cache
     */
    public static InferenceCache create(
            NDManager parent, int batchSize, boolean... attentionLayers) {
        if (batchSize <= 0) {
            throw new IllegalArgumentException("batchSize must be positive, got " + batchSize);
        }
        NDManager manager = parent.newSubManager();
        List<LayerState> layers = new ArrayList<>(attentionLayers.length);
        for (boolean attention : attentionLayers) {
            layers.add(attention ? new AttentionLayerState(manager) : new SsmLayerState(manager));
        }
        return new InferenceCache(manager, batchSize, layers);
    }

    /**
     * Returns the number of sequences this cache holds.
     *
     * @return the batch size
     */
    public int batchSize() {
        return batchSize;
    }

    /**
     * Returns the number of layers.
     *
     * @return the number of layer states
     */
    public int numLayers() {
        return layers.size();
    }

    /**
     * Returns the state of one layer.
     *
     * @param layer the layer index
     * @return its state
     */
    public LayerState layer(int layer) {
        return layers.get(layer);
    }

    /**
     * Returns the number of positions processed so far (including left padding).
     *
     * @return the position of the next token
     */
    public long position() {
        return position;
    }

    /**
     * Returns the attention mask of all positions processed so far, {@code [batch, position]} (1 =
     * token, 0 = padding), or {@code null} when no mask was ever given.
     *
     * @return the accumulated mask
     */
    public NDArray attentionMask() {
        return attentionMask;
    }

    /**
     * Records that {@code length} more positions were processed, with their mask.
     *
     * @param length the number of new positions
     * @param mask their mask {@code [batch, length]}, or {@code null} for all tokens
     */
    public void advance(long length, NDArray mask) {
        if (mask != null || attentionMask != null) {
            NDArray newMask =
                    mask != null
                            ? mask.toType(DataType.INT64, false)
                            : manager.ones(new Shape(batchSize, length), DataType.INT64);
            if (attentionMask == null && position > 0) {
                NDArray past = manager.ones(new Shape(batchSize, position), DataType.INT64);
                newMask = NDArrays.concat(new NDList(past, newMask), 1);
            } else if (attentionMask != null) {
                newMask = NDArrays.concat(new NDList(attentionMask, newMask), 1);
                attentionMask.close();
            }
            newMask.attach(manager);
            attentionMask = newMask;
        }
        position += length;
    }

    /**
     * Takes back the last {@code length} positions counted by {@link #advance}, for a step whose
     * work never ran (a recording of it that was discarded) and left the states as they were.
     *
     * @param length the number of positions to take back
     * @throws IllegalStateException when the cache keeps a mask (it cannot be taken back) or holds
     *     fewer positions
     */
    public void rewind(long length) {
        if (attentionMask != null) {
            throw new IllegalStateException("a cache with an attention mask cannot be rewound");
        }
        if (length < 0 || length > position) {
            throw new IllegalStateException(
                    "cannot take back " + length + " of " + position + " positions");
        }
        position -= length;
    }

    /**
     * Returns an independent copy of this cache, with its own arrays; this cache is unchanged.
     *
     * @return a snapshot to {@link #restore(InferenceCache)} later
     */
    public InferenceCache snapshot() {
        return copyInto(manager.getParentManager());
    }

    /**
     * Returns an independent copy that can be advanced separately: the same as {@link #snapshot()},
     * named for the use of continuing one prefix in several ways.
     *
     * @return a new cache starting from this one's state
     */
    public InferenceCache fork() {
        return snapshot();
    }

    /**
     * Replaces this cache's state with a copy of a snapshot's; the snapshot stays usable.
     *
     * @param snapshot a snapshot of a cache of the same model and batch size
     */
    public void restore(InferenceCache snapshot) {
        if (snapshot.batchSize != batchSize || snapshot.layers.size() != layers.size()) {
            throw new IllegalArgumentException(
                    "restore: the snapshot holds "
                            + snapshot.layers.size()
                            + " layers for batch "
                            + snapshot.batchSize
                            + ", this cache "
                            + layers.size()
                            + " layers for batch "
                            + batchSize
                            + "; restore only snapshots of the same model and batch");
        }
        for (int i = 0; i < layers.size(); i++) {
            LayerState old = layers.get(i);
            layers.set(i, snapshot.layers.get(i).copy(manager));
            closeState(old);
        }
        position = snapshot.position;
        if (attentionMask != null) {
            attentionMask.close();
        }
        attentionMask = copy(snapshot.attentionMask, manager);
    }

    /** Forgets everything processed, so that the cache can be reused for a new batch. */
    public void reset() {
        for (int i = 0; i < layers.size(); i++) {
            LayerState old = layers.get(i);
            layers.set(
                    i,
                    old instanceof AttentionLayerState
                            ? new AttentionLayerState(manager)
                            : new SsmLayerState(manager));
            closeState(old);
        }
        if (attentionMask != null) {
            attentionMask.close();
            attentionMask = null;
        }
        position = 0;
    }

    /**
     * Keeps only some rows of the batch (for example the sequences that are still generating).
     *
     * @param rows the row indices to keep, int64 {@code [n]}
     * @return a new cache with {@code n} rows
     */
    public InferenceCache select(NDArray rows) {
        int n = (int) rows.getShape().get(0);
        NDManager target = manager.getParentManager().newSubManager();
        List<LayerState> selected = new ArrayList<>(layers.size());
        Function<NDArray, NDArray> pick =
                a -> {
                    NDArray r = a.get(rows);
                    r.attach(target);
                    return r;
                };
        for (LayerState state : layers) {
            if (state instanceof SsmLayerState s) {
                SsmLayerState copy = new SsmLayerState(target);
                if (!s.isEmpty()) {
                    copy.update(pick.apply(s.conv()), pick.apply(s.ssm()));
                }
                selected.add(copy);
            } else {
                AttentionLayerState a = (AttentionLayerState) state;
                AttentionLayerState copy = new AttentionLayerState(target);
                if (!a.isEmpty()) {
                    copy.append(pick.apply(a.keys()), pick.apply(a.values()));
                }
                selected.add(copy);
            }
        }
        InferenceCache cache = new InferenceCache(target, n, selected);
        cache.position = position;
        cache.attentionMask = attentionMask == null ? null : pick.apply(attentionMask);
        return cache;
    }

    /**
     * Returns the state arrays of every layer, two per layer: conv and SSM state, or keys and
     * values. The arrays stay owned by this cache.
     *
     * @return the states, in layer order
     * @throws IllegalStateException if a layer has no state yet
     */
    public NDList toStates() {
        NDList states = new NDList(layers.size() * 2);
        for (int i = 0; i < layers.size(); i++) {
            LayerState state = layers.get(i);
            if (state.isEmpty()) {
                throw new IllegalStateException("layer " + i + " has no state yet");
            }
            if (state instanceof SsmLayerState s) {
                states.add(s.conv());
                states.add(s.ssm());
            } else {
                AttentionLayerState a = (AttentionLayerState) state;
                states.add(a.keys());
                states.add(a.values());
            }
        }
        return states;
    }

    /**
     * Rebuilds a cache from the arrays of {@link #toStates()} (copied, so the given arrays stay the
     * caller's).
     *
     * @param parent the manager under which the cache allocates
     * @param attentionLayers for each layer, whether it is an attention layer
     * @param states two arrays per layer, as {@link #toStates()} returns them
     * @param pastMask the attention mask of the positions already processed {@code [batch, past]},
     *     or {@code null} when they were all tokens
     * @param position the number of positions already processed
     * @return the cache
     */
    public static InferenceCache fromStates(
            NDManager parent,
            boolean[] attentionLayers,
            NDList states,
            NDArray pastMask,
            long position) {
        if (states.size() != attentionLayers.length * 2) {
            throw new IllegalArgumentException(
                    "expected "
                            + attentionLayers.length * 2
                            + " state arrays (two per layer), got "
                            + states.size());
        }
        int batch = (int) states.get(0).getShape().get(0);
        InferenceCache cache = create(parent, batch, attentionLayers);
        for (int i = 0; i < attentionLayers.length; i++) {
            NDArray first = states.get(2 * i).duplicate();
            NDArray second = states.get(2 * i + 1).duplicate();
            if (attentionLayers[i]) {
                ((AttentionLayerState) cache.layers.get(i)).append(first, second);
            } else {
                ((SsmLayerState) cache.layers.get(i)).update(first, second);
            }
        }
        cache.position = position;
        cache.attentionMask = copy(pastMask, cache.manager);
        return cache;
    }

    private InferenceCache copyInto(NDManager parent) {
        NDManager target = parent.newSubManager();
        List<LayerState> copies = new ArrayList<>(layers.size());
        for (LayerState state : layers) {
            copies.add(state.copy(target));
        }
        InferenceCache cache = new InferenceCache(target, batchSize, copies);
        cache.position = position;
        cache.attentionMask = copy(attentionMask, target);
        return cache;
    }

    private static NDArray copy(NDArray array, NDManager target) {
        if (array == null) {
            return null;
        }
        NDArray c = array.duplicate();
        c.attach(target);
        return c;
    }

    private static void closeState(LayerState state) {
        if (state instanceof SsmLayerState s && !s.isEmpty()) {
            s.conv().close();
            s.ssm().close();
        } else if (state instanceof AttentionLayerState a && !a.isEmpty()) {
            a.keys().close();
            a.values().close();
        }
    }

    /** Frees every array of this cache. */
    @Override
    public void close() {
        manager.close();
    }
}
