package io.github.mambadjl.config;

import java.util.List;
import java.util.Objects;

/**
 * The configuration of a Bamba hybrid model (Mamba2 layers, grouped-query attention layers at
 * {@code attnLayerIndices}, a SwiGLU MLP after every mixer), with the fields of transformers'
 * {@code BambaConfig} in camel case.
 *
 * @param vocabSize the number of logits ({@code vocab_size})
 * @param hiddenSize the residual width ({@code hidden_size})
 * @param numHiddenLayers the number of layers ({@code num_hidden_layers})
 * @param intermediateSize the hidden width of the SwiGLU MLP ({@code intermediate_size})
 * @param numAttentionHeads the number of query heads ({@code num_attention_heads})
 * @param numKeyValueHeads the number of key/value heads ({@code num_key_value_heads})
 * @param attnLayerIndices the layers that are attention layers ({@code attn_layer_indices}, sorted,
 *     possibly empty)
 * @param mambaNHeads the number of SSM heads ({@code mamba_n_heads})
 * @param mambaDHead the channels per SSM head ({@code mamba_d_head}, {@code "auto"} resolved)
 * @param mambaNGroups the number of B/C groups ({@code mamba_n_groups})
 * @param mambaDState the SSM state size ({@code mamba_d_state})
 * @param mambaDConv the causal convolution width ({@code mamba_d_conv})
 * @param mambaExpand the mixer expansion factor ({@code mamba_expand})
 * @param mambaChunkSize the chunk length of the SSD scan ({@code mamba_chunk_size})
 * @param mambaConvBias whether the convolution has a bias ({@code mamba_conv_bias})
 * @param mambaProjBias whether the in/out projections have biases ({@code mamba_proj_bias})
 * @param timeStepMin the smallest initial {@code dt} ({@code time_step_min})
 * @param timeStepMax the largest initial {@code dt} ({@code time_step_max})
 * @param timeStepLimit the clamp of {@code dt} ({@code time_step_limit})
 * @param hiddenAct the activation of the MLP and the mixer ({@code hidden_act})
 * @param ropeTheta the base of the rotary embedding ({@code rope_theta})
 * @param partialRotaryFactor the fraction of each head that is rotated ({@code
 *     partial_rotary_factor})
 * @param maxPositionEmbeddings the longest sequence ({@code max_position_embeddings})
 * @param attentionBias whether the attention projections have biases ({@code attention_bias})
 * @param mlpBias whether the MLP projections have biases ({@code mlp_bias})
 * @param rmsNormEps the epsilon of the RMS norms ({@code rms_norm_eps})
 * @param tieWordEmbeddings whether the LM head is the embedding ({@code tie_word_embeddings})
 * @param initializerRange the standard deviation of the weight initialisation
 * @param bosTokenId the beginning-of-sequence token, or {@code null}
 * @param eosTokenId the end-of-sequence token, or {@code null}
 * @param padTokenId the padding token, or {@code null}
 */
public record BambaConfig(
        int vocabSize,
        int hiddenSize,
        int numHiddenLayers,
        int intermediateSize,
        int numAttentionHeads,
        int numKeyValueHeads,
        List<Integer> attnLayerIndices,
        int mambaNHeads,
        int mambaDHead,
        int mambaNGroups,
        int mambaDState,
        int mambaDConv,
        int mambaExpand,
        int mambaChunkSize,
        boolean mambaConvBias,
        boolean mambaProjBias,
        double timeStepMin,
        double timeStepMax,
        TimeStepLimit timeStepLimit,
        String hiddenAct,
        double ropeTheta,
        double partialRotaryFactor,
        int maxPositionEmbeddings,
        boolean attentionBias,
        boolean mlpBias,
        double rmsNormEps,
        boolean tieWordEmbeddings,
        double initializerRange,
        Integer bosTokenId,
        Integer eosTokenId,
        Integer padTokenId)
        implements ModelConfig {

    /** Validates the sizes and their relations, and copies the layer indices. */
    public BambaConfig {
        Checks.vocab(vocabSize, vocabSize);
        Checks.positive("hidden_size", hiddenSize);
        Checks.positive("num_hidden_layers", numHiddenLayers);
        Checks.positive("intermediate_size", intermediateSize);
        Checks.positive("num_attention_heads", numAttentionHeads);
        Checks.positive("num_key_value_heads", numKeyValueHeads);
        Checks.positive("mamba_n_heads", mambaNHeads);
        Checks.positive("mamba_d_head", mambaDHead);
        Checks.positive("mamba_n_groups", mambaNGroups);
        Checks.positive("mamba_d_state", mambaDState);
        Checks.positive("mamba_d_conv", mambaDConv);
        Checks.positive("mamba_expand", mambaExpand);
        Checks.positive("mamba_chunk_size", mambaChunkSize);
        Checks.positive("rope_theta", ropeTheta);
        Checks.positive("max_position_embeddings", maxPositionEmbeddings);
        Checks.positive("rms_norm_eps", rmsNormEps);
        Checks.timeSteps(timeStepMin, timeStepMax, 0);
        Checks.tokenId("bos_token_id", bosTokenId);
        Checks.tokenId("eos_token_id", eosTokenId);
        Checks.tokenId("pad_token_id", padTokenId);
        Objects.requireNonNull(hiddenAct, "hiddenAct");
        Objects.requireNonNull(timeStepLimit, "timeStepLimit");
        attnLayerIndices = List.copyOf(attnLayerIndices);
        if (!(partialRotaryFactor > 0 && partialRotaryFactor <= 1)) {
            throw new ConfigException(
                    "partial_rotary_factor", "must be in (0, 1], got " + partialRotaryFactor);
        }
        if (hiddenSize % numAttentionHeads != 0) {
            throw new ConfigException(
                    "num_attention_heads",
                    "hidden_size ("
                            + hiddenSize
                            + ") must be divisible by num_attention_heads ("
                            + numAttentionHeads
                            + ")");
        }
        if (numAttentionHeads % numKeyValueHeads != 0) {
            throw new ConfigException(
                    "num_key_value_heads",
                    "num_attention_heads ("
                            + numAttentionHeads
                            + ") must be divisible by num_key_value_heads ("
                            + numKeyValueHeads
                            + ")");
        }
        if ((long) mambaNHeads * mambaDHead != (long) mambaExpand * hiddenSize) {
            throw new ConfigException(
                    "mamba_n_heads",
                    "mamba_n_heads * mamba_d_head ("
                            + mambaNHeads
                            + " * "
                            + mambaDHead
                            + ") must equal mamba_expand * hidden_size ("
                            + mambaExpand * hiddenSize
                            + ")");
        }
        if (mambaNHeads % mambaNGroups != 0) {
            throw new ConfigException(
                    "mamba_n_groups",
                    "mamba_n_heads ("
                            + mambaNHeads
                            + ") must be divisible by mamba_n_groups ("
                            + mambaNGroups
                            + ")");
        }
        int previous = -1;
        for (int index : attnLayerIndices) {
            if (index < 0 || index >= numHiddenLayers) {
                throw new ConfigException(
                        "attn_layer_indices",
                        "layer index "
                                + index
                                + " is outside the stack of "
                                + numHiddenLayers
                                + " layers");
            }
            if (index <= previous) {
                throw new ConfigException(
                        "attn_layer_indices",
                        "indices must be strictly increasing, got " + attnLayerIndices);
            }
            previous = index;
        }
    }

    /**
     * Returns whether the given layer is an attention layer (otherwise it is a Mamba2 layer).
     *
     * @param layer the layer index
     * @return {@code true} for an attention layer
     */
    public boolean isAttentionLayer(int layer) {
        return attnLayerIndices.contains(layer);
    }

    /**
     * Returns the channels per attention head: {@code hidden_size / num_attention_heads}.
     *
     * @return the attention head size
     */
    public int headDim() {
        return hiddenSize / numAttentionHeads;
    }

    /**
     * Returns the number of channels of each head that the rotary embedding rotates: {@code (int)
     * (headDim * partialRotaryFactor)}, as transformers computes it.
     *
     * @return the rotary dimension
     */
    public int rotaryDim() {
        return (int) (headDim() * partialRotaryFactor);
    }

    /**
     * Returns the width of the Mamba2 mixer: {@code mamba_expand * hidden_size}.
     *
     * @return the mixer width
     */
    public int mambaIntermediateSize() {
        return mambaExpand * hiddenSize;
    }

    /**
     * Returns the settings of the Mamba2 mixer of this model's Mamba layers as a {@link
     * Mamba2Config} (with this model's vocabulary, sizes and token ids), so that a Bamba model can
     * reuse the Mamba2 mixer block.
     *
     * @return the mixer configuration
     */
    public Mamba2Config mixerConfig() {
        return new Mamba2Config(
                vocabSize,
                vocabSize,
                hiddenSize,
                numHiddenLayers,
                mambaNHeads,
                mambaDHead,
                mambaNGroups,
                mambaDState,
                mambaExpand,
                mambaIntermediateSize(),
                mambaDConv,
                mambaChunkSize,
                mambaProjBias,
                mambaConvBias,
                hiddenAct,
                timeStepMin,
                timeStepMax,
                1e-4,
                timeStepLimit,
                false,
                true,
                rmsNormEps,
                false,
                tieWordEmbeddings,
                initializerRange,
                bosTokenId,
                eosTokenId,
                padTokenId);
    }

    /** {@inheritDoc} */
    @Override
    public ModelFamily family() {
        return ModelFamily.BAMBA;
    }

    /** {@inheritDoc} */
    @Override
    public int paddedVocabSize() {
        return vocabSize;
    }

    /** {@inheritDoc} Bamba keeps the residual in the weights' type. */
    @Override
    public boolean residualInFp32() {
        return false;
    }

    /** {@inheritDoc} Bamba's norms use {@code rms_norm_eps}. */
    @Override
    public double layerNormEpsilon() {
        return rmsNormEps;
    }
}
