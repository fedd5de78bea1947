package io.github.mambadjl.engine;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;

/**
 * A residual layer's last projection with its residual add on a GPU for any number of rows ({@code
 * mops_cuda_matmul_add}): the prompt's rows, where {@link FusedGemv#linearAdd} (decoding's few
 * contiguous rows) does not apply. cuBLASLt adds the addend in its epilogue. The input is read
 * through its strides (a prefill's scan output is a transposed view), as long as its leading
 * dimensions walk the rows with one stride; otherwise, and for arrays of the CPU or another engine,
 * a bias, operands of different dtypes or an addend that is not a contiguous array of the output's
 * shape, {@link #linearAdd} returns {@code null} and the caller composes the operations.
 */
final class FusedGemm {

    private FusedGemm() {}

    /**
     * {@code addend + linear(x, weight)} in one call on the GPU.
     *
     * @return the output {@code [..., out]}, or {@code null} where the fused call does not apply
     */
    static NDArray linearAdd(NDArray x, NDArray weight, NDArray bias, NDArray addend) {
        if (bias != null
                || !(x instanceof MambaNDArray mx)
                || !(weight instanceof MambaNDArray mw)
                || !(addend instanceof MambaNDArray ma)
                || !(mx.backend() instanceof CudaBackend gpu)
                || mw.backend() != gpu
                || ma.backend() != gpu) {
            return null;
        }
        DataType type = x.getDataType();
        if (type != DataType.FLOAT32 && type != DataType.FLOAT16 && type != DataType.BFLOAT16
                || weight.getDataType() != type
                || addend.getDataType() != type) {
            return null;
        }
        long[] dims = mx.dims();
        long[] ws = mw.dims();
        if (dims.length < 2 || ws.length != 2 || ws[1] != dims[dims.length - 1]) {
            return null;
        }
        long k = ws[1];
        long n = ws[0];
        long rowStride = rowStride(dims, mx.strides());
        long rows = new Shape(dims).size() / Math.max(k, 1);
        long[] out = dims.clone();
        out[out.length - 1] = n;
        Shape outShape = new Shape(out);
        if (rowStride < 0
                || k < 1
                || rows < 1
                || !ma.getShape().equals(outShape)
                || !ma.isContiguous()) {
            return null;
        }
        long[] xs = mx.strides();
        long[] wst = mw.strides();
        MambaNDArray result = MambaNDArray.allocate(mx.getManager(), gpu, outShape, type, false);
        try {
            gpu.matmulAdd(
                    mx.type(),
                    rows,
                    n,
                    k,
                    mx.address(),
                    new long[] {rowStride, xs[xs.length - 1]},
                    mw.address(),
                    new long[] {wst[1], wst[0]},
                    ma.address(),
                    result.address());
        } catch (RuntimeException e) {
            result.close();
            throw e;
        }
        return result;
    }

    /**
     * The stride from one row to the next of an array's leading dimensions read as one axis of rows
     * (1 where there is one row), or -1 where they cannot be walked with one stride.
     */
    private static long rowStride(long[] dims, long[] strides) {
        long stride = -1;
        long span = 1;
        for (int i = dims.length - 2; i >= 0; i--) {
            if (dims[i] == 1) {
                continue;
            }
            if (stride < 0) {
                stride = strides[i];
            } else if (strides[i] != stride * span) {
                return -1;
            }
            span *= dims[i];
        }
        return stride < 0 ? 1 : stride;
    }
}
