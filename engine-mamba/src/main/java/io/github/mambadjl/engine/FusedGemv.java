package io.github.mambadjl.engine;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import io.github.mambadjl.nativeops.NativeTensor;

/**
 * The fused GEMVs of a decoding layer's residual step on a GPU ({@code mops_cuda_rms_norm_linear},
 * {@code mops_cuda_linear_add}): the pre-norm in the prologue of the first projection, the residual
 * add in the epilogue of the last. Each method returns {@code null} where the fused kernel does not
 * apply, and the caller then composes the operations: arrays on the CPU or of another engine, a
 * bias, more than {@link #MAX_ROWS} rows (the product of the leading dimensions of {@code x}), a
 * dtype other than float32, float16 and bfloat16 or operands of different dtypes, an input or
 * weight that is not contiguous or not on 16 bytes, rows that do not fill whole 16-byte vectors.
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
     * {@code addend + linear(x, weight)} on the GPU's fused GEMV; the addend must also be a
     * contiguous array of the output's shape and dtype on the same GPU.
     *
     * @return the output {@code [..., out]}, or {@code null} where the fused kernel does not apply
     */
    static NDArray linearAdd(NDArray x, NDArray weight, NDArray bias, NDArray addend) {
        Product p = Product.of(x, weight, bias);
        if (p == null
                || !(addend instanceof MambaNDArray a)
                || a.backend() != p.gpu
                || a.getDataType() != p.x.getDataType()
                || !a.getShape().equals(p.outShape)
                || !a.isContiguous()) {
            return null;
        }
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
    }
}
