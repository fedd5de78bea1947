package io.github.mambadjl.nn;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Parameter;
import ai.djl.nn.core.Linear;
import ai.djl.training.ParameterStore;
import ai.djl.training.initializer.Initializer;
import ai.djl.training.initializer.NormalInitializer;
import io.github.mambadjl.kernel.SsmKernels;

/** Small helpers shared by the blocks of this package. */
final class Ops {

    private Ops() {}

    static NDArray value(ParameterStore ps, Parameter p, NDArray like, boolean training) {
        return p == null ? null : ps.getValue(p, like.getDevice(), training);
    }

    /**
     * Returns {@code A = -exp(A_log)} through the engine's kernels ({@link
     * SsmKernels#stateMatrix}): computed per call and owned by the manager of {@code x}, or kept by
     * an engine without autograd; not to be closed.
     */
    static NDArray stateMatrix(ParameterStore ps, Parameter aLog, NDArray x, boolean training) {
        return SsmKernels.of(x).stateMatrix(value(ps, aLog, x, training), x.getManager());
    }

    static NDArray linear(
            ParameterStore ps, NDArray x, Parameter weight, Parameter bias, boolean training) {
        NDArray w = value(ps, weight, x, training);
        NDArray b = value(ps, bias, x, training);
        return b == null ? Linear.linear(x, w).head() : Linear.linear(x, w, b).head();
    }

    /**
     * Returns {@code linear(norm(x), weight, bias)} through {@link RmsNorm#forwardLinear} (one call
     * of {@link SsmKernels#rmsNormLinear}).
     */
    static NDArray rmsNormLinear(
            ParameterStore ps,
            NDArray x,
            RmsNorm norm,
            Parameter weight,
            Parameter bias,
            boolean training) {
        return norm.forwardLinear(
                ps, x, value(ps, weight, x, training), value(ps, bias, x, training), training);
    }

    /** Returns {@code addend + linear(x, weight, bias)} through {@link SsmKernels#linearAdd}. */
    static NDArray linearAdd(
            ParameterStore ps,
            NDArray x,
            Parameter weight,
            Parameter bias,
            NDArray addend,
            boolean training) {
        return SsmKernels.of(x)
                .linearAdd(x, value(ps, weight, x, training), value(ps, bias, x, training), addend);
    }

    static NDArray maskPositions(NDArray x, NDArray mask) {
        if (mask == null) {
            return x;
        }
        return x.mul(mask.toType(x.getDataType(), false).expandDims(2));
    }

    static ShapedBlock.ShapedParameter weight(String name, Shape shape, double std) {
        return of(name, Parameter.Type.WEIGHT, shape, new NormalInitializer((float) std));
    }

    static ShapedBlock.ShapedParameter bias(String name, Shape shape) {
        return of(name, Parameter.Type.BIAS, shape, Initializer.ZEROS);
    }

    static ShapedBlock.ShapedParameter other(String name, Shape shape, Initializer initializer) {
        return of(name, Parameter.Type.OTHER, shape, initializer);
    }

    static ShapedBlock.ShapedParameter of(
            String name, Parameter.Type type, Shape shape, Initializer initializer) {
        Parameter p =
                Parameter.builder().setName(name).setType(type).optInitializer(initializer).build();
        return new ShapedBlock.ShapedParameter(p, shape);
    }

    /** PyTorch's default conv initialisation: uniform in +-1/sqrt(fan_in). */
    static Initializer uniformFanIn(long fanIn) {
        float bound = (float) (1.0 / Math.sqrt(fanIn));
        return (manager, shape, dataType) -> manager.randomUniform(-bound, bound, shape, dataType);
    }

    /** log(1..n) along the last axis, as both Mamba generations initialise A_log. */
    static Initializer logRange() {
        return (manager, shape, dataType) -> {
            long n = shape.get(shape.dimension() - 1);
            return manager.arange(1f, n + 1f, 1f, DataType.FLOAT32)
                    .log()
                    .broadcast(shape)
                    .toType(dataType, false)
                    .duplicate();
        };
    }

    /**
     * The inverse softplus of time steps drawn log-uniformly in [min, max] and floored, as
     * mamba_ssm initialises dt_proj.bias and dt_bias.
     */
    static Initializer inverseSoftplusTimeStep(double min, double max, double floor) {
        return (manager, shape, dataType) -> {
            NDArray u = manager.randomUniform(0f, 1f, shape, DataType.FLOAT64);
            NDArray dt =
                    u.mul(Math.log(max) - Math.log(min)).add(Math.log(min)).exp().maximum(floor);
            // dt + log(-expm1(-dt)) = dt + log(1 - exp(-dt))
            NDArray inv = dt.add(dt.neg().exp().neg().add(1).log());
            return inv.toType(dataType, false);
        };
    }
}
