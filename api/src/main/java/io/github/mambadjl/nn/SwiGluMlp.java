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
}
