package io.github.mambadjl.engine;

import ai.djl.ndarray.types.LayoutType;
import ai.djl.ndarray.types.Shape;
import java.util.Arrays;

/** Shape and stride arithmetic of strided views: contiguity, broadcasting, axes. */
final class Strides {

    private Strides() {}

    /**
     * Returns a {@link Shape} of the given dimensions with unknown layout: {@code new
     * Shape(long...)} builds its layout with a stream, a cost every engine operation would pay.
     *
     * @param dims the dimensions (kept by the shape)
     * @return the shape
     */
    static Shape shape(long[] dims) {
        LayoutType[] layout = new LayoutType[dims.length];
        Arrays.fill(layout, LayoutType.UNKNOWN);
        return new Shape(dims, layout);
    }

    /** Row-major strides of a shape, in elements. */
    static long[] contiguous(long[] shape) {
        long[] strides = new long[shape.length];
        long step = 1;
        for (int i = shape.length - 1; i >= 0; i--) {
            strides[i] = step;
            step *= Math.max(shape[i], 1);
        }
        return strides;
    }

    /** Tells whether a view is row-major contiguous (dimensions of size 1 may have any stride). */
    static boolean isContiguous(long[] shape, long[] strides) {
        long step = 1;
        for (int i = shape.length - 1; i >= 0; i--) {
            if (shape[i] != 1 && strides[i] != step) {
                return shape[i] == 0;
            }
            step *= shape[i];
        }
        return true;
    }

    /** The product of shape[from..to). */
    static long product(long[] shape, int from, int to) {
        long p = 1;
        for (int i = from; i < to; i++) {
            p *= shape[i];
        }
        return p;
    }

    /** Normalizes a possibly negative axis, refusing one outside the rank. */
    static int axis(int axis, int rank, String operation) {
        int a = axis < 0 ? axis + rank : axis;
        if (a < 0 || a >= rank) {
            throw new IllegalArgumentException(
                    operation + ": axis " + axis + " is out of range for rank " + rank);
        }
        return a;
    }

    /** The broadcast shape of two shapes (NumPy rules). */
    static long[] broadcastShape(long[] a, long[] b, String operation) {
        int rank = Math.max(a.length, b.length);
        long[] out = new long[rank];
        for (int i = 0; i < rank; i++) {
            long da = i < rank - a.length ? 1 : a[i - (rank - a.length)];
            long db = i < rank - b.length ? 1 : b[i - (rank - b.length)];
            if (da != db && da != 1 && db != 1) {
                throw new IllegalArgumentException(
                        operation
                                + ": shapes "
                                + Arrays.toString(a)
                                + " and "
                                + Arrays.toString(b)
                                + " cannot be broadcast together (dimension "
                                + i
                                + ": "
                                + da
                                + " vs "
                                + db
                                + ")");
            }
            out[i] = da == 1 ? db : da;
        }
        return out;
    }

    /** The strides that read a view of the given shape broadcast to target (0 where repeated). */
    static long[] broadcastStrides(long[] shape, long[] strides, long[] target, String operation) {
        if (shape.length > target.length) {
            throw new IllegalArgumentException(
                    operation
                            + ": shape "
                            + Arrays.toString(shape)
                            + " cannot be broadcast to "
                            + Arrays.toString(target));
        }
        long[] out = new long[target.length];
        int lead = target.length - shape.length;
        for (int i = 0; i < shape.length; i++) {
            long d = shape[i];
            long t = target[lead + i];
            if (d == t) {
                out[lead + i] = d == 1 ? 0 : strides[i];
            } else if (d == 1) {
                out[lead + i] = 0;
            } else {
                throw new IllegalArgumentException(
                        operation
                                + ": shape "
                                + Arrays.toString(shape)
                                + " cannot be broadcast to "
                                + Arrays.toString(target));
            }
        }
        return out;
    }

    /**
     * The strides under which a view of {@code shape} and {@code strides} reads its elements in
     * row-major order as the shape {@code target} (of the same element count), or {@code null} when
     * no strides do (the elements must then be copied). Runs of dimensions that are contiguous with
     * one another may be split or merged; a target dimension may not span two of them.
     */
    static long[] viewStrides(long[] shape, long[] strides, long[] target) {
        if (product(shape, 0, shape.length) == 0) {
            return contiguous(target);
        }
        long[] out = new long[target.length];
        int t = target.length - 1;
        long base = shape.length == 0 ? 1 : strides[shape.length - 1];
        long runSize = 1;
        long targetSize = 1;
        for (int d = shape.length - 1; d >= 0; d--) {
            runSize *= shape[d];
            boolean runEnds = d == 0 || (shape[d - 1] != 1 && strides[d - 1] != runSize * base);
            if (runEnds) {
                while (t >= 0 && (targetSize < runSize || target[t] == 1)) {
                    out[t] = targetSize * base;
                    targetSize *= target[t];
                    t--;
                }
                if (targetSize != runSize) {
                    return null;
                }
                if (d > 0) {
                    base = strides[d - 1];
                    runSize = 1;
                    targetSize = 1;
                }
            }
        }
        return t == -1 ? out : null;
    }

    /** Resolves one -1 of a requested shape and checks that the element count is kept. */
    static long[] inferShape(long[] current, long[] requested) {
        long size = product(current, 0, current.length);
        long known = 1;
        int unknown = -1;
        for (int i = 0; i < requested.length; i++) {
            if (requested[i] == -1) {
                if (unknown >= 0) {
                    throw new IllegalArgumentException(
                            "reshape: only one dimension may be -1 in "
                                    + Arrays.toString(requested));
                }
                unknown = i;
            } else if (requested[i] < 0) {
                throw new IllegalArgumentException(
                        "reshape: negative dimension in " + Arrays.toString(requested));
            } else {
                known *= requested[i];
            }
        }
        long[] out = requested.clone();
        if (unknown >= 0) {
            if (known == 0 || size % known != 0) {
                throw new IllegalArgumentException(
                        "reshape: cannot reshape "
                                + Arrays.toString(current)
                                + " into "
                                + Arrays.toString(requested));
            }
            out[unknown] = size / known;
        } else if (known != size) {
            throw new IllegalArgumentException(
                    "reshape: cannot reshape "
                            + Arrays.toString(current)
                            + " ("
                            + size
                            + " elements) into "
                            + Arrays.toString(requested)
                            + " ("
                            + known
                            + " elements)");
        }
        return out;
    }

    /**
     * Returns the single stride that walks the flattened batch dimensions of a view, or -1 when
     * they cannot be walked with one stride.
     */
    static long flatStride(long[] shape, long[] strides) {
        long stride = 0;
        long extent = 0;
        boolean first = true;
        for (int i = shape.length - 1; i >= 0; i--) {
            if (shape[i] == 1) {
                continue;
            }
            if (first) {
                stride = strides[i];
                first = false;
            } else if (strides[i] != stride * extent) {
                return -1;
            }
            extent = extent == 0 ? shape[i] : extent * shape[i];
        }
        return stride;
    }
}
