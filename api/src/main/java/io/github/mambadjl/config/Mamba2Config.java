package io.github.mambadjl.config;

import java.util.Objects;

/**
 * The configuration of a Mamba2 (structured state-space duality) model, with the fields of
 * transformers' {@code Mamba2Config} in camel case.
 *
 * @param vocabSize the number of logits ({@code vocab_size})
 * @param paddedVocabSize the number of embedding rows in the checkpoint, at least {@code vocabSize}
 * @param hiddenSize the residual width ({@code hidden_size}, {@code d_model}, {@code dim})
 * @param numHiddenLayers the number of layers
 * @param numHeads the number of SSM heads ({@code num_heads}, {@code nheads})
 * @param headDim the channels per head ({@code head_dim}, {@code headdim})
 * @param nGroups the number of B/C groups ({@code n_groups}, {@code ngroups})
 * @param stateSize the SSM state size ({@code state_size}, {@code d_state})
 * @param expand the expansion factor ({@code expand})
 * @param intermediateSize the mixer width, {@code numHeads * headDim}
 * @param convKernel the causal convolution width ({@code conv_kernel}, {@code d_conv})
 * @param chunkSize the chunk length of the SSD scan ({@code chunk_size})
 * @param useBias whether the in/out projections have biases ({@code use_bias}, {@code bias})
 * @param useConvBias whether the convolution has a bias ({@code use_conv_bias}, {@code conv_bias})
 * @param hiddenAct the activation of the mixer ({@code hidden_act}, {@code silu})
 * @param timeStepMin the smallest initial {@code dt} ({@code time_step_min}, {@code dt_min})
 * @param timeStepMax the largest initial {@code dt} ({@code time_step_max}, {@code dt_max})
 * @param timeStepFloor the floor of the initial {@code dt} ({@code time_step_floor})
 * @param timeStepLimit the clamp of {@code dt} ({@code time_step_limit}, {@code dt_limit})
 * @param normBeforeGate whether the gated norm normalises before gating (mamba_ssm's {@code
 *     norm_before_gate}; {@code false} in transformers and in every published checkpoint)
 * @param rmsNorm whether the mixer output goes through the gated RMS norm ({@code rms_norm}, {@code
 *     rmsnorm}); its group size is {@code intermediateSize / nGroups}
 * @param layerNormEpsilon the epsilon of the RMS norms ({@code layer_norm_epsilon})
 * @param residualInFp32 whether the residual is kept in float32 ({@code residual_in_fp32})
 * @param tieWordEmbeddings whether the LM head is the embedding ({@code tie_word_embeddings})
 * @param initializerRange the standard deviation of the weight initialisation
 * @param bosTokenId the beginning-of-sequence token, or {@code null}
 * @param eosTokenId the end-of-sequence token, or {@code null}
 * @param padTokenId the padding token, or {@code null}
 */
public record Mamba2Config(
        int vocabSize,
        int paddedVocabSize,
        int hiddenSize,
        int numHiddenLayers,
        int numHeads,
        int headDim,
        int nGroups,
        int stateSize,
        int expand,
        int intermediateSize,
        int convKernel,
        int chunkSize,
        boolean useBias,
        boolean useConvBias,
        String hiddenAct,
        double timeStepMin,
        double timeStepMax,
        double timeStepFloor,
        TimeStepLimit timeStepLimit,
        boolean normBeforeGate,
        boolean rmsNorm,
        double layerNormEpsilon,
        boolean residualInFp32,
        boolean tieWordEmbeddings,
        double initializerRange,
        Integer bosTokenId,
        Integer eosTokenId,
        Integer padTokenId)
        implements ModelConfig {

    /** Validates the sizes and their relations. */
    public Mamba2Config {
        Checks.vocab(vocabSize, paddedVocabSize);
        Checks.positive("hidden_size", hiddenSize);
        Checks.positive("num_hidden_layers", numHiddenLayers);
        Checks.positive("num_heads", numHeads);
        Checks.positive("head_dim", headDim);
        Checks.positive("n_groups", nGroups);
        Checks.positive("state_size", stateSize);
        Checks.positive("expand", expand);
        Checks.positive("conv_kernel", convKernel);
        Checks.positive("chunk_size", chunkSize);
        Checks.positive("layer_norm_epsilon", layerNormEpsilon);
        Checks.timeSteps(timeStepMin, timeStepMax, timeStepFloor);
        Checks.tokenId("bos_token_id", bosTokenId);
        Checks.tokenId("eos_token_id", eosTokenId);
        Checks.tokenId("pad_token_id", padTokenId);
        Objects.requireNonNull(hiddenAct, "hiddenAct");
        Objects.requireNonNull(timeStepLimit, "timeStepLimit");
        if ((long) numHeads * headDim != intermediateSize) {
            throw new ConfigException(
                    "num_heads",
                    "num_heads * head_dim ("
                            + numHeads
                            + " * "
                            + headDim
                            + ") must equal the intermediate size expand * hidden_size ("
                            + intermediateSize
                            + ")");
        }
        if (numHeads % nGroups != 0) {
            throw new ConfigException(
                    "n_groups",
                    "num_heads (" + numHeads + ") must be divisible by n_groups (" + nGroups + ")");
        }
    }

    /**
     * Returns the number of channels of the causal convolution: {@code x}, {@code B} and {@code C},
     * that is {@code intermediateSize + 2 * nGroups * stateSize}.
     *
     * @return the convolution width
     */
    public int convDim() {
        return intermediateSize + 2 * nGroups * stateSize;
    }

    /**
     * Returns the output width of {@code in_proj}: {@code z}, {@code xBC} and {@code dt}, that is
     * {@code 2 * intermediateSize + 2 * nGroups * stateSize + numHeads}.
     *
     * @return the input projection width
     */
    public int inProjSize() {
        return 2 * intermediateSize + 2 * nGroups * stateSize + numHeads;
    }

    /**
     * Returns the number of channels that the gated RMS norm normalises together, as mamba_ssm
     * does: {@code intermediateSize / nGroups}.
     *
     * @return the norm group size
     */
    public int normGroupSize() {
        return intermediateSize / nGroups;
    }

    /** {@inheritDoc} */
    @Override
    public ModelFamily family() {
        return ModelFamily.MAMBA2;
    }
}
