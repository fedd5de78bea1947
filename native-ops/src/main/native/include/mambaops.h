/*
 * mambaops: the C ABI of mamba-djl's native kernels.
 *
 * Every function returns a status (MOPS_OK on success). On failure, mops_last_error()
 * (or mops_cuda_last_error() for the CUDA library) returns a thread-local message that
 * says what was wrong. No function throws across this boundary and none aborts.
 *
 * Conventions:
 *  - Sizes, strides and element offsets are int64_t counted in elements, never bytes.
 *  - dtype is one of mops_dtype. State and accumulation are always float32.
 *  - Optional pointers may be NULL; required ones give MOPS_ERR_INVALID_ARGUMENT when NULL.
 *  - The CPU library exports mops_cpu_*; the CUDA library exports mops_cuda_* and takes a
 *    cudaStream_t (as void*; NULL is the legacy default stream). CUDA kernels never
 *    synchronise the device unless the function says so.
 */
#ifndef MAMBAOPS_H
#define MAMBAOPS_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(_WIN32)
#define MOPS_API __declspec(dllexport)
#else
#define MOPS_API __attribute__((visibility("default")))
#endif

/** Status codes. */
typedef enum {
    MOPS_OK = 0,
    MOPS_ERR_INVALID_ARGUMENT = 1, /* bad shape, stride, dtype or NULL pointer */
    MOPS_ERR_UNSUPPORTED = 2,      /* a valid request this build cannot serve */
    MOPS_ERR_OUT_OF_MEMORY = 3,    /* host or device allocation failed */
    MOPS_ERR_CUDA = 4,             /* a CUDA runtime or driver error */
    MOPS_ERR_INTERNAL = 5          /* a bug: please report it */
} mops_status;

/** Storage dtypes of kernel inputs and outputs. */
typedef enum { MOPS_F32 = 0, MOPS_F16 = 1, MOPS_BF16 = 2 } mops_dtype;

/* ============================================================= engine ops (CPU library)
 * Generic tensor operations behind the DJL engine "Mamba" (engine-mamba): host memory,
 * strided copies and dtype conversion, elementwise arithmetic, reductions, softmax, GEMM,
 * gather, top-k. Tensors are described by a dtype (mops_tensor_dtype), a rank, a shape and
 * strides in elements; inputs may be any strided view (a stride of 0 broadcasts), outputs
 * are contiguous unless the function takes output strides. Ranks are at most MOPS_MAX_RANK.
 */

/** The largest rank the engine ops accept. */
#define MOPS_MAX_RANK 16

/** Element types of the engine ops: the three storage dtypes plus integers and booleans. */
typedef enum {
    MOPS_T_F32 = 0,  /* same code as MOPS_F32 */
    MOPS_T_F16 = 1,  /* same code as MOPS_F16 */
    MOPS_T_BF16 = 2, /* same code as MOPS_BF16 */
    MOPS_T_I32 = 3,
    MOPS_T_I64 = 4,
    MOPS_T_BOOL = 5 /* one byte, 0 or 1 */
} mops_tensor_dtype;

/** Elementwise functions of one argument (mops_cpu_unary). */
typedef enum {
    MOPS_UN_NEG = 0,
    MOPS_UN_ABS = 1,
    MOPS_UN_EXP = 2,
    MOPS_UN_LOG = 3,
    MOPS_UN_SQRT = 4,
    MOPS_UN_RSQRT = 5,
    MOPS_UN_SQUARE = 6,
    MOPS_UN_TANH = 7,
    MOPS_UN_SIGMOID = 8,
    MOPS_UN_SOFTPLUS = 9,
    MOPS_UN_SILU = 10,
    MOPS_UN_RELU = 11,
    MOPS_UN_POW_SCALAR = 12,  /* x ^ scalar */
    MOPS_UN_LOGICAL_NOT = 13, /* output bool */
    MOPS_UN_GELU = 14         /* exact (erf) GELU */
} mops_unary_op;

/** Elementwise functions of two arguments (mops_cpu_binary). */
typedef enum {
    MOPS_BIN_ADD = 0,
    MOPS_BIN_SUB = 1,
    MOPS_BIN_MUL = 2,
    MOPS_BIN_DIV = 3, /* floating-point dtypes only */
    MOPS_BIN_POW = 4, /* floating-point dtypes only */
    MOPS_BIN_MAX = 5,
    MOPS_BIN_MIN = 6,
    MOPS_BIN_EQ = 7, /* comparisons and logical ops write bool */
    MOPS_BIN_NE = 8,
    MOPS_BIN_GT = 9,
    MOPS_BIN_GE = 10,
    MOPS_BIN_LT = 11,
    MOPS_BIN_LE = 12,
    MOPS_BIN_AND = 13,
    MOPS_BIN_OR = 14,
    MOPS_BIN_XOR = 15
} mops_binary_op;

/** Reductions over one axis (mops_cpu_reduce). */
typedef enum {
    MOPS_RED_SUM = 0,
    MOPS_RED_MEAN = 1,
    MOPS_RED_MAX = 2,
    MOPS_RED_MIN = 3,
    MOPS_RED_PROD = 4,
    MOPS_RED_ARGMAX = 5, /* output int64, first index of the maximum */
    MOPS_RED_ARGMIN = 6  /* output int64, first index of the minimum */
} mops_reduce_op;

/** Allocates bytes of host memory aligned to 64 bytes (zeroed when zero != 0) into *out. */
MOPS_API int32_t mops_cpu_host_alloc(int64_t bytes, int32_t zero, void **out);

/** Frees memory from mops_cpu_host_alloc (NULL is ignored). */
MOPS_API int32_t mops_cpu_host_free(void *ptr);

/** Bytes currently allocated by mops_cpu_host_alloc and not yet freed, and the count of blocks. */
MOPS_API int32_t mops_cpu_host_in_use(int64_t *bytes, int64_t *blocks);

/**
 * Copies a strided view into another with dtype conversion (to bool: x != 0). Both src and dst
 * are addressed with their own strides over the same shape; dst may be a view of a larger
 * array (concatenation, transposition, broadcasting a stride-0 source).
 */
MOPS_API int32_t mops_cpu_copy(int32_t rank, const int64_t *shape, int32_t src_dtype,
                               const void *src, const int64_t *src_strides, int32_t dst_dtype,
                               void *dst, const int64_t *dst_strides);

/** Sets count contiguous elements of dst to value (converted to dtype). */
MOPS_API int32_t mops_cpu_fill(int32_t dtype, void *dst, int64_t count, double value);

/**
 * out = op(x) elementwise; out is contiguous of the given shape and has x's dtype (bool for
 * MOPS_UN_LOGICAL_NOT). Floating-point functions other than neg/abs/square/relu need a
 * floating-point dtype. scalar is the exponent of MOPS_UN_POW_SCALAR.
 */
MOPS_API int32_t mops_cpu_unary(int32_t op, int32_t dtype, int32_t rank, const int64_t *shape,
                                const void *x, const int64_t *x_strides, double scalar, void *out);

/**
 * out = op(a, b) elementwise over the broadcast shape; a and b share one dtype and are
 * addressed with strides over that shape (0 where broadcast). out is contiguous, of a's dtype
 * or bool for comparisons and logical operations.
 */
MOPS_API int32_t mops_cpu_binary(int32_t op, int32_t dtype, int32_t rank, const int64_t *shape,
                                 const void *a, const int64_t *a_strides, const void *b,
                                 const int64_t *b_strides, void *out);

/**
 * out = cond ? a : b over the shape; cond is bool, a and b share dtype; all addressed with
 * strides (0 where broadcast); out contiguous.
 */
MOPS_API int32_t mops_cpu_where(int32_t dtype, int32_t rank, const int64_t *shape, const void *cond,
                                const int64_t *cond_strides, const void *a,
                                const int64_t *a_strides, const void *b, const int64_t *b_strides,
                                void *out);

/**
 * Reduces the middle axis of a contiguous [outer, n, inner] array into [outer, inner]; sums
 * accumulate in double. out has x's dtype (int64 for argmax/argmin). n must be positive.
 */
MOPS_API int32_t mops_cpu_reduce(int32_t op, int32_t dtype, const void *x, int64_t outer, int64_t n,
                                 int64_t inner, void *out);

/** Softmax (log_softmax when log != 0) over the middle axis of a contiguous [outer, n, inner]. */
MOPS_API int32_t mops_cpu_softmax(int32_t dtype, const void *x, int64_t outer, int64_t n,
                                  int64_t inner, int32_t log, void *out);

/** Inclusive cumulative sum over the middle axis of a contiguous [outer, n, inner]. */
MOPS_API int32_t mops_cpu_cumsum(int32_t dtype, const void *x, int64_t outer, int64_t n,
                                 int64_t inner, void *out);

/**
 * Batched matrix product out[b] = a[b] (m x k) * b[b] (k x n), float32 accumulation, through a
 * packed, blocked GEMM (AVX2/FMA micro-kernel when the CPU has it) parallel with OpenMP. a and
 * b are addressed with batch, row and column strides (a batch stride of 0 reuses one matrix);
 * out is contiguous [batch, m, n]. dtype is a floating-point dtype shared by a, b and out.
 */
MOPS_API int32_t mops_cpu_matmul(int32_t dtype, int64_t batch, int64_t m, int64_t n, int64_t k,
                                 const void *a, int64_t a_batch_stride, int64_t a_row_stride,
                                 int64_t a_col_stride, const void *b, int64_t b_batch_stride,
                                 int64_t b_row_stride, int64_t b_col_stride, void *out);

/**
 * Takes rows along the middle axis: out[o, i, j] = x[o, indices[i], j] for a contiguous x of
 * [outer, n, inner] and count int64 indices (negative ones count from the end); an index
 * outside [-n, n) is an invalid argument.
 */
MOPS_API int32_t mops_cpu_take(int32_t dtype, const void *x, int64_t outer, int64_t n,
                               int64_t inner, const int64_t *indices, int64_t count, void *out);

/**
 * The k largest (smallest when largest == 0) elements along the middle axis of a contiguous
 * [outer, n, inner], sorted, with their int64 indices: values and indices are [outer, k, inner].
 * Ties keep the lower index first.
 */
MOPS_API int32_t mops_cpu_topk(int32_t dtype, const void *x, int64_t outer, int64_t n,
                               int64_t inner, int64_t k, int32_t largest, void *values,
                               int64_t *indices);

/* ========================================================= end of engine ops */

/* ------------------------------------------------------------------ CPU library */

/** The message of the last failed call on this thread ("" if none). */
MOPS_API const char *mops_last_error(void);

/** The ABI version; the Java side refuses a library whose version differs from its own. */
MOPS_API int32_t mops_abi_version(void);

/** A short description of the build and of the SIMD path chosen at run time. */
MOPS_API const char *mops_cpu_build_info(void);

/**
 * Depthwise causal 1-D convolution over the sequence axis, as causal_conv1d_fn of mamba_ssm:
 *   out[b, d, t] = act(bias[d] + sum_{k<width} weight[d, k] * xpad[b, d, t + k - (width - 1)])
 * where xpad holds initial_state[b, d, 0..width-2] before x[b, d, 0] (zeros when
 * initial_state is NULL) and act is SiLU when silu != 0, the identity otherwise.
 *
 * x and out are addressed with explicit strides (elements) along batch, dim and time, so
 * that [batch, seqlen, dim] and [batch, dim, seqlen] layouts work without copies.
 * weight is [dim, width] contiguous, bias [dim] (optional), initial_state and final_state
 * [batch, dim, width - 1] contiguous (both optional). final_state receives the last
 * width - 1 inputs of the padded sequence, ready to seed the next call or the update step.
 * width is 2, 3 or 4. final_state may alias initial_state.
 */
MOPS_API int32_t mops_cpu_causal_conv1d(int32_t dtype, const void *x, int64_t batch, int64_t dim,
                                        int64_t seqlen, int64_t x_batch_stride,
                                        int64_t x_dim_stride, int64_t x_time_stride,
                                        const void *weight, int32_t width, const void *bias,
                                        const float *initial_state, float *final_state, void *out,
                                        int64_t out_batch_stride, int64_t out_dim_stride,
                                        int64_t out_time_stride, int32_t silu);

/* ----------------------------------------------------------------- CUDA library */

/** The message of the last failed CUDA-library call on this thread ("" if none). */
MOPS_API const char *mops_cuda_last_error(void);

/** The ABI version of the CUDA library. */
MOPS_API int32_t mops_cuda_abi_version(void);

/** Number of CUDA devices usable by this library (0 when no driver or GPU is present). */
MOPS_API int32_t mops_cuda_device_count(int32_t *count);

/** Same contract as mops_cpu_causal_conv1d; all pointers are device pointers. */
MOPS_API int32_t mops_cuda_causal_conv1d(void *stream, int32_t dtype, const void *x,
                                         int64_t batch, int64_t dim, int64_t seqlen,
                                         int64_t x_batch_stride, int64_t x_dim_stride,
                                         int64_t x_time_stride, const void *weight, int32_t width,
                                         const void *bias, const float *initial_state,
                                         float *final_state, void *out, int64_t out_batch_stride,
                                         int64_t out_dim_stride, int64_t out_time_stride,
                                         int32_t silu);

#define MOPS_ABI_VERSION 1

#ifdef __cplusplus
}
#endif

#endif /* MAMBAOPS_H */
