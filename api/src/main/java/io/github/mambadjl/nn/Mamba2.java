package io.github.mambadjl.nn;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Parameter;
import ai.djl.training.ParameterStore;
import ai.djl.training.initializer.Initializer;
import io.github.mambadjl.cache.LayerState;
import io.github.mambadjl.cache.SsmLayerState;
import io.github.mambadjl.config.Mamba2Config;
import io.github.mambadjl.kernel.KernelOutput;
import io.github.mambadjl.kernel.SsmKernels;

/**
 * The Mamba-2 (state space duality) mixer of Dao and Gu, as {@code Mamba2} in mamba_ssm and {@code
 * Mamba2Mixer} / {@code BambaMixer} in Hugging Face transformers. The gated RMSNorm normalises per
 * group of {@code intermediate_size / n_groups} channels, as mamba_ssm does.
 *
 * <p>Its parameters carry the checkpoint names: {@code in_proj.weight}, {@code conv1d.weight},
 * {@code conv1d.bias}, {@code dt_bias}, {@code A_log}, {@code D}, {@code norm.weight}, {@code
 * out_proj.weight} (and {@code in_proj.bias}, {@code out_proj.bias} when {@code use_bias}).
 */
public final class Mamba2 extends SequenceBlock {

    private final int innerSize;
    private final int numHeads;
    private final int headDim;
    private final int nGroups;
    private final int stateSize;
    private final int chunkSize;
    private final float dtMin;
    private final float dtMax;
    private final float eps;
    private final boolean normBeforeGate;

    private final Parameter inProjWeight;
    private final Parameter inProjBias;
    private final Parameter convWeight;
    private final Parameter convBias;
    private final Parameter dtBias;
    private final Parameter aLog;
    private final Parameter d;
    private final Parameter normWeight;
    private final Parameter outProjWeight;
    private final Parameter outProjBias;

    private Mamba2(Builder b) {
        int hidden = b.hiddenSize;
        numHeads = b.numHeads;
        headDim = b.headDim;
        innerSize = numHeads * headDim;
        nGroups = b.nGroups;
        stateSize = b.stateSize;
        chunkSize = b.chunkSize;
        dtMin = (float) b.dtLimitMin;
        dtMax = (float) b.dtLimitMax;
        eps = (float) b.eps;
        normBeforeGate = b.normBeforeGate;
        int convDim = innerSize + 2 * nGroups * stateSize;
        int projSize = innerSize + convDim + numHeads;
        double std = b.initializerRange;
        inProjWeight = declare(Ops.weight("in_proj.weight", new Shape(projSize, hidden), std));
        inProjBias = b.useBias ? declare(Ops.bias("in_proj.bias", new Shape(projSize))) : null;
        convWeight =
                declare(
                        Ops.other(
                                "conv1d.weight",
                                new Shape(convDim, 1, b.convKernel),
                                Ops.uniformFanIn(b.convKernel)));
        convBias =
                b.useConvBias
                        ? declare(
                                Ops.other(
                                        "conv1d.bias",
                                        new Shape(convDim),
                                        Ops.uniformFanIn(b.convKernel)))
                        : null;
        dtBias =
                declare(
                        Ops.other(
                                "dt_bias",
                                new Shape(numHeads),
                                Ops.inverseSoftplusTimeStep(
                                        b.timeStepMin, b.timeStepMax, b.timeStepFloor)));
        aLog = declare(Ops.other("A_log", new Shape(numHeads), Ops.logRange()));
        d = declare(Ops.other("D", new Shape(numHeads), Initializer.ONES));
        normWeight = declare(Ops.other("norm.weight", new Shape(innerSize), Initializer.ONES));
        outProjWeight = declare(Ops.weight("out_proj.weight", new Shape(hidden, innerSize), std));
        outProjBias = b.useBias ? declare(Ops.bias("out_proj.bias", new Shape(hidden))) : null;
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
    public NDArray forward(
            ParameterStore ps,
            NDArray x,
            SequenceContext context,
            LayerState state,
            boolean training) {
        NDArray projected =
                Ops.linear(
                        ps,
                        Ops.maskPositions(x, context.mask()),
                        inProjWeight,
                        inProjBias,
                        training);
        return mix(ps, projected, null, context, state, training);
    }

    /**
     * {@inheritDoc}
     *
     * <p>Here {@code in_proj} takes the norm ({@link RmsNorm#forwardLinear}) and {@code out_proj}
     * adds its product to {@code x} ({@code SsmKernels.linearAdd}); the rest is the body of {@link
     * #forward}. With a mask, which applies to the normalised input before {@code in_proj}, this is
     * the default ({@code x + forward(norm(x))}).
     */
    @Override
    public NDArray forwardResidual(
            ParameterStore ps,
            NDArray x,
            RmsNorm norm,
            SequenceContext context,
            LayerState state,
            boolean training) {
        if (context.mask() != null) {
            return super.forwardResidual(ps, x, norm, context, state, training);
        }
        NDArray projected = Ops.rmsNormLinear(ps, x, norm, inProjWeight, inProjBias, training);
        return mix(ps, projected, x, context, state, training);
    }

    /**
     * The mixer from the output of {@code in_proj} {@code [batch, length, projection]} on: the
     * convolution, the SSD scan, the gated norm and {@code out_proj}, whose product is added to
     * {@code residual} when one is given.
     */
    private NDArray mix(
            ParameterStore ps,
            NDArray projected,
            NDArray residual,
            SequenceContext context,
            LayerState state,
            boolean training) {
        SsmLayerState cache = (SsmLayerState) state;
        long batch = projected.getShape().get(0);
        long length = projected.getShape().get(1);
        NDArray mask = context.mask();
        long convDim = innerSize + 2L * nGroups * stateSize;
        NDList zxbcdt = projected.split(new long[] {innerSize, innerSize + convDim}, 2);
        NDArray gate = zxbcdt.get(0);
        NDArray xbc = zxbcdt.get(1);
        NDArray dt = zxbcdt.get(2);
        SsmKernels kernels = SsmKernels.of(projected);
        NDArray cw = Ops.value(ps, convWeight, projected, training);
        NDArray cb = Ops.value(ps, convBias, projected, training);
        NDArray a = Ops.stateMatrix(ps, aLog, projected, training);
        NDArray skip = Ops.value(ps, d, projected, training);
        NDArray bias = Ops.value(ps, dtBias, projected, training);
        boolean step = cache != null && !cache.isEmpty() && length == 1;
        KernelOutput conv =
                step
                        ? kernels.causalConv1dUpdate(xbc.squeeze(1), cw, cb, cache.conv(), true)
                        : kernels.causalConv1d(
                                xbc.transpose(0, 2, 1),
                                cw,
                                cb,
                                cache == null ? null : cache.conv(),
                                true);
        NDArray mixed = step ? conv.output().expandDims(1) : conv.output().transpose(0, 2, 1);
        mixed = Ops.maskPositions(mixed, mask);
        long groupWidth = (long) nGroups * stateSize;
        NDList xbcParts = mixed.split(new long[] {innerSize, innerSize + groupWidth}, 2);
        NDArray xs = xbcParts.get(0).reshape(batch, length, numHeads, headDim);
        NDArray bm = xbcParts.get(1).reshape(batch, length, nGroups, stateSize);
        NDArray cm = xbcParts.get(2).reshape(batch, length, nGroups, stateSize);
        NDArray y;
        if (step) {
            KernelOutput scan =
                    kernels.ssdStep(
                            cache.ssm(),
                            xs.squeeze(1),
                            dt.squeeze(1),
                            a,
                            bm.squeeze(1),
                            cm.squeeze(1),
                            skip,
                            null,
                            bias,
                            true,
                            dtMin,
                            dtMax);
            cache.update(conv.state(), scan.state());
            y = scan.output().expandDims(1);
        } else {
            KernelOutput scan =
                    kernels.ssdChunkScan(
                            xs,
                            dt,
                            a,
                            bm,
                            cm,
                            chunkSize,
                            skip,
                            null,
                            bias,
                            true,
                            dtMin,
                            dtMax,
                            cache == null ? null : cache.ssm());
            if (cache != null) {
                cache.update(conv.state(), scan.state());
            }
            y = scan.output();
        }
        y = y.reshape(batch, length, innerSize);
        NDArray normed =
                kernels.gatedRmsNorm(
                        y,
                        gate,
                        Ops.value(ps, normWeight, projected, training),
                        eps,
                        innerSize / nGroups,
                        normBeforeGate);
        return residual == null
                ? Ops.linear(ps, normed, outProjWeight, outProjBias, training)
                : Ops.linearAdd(ps, normed, outProjWeight, outProjBias, residual, training);
    }

    /** Builds a {@link Mamba2} mixer; defaults are those of mamba_ssm's {@code Mamba2}. */
    public static final class Builder {

        private int hiddenSize = -1;
        private int numHeads = -1;
        private int headDim = 64;
        private int nGroups = 1;
        private int stateSize = 128;
        private int convKernel = 4;
        private int chunkSize = 256;
        private boolean useBias;
        private boolean useConvBias = true;
        private double timeStepMin = 0.001;
        private double timeStepMax = 0.1;
        private double timeStepFloor = 1e-4;
        private double dtLimitMin;
        private double dtLimitMax = Double.POSITIVE_INFINITY;
        private double eps = 1e-5;
        private boolean normBeforeGate;
        private double initializerRange = 0.1;

        private Builder() {}

        /**
         * Takes every setting from a model config.
         *
         * @param config the config
         * @return this builder
         */
        public Builder fromConfig(Mamba2Config config) {
            hiddenSize = config.hiddenSize();
            numHeads = config.numHeads();
            headDim = config.headDim();
            nGroups = config.nGroups();
            stateSize = config.stateSize();
            convKernel = config.convKernel();
            chunkSize = config.chunkSize();
            useBias = config.useBias();
            useConvBias = config.useConvBias();
            timeStepMin = config.timeStepMin();
            timeStepMax = config.timeStepMax();
            timeStepFloor = config.timeStepFloor();
            dtLimitMin = config.timeStepLimit().min();
            dtLimitMax = config.timeStepLimit().max();
            eps = config.layerNormEpsilon();
            normBeforeGate = config.normBeforeGate();
            initializerRange = config.initializerRange();
            return this;
        }

        /**
         * Sets the model width.
         *
         * @param hiddenSize d_model
         * @return this builder
         */
        public Builder setHiddenSize(int hiddenSize) {
            this.hiddenSize = hiddenSize;
            return this;
        }

        /**
         * Sets the heads: their number times their width is the inner width.
         *
         * @param numHeads the number of heads
         * @param headDim the width of a head
         * @return this builder
         */
        public Builder setHeads(int numHeads, int headDim) {
            this.numHeads = numHeads;
            this.headDim = headDim;
            return this;
        }

        /**
         * Sets the number of B/C groups (default 1); it must divide the number of heads.
         *
         * @param nGroups n_groups
         * @return this builder
         */
        public Builder optGroups(int nGroups) {
            this.nGroups = nGroups;
            return this;
        }

        /**
         * Sets the SSM state size (default 128).
         *
         * @param stateSize d_state
         * @return this builder
         */
        public Builder optStateSize(int stateSize) {
            this.stateSize = stateSize;
            return this;
        }

        /**
         * Sets the convolution width (default 4).
         *
         * @param convKernel d_conv
         * @return this builder
         */
        public Builder optConvKernel(int convKernel) {
            this.convKernel = convKernel;
            return this;
        }

        /**
         * Sets the SSD chunk length (default 256).
         *
         * @param chunkSize chunk_size
         * @return this builder
         */
        public Builder optChunkSize(int chunkSize) {
            this.chunkSize = chunkSize;
            return this;
        }

        /**
         * Sets whether the projections have biases (default false).
         *
         * @param useBias whether to use biases
         * @return this builder
         */
        public Builder optUseBias(boolean useBias) {
            this.useBias = useBias;
            return this;
        }

        /**
         * Sets whether the convolution has a bias (default true).
         *
         * @param useConvBias whether to use a conv bias
         * @return this builder
         */
        public Builder optUseConvBias(boolean useConvBias) {
            this.useConvBias = useConvBias;
            return this;
        }

        /**
         * Sets the clamp of the time step after softplus (default none).
         *
         * @param min the lower limit
         * @param max the upper limit
         * @return this builder
         */
        public Builder optTimeStepLimit(double min, double max) {
            this.dtLimitMin = min;
            this.dtLimitMax = max;
            return this;
        }

        /**
         * Sets the epsilon of the gated RMSNorm (default 1e-5).
         *
         * @param eps the epsilon
         * @return this builder
         */
        public Builder optEps(double eps) {
            this.eps = eps;
            return this;
        }

        /**
         * Sets whether the norm comes before the gate (default false, as mamba_ssm).
         *
         * @param normBeforeGate norm_before_gate
         * @return this builder
         */
        public Builder optNormBeforeGate(boolean normBeforeGate) {
            this.normBeforeGate = normBeforeGate;
            return this;
        }

        /**
         * Sets the standard deviation of the initial projection weights (default 0.1).
         *
         * @param initializerRange the standard deviation
         * @return this builder
         */
        public Builder optInitializerRange(double initializerRange) {
            this.initializerRange = initializerRange;
            return this;
        }

        /**
         * Builds the mixer.
         *
         * @return the mixer
         */
        public Mamba2 build() {
            if (hiddenSize <= 0 || numHeads <= 0 || headDim <= 0 || stateSize <= 0) {
                throw new IllegalArgumentException(
                        "Mamba2: call setHiddenSize and setHeads with positive values");
            }
            if (nGroups <= 0 || numHeads % nGroups != 0) {
                throw new IllegalArgumentException(
                        "Mamba2: n_groups " + nGroups + " must divide num_heads " + numHeads);
            }
            if (chunkSize <= 0) {
                throw new IllegalArgumentException("Mamba2: chunk size must be positive");
            }
            return new Mamba2(this);
        }
    }
}
