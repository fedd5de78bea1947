package io.github.mambadjl.engine;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import io.github.mambadjl.kernel.KernelOutput;
import io.github.mambadjl.nativeops.ConvStep;
import io.github.mambadjl.nativeops.NativeTensor;

/**
 * The fused GEMVs of a decoding layer's residual step on a GPU ({@code mops_cuda_rms_norm_linear},
 * {@code mops_cuda_rms_norm_linear_conv}, {@code mops_cuda_linear_add}, {@code
 * mops_cuda_gated_rms_norm_linear_add}): the pre-norm in the prologue of the first projection and
 * the convolution step in its epilogue, the residual add in the epilogue of the last, and a Mamba-2
 * mixer's gated norm in the prologue of its last projection. Each method returns {@code null} where
 * the fused kernel does not apply, and the caller then composes the operations: arrays on the CPU
 * or of another engine, a bias, more than {@link #MAX_ROWS} rows (the product of the leading
 * dimensions of {@code x}), a dtype other than float32, float16 and bfloat16 or operands of
 * different dtypes, an input or weight that is not contiguous or not on 16 bytes, rows that do not
 * fill whole 16-byte vectors.
 */
final class FusedGemv {

    /** The most rows the fused GEMVs serve (those of a decoding step of up to 4 sequences). */
    static final int MAX_ROWS = 4;

    private FusedGemv() {}

    /**
     * {@code linear(rmsNorm(x), weight)} on the GPU's fused GEMV.
     *
     * @return the output {@code [..., out]}, or {@code null} where the fused kernel does not apply
     */
    static NDArray rmsNormLinear(
            NDArray x, NDArray normWeight, float eps, NDArray weight, NDArray bias) {
        Product p = Product.of(x, weight, bias);
        if (p == null
                || normWeight == null
                || normWeight.getShape().dimension() != 1
                || normWeight.getShape().get(0) != p.k) {
            return null;
        }
        try (KernelArgs args = new KernelArgs("rmsNormLinear", x)) {
            // the norm's scale in the storage dtype, as the separate norm reads it
            NativeTensor g = args.contiguous(normWeight);
            if (g.address() % 16 != 0) {
                return null;
            }
            MambaNDArray out = args.output(p.outShape, args.storage());
            try {
                p.gpu.rmsNormLinear(
                        p.x.type(),
                        p.rows,
                        p.n,
                        p.k,
                        p.x.address(),
                        p.k,
                        g.address(),
                        eps,
                        p.w.address(),
                        p.k,
                        out.address());
            } catch (RuntimeException e) {
                out.close();
                throw e;
            }
            return out;
        }
    }

    /**
     * {@code rmsNormLinear} with a causal convolution step on the output channels {@code
     * [convStart, convStart + channels)}, on the GPU's fused GEMV ({@code
     * mops_cuda_rms_norm_linear_conv}); besides the GEMV's own, the filters must be {@code
     * [channels, width]} or {@code [channels, 1, width]} (width 2 to 4) on the same GPU and the
     * state {@code [rows, channels, width - 1]}, updated in place where it is a contiguous float32
     * array of this GPU (as the separate step updates it), else in a copy.
     *
     * @return the output {@code [rows, out]} and the state, or {@code null} where the fused kernel
     *     does not apply
     */
    static KernelOutput rmsNormLinearConvUpdate(
            NDArray x,
            NDArray normWeight,
            float eps,
            NDArray weight,
            NDArray bias,
            long convStart,
            NDArray convWeight,
            NDArray convBias,
            NDArray convState,
            boolean silu) {
        Product p = Product.of(x, weight, bias);
        if (p == null
                || normWeight == null
                || normWeight.getShape().dimension() != 1
                || normWeight.getShape().get(0) != p.k
                || !(convWeight instanceof MambaNDArray cw)
                || cw.backend() != p.gpu
                || !(convState instanceof MambaNDArray)) {
            return null;
        }
        Shape ws = convWeight.getShape();
        long channels = ws.get(0);
        long width = ws.get(ws.dimension() - 1);
        boolean filters = ws.dimension() == 2 || ws.dimension() == 3 && ws.get(1) == 1;
        if (!filters
                || width < 2
                || width > 4
                || convStart < 0
                || convStart + channels > p.n
                || !convState.getShape().equals(new Shape(p.rows, channels, width - 1))
                || convBias != null && !convBias.getShape().equals(new Shape(channels))) {
            return null;
        }
        try (KernelArgs args = new KernelArgs("rmsNormLinearConvUpdate", x)) {
            NativeTensor g = args.contiguous(normWeight);
            if (g.address() % 16 != 0) {
                return null;
            }
            NativeTensor filter = args.contiguous(convWeight);
            NativeTensor shift = args.contiguous(convBias);
            MambaNDArray out = args.output(p.outShape, args.storage());
            MambaNDArray state = args.stateToUpdate(convState);
            try {
                p.gpu.rmsNormLinearConv(
                        p.x.type(),
                        p.rows,
                        p.n,
                        p.k,
                        p.x.address(),
                        p.k,
                        g.address(),
                        eps,
                        p.w.address(),
                        p.k,
                        out.address(),
                        new ConvStep(
                                convStart,
                                channels,
                                filter.address(),
                                (int) width,
                                shift == null ? 0 : shift.address(),
                                state.address(),
                                silu));
            } catch (RuntimeException e) {
                out.close();
                if (state != convState) {
                    state.close();
                }
                throw e;
            }
            return new KernelOutput(out, state);
        }
    }

    /**
     * {@code addend + linear(x, weight)} on the GPU's fused GEMV; the addend must also be a
     * contiguous array of the output's shape and dtype on the same GPU.
     *
     * @return the output {@code [..., out]}, or {@code null} where the fused kernel does not apply
     */
    static NDArray linearAdd(NDArray x, NDArray weight, NDArray bias, NDArray addend) {
        Product p = Product.of(x, weight, bias);
        if (p == null || !p.takes(addend)) {
            return null;
        }
        MambaNDArray a = (MambaNDArray) addend;
        MambaNDArray out =
                MambaNDArray.allocate(p.x.getManager(), p.gpu, p.outShape, a.getDataType(), false);
        try {
            p.gpu.linearAdd(
                    p.x.type(),
                    p.rows,
                    p.n,
                    p.k,
                    p.x.address(),
                    p.k,
                    p.w.address(),
                    p.k,
                    a.address(),
                    p.n,
                    out.address());
        } catch (RuntimeException e) {
            out.close();
            throw e;
        }
        return out;
    }

    /**
     * {@code addend + linear(gatedRmsNorm(x, z, normWeight, eps, groupSize, normBeforeGate),
     * weight)} (without an addend, the product alone) on the GPU's fused GEMV; the gate must be an
     * array of {@code x}'s shape and dtype on the same GPU (any strides: a slice of the mixer's
     * input projection), the addend as {@link #linearAdd}'s.
     *
     * @return the output {@code [..., out]}, or {@code null} where the fused kernel does not apply
     */
    static NDArray gatedRmsNormLinearAdd(
            NDArray x,
            NDArray z,
            NDArray normWeight,
            float eps,
            int groupSize,
            boolean normBeforeGate,
            NDArray weight,
            NDArray bias,
            NDArray addend) {
        Product p = Product.of(x, weight, bias);
        if (p == null
                || !(z instanceof MambaNDArray mz)
                || mz.backend() != p.gpu
                || mz.getDataType() != p.x.getDataType()
                || !mz.getShape().equals(p.x.getShape())
                || groupSize < 1
                || p.k % groupSize != 0
                || normWeight == null
                || normWeight.getShape().dimension() != 1
                || normWeight.getShape().get(0) != p.k
                || addend != null && !p.takes(addend)) {
            return null;
        }
        try (KernelArgs args = new KernelArgs("gatedRmsNormLinearAdd", x)) {
            NativeTensor g = args.contiguous(normWeight);
            if (g.address() % 16 != 0) {
                return null;
            }
            // the gate's rows as the separate norm reads them: at one stride where they are
            NativeTensor gate = MambaSsmKernels.rows(args, mz, p.rows, p.k);
            MambaNDArray out = args.output(p.outShape, args.storage());
            try {
                p.gpu.gatedRmsNormLinearAdd(
                        p.x.type(),
                        p.rows,
                        p.n,
                        p.k,
                        p.x.address(),
                        p.k,
                        gate.address(),
                        gate.stride(0),
                        g.address(),
                        eps,
                        groupSize,
                        normBeforeGate,
                        p.w.address(),
                        p.k,
                        addend == null ? 0 : ((MambaNDArray) addend).address(),
                        p.n,
                        out.address());
            } catch (RuntimeException e) {
                out.close();
                throw e;
            }
            return out;
        }
    }

    /** The operands of a product {@code x weight^T} that the fused GEMV reads as they are. */
    private record Product(
            CudaBackend gpu,
            MambaNDArray x,
            MambaNDArray w,
            long rows,
            long n,
            long k,
            Shape outShape) {

        /** The product's operands, or {@code null} where the fused GEMV cannot read them. */
        static Product of(NDArray x, NDArray weight, NDArray bias) {
            if (bias != null
                    || !(x instanceof MambaNDArray mx)
                    || !(weight instanceof MambaNDArray mw)
                    || !(mx.backend() instanceof CudaBackend gpu)
                    || mw.backend() != gpu) {
                return null;
            }
            DataType type = x.getDataType();
            if (type != DataType.FLOAT32 && type != DataType.FLOAT16 && type != DataType.BFLOAT16
                    || weight.getDataType() != type) {
                return null;
            }
            Shape xs = x.getShape();
            Shape ws = weight.getShape();
            if (xs.dimension() == 0 || ws.dimension() != 2) {
                return null;
            }
            long k = xs.get(xs.dimension() - 1);
            if (k < 1 || ws.get(1) != k) {
                return null;
            }
            long rows = xs.size() / k;
            if (rows < 1
                    || rows > MAX_ROWS
                    || k * type.getNumOfBytes() % 16 != 0
                    || !mx.isContiguous()
                    || mx.address() % 16 != 0
                    || !mw.isContiguous()
                    || mw.address() % 16 != 0) {
                return null;
            }
            long n = ws.get(0);
            long[] out = xs.getShape().clone();
            out[out.length - 1] = n;
            return new Product(gpu, mx, mw, rows, n, k, new Shape(out));
        }

        /**
         * Whether the epilogue can add {@code addend}: contiguous, of the output's shape and dtype.
         */
        boolean takes(NDArray addend) {
            return addend instanceof MambaNDArray a
                    && a.backend() == gpu
                    && a.getDataType() == x.getDataType()
                    && a.getShape().equals(outShape)
                    && a.isContiguous();
        }
    }
}
