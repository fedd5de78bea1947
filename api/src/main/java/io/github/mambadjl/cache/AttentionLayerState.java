package io.github.mambadjl.cache;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;

/** The keys and values an attention layer has seen, {@code [batch, kvHeads, length, headDim]}. */
public final class AttentionLayerState implements LayerState {

    private final NDManager manager;
    private NDArray keys;
    private NDArray values;

    /**
     * Creates an empty state whose arrays the given manager will own.
     *
     * @param manager the owner of the state arrays
     */
    public AttentionLayerState(NDManager manager) {
        this.manager = manager;
    }

    /**
     * Returns the cached keys, or {@code null} before the first token.
     *
     * @return the keys
     */
    public NDArray keys() {
        return keys;
    }

    /**
     * Returns the cached values, or {@code null} before the first token.
     *
     * @return the values
     */
    public NDArray values() {
        return values;
    }

    /**
     * Appends new keys and values along the sequence axis and returns everything seen so far.
     *
     * <p>The returned arrays are views of the cached ones that belong to the manager of {@code
     * newKeys}, so that what the caller derives from them (repeats for grouped heads, transposes,
     * products) belongs to the caller's manager and is freed with it, not kept until the cache
     * closes.
     *
     * @param newKeys keys {@code [batch, kvHeads, length, headDim]}
     * @param newValues values shaped like {@code newKeys}
     * @return all keys and values, in that order, as views owned by the manager of {@code newKeys}
     */
    public NDList append(NDArray newKeys, NDArray newValues) {
        NDArray k = newKeys.stopGradient();
        NDArray v = newValues.stopGradient();
        if (keys != null) {
            k = NDArrays.concat(new NDList(keys, k), 2);
            v = NDArrays.concat(new NDList(values, v), 2);
            keys.close();
            values.close();
        }
        k.attach(manager);
        v.attach(manager);
        keys = k;
        values = v;
        NDManager caller = newKeys.getManager();
        NDArray keysView = k.stopGradient();
        NDArray valuesView = v.stopGradient();
        keysView.attach(caller);
        valuesView.attach(caller);
        return new NDList(keysView, valuesView);
    }

    /** {@inheritDoc} */
    @Override
    public AttentionLayerState copy(NDManager target) {
        AttentionLayerState copy = new AttentionLayerState(target);
        if (keys != null) {
            copy.keys = keys.duplicate();
            copy.keys.attach(target);
            copy.values = values.duplicate();
            copy.values.attach(target);
        }
        return copy;
    }

    /** {@inheritDoc} */
    @Override
    public boolean isEmpty() {
        return keys == null;
    }
}
