package io.github.mambadjl.nativeops;

/**
 * The engine ops of the CPU library: host memory and generic tensor operations for the DJL engine
 * {@code Mamba}. Addresses are raw host addresses ({@code long}); shapes and strides count
 * elements. The caller (the engine) guarantees that every view lies inside its memory; the native
 * side checks sizes, dtypes and indices and reports a failure as a {@link NativeOpException}.
 */
public final class CpuTensorOps {

    /** Elementwise functions of one argument ({@code mops_unary_op}). */
    public enum Unary {
        /** Negation. */
        NEG,
        /** Absolute value. */
        ABS,
        /** Exponential. */
        EXP,
        /** Natural logarithm. */
        LOG,
        /** Square root. */
        SQRT,
        /** Reciprocal square root. */
        RSQRT,
        /** Square. */
        SQUARE,
        /** Hyperbolic tangent. */
        TANH,
        /** Logistic sigmoid. */
        SIGMOID,
        /** log(1 + exp(x)), linear above 20. */
        SOFTPLUS,
        /** x * sigmoid(x). */
        SILU,
        /** max(x, 0). */
        RELU,
        /** x raised to a scalar power. */
        POW_SCALAR,
        /** x == 0, as boolean. */
        LOGICAL_NOT,
        /** Exact GELU. */
        GELU
    }

    /** Elementwise functions of two arguments ({@code mops_binary_op}). */
    public enum Binary {
        /** a + b. */
        ADD,
        /** a - b. */
        SUB,
        /** a * b. */
        MUL,
        /** a / b (floating-point only). */
        DIV,
        /** a ^ b (floating-point only). */
        POW,
        /** max(a, b). */
        MAX,
        /** min(a, b). */
        MIN,
        /** a == b. */
        EQ,
        /** a != b. */
        NE,
        /** a &gt; b. */
        GT,
        /** a &gt;= b. */
        GE,
        /** a &lt; b. */
        LT,
        /** a &lt;= b. */
        LE,
        /** a and b. */
        AND,
        /** a or b. */
        OR,
        /** a xor b. */
        XOR;

        /**
         * Tells whether the result is boolean.
         *
         * @return true for comparisons and logical operations
         */
        public boolean isPredicate() {
            return ordinal() >= EQ.ordinal();
        }
    }

    /** Reductions over one axis ({@code mops_reduce_op}). */
    public enum Reduce {
        /** Sum. */
        SUM,
        /** Mean. */
        MEAN,
        /** Maximum. */
        MAX,
        /** Minimum. */
        MIN,
        /** Product. */
        PROD,
        /** Index of the first maximum (int64). */
        ARGMAX,
        /** Index of the first minimum (int64). */
        ARGMIN
    }

    private CpuTensorOps() {}

    /**
     * Allocates host memory aligned to 64 bytes.
     *
     * @param bytes the size
     * @param zero whether to zero it
     * @return the address
     * @throws NativeOpException with {@link Status#OUT_OF_MEMORY} when the allocation fails
     */
    public static long allocate(long bytes, boolean zero) {
        long[] out = new long[1];
        check(CpuTensorLibrary.mops_cpu_host_alloc(bytes, zero ? 1 : 0, out), "host_alloc", "");
        return out[0];
    }

    /**
     * Frees memory from {@link #allocate}.
     *
     * @param address the address (0 is ignored)
     */
    public static void free(long address) {
        check(CpuTensorLibrary.mops_cpu_host_free(address), "host_free", "");
    }

    /**
     * Returns the host memory allocated through {@link #allocate} and not freed.
     *
     * @return {@code {bytes, blocks}}
     */
    public static long[] inUse() {
        long[] bytes = new long[1];
        long[] blocks = new long[1];
        check(CpuTensorLibrary.mops_cpu_host_in_use(bytes, blocks), "host_in_use", "");
        return new long[] {bytes[0], blocks[0]};
    }

    /**
     * Sets the most bytes that the cache of freed host blocks may hold, freeing the least recently
     * freed blocks above it. A block freed by {@link #free} is kept for a later {@link #allocate}
     * of the same rounded size while the cache stays within this limit; 0 (the native default)
     * turns the cache off. Cached blocks do not count in {@link #inUse}.
     *
     * @param limitBytes the limit, at least 0
     */
    public static void setCacheLimit(long limitBytes) {
        check(CpuTensorLibrary.mops_cpu_host_cache_limit(limitBytes), "host_cache_limit", "");
    }

    /**
     * Frees the least recently freed cached blocks until at most {@code keepBytes} stay cached.
     *
     * @param keepBytes the bytes the cache may keep (0 empties it)
     */
    public static void trimCache(long keepBytes) {
        check(CpuTensorLibrary.mops_cpu_host_cache_trim(keepBytes), "host_cache_trim", "");
    }

    /**
     * Returns the figures of the cache of freed host blocks.
     *
     * @return {@code {cached bytes (block headers included), cached blocks, allocations served from
     *     the cache, allocations that were not, limit}}
     */
    public static long[] cacheStats() {
        long[] stats = new long[5];
        check(CpuTensorLibrary.mops_cpu_host_cache_stats(stats), "host_cache_stats", "");
        return stats;
    }

    /**
     * Copies a strided view into another, converting the dtype.
     *
     * @param shape the shape of both views
     * @param srcType the source dtype
     * @param src the source address
     * @param srcStrides the source strides
     * @param dstType the destination dtype
     * @param dst the destination address
     * @param dstStrides the destination strides
     */
    public static void copy(
            long[] shape,
            TensorDType srcType,
            long src,
            long[] srcStrides,
            TensorDType dstType,
            long dst,
            long[] dstStrides) {
        check(
                CpuTensorLibrary.mops_cpu_copy(
                        shape.length,
                        shape,
                        srcType.code(),
                        src,
                        srcStrides,
                        dstType.code(),
                        dst,
                        dstStrides),
                "copy",
                shape);
    }

    /**
     * Fills contiguous elements with a value.
     *
     * @param type the dtype
     * @param dst the address
     * @param count the number of elements
     * @param value the value
     */
    public static void fill(TensorDType type, long dst, long count, double value) {
        check(CpuTensorLibrary.mops_cpu_fill(type.code(), dst, count, value), "fill", "");
    }

    /**
     * Applies a function of one argument; the output is contiguous.
     *
     * @param op the function
     * @param type the input dtype
     * @param shape the shape
     * @param x the input address
     * @param xStrides the input strides
     * @param scalar the exponent of {@link Unary#POW_SCALAR}, ignored otherwise
     * @param out the output address
     */
    public static void unary(
            Unary op,
            TensorDType type,
            long[] shape,
            long x,
            long[] xStrides,
            double scalar,
            long out) {
        check(
                CpuTensorLibrary.mops_cpu_unary(
                        op.ordinal(), type.code(), shape.length, shape, x, xStrides, scalar, out),
                "unary " + op,
                shape);
    }

    /**
     * Applies a function of two arguments over a broadcast shape; the output is contiguous.
     *
     * @param op the function
     * @param type the dtype of both inputs
     * @param shape the broadcast shape
     * @param a the first input
     * @param aStrides its strides over the broadcast shape (0 where broadcast)
     * @param b the second input
     * @param bStrides its strides over the broadcast shape
     * @param out the output address
     */
    public static void binary(
            Binary op,
            TensorDType type,
            long[] shape,
            long a,
            long[] aStrides,
            long b,
            long[] bStrides,
            long out) {
        check(
                CpuTensorLibrary.mops_cpu_binary(
                        op.ordinal(),
                        type.code(),
                        shape.length,
                        shape,
                        a,
                        aStrides,
                        b,
                        bStrides,
                        out),
                "binary " + op,
                shape);
    }

    /**
     * Selects {@code cond ? a : b} over a broadcast shape; the output is contiguous.
     *
     * @param type the dtype of a and b
     * @param shape the broadcast shape
     * @param cond the boolean condition
     * @param condStrides its strides
     * @param a the values where true
     * @param aStrides its strides
     * @param b the values where false
     * @param bStrides its strides
     * @param out the output address
     */
    public static void where(
            TensorDType type,
            long[] shape,
            long cond,
            long[] condStrides,
            long a,
            long[] aStrides,
            long b,
            long[] bStrides,
            long out) {
        check(
                CpuTensorLibrary.mops_cpu_where(
                        type.code(),
                        shape.length,
                        shape,
                        cond,
                        condStrides,
                        a,
                        aStrides,
                        b,
                        bStrides,
                        out),
                "where",
                shape);
    }

    /**
     * Reduces the middle axis of a contiguous {@code [outer, n, inner]} array.
     *
     * @param op the reduction
     * @param type the dtype
     * @param x the input
     * @param outer the product of the leading dimensions
     * @param n the reduced dimension
     * @param inner the product of the trailing dimensions
     * @param out the {@code [outer, inner]} output
     */
    public static void reduce(
            Reduce op, TensorDType type, long x, long outer, long n, long inner, long out) {
        check(
                CpuTensorLibrary.mops_cpu_reduce(
                        op.ordinal(), type.code(), x, outer, n, inner, out),
                "reduce " + op,
                new long[] {outer, n, inner});
    }

    /**
     * Softmax or log-softmax over the middle axis of a contiguous {@code [outer, n, inner]}.
     *
     * @param type a floating-point dtype
     * @param x the input
     * @param outer the product of the leading dimensions
     * @param n the softmax dimension
     * @param inner the product of the trailing dimensions
     * @param log whether to return the log-softmax
     * @param out the output, of the input's shape
     */
    public static void softmax(
            TensorDType type, long x, long outer, long n, long inner, boolean log, long out) {
        check(
                CpuTensorLibrary.mops_cpu_softmax(
                        type.code(), x, outer, n, inner, log ? 1 : 0, out),
                log ? "log_softmax" : "softmax",
                new long[] {outer, n, inner});
    }

    /**
     * Inclusive cumulative sum over the middle axis of a contiguous {@code [outer, n, inner]}.
     *
     * @param type the dtype
     * @param x the input
     * @param outer the product of the leading dimensions
     * @param n the summed dimension
     * @param inner the product of the trailing dimensions
     * @param out the output, of the input's shape
     */
    public static void cumsum(TensorDType type, long x, long outer, long n, long inner, long out) {
        check(
                CpuTensorLibrary.mops_cpu_cumsum(type.code(), x, outer, n, inner, out),
                "cumsum",
                new long[] {outer, n, inner});
    }

    /**
     * Batched matrix product {@code out[b] = a[b] * b[b]} through the packed, blocked GEMM.
     *
     * @param type a floating-point dtype shared by a, b and out
     * @param batch the number of products
     * @param m the rows of a and out
     * @param n the columns of b and out
     * @param k the columns of a and rows of b
     * @param a the address of a
     * @param aStrides batch, row and column strides of a
     * @param b the address of b
     * @param bStrides batch, row and column strides of b
     * @param out the contiguous {@code [batch, m, n]} output
     */
    public static void matmul(
            TensorDType type,
            long batch,
            long m,
            long n,
            long k,
            long a,
            long[] aStrides,
            long b,
            long[] bStrides,
            long out) {
        check(
                CpuTensorLibrary.mops_cpu_matmul(
                        type.code(),
                        batch,
                        m,
                        n,
                        k,
                        a,
                        aStrides[0],
                        aStrides[1],
                        aStrides[2],
                        b,
                        bStrides[0],
                        bStrides[1],
                        bStrides[2],
                        out),
                "matmul",
                new long[] {batch, m, n, k});
    }

    /**
     * Takes rows along the middle axis of a contiguous {@code [outer, n, inner]} by int64 indices.
     *
     * @param type the dtype
     * @param x the input
     * @param outer the product of the leading dimensions
     * @param n the indexed dimension
     * @param inner the product of the trailing dimensions
     * @param indices the address of {@code count} int64 indices
     * @param count the number of indices
     * @param out the {@code [outer, count, inner]} output
     */
    public static void take(
            TensorDType type,
            long x,
            long outer,
            long n,
            long inner,
            long indices,
            long count,
            long out) {
        check(
                CpuTensorLibrary.mops_cpu_take(
                        type.code(), x, outer, n, inner, indices, count, out),
                "take",
                new long[] {outer, n, inner});
    }

    /**
     * The k largest or smallest elements along the middle axis, sorted, with their indices.
     *
     * @param type the dtype
     * @param x the contiguous {@code [outer, n, inner]} input
     * @param outer the product of the leading dimensions
     * @param n the searched dimension
     * @param inner the product of the trailing dimensions
     * @param k how many to keep
     * @param largest true for the largest, false for the smallest
     * @param values the {@code [outer, k, inner]} values output
     * @param indices the {@code [outer, k, inner]} int64 indices output
     */
    public static void topK(
            TensorDType type,
            long x,
            long outer,
            long n,
            long inner,
            long k,
            boolean largest,
            long values,
            long indices) {
        check(
                CpuTensorLibrary.mops_cpu_topk(
                        type.code(), x, outer, n, inner, k, largest ? 1 : 0, values, indices),
                "topk",
                new long[] {outer, n, inner});
    }

    /**
     * Chooses one token per row of logits by temperature, top-k, top-p and min-p from one draw per
     * row ({@code mops_cpu_sample_tokens}).
     *
     * @param type the logits' dtype (float32, float16 or bfloat16)
     * @param logits the {@code [rows, vocab]} logits, rows {@code rowStride} elements apart
     * @param rows the number of rows
     * @param vocab the number of logits in a row
     * @param rowStride the elements from one row to the next
     * @param settings how to choose
     * @param draws the int64 {@code [rows]} draws: {@code u * 2^53} for a u in [0, 1)
     * @param tokens the int64 {@code [rows]} output
     */
    public static void sampleTokens(
            TensorDType type,
            long logits,
            long rows,
            long vocab,
            long rowStride,
            SamplingSettings settings,
            long draws,
            long tokens) {
        check(
                CpuTensorLibrary.mops_cpu_sample_tokens(
                        type.code(),
                        logits,
                        rows,
                        vocab,
                        rowStride,
                        settings.temperature(),
                        settings.topK(),
                        settings.topP(),
                        settings.minP(),
                        draws,
                        tokens),
                "sample_tokens",
                new long[] {rows, vocab});
    }

    private static void check(int status, String op, long[] shape) {
        if (status != 0) {
            check(status, op, java.util.Arrays.toString(shape));
        }
    }

    private static void check(int status, String op, String shapes) {
        if (status != 0) {
            throw new NativeOpException(
                    op, Status.of(status), CpuTensorLibrary.mops_last_error(), shapes);
        }
    }
}
