package io.github.mambadjl.cache;

import ai.djl.ndarray.NDManager;

/** The inference state that one layer carries from one call to the next. */
public sealed interface LayerState permits SsmLayerState, AttentionLayerState {

    /**
     * Returns a deep copy whose arrays belong to the given manager.
     *
     * @param manager the manager that owns the copy
     * @return an independent copy
     */
    LayerState copy(NDManager manager);

    /**
     * Returns whether the layer has processed no token yet.
     *
     * @return {@code true} while no state is held
     */
    boolean isEmpty();
}
