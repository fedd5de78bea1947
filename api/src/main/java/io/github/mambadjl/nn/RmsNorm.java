package io.github.mambadjl.nn;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Parameter;
import ai.djl.training.ParameterStore;
import ai.djl.training.initializer.Initializer;
import ai.djl.util.PairList;
import io.github.mambadjl.kernel.SsmKernels;

/**
 * Root-mean-square normalisation over the last axis with a learned scale ({@code weight}), as the
 * Mamba family's {@code RMSNorm}.
 */
public final class RmsNorm extends ShapedBlock {

    private final float eps;
    private final long size;
    private final Parameter weight;

    private RmsNorm(Builder builder) {
        this.eps = builder.eps;
        this.size = builder.size;
        weight =
                declare(
                        Ops.of(
                                "weight",
                                Parameter.Type.GAMMA,
                                new Shape(builder.size),
                                Initializer.ONES));
    }

    /**
     * Returns a builder.
     *
     * @return a new builder
     */
    public static Builder builder() {
        return new Builder();
    }

    /**
     * Normalises {@code x}.
     *
     * @param parameterStore the parameter store
     * @param x the input {@code [..., size]}
     * @param training whether this is a training pass
     * @return the normalised input
     */
    public NDArray forward(ParameterStore parameterStore, NDArray x, boolean training) {
        NDArray w = parameterStore.getValue(weight, x.getDevice(), training);
        // an ungated norm over one group of all channels: one fused kernel on engines that have it
        return SsmKernels.of(x).gatedRmsNorm(x, null, w, eps, (int) size, true);
    }

    /**
     * Normalises {@code x} and projects it, {@code linear(forward(x), weight, bias)}, in one call
     * of the engine's kernels ({@link SsmKernels#rmsNormLinear}): the pre-norm of a residual layer
     * fused with the first projection of its block where the engine can.
     *
     * @param parameterStore the parameter store
     * @param x the input {@code [..., size]}
     * @param weight the projection {@code [out, size]}
     * @param bias the bias {@code [out]}, or {@code null}
     * @param training whether this is a training pass
     * @return the projection of the normalised input {@code [..., out]}
     */
    public NDArray forwardLinear(
            ParameterStore parameterStore,
            NDArray x,
            NDArray weight,
            NDArray bias,
            boolean training) {
        NDArray w = parameterStore.getValue(this.weight, x.getDevice(), training);
        return SsmKernels.of(x).rmsNormLinear(x, w, eps, weight, bias);
    }

    /** {@inheritDoc} */
    @Override
    protected NDList forwardInternal(
            ParameterStore parameterStore,
            NDList inputs,
            boolean training,
            PairList<String, Object> params) {
        return new NDList(forward(parameterStore, inputs.head(), training));
    }

    /** {@inheritDoc} */
    @Override
    public Shape[] getOutputShapes(Shape[] inputShapes) {
        return new Shape[] {inputShapes[0]};
    }

    /** Builds an {@link RmsNorm}. */
    public static final class Builder {

        private long size = -1;
        private float eps = 1e-5f;

        private Builder() {}

        /**
         * Sets the size of the normalised axis.
         *
         * @param size the number of channels
         * @return this builder
         */
        public Builder setSize(long size) {
            this.size = size;
            return this;
        }

        /**
         * Sets the epsilon added to the mean square (default 1e-5).
         *
         * @param eps the epsilon
         * @return this builder
         */
        public Builder optEps(double eps) {
            this.eps = (float) eps;
            return this;
        }

        /**
         * Builds the block.
         *
         * @return the norm
         */
        public RmsNorm build() {
            if (size <= 0) {
                throw new IllegalArgumentException("RmsNorm: setSize(n) with n > 0 is required");
            }
            return new RmsNorm(this);
        }
    }
}
