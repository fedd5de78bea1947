package io.github.mambadjl.engine;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.index.NDArrayIndexer;
import ai.djl.ndarray.index.full.NDIndexFullPick;
import ai.djl.ndarray.index.full.NDIndexFullSlice;
import ai.djl.ndarray.index.full.NDIndexFullTake;
import ai.djl.ndarray.types.DataType;
import java.util.Arrays;

/**
 * Indexing of {@link MambaNDArray}s: slices (with positive steps) are views, takes along an axis by
 * integer arrays run the native gather; picks are not supported.
 */
public class MambaNDArrayIndexer extends NDArrayIndexer {

    MambaNDArrayIndexer() {}

    /** {@inheritDoc} */
    @Override
    public NDArray get(NDArray array, NDIndexFullPick fullPick) {
        throw new UnsupportedOperationException(
                "pick indexing is not implemented on the "
                        + MambaEngine.ENGINE_NAME
                        + " engine; use take (an index array along one axis) or topK");
    }

    /** {@inheritDoc} */
    @Override
    public NDArray get(NDArray array, NDIndexFullTake fullTake) {
        return take((MambaNDArray) array, fullTake.getIndices(), fullTake.getAxis());
    }

    /** {@inheritDoc} */
    @Override
    public NDArray get(NDArray array, NDIndexFullSlice fullSlice) {
        MambaNDArray a = (MambaNDArray) array;
        MambaNDArray sliced = slice(a, fullSlice);
        long[] squeezed = fullSlice.getSqueezedShape().getShape();
        if (Arrays.equals(squeezed, sliced.dims())) {
            return sliced;
        }
        try (sliced) {
            return sliced.squeeze(fullSlice.getToSqueeze());
        }
    }

    /** {@inheritDoc} */
    @Override
    public void set(NDArray array, NDIndexFullSlice fullSlice, NDArray value) {
        MambaNDArray a = (MambaNDArray) array;
        MambaNDArray v = a.operand(value, "set");
        try (MambaNDArray target = slice(a, fullSlice);
                MambaNDArray squeezed = (MambaNDArray) target.squeeze(fullSlice.getToSqueeze())) {
            if (v.getShape().dimension() <= squeezed.getShape().dimension()) {
                squeezed.assign(v, "set");
            } else {
                target.assign(v, "set");
            }
        } finally {
            if (v != value) {
                v.close();
            }
        }
    }

    /** {@inheritDoc} */
    @Override
    public void set(NDArray array, NDIndexFullSlice fullSlice, Number value) {
        MambaNDArray a = (MambaNDArray) array;
        try (MambaNDArray s = a.scalar(value)) {
            set(array, fullSlice, s);
        }
    }

    private static MambaNDArray slice(MambaNDArray a, NDIndexFullSlice fullSlice) {
        long[] min = fullSlice.getMin();
        long[] max = fullSlice.getMax();
        long[] step = fullSlice.getStep();
        long[] strides = a.strides();
        long[] shape = new long[min.length];
        long[] viewStrides = new long[min.length];
        long offset = 0;
        for (int i = 0; i < min.length; i++) {
            if (step[i] <= 0) {
                throw new UnsupportedOperationException(
                        "slices with step "
                                + step[i]
                                + " are not implemented on the "
                                + MambaEngine.ENGINE_NAME
                                + " engine; use a positive step");
            }
            shape[i] = Math.max(0, (max[i] - min[i] + step[i] - 1) / step[i]);
            viewStrides[i] = strides[i] * step[i];
            if (shape[i] > 0) {
                offset += min[i] * strides[i];
            }
        }
        return a.view(offset, shape, viewStrides);
    }

    /**
     * Takes the entries of an axis named by an integer index array (the embedding gather).
     *
     * @param a the source
     * @param index int64 or int32 indices, any shape; negative ones count from the end
     * @param axis the axis
     * @return {@code a.shape[:axis] + index.shape + a.shape[axis+1:]}
     */
    static MambaNDArray take(MambaNDArray a, NDArray index, int axis) {
        long[] shape = a.dims();
        int ax = Strides.axis(axis, shape.length, "take");
        if (!index.getDataType().isInteger()) {
            throw new IllegalArgumentException(
                    "take: indices must be int64 or int32, got " + index.getDataType());
        }
        MambaNDArray idx = a.onThisDevice(index, "take");
        MambaNDArray longs =
                idx.getDataType() == DataType.INT64 && idx.isContiguous()
                        ? idx
                        : idx.materialize(idx.dims(), idx.strides(), DataType.INT64);
        MambaNDArray src = a.contiguous();
        try {
            long[] idxShape = idx.dims();
            long[] outShape = new long[shape.length - 1 + idxShape.length];
            System.arraycopy(shape, 0, outShape, 0, ax);
            System.arraycopy(idxShape, 0, outShape, ax, idxShape.length);
            System.arraycopy(shape, ax + 1, outShape, ax + idxShape.length, shape.length - ax - 1);
            MambaNDArray out =
                    a.allocateLike(
                            new ai.djl.ndarray.types.Shape(outShape), a.getDataType(), false);
            try {
                a.backend()
                        .take(
                                a.type(),
                                src.address(),
                                Strides.product(shape, 0, ax),
                                shape[ax],
                                Strides.product(shape, ax + 1, shape.length),
                                longs.address(),
                                Strides.product(idxShape, 0, idxShape.length),
                                out.address());
            } catch (RuntimeException e) {
                out.close();
                throw e;
            }
            return out;
        } finally {
            if (src != a) {
                src.close();
            }
            if (longs != idx) {
                longs.close();
            }
            if (idx != index) {
                idx.close();
            }
        }
    }
}
