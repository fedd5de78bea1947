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
     * Runs the pre-norm residual step around this block, {@code x + forward(norm(x))}, as the
     * layers of the Mamba family do ({@link ResidualBlock}, {@link BambaDecoderLayer}).
     *
     * <p>This default is exactly {@code x.add(forward(ps, norm.forward(ps, x, training), context,
     * state, training))}. A block may override it to fuse the norm into its first projection
     * ({@link RmsNorm#forwardLinear}) and the residual add into its last ({@code
     * SsmKernels.linearAdd}), so that an engine with fused kernels runs two kernels fewer per
     * layer; an override computes the same function and falls back to this default where its fused
     * form does not apply.
     *
     * @param parameterStore the parameter store
     * @param x the hidden states {@code [batch, length, hidden]}, input of the norm and addend of
     *     the residual
     * @param norm the pre-norm
     * @param context the masks and offset of the positions
     * @param state the layer's inference state, or {@code null} to run without cache
     * @param training whether this is a training pass
     * @return {@code x + forward(norm(x))}, {@code [batch, length, hidden]}
     */
    public NDArray forwardResidual(
            ParameterStore parameterStore,
            NDArray x,
            RmsNorm norm,
            SequenceContext context,
            LayerState state,
            boolean training) {
        return x.add(
                forward(
                        parameterStore,
                        norm.forward(parameterStore, x, training),
                        context,
                        state,
                        training));
    }

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
