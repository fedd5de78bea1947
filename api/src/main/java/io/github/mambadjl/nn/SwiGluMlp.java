package io.github.mambadjl.nn;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Parameter;
import ai.djl.training.ParameterStore;
import io.github.mambadjl.cache.LayerState;
import io.github.mambadjl.kernel.ReferenceSsmKernels;

/**
 * The gated feed-forward block {@code down_proj(silu(gate_proj(x)) * up_proj(x))}, parameters
 * {@code gate_proj.weight}, {@code up_proj.weight}, {@code down_proj.weight} (biases optional).
 */
public final class SwiGluMlp extends SequenceBlock {

    private final Parameter gate;
    private final Parameter up;
    private final Parameter down;
    private final Parameter gateBias;
    private final Parameter upBias;
    private final Parameter downBias;

    /**
     * Creates the block.
     *
     * @param hiddenSize the model width
     * @param intermediateSize the inner width
     * @param bias whether the projections have biases
     * @param initializerRange the standard deviation of the initial weights
     */
    public SwiGluMlp(int hiddenSize, int intermediateSize, boolean bias, double initializerRange) {
        gate =
                declare(
                        Ops.weight(
                                "gate_proj.weight",
                                new Shape(intermediateSize, hiddenSize),
                                initializerRange));
        up =
                declare(
                        Ops.weight(
                                "up_proj.weight",
                                new Shape(intermediateSize, hiddenSize),
                                initializerRange));
        down =
                declare(
                        Ops.weight(
                                "down_proj.weight",
                                new Shape(hiddenSize, intermediateSize),
                                initializerRange));
        gateBias = bias ? declare(Ops.bias("gate_proj.bias", new Shape(intermediateSize))) : null;
        upBias = bias ? declare(Ops.bias("up_proj.bias", new Shape(intermediateSize))) : null;
        downBias = bias ? declare(Ops.bias("down_proj.bias", new Shape(hiddenSize))) : null;
    }

    /** {@inheritDoc} */
    @Override
    public NDArray forward(
            ParameterStore ps,
            NDArray x,
            SequenceContext context,
            LayerState state,
            boolean training) {
        NDArray g = ReferenceSsmKernels.silu(Ops.linear(ps, x, gate, gateBias, training));
        NDArray u = Ops.linear(ps, x, up, upBias, training);
        return Ops.linear(ps, g.mul(u), down, downBias, training);
    }

    /**
     * {@inheritDoc}
     *
     * <p>Here {@code gate_proj} and {@code up_proj} each take the norm through {@link
     * RmsNorm#forwardLinear} (the norm is computed for each, a small cost next to the products) and
     * {@code down_proj} adds its product to {@code x} ({@code SsmKernels.linearAdd}): on an engine
     * with fused kernels, a decoding step's MLP runs three GEMVs and its gate, without the norm and
     * the add kernels. The mask plays no part in this block, so the fused form always applies.
     */
    @Override
    public NDArray forwardResidual(
            ParameterStore ps,
            NDArray x,
            RmsNorm norm,
            SequenceContext context,
            LayerState state,
            boolean training) {
        NDArray g =
                ReferenceSsmKernels.silu(Ops.rmsNormLinear(ps, x, norm, gate, gateBias, training));
        NDArray u = Ops.rmsNormLinear(ps, x, norm, up, upBias, training);
        return Ops.linearAdd(ps, g.mul(u), down, downBias, x, training);
    }
}
