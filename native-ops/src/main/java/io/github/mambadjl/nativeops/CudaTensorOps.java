package io.github.mambadjl.nativeops;

import io.github.mambadjl.nativeops.CpuTensorOps.Binary;
import io.github.mambadjl.nativeops.CpuTensorOps.Reduce;
import io.github.mambadjl.nativeops.CpuTensorOps.Unary;
import java.util.Arrays;

/**
 * The engine ops of the CUDA library: pooled device memory, transfers and the generic tensor
 * operations of {@link CpuTensorOps} for arrays on a GPU, plus cuBLASLt GEMM and fused attention.
 *
 * <p>Addresses are raw device addresses ({@code long}); shapes and strides count elements. Every
 * operation is queued on a stream (see {@link #stream(int)}, one per device) and returns without
 * waiting, except where a method says it synchronises. Failures, including a CUDA out-of-memory,
 * throw {@link NativeOpException}; the stream stays usable afterwards.
 */
public final class CudaTensorOps {

    private static final int MAX_DEVICES = 64;
    private static final long[] STREAMS = new long[MAX_DEVICES];

    /**
     * The engine pool of one device.
     *
     * @param reservedBytes bytes the pool holds from the driver
     * @param usedBytes bytes handed out from the pool
     * @param freeBytes free device memory (cudaMemGetInfo)
     * @param totalBytes total device memory
     */
    public record PoolStats(long reservedBytes, long usedBytes, long freeBytes, long totalBytes) {}

    private CudaTensorOps() {}

    /**
     * Tells whether the CUDA library loaded and sees at least one GPU.
     *
     * @return true when the CUDA engine ops can run
     */
    public static boolean isAvailable() {
        return CudaKernels.isAvailable();
    }

    /**
     * Returns why the CUDA engine ops cannot run here, or an empty string when they can.
     *
     * @return the reason
     */
    public static String unavailableReason() {
        String library = NativeLibraries.cudaUnavailableReason();
        if (!library.isEmpty()) {
            return library;
        }
        try {
            int count = CudaKernels.deviceCount();
            return count > 0 ? "" : "the CUDA library loaded but this machine has no CUDA GPU";
        } catch (NativeOpException | UnsatisfiedLinkError e) {
            return "the CUDA library could not query the GPUs: " + e.getMessage();
        }
    }

    /**
     * Throws a clear exception when the CUDA engine ops cannot run here.
     *
     * @param operation what needed the GPU, for the message
     * @throws UnsupportedOperationException naming the reason
     */
    public static void requireAvailable(String operation) {
        String reason = unavailableReason();
        if (!reason.isEmpty()) {
            throw new UnsupportedOperationException(
                    operation
                            + " needs a CUDA GPU, but "
                            + reason
                            + ". Use Device.cpu() on this machine.");
        }
    }

    /**
     * Returns the number of CUDA devices.
     *
     * @return the device count, 0 without the library, a driver or a GPU
     */
    public static int deviceCount() {
        return isAvailable() ? CudaKernels.deviceCount() : 0;
    }

    /**
     * Returns the engine's stream of a device, created on first use and kept for the life of the
     * process.
     *
     * @param device the device index
     * @return the {@code cudaStream_t} as an address
     */
    public static long stream(int device) {
        if (device < 0 || device >= MAX_DEVICES) {
            throw new IllegalArgumentException("device index " + device + " is out of range");
        }
        synchronized (STREAMS) {
            if (STREAMS[device] == 0) {
                requireAvailable("gpu(" + device + ")");
                long[] out = new long[1];
                check(
                        CudaTensorLibrary.mops_cuda_engine_stream_create(device, out),
                        "cuda_engine_stream_create",
                        "device " + device);
                STREAMS[device] = out[0];
            }
            return STREAMS[device];
        }
    }

    /**
     * Waits until the work queued on a stream has finished.
     *
     * @param stream the stream
     * @throws NativeOpException if queued work failed
     */
    public static void synchronize(long stream) {
        check(
                CudaTensorLibrary.mops_cuda_stream_synchronize(stream),
                "cuda_stream_synchronize",
                "");
    }

    /**
     * Allocates device memory from the engine pool of the stream's device (no synchronisation).
     *
     * @param stream the stream that orders the allocation
     * @param bytes the size
     * @param zero whether to zero it
     * @return the device address
     * @throws NativeOpException with {@link Status#OUT_OF_MEMORY} when the device is full
     */
    public static long allocate(long stream, long bytes, boolean zero) {
        long[] out = new long[1];
        check(
                CudaTensorLibrary.mops_cuda_engine_alloc(stream, bytes, zero ? 1 : 0, out),
                "cuda_engine_alloc",
                bytes + " bytes");
        return out[0];
    }

    /**
     * Returns memory from {@link #allocate} to the pool in stream order.
     *
     * @param stream the stream
     * @param address the device address (0 is ignored)
     */
    public static void free(long stream, long address) {
        check(CudaTensorLibrary.mops_cuda_engine_free(stream, address), "cuda_engine_free", "");
    }

    /**
     * Returns the device memory allocated through {@link #allocate} and not freed.
     *
     * @param device the device index
     * @return {@code {bytes, blocks}}
     */
    public static long[] inUse(int device) {
        long[] bytes = new long[1];
        long[] blocks = new long[1];
        check(
                CudaTensorLibrary.mops_cuda_engine_in_use(device, bytes, blocks),
                "cuda_engine_in_use",
                "");
        return new long[] {bytes[0], blocks[0]};
    }

    /**
     * Returns the state of a device's engine pool.
     *
     * @param device the device index
     * @return the statistics
     */
    public static PoolStats poolStats(int device) {
        long[] r = new long[1];
        long[] u = new long[1];
        long[] f = new long[1];
        long[] t = new long[1];
        check(
                CudaTensorLibrary.mops_cuda_engine_pool_stats(device, r, u, f, t),
                "cuda_engine_pool_stats",
                "");
        return new PoolStats(r[0], u[0], f[0], t[0]);
    }

    /** How {@code matMul} on a GPU picks between the engine's GEMV and cuBLASLt. */
    public enum GemvMode {
        /**
         * Time cuBLASLt and the GEMV's variants on a shape's first use and keep the fastest (the
         * default).
         */
        MEASURE,
        /** The GEMV wherever it applies (1 to 4 rows by a transposed, aligned weight). */
        ALWAYS,
        /** cuBLASLt only. */
        NEVER
    }

    /**
     * Chooses, for the whole process, how {@code matMul} on a GPU picks between the engine's GEMV
     * and cuBLASLt (tests force each path with it).
     *
     * @param mode the mode
     */
    public static void setGemvMode(GemvMode mode) {
        check(CudaTensorLibrary.mops_cuda_gemv_mode(mode.ordinal()), "cuda_gemv_mode", "");
    }

    /**
     * Returns the most device memory in use since the last reset: in the engine pool, and in the
     * memory of recorded steps (CUDA graphs).
     *
     * @param device the device index
     * @param reset whether to restart both marks from what is in use now
     * @return {@code {poolUsedHighBytes, graphUsedHighBytes}} before any reset
     */
    public static long[] highWater(int device, boolean reset) {
        long[] pool = new long[1];
        long[] graph = new long[1];
        check(
                CudaTensorLibrary.mops_cuda_engine_pool_high(device, reset ? 1 : 0, pool, graph),
                "cuda_engine_pool_high",
                "");
        return new long[] {pool[0], graph[0]};
    }

    /**
     * Synchronises the device and releases pooled memory above {@code keepBytes} to the driver.
     *
     * @param device the device index
     * @param keepBytes how much freed memory the pool may keep
     */
    public static void trimPool(int device, long keepBytes) {
        check(
                CudaTensorLibrary.mops_cuda_engine_pool_trim(device, keepBytes),
                "cuda_engine_pool_trim",
                "");
    }

    /**
     * Starts recording the work queued on a stream into a CUDA graph instead of running it (see
     * {@code mops_cuda_graph_begin}): allocations on the stream then belong to the graph, and host
     * transfers and synchronisation of the stream are refused.
     *
     * @param stream the engine stream
     */
    public static void beginGraph(long stream) {
        check(CudaTensorLibrary.mops_cuda_graph_begin(stream), "cuda_graph_begin", "");
    }

    /**
     * Ends a recording: instantiates the graph and launches it once on {@code launchStream} (which
     * runs the recorded work), or discards it, in which case nothing ran and the recording's
     * allocations must not be freed.
     *
     * @param stream the recording stream
     * @param launchStream the stream that runs the graph the first time
     * @param discard whether to drop the recording
     * @return the graph to {@link #launchGraph launch}, or 0 when discarded
     * @throws NativeOpException when the recording failed (it is discarded)
     */
    public static long endGraph(long stream, long launchStream, boolean discard) {
        long[] exec = new long[1];
        check(
                CudaTensorLibrary.mops_cuda_graph_end(stream, launchStream, discard ? 1 : 0, exec),
                "cuda_graph_end",
                "");
        return exec[0];
    }

    /**
     * Creates another stream of the engine on a device (for example one that records a step while
     * other threads keep using the device's engine stream); it lives as long as the process.
     *
     * @param device the device index
     * @return the {@code cudaStream_t} as an address
     */
    public static long createStream(int device) {
        requireAvailable("gpu(" + device + ")");
        long[] out = new long[1];
        check(
                CudaTensorLibrary.mops_cuda_engine_stream_create(device, out),
                "cuda_engine_stream_create",
                "device " + device);
        return out[0];
    }

    /**
     * Queues one replay of a recorded graph.
     *
     * @param exec the graph of {@link #endGraph}
     * @param stream the engine stream
     */
    public static void launchGraph(long exec, long stream) {
        check(CudaTensorLibrary.mops_cuda_graph_launch(exec, stream), "cuda_graph_launch", "");
    }

    /**
     * Destroys a recorded graph; the arrays it left live stay allocated (free them as usual).
     *
     * @param exec the graph of {@link #endGraph} (0 is ignored)
     */
    public static void destroyGraph(long exec) {
        check(CudaTensorLibrary.mops_cuda_graph_destroy(exec), "cuda_graph_destroy", "");
    }

    /**
     * Queues a copy of host memory to device memory.
     *
     * @param stream the stream
     * @param device the device address
     * @param host the host address
     * @param bytes the size
     */
    public static void upload(long stream, long device, long host, long bytes) {
        check(
                CudaTensorLibrary.mops_cuda_engine_transfer(stream, device, host, bytes, 1),
                "cuda_upload",
                bytes + " bytes");
    }

    /**
     * Queues a copy of device memory to host memory; synchronise before reading the host memory.
     *
     * @param stream the stream
     * @param host the host address
     * @param device the device address
     * @param bytes the size
     */
    public static void download(long stream, long host, long device, long bytes) {
        check(
                CudaTensorLibrary.mops_cuda_engine_transfer(stream, host, device, bytes, 0),
                "cuda_download",
                bytes + " bytes");
    }

    /**
     * Copies a strided view into another on the device, converting the dtype.
     *
     * @param stream the stream
     * @param shape the shape of both views
     * @param srcType the source dtype
     * @param src the source address
     * @param srcStrides the source strides
     * @param dstType the destination dtype
     * @param dst the destination address
     * @param dstStrides the destination strides
     */
    public static void copy(
            long stream,
            long[] shape,
            TensorDType srcType,
            long src,
            long[] srcStrides,
            TensorDType dstType,
            long dst,
            long[] dstStrides) {
        check(
                CudaTensorLibrary.mops_cuda_copy(
                        stream,
                        shape.length,
                        shape,
                        srcType.code(),
                        src,
                        srcStrides,
                        dstType.code(),
                        dst,
                        dstStrides),
                "cuda_copy",
                shape);
    }

    /**
     * Fills contiguous elements with a value.
     *
     * @param stream the stream
     * @param type the dtype
     * @param dst the address
     * @param count the number of elements
     * @param value the value
     */
    public static void fill(long stream, TensorDType type, long dst, long count, double value) {
        check(
                CudaTensorLibrary.mops_cuda_fill(stream, type.code(), dst, count, value),
                "cuda_fill",
                "");
    }

    /**
     * Applies a function of one argument ({@link CpuTensorOps#unary}'s contract).
     *
     * @param stream the stream
     * @param op the function
     * @param type the input dtype
     * @param shape the shape
     * @param x the input address
     * @param xStrides the input strides
     * @param scalar the exponent of {@link Unary#POW_SCALAR}
     * @param out the contiguous output address
     */
    public static void unary(
            long stream,
            Unary op,
            TensorDType type,
            long[] shape,
            long x,
            long[] xStrides,
            double scalar,
            long out) {
        check(
                CudaTensorLibrary.mops_cuda_unary(
                        stream,
                        op.ordinal(),
                        type.code(),
                        shape.length,
                        shape,
                        x,
                        xStrides,
                        scalar,
                        out),
                "cuda_unary " + op,
                shape);
    }

    /**
     * Applies a function of two arguments over a broadcast shape ({@link CpuTensorOps#binary}'s
     * contract).
     *
     * @param stream the stream
     * @param op the function
     * @param type the dtype of both inputs
     * @param shape the broadcast shape
     * @param a the first input
     * @param aStrides its strides over the broadcast shape
     * @param b the second input
     * @param bStrides its strides over the broadcast shape
     * @param out the contiguous output address
     */
    public static void binary(
            long stream,
            Binary op,
            TensorDType type,
            long[] shape,
            long a,
            long[] aStrides,
            long b,
            long[] bStrides,
            long out) {
        check(
                CudaTensorLibrary.mops_cuda_binary(
                        stream,
                        op.ordinal(),
                        type.code(),
                        shape.length,
                        shape,
                        a,
                        aStrides,
                        b,
                        bStrides,
                        out),
                "cuda_binary " + op,
                shape);
    }

    /**
     * Selects {@code cond ? a : b} over a broadcast shape.
     *
     * @param stream the stream
     * @param type the dtype of a and b
     * @param shape the broadcast shape
     * @param cond the boolean condition
     * @param condStrides its strides
     * @param a the values where true
     * @param aStrides its strides
     * @param b the values where false
     * @param bStrides its strides
     * @param out the contiguous output address
     */
    public static void where(
            long stream,
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
                CudaTensorLibrary.mops_cuda_where(
                        stream,
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
                "cuda_where",
                shape);
    }

    /**
     * Reduces the middle axis of a contiguous {@code [outer, n, inner]} array.
     *
     * @param stream the stream
     * @param op the reduction
     * @param type the dtype
     * @param x the input
     * @param outer the product of the leading dimensions
     * @param n the reduced dimension
     * @param inner the product of the trailing dimensions
     * @param out the {@code [outer, inner]} output
     */
    public static void reduce(
            long stream,
            Reduce op,
            TensorDType type,
            long x,
            long outer,
            long n,
            long inner,
            long out) {
        check(
                CudaTensorLibrary.mops_cuda_reduce(
                        stream, op.ordinal(), type.code(), x, outer, n, inner, out),
                "cuda_reduce " + op,
                new long[] {outer, n, inner});
    }

    /**
     * Softmax or log-softmax over the middle axis of a contiguous {@code [outer, n, inner]}.
     *
     * @param stream the stream
     * @param type a floating-point dtype
     * @param x the input
     * @param outer the product of the leading dimensions
     * @param n the softmax dimension
     * @param inner the product of the trailing dimensions
     * @param log whether to return the log-softmax
     * @param out the output
     */
    public static void softmax(
            long stream,
            TensorDType type,
            long x,
            long outer,
            long n,
            long inner,
            boolean log,
            long out) {
        check(
                CudaTensorLibrary.mops_cuda_softmax(
                        stream, type.code(), x, outer, n, inner, log ? 1 : 0, out),
                log ? "cuda_log_softmax" : "cuda_softmax",
                new long[] {outer, n, inner});
    }

    /**
     * Inclusive cumulative sum over the middle axis of a contiguous {@code [outer, n, inner]}.
     *
     * @param stream the stream
     * @param type the dtype
     * @param x the input
     * @param outer the product of the leading dimensions
     * @param n the summed dimension
     * @param inner the product of the trailing dimensions
     * @param out the output
     */
    public static void cumsum(
            long stream, TensorDType type, long x, long outer, long n, long inner, long out) {
        check(
                CudaTensorLibrary.mops_cuda_cumsum(stream, type.code(), x, outer, n, inner, out),
                "cuda_cumsum",
                new long[] {outer, n, inner});
    }

    /**
     * Takes rows along the middle axis by int64 device indices; synchronises once to report an
     * index out of range.
     *
     * @param stream the stream
     * @param type the dtype
     * @param x the contiguous {@code [outer, n, inner]} input
     * @param outer the product of the leading dimensions
     * @param n the indexed dimension
     * @param inner the product of the trailing dimensions
     * @param indices the device address of {@code count} int64 indices
     * @param count the number of indices
     * @param out the {@code [outer, count, inner]} output
     */
    public static void take(
            long stream,
            TensorDType type,
            long x,
            long outer,
            long n,
            long inner,
            long indices,
            long count,
            long out) {
        check(
                CudaTensorLibrary.mops_cuda_take(
                        stream, type.code(), x, outer, n, inner, indices, count, out),
                "cuda_take",
                new long[] {outer, n, inner});
    }

    /**
     * The k largest or smallest elements along the middle axis, sorted, with their indices.
     *
     * @param stream the stream
     * @param type the dtype
     * @param x the contiguous {@code [outer, n, inner]} input
     * @param outer the product of the leading dimensions
     * @param n the searched dimension
     * @param inner the product of the trailing dimensions
     * @param k how many to keep
     * @param largest true for the largest
     * @param values the {@code [outer, k, inner]} values output
     * @param indices the {@code [outer, k, inner]} int64 indices output
     */
    public static void topK(
            long stream,
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
                CudaTensorLibrary.mops_cuda_topk(
                        stream,
                        type.code(),
                        x,
                        outer,
                        n,
                        inner,
                        k,
                        largest ? 1 : 0,
                        values,
                        indices),
                "cuda_topk",
                new long[] {outer, n, inner});
    }

    /**
     * Loads cuBLASLt (run-time binding) if it is not loaded yet.
     *
     * @throws NativeOpException with {@link Status#UNSUPPORTED} and the loader's message when
     *     {@code libcublasLt.so.13} cannot be found
     */
    public static void loadGemm() {
        check(CudaTensorLibrary.mops_cuda_gemm_load(), "cuda_gemm_load", "");
    }

    /**
     * Batched matrix product {@code out[b] = a[b] * b[b]} through cuBLASLt with float32
     * accumulation ({@link CpuTensorOps#matmul}'s contract).
     *
     * @param stream the stream
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
     * @param allowTf32 whether float32 products may use TF32 tensor cores (less exact)
     */
    public static void matmul(
            long stream,
            TensorDType type,
            long batch,
            long m,
            long n,
            long k,
            long a,
            long[] aStrides,
            long b,
            long[] bStrides,
            long out,
            boolean allowTf32) {
        check(
                CudaTensorLibrary.mops_cuda_matmul(
                        stream,
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
                        out,
                        allowTf32 ? 1 : 0),
                "cuda_matmul",
                new long[] {batch, m, n, k});
    }

    /**
     * A decoding layer's pre-norm fused with its first projection ({@code
     * mops_cuda_rms_norm_linear}): {@code out[r, j] = sum_i round(x[r, i] * inv_r * g[i]) * w[j,
     * i]} with {@code inv_r = 1 / sqrt(mean_i(x[r, i]^2) + eps)} and {@code round} the rounding to
     * the dtype that the separate norm's output gets, on the GEMV of {@link #matmul}, the norm in
     * its prologue.
     *
     * @param stream the stream
     * @param type float32, float16 or bfloat16, shared by every operand
     * @param rows the rows of x and out, 1 to 4
     * @param n the rows of w: the columns of out
     * @param k the columns of x and w
     * @param x the address of x {@code [rows, k]}, 16-byte aligned
     * @param xRowStride the elements from one row of x to the next
     * @param normWeight the address of the norm's scale {@code [k]}, contiguous, 16-byte aligned
     * @param eps the epsilon added to the mean square
     * @param w the address of the weight {@code [n, k]}, 16-byte aligned
     * @param wRowStride the elements from one row of w to the next ({@code >= k})
     * @param out the contiguous {@code [rows, n]} output
     * @throws NativeOpException naming what was wrong, for operands the GEMV cannot read (k and the
     *     row strides must fill whole 16-byte vectors)
     */
    public static void rmsNormLinear(
            long stream,
            TensorDType type,
            long rows,
            long n,
            long k,
            long x,
            long xRowStride,
            long normWeight,
            float eps,
            long w,
            long wRowStride,
            long out) {
        check(
                CudaTensorLibrary.mops_cuda_rms_norm_linear(
                        stream,
                        type.code(),
                        rows,
                        n,
                        k,
                        x,
                        xRowStride,
                        normWeight,
                        eps,
                        w,
                        wRowStride,
                        out),
                "cuda_rms_norm_linear",
                new long[] {rows, n, k});
    }

    /**
     * A product added to another matrix, {@code out = addend + a b}, with any strides of {@code a}
     * and {@code b} ({@code mops_cuda_matmul_add}): a residual layer's last projection and its
     * residual add in one call. Where the GEMV of {@link #matmul} serves the product, bit for bit
     * {@link #linearAdd}; elsewhere cuBLASLt adds the addend in its epilogue, before the one
     * rounding of the output (the product then the add round twice: the results differ by at most
     * half a unit in the last place of the product in the dtype).
     *
     * @param stream the stream
     * @param type float32, float16 or bfloat16, shared by every operand
     * @param m the rows of a, addend and out
     * @param n the columns of b, addend and out
     * @param k the columns of a and rows of b
     * @param a the address of a {@code [m, k]}
     * @param aRowStride the elements from one row of a to the next
     * @param aColStride the elements from one column of a to the next
     * @param b the address of b {@code [k, n]}
     * @param bRowStride the elements from one row of b to the next
     * @param bColStride the elements from one column of b to the next
     * @param addend the address of the contiguous addend {@code [m, n]}, not overlapping out
     * @param out the contiguous {@code [m, n]} output
     * @throws NativeOpException naming what was wrong
     */
    public static void matmulAdd(
            long stream,
            TensorDType type,
            long m,
            long n,
            long k,
            long a,
            long aRowStride,
            long aColStride,
            long b,
            long bRowStride,
            long bColStride,
            long addend,
            long out) {
        check(
                CudaTensorLibrary.mops_cuda_matmul_add(
                        stream,
                        type.code(),
                        m,
                        n,
                        k,
                        a,
                        aRowStride,
                        aColStride,
                        b,
                        bRowStride,
                        bColStride,
                        addend,
                        out),
                "cuda_matmul_add",
                new long[] {m, n, k});
    }

    /**
     * A decoding layer's last projection fused with its residual add ({@code
     * mops_cuda_linear_add}): {@code out[r, j] = round(round(sum_i x[r, i] * w[j, i]) + addend[r,
     * j])}, each {@code round} the rounding to the dtype, on the GEMV of {@link #matmul}, the add
     * in its epilogue: bit for bit {@link #matmul} then the engine's add when both run the same
     * split of the GEMV.
     *
     * @param stream the stream
     * @param type float32, float16 or bfloat16, shared by every operand
     * @param rows the rows of x, addend and out, 1 to 4
     * @param n the rows of w: the columns of addend and out
     * @param k the columns of x and w
     * @param x the address of x {@code [rows, k]}, 16-byte aligned
     * @param xRowStride the elements from one row of x to the next
     * @param w the address of the weight {@code [n, k]}, 16-byte aligned
     * @param wRowStride the elements from one row of w to the next ({@code >= k})
     * @param addend the address of the addend {@code [rows, n]}, not overlapping out
     * @param addendRowStride the elements from one row of the addend to the next ({@code >= n})
     * @param out the contiguous {@code [rows, n]} output
     * @throws NativeOpException naming what was wrong, for operands the GEMV cannot read
     */
    public static void linearAdd(
            long stream,
            TensorDType type,
            long rows,
            long n,
            long k,
            long x,
            long xRowStride,
            long w,
            long wRowStride,
            long addend,
            long addendRowStride,
            long out) {
        check(
                CudaTensorLibrary.mops_cuda_linear_add(
                        stream,
                        type.code(),
                        rows,
                        n,
                        k,
                        x,
                        xRowStride,
                        w,
                        wRowStride,
                        addend,
                        addendRowStride,
                        out),
                "cuda_linear_add",
                new long[] {rows, n, k});
    }

    /**
     * Fused causal grouped-query attention with a KV cache (see {@code mops_cuda_attention}).
     *
     * @param stream the stream
     * @param type a floating-point dtype shared by q, k, v and out
     * @param dims {@code {batch, qHeads, kvHeads, qLen, kvLen, headDim, qOffset}}
     * @param scale the factor of the scores, usually {@code 1 / sqrt(headDim)}
     * @param q the queries {@code [batch, qHeads, qLen, headDim]}
     * @param qStrides its 4 strides (the last 1)
     * @param k the keys {@code [batch, kvHeads, kvLen, headDim]}
     * @param kStrides its 4 strides
     * @param v the values, shaped like k
     * @param vStrides its 4 strides
     * @param out the output, shaped like q
     * @param outStrides its 4 strides
     */
    public static void attention(
            long stream,
            TensorDType type,
            long[] dims,
            float scale,
            long q,
            long[] qStrides,
            long k,
            long[] kStrides,
            long v,
            long[] vStrides,
            long out,
            long[] outStrides) {
        check(
                CudaTensorLibrary.mops_cuda_attention(
                        stream,
                        type.code(),
                        dims[0],
                        dims[1],
                        dims[2],
                        dims[3],
                        dims[4],
                        dims[5],
                        dims[6],
                        scale,
                        q,
                        qStrides,
                        k,
                        kStrides,
                        v,
                        vStrides,
                        out,
                        outStrides),
                "cuda_attention",
                Arrays.toString(dims));
    }

    /**
     * Chooses one token per row of logits by temperature, top-k, top-p and min-p from one draw per
     * row, as {@link CpuTensorOps#sampleTokens} does ({@code mops_cuda_sample_tokens}).
     *
     * @param stream the stream
     * @param type the logits' dtype (float32, float16 or bfloat16)
     * @param logits the device {@code [rows, vocab]} logits, rows {@code rowStride} elements apart
     * @param rows the number of rows
     * @param vocab the number of logits in a row
     * @param rowStride the elements from one row to the next
     * @param settings how to choose
     * @param draws the device int64 {@code [rows]} draws: {@code u * 2^53} for a u in [0, 1)
     * @param tokens the device int64 {@code [rows]} output
     */
    public static void sampleTokens(
            long stream,
            TensorDType type,
            long logits,
            long rows,
            long vocab,
            long rowStride,
            SamplingSettings settings,
            long draws,
            long tokens) {
        check(
                CudaTensorLibrary.mops_cuda_sample_tokens(
                        stream,
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
                "cuda_sample_tokens",
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
                    op, Status.of(status), CudaTensorLibrary.mops_cuda_last_error(), shapes);
        }
    }
}
