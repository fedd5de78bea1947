package io.github.mambadjl.nn;

import ai.djl.ndarray.NDArray;
import ai.djl.training.ParameterStore;
import io.github.mambadjl.cache.LayerState;

/**
 * The pre-norm residual wrapper of Mamba and Mamba2 layers: {@code x + mixer(norm(x))}, with the
 * children named {@code norm} and {@code mixer} as in the checkpoints. It runs through the mixer's
 * {@link SequenceBlock#forwardResidual}, which fuses the norm and the add into the mixer's
 * projections where the engine can.
 */
public final class ResidualBlock extends SequenceBlock {

    private final RmsNorm norm;
    private final SequenceBlock mixer;

    /**
     * Wraps a mixer.
     *
     * @param norm the pre-norm
     * @param mixer the mixer
     */
    public ResidualBlock(RmsNorm norm, SequenceBlock mixer) {
        this.norm = addChildBlock("norm", norm);
        this.mixer = addChildBlock("mixer", mixer);
    }

    /** {@inheritDoc} */
    @Override
    public boolean isAttention() {
        return mixer.isAttention();
    }

    /** {@inheritDoc} */
    @Override
    public NDArray forward(
            ParameterStore ps,
            NDArray x,
            SequenceContext context,
            LayerState state,
            boolean training) {
        return mixer.forwardResidual(ps, x, norm, context, state, training);
    }
}
