package io.github.mambadjl.nn;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Parameter;
import ai.djl.training.ParameterStore;
import io.github.mambadjl.cache.AttentionLayerState;
import io.github.mambadjl.cache.LayerState;
import io.github.mambadjl.config.BambaConfig;
import io.github.mambadjl.kernel.SsmKernels;

/**
 * Causal grouped-query self-attention with (partial) rotary position embeddings, as the attention
 * layers of Bamba ({@code BambaAttention}): query heads share key/value heads, and only the first
 * {@code rotaryDim} channels of each head are rotated.
 *
 * <p>Parameters: {@code q_proj.weight}, {@code k_proj.weight}, {@code v_proj.weight}, {@code
 * o_proj.weight} (and their biases when {@code attention_bias}).
 */
public final class GroupedQueryAttention extends SequenceBlock {

    private final int numHeads;
    private final int numKvHeads;
    private final int headDim;
    private final int rotaryDim;
    private final double ropeTheta;
    private final Parameter qWeight;
    private final Parameter kWeight;
    private final Parameter vWeight;
    private final Parameter oWeight;
    private final Parameter qBias;
    private final Parameter kBias;
    private final Parameter vBias;
    private final Parameter oBias;

    private GroupedQueryAttention(Builder b) {
        numHeads = b.numHeads;
        numKvHeads = b.numKvHeads;
        headDim = b.hiddenSize / b.numHeads;
        rotaryDim = (int) (headDim * b.partialRotaryFactor);
        ropeTheta = b.ropeTheta;
        long hidden = b.hiddenSize;
        double std = b.initializerRange;
        qWeight =
                declare(
                        Ops.weight(
                                "q_proj.weight",
                                new Shape((long) numHeads * headDim, hidden),
                                std));
        kWeight =
                declare(
                        Ops.weight(
                                "k_proj.weight",
                                new Shape((long) numKvHeads * headDim, hidden),
                                std));
        vWeight =
                declare(
                        Ops.weight(
                                "v_proj.weight",
                                new Shape((long) numKvHeads * headDim, hidden),
                                std));
        oWeight =
                declare(
                        Ops.weight(
                                "o_proj.weight",
                                new Shape(hidden, (long) numHeads * headDim),
                                std));
        if (b.bias) {
            qBias = declare(Ops.bias("q_proj.bias", new Shape((long) numHeads * headDim)));
            kBias = declare(Ops.bias("k_proj.bias", new Shape((long) numKvHeads * headDim)));
            vBias = declare(Ops.bias("v_proj.bias", new Shape((long) numKvHeads * headDim)));
            oBias = declare(Ops.bias("o_proj.bias", new Shape(hidden)));
        } else {
            qBias = null;
            kBias = null;
            vBias = null;
            oBias = null;
        }
    }

    /**
     * Returns a builder.
     *
     * @return a new builder
     */
    public static Builder builder() {
        return new Builder();
    }

    /** {@inheritDoc} */
    @Override
    public boolean isAttention() {
        return true;
    }

    /** {@inheritDoc} */
    @Override
    public NDArray forward(
            ParameterStore ps,
            NDArray x,
            SequenceContext context,
            LayerState state,
            boolean training) {
        long batch = x.getShape().get(0);
        long length = x.getShape().get(1);
        NDArray q = heads(Ops.linear(ps, x, qWeight, qBias, training), batch, length, numHeads);
        NDArray k = heads(Ops.linear(ps, x, kWeight, kBias, training), batch, length, numKvHeads);
        NDArray v = heads(Ops.linear(ps, x, vWeight, vBias, training), batch, length, numKvHeads);
        NDList rope = rotary(x.getManager(), context.offset(), length, x.getDataType());
        q = rotate(q, rope.get(0), rope.get(1));
        k = rotate(k, rope.get(0), rope.get(1));
        if (state != null) {
            NDList all = ((AttentionLayerState) state).append(k, v);
            k = all.get(0);
            v = all.get(1);
        }
        NDArray fullMask = context.fullMask();
        long total = k.getShape().get(2);
        if (fullMask != null && fullMask.getShape().get(1) != total) {
            throw new IllegalArgumentException(
                    "attention: the mask covers "
                            + fullMask.getShape().get(1)
                            + " positions but "
                            + total
                            + " keys are present; pass the same attention_mask to every call");
        }
        NDArray out =
                SsmKernels.of(x)
                        .causalAttention(q, k, v, fullMask, (float) (1.0 / Math.sqrt(headDim)));
        out = out.transpose(0, 2, 1, 3).reshape(batch, length, (long) numHeads * headDim);
        return Ops.linear(ps, out, oWeight, oBias, training);
    }

    private NDArray heads(NDArray projected, long batch, long length, int count) {
        return projected.reshape(batch, length, count, headDim).transpose(0, 2, 1, 3);
    }

    /** cos and sin [length, rotaryDim] for positions offset .. offset + length. */
    private NDList rotary(NDManager manager, long offset, long length, DataType type) {
        int half = rotaryDim / 2;
        float[] cos = new float[(int) length * rotaryDim];
        float[] sin = new float[cos.length];
        for (int t = 0; t < length; t++) {
            for (int i = 0; i < half; i++) {
                float invFreq = (float) (1.0 / Math.pow(ropeTheta, (2.0 * i) / rotaryDim));
                float angle = (float) (offset + t) * invFreq;
                cos[t * rotaryDim + i] = (float) Math.cos(angle);
                cos[t * rotaryDim + i + half] = cos[t * rotaryDim + i];
                sin[t * rotaryDim + i] = (float) Math.sin(angle);
                sin[t * rotaryDim + i + half] = sin[t * rotaryDim + i];
            }
        }
        Shape shape = new Shape(length, rotaryDim);
        return new NDList(
                manager.create(cos, shape).toType(type, false),
                manager.create(sin, shape).toType(type, false));
    }

    private NDArray rotate(NDArray t, NDArray cos, NDArray sin) {
        if (rotaryDim == 0) {
            return t;
        }
        int half = rotaryDim / 2;
        NDArray rot = t.get("..., 0:{}", rotaryDim);
        NDArray rotated =
                NDArrays.concat(
                        new NDList(rot.get("..., {}:", half).neg(), rot.get("..., 0:{}", half)),
                        -1);
        NDArray embedded = rot.mul(cos).add(rotated.mul(sin));
        if (rotaryDim == headDim) {
            return embedded;
        }
        return NDArrays.concat(new NDList(embedded, t.get("..., {}:", rotaryDim)), -1);
    }

    /** Builds a {@link GroupedQueryAttention}. */
    public static final class Builder {

        private int hiddenSize = -1;
        private int numHeads = -1;
        private int numKvHeads = -1;
        private double partialRotaryFactor = 1.0;
        private double ropeTheta = 10000.0;
        private boolean bias;
        private double initializerRange = 0.02;

        private Builder() {}

        /**
         * Takes every setting from a Bamba config.
         *
         * @param config the config
         * @return this builder
         */
        public Builder fromConfig(BambaConfig config) {
            hiddenSize = config.hiddenSize();
            numHeads = config.numAttentionHeads();
            numKvHeads = config.numKeyValueHeads();
            partialRotaryFactor = config.partialRotaryFactor();
            ropeTheta = config.ropeTheta();
            bias = config.attentionBias();
            initializerRange = config.initializerRange();
            return this;
        }

        /**
         * Sets the model width and the heads.
         *
         * @param hiddenSize the model width, a multiple of {@code numHeads}
         * @param numHeads the number of query heads
         * @param numKvHeads the number of key/value heads, dividing {@code numHeads}
         * @return this builder
         */
        public Builder setHeads(int hiddenSize, int numHeads, int numKvHeads) {
            this.hiddenSize = hiddenSize;
            this.numHeads = numHeads;
            this.numKvHeads = numKvHeads;
            return this;
        }

        /**
         * Sets the fraction of each head that is rotated (default 1).
         *
         * @param factor partial_rotary_factor
         * @return this builder
         */
        public Builder optPartialRotaryFactor(double factor) {
            this.partialRotaryFactor = factor;
            return this;
        }

        /**
         * Sets the rotary base (default 10000).
         *
         * @param theta rope_theta
         * @return this builder
         */
        public Builder optRopeTheta(double theta) {
            this.ropeTheta = theta;
            return this;
        }

        /**
         * Builds the block.
         *
         * @return the attention block
         */
        public GroupedQueryAttention build() {
            if (hiddenSize <= 0
                    || numHeads <= 0
                    || numKvHeads <= 0
                    || hiddenSize % numHeads != 0
                    || numHeads % numKvHeads != 0) {
                throw new IllegalArgumentException(
                        "GroupedQueryAttention: hidden size "
                                + hiddenSize
                                + " must be a multiple of the "
                                + numHeads
                                + " heads, which must be a multiple of the "
                                + numKvHeads
                                + " key/value heads");
            }
            return new GroupedQueryAttention(this);
        }
    }
}
