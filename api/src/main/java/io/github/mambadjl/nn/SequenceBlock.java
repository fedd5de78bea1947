package io.github.mambadjl.nn;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.ParameterStore;
import ai.djl.util.PairList;
import io.github.mambadjl.cache.LayerState;

/**
 * A block that maps hidden states {@code [batch, length, hidden]} to hidden states of the same
 * shape and can carry an inference state between calls.
 *
 * <p>As an ordinary DJL block it takes {@code NDList(x)} or {@code NDList(x, attentionMask)} and
 * returns {@code NDList(y)}; the causal LM calls {@link #forward(ParameterStore, NDArray,
 * SequenceContext, LayerState, boolean)} to pass its cache.
 */
public abstract class SequenceBlock extends ShapedBlock {

    /**
     * Runs the block on a sequence, continuing from and updating {@code state} when given.
     *
     * @param parameterStore the parameter store
     * @param x the hidden states {@code [batch, length, hidden]}
     * @param context the masks and offset of the positions
     * @param state the layer's inference state, or {@code null} to run without cache
     * @param training whether this is a training pass
     * @return the output {@code [batch, length, hidden]}
     */
    public abstract NDArray forward(
            ParameterStore parameterStore,
            NDArray x,
            SequenceContext context,
            LayerState state,
            boolean training);

    /**
     * Returns whether this block keeps keys and values (attention) rather than an SSM state.
     *
     * @return {@code true} for attention
     */
    public boolean isAttention() {
        return false;
    }

    /** {@inheritDoc} */
    @Override
    protected NDList forwardInternal(
            ParameterStore parameterStore,
            NDList inputs,
            boolean training,
            PairList<String, Object> params) {
        NDArray mask = inputs.size() > 1 ? inputs.get(1) : null;
        return new NDList(
                forward(parameterStore, inputs.get(0), SequenceContext.of(mask), null, training));
    }

    /** {@inheritDoc} */
    @Override
    public Shape[] getOutputShapes(Shape[] inputShapes) {
        return new Shape[] {inputShapes[0]};
    }
}
