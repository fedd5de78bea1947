package io.github.mambadjl.engine;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDArrayIndexer;
import ai.djl.ndarray.internal.NDArrayEx;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.ndarray.types.SparseFormat;
import ai.djl.nn.recurrent.RNN;
import io.github.mambadjl.nativeops.CpuTensorOps.Unary;
import java.util.List;

/**
 * The internal operations of a {@link MambaNDArray}: activations, {@code where}, concatenation,
 * stacking, linear and embedding run natively; the neural-network and training operations that
 * Mamba models do not use throw {@link UnsupportedOperationException} naming the operation.
 */
public class MambaNDArrayEx implements NDArrayEx {

    private final MambaNDArray array;

    MambaNDArrayEx(MambaNDArray array) {
        this.array = array;
    }

    private static UnsupportedOperationException unsupported(String operation) {
        return new UnsupportedOperationException(
                operation
                        + " is not implemented on the "
                        + MambaEngine.ENGINE_NAME
                        + " engine; see engine-mamba/README.md for the supported operations,"
                        + " or run it on the PyTorch engine");
    }

    /** {@inheritDoc} */
    @Override
    public NDArray rdivi(NDArray b) {
        throw unsupported("rdivi");
    }

    /** {@inheritDoc} */
    @Override
    public NDArray rmodi(NDArray b) {
        throw unsupported("rmodi");
    }

    /** {@inheritDoc} */
    @Override
    public NDArray rpowi(Number n) {
        throw unsupported("rpowi");
    }

    /** {@inheritDoc} */
    @Override
    public NDArray relu() {
        return array.unary(Unary.RELU, 0);
    }

    /** {@inheritDoc} */
    @Override
    public NDArray sigmoid() {
        return array.unary(Unary.SIGMOID, 0);
    }

    /** {@inheritDoc} */
    @Override
    public NDArray tanh() {
        return array.unary(Unary.TANH, 0);
    }

    /** {@inheritDoc} */
    @Override
    public NDArray softPlus() {
        return array.unary(Unary.SOFTPLUS, 0);
    }

    /** {@inheritDoc} */
    @Override
    public NDArray softSign() {
        throw unsupported("softSign");
    }

    /** {@inheritDoc} */
    @Override
    public NDArray leakyRelu(float alpha) {
        throw unsupported("leakyRelu");
    }

    /** {@inheritDoc} */
    @Override
    public NDArray elu(float alpha) {
        throw unsupported("elu");
    }

    /** {@inheritDoc} */
    @Override
    public NDArray selu() {
        throw unsupported("selu");
    }

    /** {@inheritDoc} */
    @Override
    public NDArray gelu() {
        return array.unary(Unary.GELU, 0);
    }

    /**
     * Returns {@code x * sigmoid(beta * x)}; {@code beta = 1} is SiLU, computed in one pass.
     *
     * @param beta the slope inside the sigmoid
     * @return the activation
     */
    @Override
    public NDArray swish(float beta) {
        if (beta == 1f) {
            return array.unary(Unary.SILU, 0);
        }
        try (NDArray scaled = array.mul(beta);
                NDArray gate = scaled.getNDArrayInternal().sigmoid()) {
            return array.mul(gate);
        }
    }

    /** {@inheritDoc} */
    @Override
    public NDArray maxPool(Shape kernelShape, Shape stride, Shape padding, boolean ceilMode) {
        throw unsupported("maxPool");
    }

    /** {@inheritDoc} */
    @Override
    public NDArray globalMaxPool() {
        throw unsupported("globalMaxPool");
    }

    /** {@inheritDoc} */
    @Override
    public NDArray avgPool(
            Shape kernelShape,
            Shape stride,
            Shape padding,
            boolean ceilMode,
            boolean countIncludePad) {
        throw unsupported("avgPool");
    }

    /** {@inheritDoc} */
    @Override
    public NDArray globalAvgPool() {
        throw unsupported("globalAvgPool");
    }

    /** {@inheritDoc} */
    @Override
    public NDArray lpPool(
            float normType, Shape kernelShape, Shape stride, Shape padding, boolean ceilMode) {
        throw unsupported("lpPool");
    }

    /** {@inheritDoc} */
    @Override
    public NDArray globalLpPool(float normType) {
        throw unsupported("globalLpPool");
    }

    /** {@inheritDoc} */
    @Override
    public void adadeltaUpdate(
            NDList inputs,
            NDList weights,
            float weightDecay,
            float rescaleGrad,
            float clipGrad,
            float rho,
            float epsilon) {
        throw unsupported("adadeltaUpdate");
    }

    /** {@inheritDoc} */
    @Override
    public void adagradUpdate(
            NDList inputs,
            NDList weights,
            float learningRate,
            float weightDecay,
            float rescaleGrad,
            float clipGrad,
            float epsilon) {
        throw unsupported("adagradUpdate");
    }

    /** {@inheritDoc} */
    @Override
    public void adamUpdate(
            NDList inputs,
            NDList weights,
            float learningRate,
            float learningRateBiasCorrection,
            float weightDecay,
            float rescaleGrad,
            float clipGrad,
            float beta1,
            float beta2,
            float epsilon,
            boolean lazyUpdate,
            boolean adamw) {
        throw unsupported("adamUpdate");
    }

    /** {@inheritDoc} */
    @Override
    public void nagUpdate(
            NDList inputs,
            NDList weights,
            float learningRate,
            float weightDecay,
            float rescaleGrad,
            float clipGrad,
            float momentum) {
        throw unsupported("nagUpdate");
    }

    /** {@inheritDoc} */
    @Override
    public void rmspropUpdate(
            NDList inputs,
            NDList weights,
            float learningRate,
            float weightDecay,
            float rescaleGrad,
            float clipGrad,
            float rho,
            float momentum,
            float epsilon,
            boolean centered) {
        throw unsupported("rmspropUpdate");
    }

    /** {@inheritDoc} */
    @Override
    public void sgdUpdate(
            NDList inputs,
            NDList weights,
            float learningRate,
            float weightDecay,
            float rescaleGrad,
            float clipGrad,
            float momentum,
            boolean lazyUpdate) {
        throw unsupported("sgdUpdate");
    }

    /** {@inheritDoc} */
    @Override
    public NDList convolution(
            NDArray input,
            NDArray weight,
            NDArray bias,
            Shape stride,
            Shape padding,
            Shape dilation,
            int groups) {
        throw unsupported("convolution");
    }

    /** {@inheritDoc} */
    @Override
    public NDList deconvolution(
            NDArray input,
            NDArray weight,
            NDArray bias,
            Shape stride,
            Shape padding,
            Shape outPadding,
            Shape dilation,
            int groups) {
        throw unsupported("deconvolution");
    }

    /**
     * Returns {@code input * weight^T + bias}, with weight {@code [out, in]} read transposed
     * through its strides.
     *
     * @param input {@code [..., in]}
     * @param weight {@code [out, in]}
     * @param bias {@code [out]} or {@code null}
     * @return the output {@code [..., out]}
     */
    @Override
    public NDList linear(NDArray input, NDArray weight, NDArray bias) {
        try (NDArray wt = weight.transpose()) {
            NDArray y = input.matMul(wt);
            if (bias == null) {
                return new NDList(y);
            }
            try (y) {
                return new NDList(y.add(bias));
            }
        }
    }

    /**
     * Gathers the rows of weight named by the integer input.
     *
     * @param input integer indices of any shape
     * @param weight {@code [vocab, dim]}
     * @param sparse ignored (dense gradients only)
     * @return {@code [...input shape, dim]}
     */
    @Override
    public NDList embedding(NDArray input, NDArray weight, SparseFormat sparse) {
        // the weight decides the device; take moves the indices there
        MambaNDArray w =
                weight instanceof MambaNDArray
                        ? (MambaNDArray) weight
                        : array.operand(weight, "embedding");
        try {
            MambaNDArray out = MambaNDArrayIndexer.take(w, input, 0);
            // the embeddings belong to the caller of this step, not to the weight's manager
            if (input instanceof MambaNDArray) {
                out.attach(input.getManager());
            }
            return new NDList(out);
        } finally {
            if (w != weight) {
                w.close();
            }
        }
    }

    /** {@inheritDoc} */
    @Override
    public NDList prelu(NDArray input, NDArray alpha) {
        throw unsupported("prelu");
    }

    /** {@inheritDoc} */
    @Override
    public NDList dropout(NDArray input, float rate, boolean training) {
        if (training && rate > 0) {
            throw unsupported("dropout in training");
        }
        return new NDList(input.duplicate());
    }

    /** {@inheritDoc} */
    @Override
    public NDList layerNorm(
            NDArray input, Shape normalizedShape, NDArray gamma, NDArray beta, float eps) {
        throw unsupported("layerNorm");
    }

    /** {@inheritDoc} */
    @Override
    public NDList batchNorm(
            NDArray input,
            NDArray runningMean,
            NDArray runningVar,
            NDArray gamma,
            NDArray beta,
            int axis,
            float momentum,
            float eps,
            boolean training) {
        throw unsupported("batchNorm");
    }

    /** {@inheritDoc} */
    @Override
    public NDList rnn(
            NDArray input,
            NDArray state,
            NDList params,
            boolean hasBiases,
            int numLayers,
            RNN.Activation activation,
            double dropRate,
            boolean training,
            boolean bidirectional,
            boolean batchFirst) {
        throw unsupported("rnn");
    }

    /** {@inheritDoc} */
    @Override
    public NDList gru(
            NDArray input,
            NDArray state,
            NDList params,
            boolean hasBiases,
            int numLayers,
            double dropRate,
            boolean training,
            boolean bidirectional,
            boolean batchFirst) {
        throw unsupported("gru");
    }

    /** {@inheritDoc} */
    @Override
    public NDList lstm(
            NDArray input,
            NDList states,
            NDList params,
            boolean hasBiases,
            int numLayers,
            double dropRate,
            boolean training,
            boolean bidirectional,
            boolean batchFirst) {
        throw unsupported("lstm");
    }

    /** {@inheritDoc} */
    @Override
    public NDArray interpolation(long[] size, int mode, boolean alignCorners) {
        throw unsupported("interpolation");
    }

    /** {@inheritDoc} */
    @Override
    public NDArray resize(int width, int height, int interpolation) {
        throw unsupported("resize");
    }

    /** {@inheritDoc} */
    @Override
    public NDArray randomFlipLeftRight() {
        throw unsupported("randomFlipLeftRight");
    }

    /** {@inheritDoc} */
    @Override
    public NDArray randomFlipTopBottom() {
        throw unsupported("randomFlipTopBottom");
    }

    /** {@inheritDoc} */
    @Override
    public NDArray randomBrightness(float brightness) {
        throw unsupported("randomBrightness");
    }

    /** {@inheritDoc} */
    @Override
    public NDArray randomHue(float hue) {
        throw unsupported("randomHue");
    }

    /** {@inheritDoc} */
    @Override
    public NDArray randomColorJitter(
            float brightness, float contrast, float saturation, float hue) {
        throw unsupported("randomColorJitter");
    }

    /** {@inheritDoc} */
    @Override
    public NDArrayIndexer getIndexer(NDManager manager) {
        return new MambaNDArrayIndexer();
    }

    /**
     * Returns {@code condition ? this : other}, broadcast.
     *
     * @param condition a boolean array
     * @param other the values where the condition is false
     * @return the selection
     */
    @Override
    public NDArray where(NDArray condition, NDArray other) {
        MambaNDArray c = array.operand(condition, "where");
        MambaNDArray b = array.operand(other, "where");
        try {
            if (c.getDataType() != DataType.BOOLEAN) {
                throw new IllegalArgumentException(
                        "where: the condition must be boolean, got " + c.getDataType());
            }
            if (b.getDataType() != array.getDataType()) {
                throw new IllegalArgumentException(
                        "where: data types differ ("
                                + array.getDataType()
                                + " and "
                                + b.getDataType()
                                + "); convert one with toType first");
            }
            long[] shape =
                    Strides.broadcastShape(
                            Strides.broadcastShape(c.dims(), array.dims(), "where"),
                            b.dims(),
                            "where");
            MambaNDArray out = array.allocateLike(Strides.shape(shape), array.getDataType(), false);
            array.backend()
                    .where(
                            array.type(),
                            shape,
                            c.address(),
                            Strides.broadcastStrides(c.dims(), c.strides(), shape, "where"),
                            array.address(),
                            Strides.broadcastStrides(array.dims(), array.strides(), shape, "where"),
                            b.address(),
                            Strides.broadcastStrides(b.dims(), b.strides(), shape, "where"),
                            out.address());
            return out;
        } finally {
            if (c != condition) {
                c.close();
            }
            if (b != other) {
                b.close();
            }
        }
    }

    /** {@inheritDoc} */
    @Override
    public NDArray stack(NDList arrays, int axis) {
        int a = Strides.axis(axis, array.getShape().dimension() + 1, "stack");
        NDList expanded = new NDList(arrays.size() + 1);
        try {
            expanded.add(array.expandDims(a));
            for (NDArray other : arrays) {
                expanded.add(array.operand(other, "stack").expandDims(a));
            }
            return concatenate(expanded, a);
        } finally {
            expanded.close();
        }
    }

    /** {@inheritDoc} */
    @Override
    public NDArray concat(NDList arrays, int axis) {
        NDList all = new NDList(arrays.size() + 1);
        all.add(array);
        all.addAll(arrays);
        return concatenate(all, axis);
    }

    private NDArray concatenate(List<NDArray> parts, int axis) {
        long[] first = parts.get(0).getShape().getShape().clone();
        if (first.length == 0) {
            throw new IllegalArgumentException("concat: cannot concatenate scalars");
        }
        int a = Strides.axis(axis, first.length, "concat");
        long total = 0;
        for (NDArray part : parts) {
            long[] s = part.getShape().getShape();
            boolean same = s.length == first.length && part.getDataType() == array.getDataType();
            for (int i = 0; same && i < s.length; i++) {
                same = i == a || s[i] == first[i];
            }
            if (!same) {
                throw new IllegalArgumentException(
                        "concat: "
                                + part.getShape()
                                + " "
                                + part.getDataType()
                                + " does not match "
                                + parts.get(0).getShape()
                                + " "
                                + array.getDataType()
                                + " outside axis "
                                + a);
            }
            total += s[a];
        }
        long[] outShape = first.clone();
        outShape[a] = total;
        MambaNDArray out = array.allocateLike(Strides.shape(outShape), array.getDataType(), false);
        long[] outStrides = Strides.contiguous(outShape);
        long position = 0;
        for (NDArray part : parts) {
            MambaNDArray p = array.operand(part, "concat");
            try {
                array.backend()
                        .copy(
                                p.dims(),
                                p.type(),
                                p.address(),
                                p.strides(),
                                out.type(),
                                out.address() + position * outStrides[a] * out.type().byteSize(),
                                outStrides);
                position += p.dims()[a];
            } finally {
                if (p != part) {
                    p.close();
                }
            }
        }
        return out;
    }

    /** {@inheritDoc} */
    @Override
    public NDList multiBoxTarget(
            NDList inputs,
            float iouThreshold,
            float ignoreLabel,
            float negativeMiningRatio,
            float negativeMiningThreshold,
            int minNegativeSamples) {
        throw unsupported("multiBoxTarget");
    }

    /** {@inheritDoc} */
    @Override
    public NDList multiBoxPrior(
            List<Float> sizes,
            List<Float> ratios,
            List<Float> steps,
            List<Float> offsets,
            boolean clip) {
        throw unsupported("multiBoxPrior");
    }

    /** {@inheritDoc} */
    @Override
    public NDList multiBoxDetection(
            NDList inputs,
            boolean clip,
            float threshold,
            int backgroundId,
            float nmsThreshold,
            boolean forceSuppress,
            int nmsTopK) {
        throw unsupported("multiBoxDetection");
    }

    /** {@inheritDoc} */
    @Override
    public MambaNDArray getArray() {
        return array;
    }
}
