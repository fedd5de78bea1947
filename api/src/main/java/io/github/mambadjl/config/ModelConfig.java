package io.github.mambadjl.config;

/**
 * The settings that every Mamba-family model has, whatever its family.
 *
 * <p>Instances are immutable records; use {@link ModelConfigs#read(java.nio.file.Path)} to read one
 * from a checkpoint directory.
 */
public sealed interface ModelConfig permits MambaConfig, Mamba2Config, BambaConfig {

    /**
     * Returns the architecture family.
     *
     * @return the family
     */
    ModelFamily family();

    /**
     * Returns the width of the residual stream ({@code hidden_size}, {@code d_model}, {@code dim}).
     *
     * @return the hidden size
     */
    int hiddenSize();

    /**
     * Returns the number of layers ({@code num_hidden_layers}, {@code n_layer}, {@code n_layers}).
     *
     * @return the number of layers
     */
    int numHiddenLayers();

    /**
     * Returns the size of the vocabulary: the number of logits a model returns.
     *
     * @return the vocabulary size
     */
    int vocabSize();

    /**
     * Returns the number of rows of the embedding (and of the untied LM head) in the checkpoint: at
     * least {@link #vocabSize()}; mamba_ssm pads it to {@code pad_vocab_size_multiple}. The extra
     * rows are never sampled and never returned as logits.
     *
     * @return the padded vocabulary size
     */
    int paddedVocabSize();

    /**
     * Returns whether the LM head shares its weight with the token embedding.
     *
     * @return {@code true} if the embeddings are tied
     */
    boolean tieWordEmbeddings();

    /**
     * Returns whether the residual stream is kept in float32 whatever the weights' type.
     *
     * @return {@code true} if the residual is accumulated in float32
     */
    boolean residualInFp32();

    /**
     * Returns the epsilon of the RMS norms.
     *
     * @return the norm epsilon
     */
    double layerNormEpsilon();

    /**
     * Returns the end-of-sequence token id.
     *
     * @return the id, or {@code null} if the configuration does not name one
     */
    Integer eosTokenId();

    /**
     * Returns the beginning-of-sequence token id.
     *
     * @return the id, or {@code null} if the configuration does not name one
     */
    Integer bosTokenId();

    /**
     * Returns the padding token id.
     *
     * @return the id, or {@code null} if the configuration does not name one
     */
    Integer padTokenId();
}
