package io.github.mambadjl.config;

import java.util.Objects;

/**
 * The configuration of a Mamba (selective scan) model, with the fields of transformers' {@code
 * MambaConfig} in camel case.
 *
 * @param vocabSize the number of logits ({@code vocab_size})
 * @param paddedVocabSize the number of embedding rows in the checkpoint, at least {@code vocabSize}
 * @param hiddenSize the residual width ({@code hidden_size}, {@code d_model})
 * @param numHiddenLayers the number of layers ({@code num_hidden_layers}, {@code n_layer})
 * @param stateSize the SSM state size per channel ({@code state_size}, {@code d_state})
 * @param expand the expansion factor of the mixer ({@code expand})
 * @param intermediateSize the mixer width ({@code intermediate_size}, {@code expand * hidden_size})
 * @param convKernel the causal convolution width ({@code conv_kernel}, {@code d_conv})
 * @param useBias whether the in/out projections have biases ({@code use_bias}, {@code bias})
 * @param useConvBias whether the convolution has a bias ({@code use_conv_bias}, {@code conv_bias})
 * @param hiddenAct the activation of the mixer ({@code hidden_act}, {@code silu})
 * @param timeStepRank the rank of the {@code dt} projection ({@code time_step_rank}, resolved from
 *     {@code "auto"} to {@code ceil(hidden_size / 16)})
 * @param timeStepScale the scale of the {@code dt} initialisation ({@code time_step_scale})
 * @param timeStepMin the smallest initial {@code dt} ({@code time_step_min})
 * @param timeStepMax the largest initial {@code dt} ({@code time_step_max})
 * @param timeStepFloor the floor of the initial {@code dt} ({@code time_step_floor})
 * @param timeStepInitScheme the {@code dt} initialisation ({@code "random"} or {@code "constant"})
 * @param layerNormEpsilon the epsilon of the RMS norms ({@code layer_norm_epsilon})
 * @param residualInFp32 whether the residual is kept in float32 ({@code residual_in_fp32})
 * @param tieWordEmbeddings whether the LM head is the embedding ({@code tie_word_embeddings})
 * @param initializerRange the standard deviation of the weight initialisation
 * @param rescalePrenormResidual whether out projections are rescaled at initialisation
 * @param bosTokenId the beginning-of-sequence token, or {@code null}
 * @param eosTokenId the end-of-sequence token, or {@code null}
 * @param padTokenId the padding token, or {@code null}
 */
public record MambaConfig(
        int vocabSize,
        int paddedVocabSize,
        int hiddenSize,
        int numHiddenLayers,
        int stateSize,
        int expand,
        int intermediateSize,
        int convKernel,
        boolean useBias,
        boolean useConvBias,
        String hiddenAct,
        int timeStepRank,
        double timeStepScale,
        double timeStepMin,
        double timeStepMax,
        double timeStepFloor,
        String timeStepInitScheme,
        double layerNormEpsilon,
        boolean residualInFp32,
        boolean tieWordEmbeddings,
        double initializerRange,
        boolean rescalePrenormResidual,
        Integer bosTokenId,
        Integer eosTokenId,
        Integer padTokenId)
        implements ModelConfig {

    /** Validates the sizes and their relations. */
    public MambaConfig {
        Checks.vocab(vocabSize, paddedVocabSize);
        Checks.positive("hidden_size", hiddenSize);
        Checks.positive("num_hidden_layers", numHiddenLayers);
        Checks.positive("state_size", stateSize);
        Checks.positive("expand", expand);
        Checks.positive("intermediate_size", intermediateSize);
        Checks.positive("conv_kernel", convKernel);
        Checks.positive("time_step_rank", timeStepRank);
        Checks.positive("layer_norm_epsilon", layerNormEpsilon);
        Checks.timeSteps(timeStepMin, timeStepMax, timeStepFloor);
        Checks.tokenId("bos_token_id", bosTokenId);
        Checks.tokenId("eos_token_id", eosTokenId);
        Checks.tokenId("pad_token_id", padTokenId);
        Objects.requireNonNull(hiddenAct, "hiddenAct");
        Objects.requireNonNull(timeStepInitScheme, "timeStepInitScheme");
        if (!"random".equals(timeStepInitScheme) && !"constant".equals(timeStepInitScheme)) {
            throw new ConfigException(
                    "time_step_init_scheme",
                    "expected \"random\" or \"constant\", got \"" + timeStepInitScheme + "\"");
        }
    }

    /**
     * Returns the {@code time_step_rank} that {@code "auto"} stands for: {@code ceil(hidden / 16)}.
     *
     * @param hiddenSize the hidden size
     * @return the automatic rank
     */
    public static int autoTimeStepRank(int hiddenSize) {
        return (hiddenSize + 15) / 16;
    }

    /** {@inheritDoc} */
    @Override
    public ModelFamily family() {
        return ModelFamily.MAMBA;
    }
}
