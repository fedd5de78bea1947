package io.github.mambadjl.nn;

import ai.djl.ndarray.NDArray;
import ai.djl.training.ParameterStore;
import io.github.mambadjl.cache.LayerState;
import io.github.mambadjl.config.BambaConfig;

/**
 * One layer of the hybrid Bamba decoder: {@code h = x + mixer(input_layernorm(x))}, then {@code h +
 * feed_forward(pre_ff_layernorm(h))}, where the mixer is a {@link Mamba2} ({@code mamba}) or a
 * {@link GroupedQueryAttention} ({@code self_attn}).
 */
public final class BambaDecoderLayer extends SequenceBlock {

    private final RmsNorm inputNorm;
    private final SequenceBlock mixer;
    private final RmsNorm preFfNorm;
    private final SwiGluMlp feedForward;

    /**
     * Creates layer {@code index} of a Bamba model.
     *
     * @param config the model config
     * @param index the layer index (attention when listed in {@code attn_layer_indices})
     */
    public BambaDecoderLayer(BambaConfig config, int index) {
        int hidden = config.hiddenSize();
        double eps = config.rmsNormEps();
        inputNorm =
                addChildBlock(
                        "input_layernorm", RmsNorm.builder().setSize(hidden).optEps(eps).build());
        if (config.isAttentionLayer(index)) {
            mixer =
                    addChildBlock(
                            "self_attn",
                            GroupedQueryAttention.builder().fromConfig(config).build());
        } else {
            mixer =
                    addChildBlock(
                            "mamba", Mamba2.builder().fromConfig(config.mixerConfig()).build());
        }
        preFfNorm =
                addChildBlock(
                        "pre_ff_layernorm", RmsNorm.builder().setSize(hidden).optEps(eps).build());
        feedForward =
                addChildBlock(
                        "feed_forward",
                        new SwiGluMlp(
                                hidden,
                                config.intermediateSize(),
                                config.mlpBias(),
                                config.initializerRange()));
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
        // each half through SequenceBlock.forwardResidual: the norms and the adds fused into the
        // projections where the engine can
        NDArray h = mixer.forwardResidual(ps, x, inputNorm, context, state, training);
        return feedForward.forwardResidual(ps, h, preFfNorm, context, null, training);
    }
}
