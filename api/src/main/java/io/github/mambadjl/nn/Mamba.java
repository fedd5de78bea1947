package io.github.mambadjl.nn;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Parameter;
import ai.djl.training.ParameterStore;
import ai.djl.training.initializer.Initializer;
import io.github.mambadjl.cache.LayerState;
import io.github.mambadjl.cache.SsmLayerState;
import io.github.mambadjl.config.MambaConfig;
import io.github.mambadjl.kernel.KernelOutput;
import io.github.mambadjl.kernel.SsmKernels;

/**
 * The Mamba (selective state space) mixer of Gu and Dao, as {@code MambaMixer} in Hugging Face
 * transformers and {@code Mamba} in mamba_ssm.
 *
 * <p>Its parameters carry the checkpoint names: {@code in_proj.weight}, {@code conv1d.weight},
 * {@code conv1d.bias}, {@code x_proj.weight}, {@code dt_proj.weight}, {@code dt_proj.bias}, {@code
 * A_log}, {@code D}, {@code out_proj.weight} (and {@code in_proj.bias}, {@code out_proj.bias} when
 * {@code use_bias}).
 */
public final class Mamba extends SequenceBlock {

    private final int hiddenSize;
    private final int innerSize;
    private final int stateSize;
    private final int convKernel;
    private final int timeStepRank;

    private final Parameter inProjWeight;
    private final Parameter inProjBias;
    private final Parameter convWeight;
    private final Parameter convBias;
    private final Parameter xProjWeight;
    private final Parameter dtProjWeight;
    private final Parameter dtProjBias;
    private final Parameter aLog;
    private final Parameter d;
    private final Parameter outProjWeight;
    private final Parameter outProjBias;

    private Mamba(Builder b) {
        hiddenSize = b.hiddenSize;
        innerSize = b.expand * b.hiddenSize;
        stateSize = b.stateSize;
        convKernel = b.convKernel;
        timeStepRank = b.timeStepRank > 0 ? b.timeStepRank : (hiddenSize + 15) / 16;
        double std = b.initializerRange;
        inProjWeight =
                declare(Ops.weight("in_proj.weight", new Shape(2L * innerSize, hiddenSize), std));
        inProjBias =
                b.useBias ? declare(Ops.bias("in_proj.bias", new Shape(2L * innerSize))) : null;
        convWeight =
                declare(
                        Ops.other(
                                "conv1d.weight",
                                new Shape(innerSize, 1, convKernel),
                                Ops.uniformFanIn(convKernel)));
        convBias =
                b.useConvBias
                        ? declare(
                                Ops.other(
                                        "conv1d.bias",
                                        new Shape(innerSize),
                                        Ops.uniformFanIn(convKernel)))
                        : null;
        xProjWeight =
                declare(
                        Ops.weight(
                                "x_proj.weight",
                                new Shape(timeStepRank + 2L * stateSize, innerSize),
                                std));
        double dtStd = Math.pow(timeStepRank, -0.5) * b.timeStepScale;
        Initializer dtInit =
                b.constantTimeStepInit
                        ? (m, s, t) -> m.full(s, (float) dtStd, t)
                        : (m, s, t) -> m.randomUniform((float) -dtStd, (float) dtStd, s, t);
        dtProjWeight =
                declare(Ops.other("dt_proj.weight", new Shape(innerSize, timeStepRank), dtInit));
        dtProjBias =
                declare(
                        Ops.other(
                                "dt_proj.bias",
                                new Shape(innerSize),
                                Ops.inverseSoftplusTimeStep(
                                        b.timeStepMin, b.timeStepMax, b.timeStepFloor)));
        aLog = declare(Ops.other("A_log", new Shape(innerSize, stateSize), Ops.logRange()));
        d = declare(Ops.other("D", new Shape(innerSize), Initializer.ONES));
        outProjWeight =
                declare(Ops.weight("out_proj.weight", new Shape(hiddenSize, innerSize), std));
        outProjBias = b.useBias ? declare(Ops.bias("out_proj.bias", new Shape(hiddenSize))) : null;
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
        NDArray projected = Ops.linear(ps, x, inProjWeight, inProjBias, training);
        return mix(ps, projected, null, context, state, training);
    }

    /**
     * {@inheritDoc}
     *
     * <p>Here {@code in_proj} takes the norm ({@link RmsNorm#forwardLinear}) and {@code out_proj}
     * adds its product to {@code x} ({@code SsmKernels.linearAdd}); the rest is the body of {@link
     * #forward}. The mask applies after {@code in_proj}, so the fused form always applies.
     */
    @Override
    public NDArray forwardResidual(
            ParameterStore ps,
            NDArray x,
            RmsNorm norm,
            SequenceContext context,
            LayerState state,
            boolean training) {
        NDArray projected = Ops.rmsNormLinear(ps, x, norm, inProjWeight, inProjBias, training);
        return mix(ps, projected, x, context, state, training);
    }

    /**
     * The mixer from the output of {@code in_proj} {@code [batch, length, 2 * inner]} on: the
     * convolution, the scan and {@code out_proj}, whose product is added to {@code residual} when
     * one is given.
     */
    private NDArray mix(
            ParameterStore ps,
            NDArray projected,
            NDArray residual,
            SequenceContext context,
            LayerState state,
            boolean training) {
        SsmLayerState cache = (SsmLayerState) state;
        long length = projected.getShape().get(1);
        NDArray mask = context.mask();
        NDList hiddenAndGate = projected.split(new long[] {innerSize}, 2);
        NDArray hidden = Ops.maskPositions(hiddenAndGate.get(0), mask);
        NDArray gate = hiddenAndGate.get(1);
        SsmKernels kernels = SsmKernels.of(projected);
        NDArray cw = Ops.value(ps, convWeight, projected, training);
        NDArray cb = Ops.value(ps, convBias, projected, training);
        NDArray a = Ops.stateMatrix(ps, aLog, projected, training);
        NDArray skip = Ops.value(ps, d, projected, training);
        NDArray dtBias = Ops.value(ps, dtProjBias, projected, training);
        boolean step = cache != null && !cache.isEmpty() && length == 1;
        KernelOutput conv =
                step
                        ? kernels.causalConv1dUpdate(hidden.squeeze(1), cw, cb, cache.conv(), true)
                        : kernels.causalConv1d(
                                hidden.transpose(0, 2, 1),
                                cw,
                                cb,
                                cache == null ? null : cache.conv(),
                                true);
        NDArray u = step ? conv.output().expandDims(1) : conv.output().transpose(0, 2, 1);
        u = Ops.maskPositions(u, mask);
        NDArray ssmParams = Ops.linear(ps, u, xProjWeight, null, training);
        NDList dtBc = ssmParams.split(new long[] {timeStepRank, timeStepRank + stateSize}, 2);
        NDArray dtLow = dtBc.get(0);
        NDArray bm = dtBc.get(1);
        NDArray cm = dtBc.get(2);
        NDArray y;
        if (step) {
            // dt_proj folded into the step: one kernel fewer per layer on an engine that fuses it
            KernelOutput scan =
                    kernels.selectiveStateUpdateProjected(
                            cache.ssm(),
                            u.squeeze(1),
                            dtLow.squeeze(1),
                            Ops.value(ps, dtProjWeight, dtLow, training),
                            a,
                            bm.squeeze(1),
                            cm.squeeze(1),
                            skip,
                            gate.squeeze(1),
                            dtBias,
                            true);
            cache.update(conv.state(), scan.state());
            y = scan.output().expandDims(1);
        } else {
            NDArray dt = Ops.linear(ps, dtLow, dtProjWeight, null, training);
            KernelOutput scan =
                    kernels.selectiveScan(
                            u.transpose(0, 2, 1),
                            dt.transpose(0, 2, 1),
                            a,
                            bm.transpose(0, 2, 1),
                            cm.transpose(0, 2, 1),
                            skip,
                            gate.transpose(0, 2, 1),
                            dtBias,
                            true,
                            cache == null ? null : cache.ssm());
            if (cache != null) {
                cache.update(conv.state(), scan.state());
            }
            y = scan.output().transpose(0, 2, 1);
        }
        return residual == null
                ? Ops.linear(ps, y, outProjWeight, outProjBias, training)
                : Ops.linearAdd(ps, y, outProjWeight, outProjBias, residual, training);
    }

    /**
     * Returns the width of the inner (expanded) channels.
     *
     * @return {@code expand * hidden_size}
     */
    public int innerSize() {
        return innerSize;
    }

    /** Builds a {@link Mamba} mixer; defaults are those of Hugging Face's {@code MambaConfig}. */
    public static final class Builder {

        private int hiddenSize = -1;
        private int stateSize = 16;
        private int convKernel = 4;
        private int expand = 2;
        private int timeStepRank = -1;
        private boolean useBias;
        private boolean useConvBias = true;
        private double timeStepMin = 0.001;
        private double timeStepMax = 0.1;
        private double timeStepFloor = 1e-4;
        private double timeStepScale = 1.0;
        private boolean constantTimeStepInit;
        private double initializerRange = 0.1;

        private Builder() {}

        /**
         * Takes every setting from a model config.
         *
         * @param config the config
         * @return this builder
         */
        public Builder fromConfig(MambaConfig config) {
            hiddenSize = config.hiddenSize();
            stateSize = config.stateSize();
            convKernel = config.convKernel();
            expand = config.intermediateSize() / config.hiddenSize();
            timeStepRank = config.timeStepRank();
            useBias = config.useBias();
            useConvBias = config.useConvBias();
            timeStepMin = config.timeStepMin();
            timeStepMax = config.timeStepMax();
            timeStepFloor = config.timeStepFloor();
            timeStepScale = config.timeStepScale();
            constantTimeStepInit = "constant".equals(config.timeStepInitScheme());
            initializerRange = config.initializerRange();
            if ((long) expand * hiddenSize != config.intermediateSize()) {
                throw new IllegalArgumentException(
                        "Mamba: intermediate_size "
                                + config.intermediateSize()
                                + " must be a multiple of hidden_size "
                                + hiddenSize);
            }
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
         * Sets the SSM state size N (default 16).
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
         * @param convKernel d_conv, 2 to 4
         * @return this builder
         */
        public Builder optConvKernel(int convKernel) {
            this.convKernel = convKernel;
            return this;
        }

        /**
         * Sets the expansion factor (default 2).
         *
         * @param expand the inner width over the model width
         * @return this builder
         */
        public Builder optExpand(int expand) {
            this.expand = expand;
            return this;
        }

        /**
         * Sets the rank of the time-step projection (default {@code ceil(hidden / 16)}).
         *
         * @param timeStepRank dt_rank
         * @return this builder
         */
        public Builder optTimeStepRank(int timeStepRank) {
            this.timeStepRank = timeStepRank;
            return this;
        }

        /**
         * Sets whether the in and out projections have biases (default false).
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
         * Sets the range of the initial time steps (defaults 0.001, 0.1, floor 1e-4).
         *
         * @param min the smallest initial time step
         * @param max the largest initial time step
         * @param floor the floor applied to the drawn time steps
         * @return this builder
         */
        public Builder optTimeStepRange(double min, double max, double floor) {
            this.timeStepMin = min;
            this.timeStepMax = max;
            this.timeStepFloor = floor;
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
        public Mamba build() {
            if (hiddenSize <= 0 || stateSize <= 0 || expand <= 0) {
                throw new IllegalArgumentException(
                        "Mamba: hidden size, state size and expand must be positive (call"
                                + " setHiddenSize)");
            }
            if (convKernel < 2 || convKernel > 4) {
                throw new IllegalArgumentException(
                        "Mamba: conv kernel must be 2 to 4, got " + convKernel);
            }
            return new Mamba(this);
        }
    }
}
