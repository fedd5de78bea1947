package io.github.mambadjl.nn;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.types.Shape;
import ai.djl.ndarray.types.SparseFormat;
import ai.djl.nn.Parameter;
import ai.djl.training.ParameterStore;
import ai.djl.util.PairList;

/**
 * A token embedding table {@code weight [vocab, hidden]}, named as in Hugging Face checkpoints; it
 * can also serve as a tied LM head.
 */
public final class TokenEmbedding extends ShapedBlock {

    private final long vocabSize;
    private final long hiddenSize;
    private final Parameter weight;

    /**
     * Creates an embedding table.
     *
     * @param vocabSize the number of rows (possibly padded)
     * @param hiddenSize the embedding width
     * @param initStd the standard deviation of the initial weights
     */
    public TokenEmbedding(long vocabSize, long hiddenSize, double initStd) {
        this.vocabSize = vocabSize;
        this.hiddenSize = hiddenSize;
        weight = declare(Ops.weight("weight", new Shape(vocabSize, hiddenSize), initStd));
    }

    /**
     * Returns the table parameter.
     *
     * @return the weight
     */
    public Parameter weight() {
        return weight;
    }

    /**
     * Looks up the rows of {@code ids}.
     *
     * @param parameterStore the parameter store
     * @param ids int64 token ids {@code [batch, length]}
     * @param training whether this is a training pass
     * @return the embeddings {@code [batch, length, hidden]}
     */
    public NDArray embed(ParameterStore parameterStore, NDArray ids, boolean training) {
        NDArray w = parameterStore.getValue(weight, ids.getDevice(), training);
        return ids.getNDArrayInternal().embedding(ids, w, SparseFormat.DENSE).head();
    }

    /** {@inheritDoc} */
    @Override
    protected NDList forwardInternal(
            ParameterStore parameterStore,
            NDList inputs,
            boolean training,
            PairList<String, Object> params) {
        return new NDList(embed(parameterStore, inputs.head(), training));
    }

    /** {@inheritDoc} */
    @Override
    public Shape[] getOutputShapes(Shape[] inputShapes) {
        return new Shape[] {inputShapes[0].add(hiddenSize)};
    }

    /**
     * Returns the number of rows.
     *
     * @return the vocabulary size of the table
     */
    public long vocabSize() {
        return vocabSize;
    }
}
