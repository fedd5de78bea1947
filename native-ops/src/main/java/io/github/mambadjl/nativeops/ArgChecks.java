package io.github.mambadjl.nativeops;

import java.util.Arrays;

/** Shape, dtype and layout checks shared by the kernel argument records. */
final class ArgChecks {

    private final String op;
    private final Object[] namesAndTensors;

    private ArgChecks(String op, Object[] namesAndTensors) {
        this.op = op;
        this.namesAndTensors = namesAndTensors;
    }

    /**
     * Starts the checks of one call. The description of the arguments is written only when a check
     * fails: these checks run on every kernel call of a decoding step.
     *
     * @param op the operation, for messages
     * @param namesAndTensors alternating names (String) and tensors (NativeTensor or null)
     * @return the checker
     */
    static ArgChecks of(String op, Object... namesAndTensors) {
        return new ArgChecks(op, namesAndTensors);
    }

    /** Describes the non-null tensors of alternating names and tensors. */
    static String describe(Object... namesAndTensors) {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < namesAndTensors.length; i += 2) {
            NativeTensor t = (NativeTensor) namesAndTensors[i + 1];
            if (t != null) {
                if (sb.length() > 0) {
                    sb.append(", ");
                }
                sb.append(namesAndTensors[i]).append(' ').append(t.describe());
            }
        }
        return sb.toString();
    }

    /** Checks the memory bounds of the non-null tensors of alternating names and tensors. */
    static void bounds(String op, Object... namesAndTensors) {
        for (int i = 0; i < namesAndTensors.length; i += 2) {
            NativeTensor t = (NativeTensor) namesAndTensors[i + 1];
            if (t != null) {
                t.checkBounds(op, (String) namesAndTensors[i]);
            }
        }
    }

    String shapes() {
        return describe(namesAndTensors);
    }

    void require(boolean condition, String message) {
        if (!condition) {
            fail(message);
        }
    }

    private void fail(String message) {
        throw new IllegalArgumentException(op + ": " + message + "; arguments: " + shapes());
    }

    void notNull(NativeTensor t, String name) {
        require(t != null, name + " is required");
    }

    /** Requires the tensor's shape to equal dims exactly. */
    void shape(NativeTensor t, String name, long... dims) {
        if (!Arrays.equals(t.shape(), dims)) {
            fail(name + " must have shape " + Arrays.toString(dims) + " but has " + t.describe());
        }
    }

    void dtype(NativeTensor t, String name, DType dtype) {
        if (t.dtype() != dtype) {
            fail(name + " must be " + dtype.name().toLowerCase(java.util.Locale.ROOT));
        }
    }

    /** Requires row-major contiguous strides. */
    void contiguous(NativeTensor t, String name) {
        long[] expected = NativeTensor.contiguousStrides(t.shape());
        for (int i = 0; i < t.rank(); i++) {
            require(t.size(i) == 1 || t.stride(i) == expected[i], name + " must be contiguous");
        }
    }

    /** Requires the last axis to have stride 1 (or size 1). */
    void innerContiguous(NativeTensor t, String name) {
        int last = t.rank() - 1;
        require(t.size(last) == 1 || t.stride(last) == 1, name + "'s last axis must have stride 1");
    }

    /** Requires a float32, contiguous tensor of the given shape when t is not null. */
    void optionalFloat32(NativeTensor t, String name, long... dims) {
        if (t != null) {
            shape(t, name, dims);
            dtype(t, name, DType.FLOAT32);
            contiguous(t, name);
        }
    }

    /** Requires the given shape and dtype when t is not null. */
    void optional(NativeTensor t, String name, DType dtype, long... dims) {
        if (t != null) {
            shape(t, name, dims);
            dtype(t, name, dtype);
        }
    }

    static long[] strides(NativeTensor t) {
        if (t == null) {
            return null;
        }
        long[] s = new long[t.rank()];
        for (int i = 0; i < s.length; i++) {
            s[i] = t.stride(i);
        }
        return s;
    }

    static com.sun.jna.Pointer ptr(NativeTensor t) {
        return t == null ? null : t.pointer();
    }
}
