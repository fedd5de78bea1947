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

/*
 * The cache of freed host blocks. mops_cpu_host_free keeps a freed block (header included) for
 * reuse by a later mops_cpu_host_alloc of the same rounded size, as long as the cached blocks stay
 * within the limit, dropping the least recently freed ones first; cached blocks are not counted by
 * mops_cpu_host_in_use. The limit starts at 0 (no cache). Thread-safe.
 */

/** Sets the most bytes the cache may hold (0 turns it off), freeing the oldest blocks above it. */
MOPS_API int32_t mops_cpu_host_cache_limit(int64_t limit_bytes);

/** Frees the least recently freed cached blocks until at most keep_bytes stay cached. */
MOPS_API int32_t mops_cpu_host_cache_trim(int64_t keep_bytes);

/**
 * The cache's figures into stats[0..4]: bytes cached (headers included), blocks cached, allocations
 * served from the cache, allocations that were not, and the limit.
 */
MOPS_API int32_t mops_cpu_host_cache_stats(int64_t *stats);

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

/**
 * Chooses one token per row of logits ([rows, vocab], rows row_stride elements apart; float32,
 * float16 or bfloat16) as a sampler with a temperature, top-k, top-p and min-p does, from one
 * draw per row: draws[r] is u * 2^53 for a u in [0, 1) (the integer behind java.util.Random's
 * nextDouble), so that the caller keeps the random stream and both libraries choose alike.
 *
 * The tokens of a row are ranked by logit, descending, ties by lower id. Top-k (top_k > 0) keeps
 * the first top_k of them. Each kept token weighs w = exp(logit / temperature - best) (the
 * division in float, the rest in double), held as round(w * 2^44), an integer. Top-p
 * (top_p < 1) keeps the shortest prefix whose weight reaches top_p times the kept weight (all of
 * it if rounding never reaches it); min-p (min_p > 0) then ends the prefix before the first token
 * after the best whose w is below min_p. The token chosen is the first of the prefix at which the
 * cumulative weight exceeds u times the prefix's weight (the last one if none does). tokens are
 * int64 [rows]. temperature must be positive and finite, top_k >= 0 (0: off), top_p in (0, 1]
 * (1: off), min_p in [0, 1] (0: off); a draw outside [0, 2^53) is an invalid argument.
 */
MOPS_API int32_t mops_cpu_sample_tokens(int32_t dtype, const void *logits, int64_t rows,
                                        int64_t vocab, int64_t row_stride, float temperature,
                                        int64_t top_k, float top_p, float min_p,
                                        const int64_t *draws, int64_t *tokens);

/* ========================================================= end of engine ops */

/* ------------------------------------------------------------------ CPU library */

/** The message of the last failed call on this thread ("" if none). */
MOPS_API const char *mops_last_error(void);

/** The ABI version; the Java side refuses a library whose version differs from its own. */
MOPS_API int32_t mops_abi_version(void);

/** A short description of the build and of the SIMD path chosen at run time. */
MOPS_API const char *mops_cpu_build_info(void);

/**
 * Caps the instruction set of the CPU kernels and engine ops at level (0 = baseline x86-64-v2,
 * 1 = AVX2/FMA, 2 = AVX-512F), for tests of every path on one machine; the CPU's own level is
 * never exceeded. A negative level changes nothing. Returns the level in effect, which all
 * threads use from the next call on.
 */
MOPS_API int32_t mops_cpu_isa_level(int32_t level);

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

/* ======================= SSM kernels, CPU (begin) ======================= */
/*
 * Conventions of the SSM kernels below (CPU and CUDA alike):
 *  - Tensors named in the storage dtype (u, delta, x, dt, B, C, z, out, weight) share one
 *    dtype; A, D, delta_bias/dt_bias and every state are float32, contiguous.
 *  - Strides are in elements, one per logical axis in the order of the shape given.
 *  - Channels are split into groups as in mamba_ssm: channel c (of `channels`) reads the
 *    B/C of group c / (channels / ngroups); Mamba-2 heads likewise share a group per
 *    nheads / ngroups consecutive heads.
 *  - dt (or delta) is first added its bias, then passed through softplus when softplus != 0
 *    (log1p(exp(v)), v when v > 20), then clamped to [dt_min, dt_max] (Mamba-2 only).
 *  - final state may alias initial state (it is written after the whole sequence is read).
 */

/**
 * One decoding step of the causal conv1d (causal_conv1d_update of mamba_ssm): for each
 * (b, d), out = act(bias[d] + sum_{k<width-1} weight[d,k] * conv_state[b,d,k]
 *                   + weight[d,width-1] * x[b,d]),
 * then conv_state[b,d,:] shifts left by one and receives x[b,d] as its last element.
 * x and out are [batch, dim] with explicit strides; conv_state [batch, dim, width-1] float32.
 */
MOPS_API int32_t mops_cpu_causal_conv1d_update(int32_t dtype, const void *x, int64_t batch,
                                               int64_t dim, int64_t x_batch_stride,
                                               int64_t x_dim_stride, const void *weight,
                                               int32_t width, const void *bias, float *conv_state,
                                               void *out, int64_t out_batch_stride,
                                               int64_t out_dim_stride, int32_t silu);

/**
 * Mamba-1 selective scan (selective_scan_fn of mamba_ssm, plus states in and out). For each
 * batch b, channel d (dim channels) and time t, with n < dstate and g = group of d:
 *   dt = softplus?(delta[b,d,t] + delta_bias[d])
 *   s[n] = s[n] * exp(dt * A[d,n]) + dt * B[b,g,n,t] * u[b,d,t]
 *   y = sum_n C[b,g,n,t] * s[n] + D[d] * u[b,d,t];  y *= silu(z[b,d,t]) when z is given
 *   out[b,d,t] = y
 * s starts at initial_state[b,d,:] (zeros when NULL) and ends in final_state[b,d,:].
 * u, delta, z, out: [batch, dim, seqlen] with strides (3 each); B, C: [batch, ngroups, dstate,
 * seqlen] with strides (4 each). A [dim, dstate]; D, delta_bias [dim] (optional);
 * states [batch, dim, dstate].
 */
MOPS_API int32_t mops_cpu_selective_scan(int32_t dtype, int64_t batch, int64_t dim, int64_t seqlen,
                                         int64_t dstate, int64_t ngroups, const void *u,
                                         const int64_t *u_strides, const void *delta,
                                         const int64_t *delta_strides, const float *A,
                                         const void *B, const int64_t *B_strides, const void *C,
                                         const int64_t *C_strides, const float *D, const void *z,
                                         const int64_t *z_strides, const float *delta_bias,
                                         int32_t softplus, const float *initial_state,
                                         float *final_state, void *out, const int64_t *out_strides);

/**
 * One decoding step of the Mamba-1 scan (selective_state_update of mamba_ssm): the scan above
 * with seqlen 1 whose state is read and written in place. x, dt, z, out: [batch, dim] with
 * strides (2 each); B, C: [batch, ngroups, dstate] with strides (3 each); state
 * [batch, dim, dstate] float32.
 */
MOPS_API int32_t mops_cpu_selective_state_update(
    int32_t dtype, int64_t batch, int64_t dim, int64_t dstate, int64_t ngroups, float *state,
    const void *x, const int64_t *x_strides, const void *dt, const int64_t *dt_strides,
    const float *A, const void *B, const int64_t *B_strides, const void *C,
    const int64_t *C_strides, const float *D, const void *z, const int64_t *z_strides,
    const float *dt_bias, int32_t softplus, void *out, const int64_t *out_strides);

/**
 * mops_cpu_selective_state_update with dt_proj folded in: instead of dt, the kernel computes
 *   dt[b,d] = round(sum_{r<dt_rank} dt_low[b,r] * dt_proj_weight[d,r])
 * itself, summed in float32 and rounded to dtype (round) before the bias and softplus, the value
 * that the separate product (mops_cpu_matmul / mops_cuda_matmul, dtype out) stores and the plain
 * update reads. Its sum is taken as the GEMV of that product takes it (on the CPU: the same
 * instruction set and order as the product of up to 4 rows; on CUDA: the order of the GEMV with
 * one warp per output column, where both rows start on 16 bytes and dt_rank fills whole 16-byte
 * vectors), so dt equals what that product stores, bit for bit; where the product takes another
 * path (cuBLASLt, the packed GEMM, a GEMV split over several warps) dt differs from it only by
 * the association of the float32 sum. dt_low: [batch, dt_rank] in dtype, batch stride
 * dt_low_batch_stride, the rank axis contiguous; dt_proj_weight: [dim, dt_rank] in dtype, row
 * stride dt_proj_row_stride, the rank axis contiguous; dt_rank > 0. The other arguments as in
 * mops_cpu_selective_state_update.
 */
MOPS_API int32_t mops_cpu_selective_state_update_projected(
    int32_t dtype, int64_t batch, int64_t dim, int64_t dstate, int64_t ngroups, float *state,
    const void *x, const int64_t *x_strides, const void *dt_low, int64_t dt_low_batch_stride,
    const void *dt_proj_weight, int64_t dt_proj_row_stride, int64_t dt_rank, const float *A,
    const void *B, const int64_t *B_strides, const void *C, const int64_t *C_strides,
    const float *D, const void *z, const int64_t *z_strides, const float *dt_bias, int32_t softplus,
    void *out, const int64_t *out_strides);

/**
 * Mamba-2 chunked SSD (mamba_chunk_scan_combined of mamba_ssm, plus states in and out). For
 * each batch b, head h (group g = h / (nheads / ngroups)), head channel p and time t:
 *   dt = clamp(softplus?(dt[b,t,h] + dt_bias[h]), dt_min, dt_max)
 *   s[p,n] = s[p,n] * exp(dt * A[h]) + dt * B[b,t,g,n] * x[b,t,h,p]
 *   y = sum_n C[b,t,g,n] * s[p,n] + D[h(,p)] * x[b,t,h,p];  y *= silu(z[b,t,h,p]) if z given
 * x, z, out: [batch, seqlen, nheads, headdim], strides (4 each); dt: [batch, seqlen, nheads],
 * strides (3); B, C: [batch, seqlen, ngroups, dstate], strides (4 each). A [nheads];
 * D [nheads] (d_per_channel = 0) or [nheads, headdim] (d_per_channel = 1), optional;
 * dt_bias [nheads] optional; states [batch, nheads, headdim, dstate]. chunk_size (> 0) is the
 * chunk length of a chunked (matrix-form) evaluation; the result does not depend on it, and
 * this version evaluates the recurrence step by step on both backends, so it is only checked.
 * Use dt_min = 0, dt_max = INFINITY for no limit.
 */
MOPS_API int32_t mops_cpu_ssd(int32_t dtype, int64_t batch, int64_t seqlen, int64_t nheads,
                              int64_t headdim, int64_t ngroups, int64_t dstate, int64_t chunk_size,
                              const void *x, const int64_t *x_strides, const void *dt,
                              const int64_t *dt_strides, const float *A, const void *B,
                              const int64_t *B_strides, const void *C, const int64_t *C_strides,
                              const float *D, int32_t d_per_channel, const void *z,
                              const int64_t *z_strides, const float *dt_bias, int32_t softplus,
                              float dt_min, float dt_max, const float *initial_states,
                              float *final_states, void *out, const int64_t *out_strides);

/**
 * One decoding step of Mamba-2 (selective_state_update with heads): the SSD above with
 * seqlen 1, state read and written in place. x, z, out: [batch, nheads, headdim], strides
 * (3 each); dt: [batch, nheads], strides (2); B, C: [batch, ngroups, dstate], strides (3
 * each); state [batch, nheads, headdim, dstate] float32.
 */
MOPS_API int32_t mops_cpu_ssd_state_update(
    int32_t dtype, int64_t batch, int64_t nheads, int64_t headdim, int64_t ngroups, int64_t dstate,
    float *state, const void *x, const int64_t *x_strides, const void *dt,
    const int64_t *dt_strides, const float *A, const void *B, const int64_t *B_strides,
    const void *C, const int64_t *C_strides, const float *D, int32_t d_per_channel, const void *z,
    const int64_t *z_strides, const float *dt_bias, int32_t softplus, float dt_min, float dt_max,
    void *out, const int64_t *out_strides);

/**
 * Gated RMSNorm (RMSNormGated of mamba_ssm, MambaRMSNormGated of transformers) over rows of
 * `hidden` elements split into groups of group_size (hidden % group_size == 0):
 *   norm_before_gate = 0: v = x * silu(z), out = v / sqrt(mean_group(v^2) + eps) * weight
 *   norm_before_gate = 1: out = x / sqrt(mean_group(x^2) + eps) * weight * silu(z)
 * z is optional (no gate). x, z, out are [rows, hidden] with row strides (elements inside a
 * row are contiguous); weight [hidden].
 */
MOPS_API int32_t mops_cpu_rms_norm_gated(int32_t dtype, int64_t rows, int64_t hidden,
                                         int64_t group_size, const void *x, int64_t x_row_stride,
                                         const void *z, int64_t z_row_stride, const void *weight,
                                         float eps, int32_t norm_before_gate, void *out,
                                         int64_t out_row_stride);

/**
 * RMSNorm fused with the residual add (layer_norm_fn of mamba_ssm with prenorm):
 *   r = x + residual (r = x when residual is NULL), residual_out = r,
 *   out = r / sqrt(mean(r^2) + eps) * weight
 * x, out, weight in dtype; residual and residual_out in residual_dtype (float32, or dtype);
 * the sum is rounded to residual_dtype before the norm reads it. residual_out may alias
 * residual and may be NULL. All tensors are contiguous [rows, hidden] (weight [hidden]).
 */
MOPS_API int32_t mops_cpu_add_rms_norm(int32_t dtype, int64_t rows, int64_t hidden, const void *x,
                                       const void *residual, int32_t residual_dtype,
                                       const void *weight, float eps, void *out,
                                       void *residual_out);

/**
 * Copies `bytes` bytes from src to dst (non-overlapping) with all OpenMP threads: the memory
 * floor that the kernel benchmarks are measured against.
 */
MOPS_API int32_t mops_cpu_memcpy(void *dst, const void *src, int64_t bytes);

/* ======================= SSM kernels, CPU (end) ========================= */

/* ----------------------------------------------------------------- CUDA library */

/** The message of the last failed CUDA-library call on this thread ("" if none). */
MOPS_API const char *mops_cuda_last_error(void);

/** The ABI version of the CUDA library. */
MOPS_API int32_t mops_cuda_abi_version(void);

/** Number of CUDA devices usable by this library (0 when no driver or GPU is present). */
MOPS_API int32_t mops_cuda_device_count(int32_t *count);

/** Same contract as mops_cpu_causal_conv1d; all pointers are device pointers. */
MOPS_API int32_t mops_cuda_causal_conv1d(void *stream, int32_t dtype, const void *x, int64_t batch,
                                         int64_t dim, int64_t seqlen, int64_t x_batch_stride,
                                         int64_t x_dim_stride, int64_t x_time_stride,
                                         const void *weight, int32_t width, const void *bias,
                                         const float *initial_state, float *final_state, void *out,
                                         int64_t out_batch_stride, int64_t out_dim_stride,
                                         int64_t out_time_stride, int32_t silu);

/* ======================= SSM kernels, CUDA (begin) ====================== */
/* Same contracts as the mops_cpu_* functions of the same name; device pointers; stride
 * arrays are host memory (read before the call returns). Queued on `stream`. */

MOPS_API int32_t mops_cuda_causal_conv1d_update(void *stream, int32_t dtype, const void *x,
                                                int64_t batch, int64_t dim, int64_t x_batch_stride,
                                                int64_t x_dim_stride, const void *weight,
                                                int32_t width, const void *bias, float *conv_state,
                                                void *out, int64_t out_batch_stride,
                                                int64_t out_dim_stride, int32_t silu);

MOPS_API int32_t mops_cuda_selective_scan(
    void *stream, int32_t dtype, int64_t batch, int64_t dim, int64_t seqlen, int64_t dstate,
    int64_t ngroups, const void *u, const int64_t *u_strides, const void *delta,
    const int64_t *delta_strides, const float *A, const void *B, const int64_t *B_strides,
    const void *C, const int64_t *C_strides, const float *D, const void *z,
    const int64_t *z_strides, const float *delta_bias, int32_t softplus, const float *initial_state,
    float *final_state, void *out, const int64_t *out_strides);

MOPS_API int32_t mops_cuda_selective_state_update(
    void *stream, int32_t dtype, int64_t batch, int64_t dim, int64_t dstate, int64_t ngroups,
    float *state, const void *x, const int64_t *x_strides, const void *dt,
    const int64_t *dt_strides, const float *A, const void *B, const int64_t *B_strides,
    const void *C, const int64_t *C_strides, const float *D, const void *z,
    const int64_t *z_strides, const float *dt_bias, int32_t softplus, void *out,
    const int64_t *out_strides);

MOPS_API int32_t mops_cuda_selective_state_update_projected(
    void *stream, int32_t dtype, int64_t batch, int64_t dim, int64_t dstate, int64_t ngroups,
    float *state, const void *x, const int64_t *x_strides, const void *dt_low,
    int64_t dt_low_batch_stride, const void *dt_proj_weight, int64_t dt_proj_row_stride,
    int64_t dt_rank, const float *A, const void *B, const int64_t *B_strides, const void *C,
    const int64_t *C_strides, const float *D, const void *z, const int64_t *z_strides,
    const float *dt_bias, int32_t softplus, void *out, const int64_t *out_strides);

MOPS_API int32_t mops_cuda_ssd(void *stream, int32_t dtype, int64_t batch, int64_t seqlen,
                               int64_t nheads, int64_t headdim, int64_t ngroups, int64_t dstate,
                               int64_t chunk_size, const void *x, const int64_t *x_strides,
                               const void *dt, const int64_t *dt_strides, const float *A,
                               const void *B, const int64_t *B_strides, const void *C,
                               const int64_t *C_strides, const float *D, int32_t d_per_channel,
                               const void *z, const int64_t *z_strides, const float *dt_bias,
                               int32_t softplus, float dt_min, float dt_max,
                               const float *initial_states, float *final_states, void *out,
                               const int64_t *out_strides);

MOPS_API int32_t mops_cuda_ssd_state_update(
    void *stream, int32_t dtype, int64_t batch, int64_t nheads, int64_t headdim, int64_t ngroups,
    int64_t dstate, float *state, const void *x, const int64_t *x_strides, const void *dt,
    const int64_t *dt_strides, const float *A, const void *B, const int64_t *B_strides,
    const void *C, const int64_t *C_strides, const float *D, int32_t d_per_channel, const void *z,
    const int64_t *z_strides, const float *dt_bias, int32_t softplus, float dt_min, float dt_max,
    void *out, const int64_t *out_strides);

MOPS_API int32_t mops_cuda_rms_norm_gated(void *stream, int32_t dtype, int64_t rows, int64_t hidden,
                                          int64_t group_size, const void *x, int64_t x_row_stride,
                                          const void *z, int64_t z_row_stride, const void *weight,
                                          float eps, int32_t norm_before_gate, void *out,
                                          int64_t out_row_stride);

MOPS_API int32_t mops_cuda_add_rms_norm(void *stream, int32_t dtype, int64_t rows, int64_t hidden,
                                        const void *x, const void *residual, int32_t residual_dtype,
                                        const void *weight, float eps, void *out,
                                        void *residual_out);

/* Device-memory helpers for tests and benchmarks (stream-ordered). */
/** cudaMallocAsync of `bytes` on `stream`; *ptr receives the device pointer. */
MOPS_API int32_t mops_cuda_malloc(void *stream, int64_t bytes, void **ptr);
/** cudaFreeAsync on `stream` (NULL ptr: no-op). */
MOPS_API int32_t mops_cuda_free(void *stream, void *ptr);
/** Asynchronous host-to-device copy of `bytes` on `stream`. */
MOPS_API int32_t mops_cuda_memcpy_h2d(void *stream, void *dst, const void *src, int64_t bytes);
/** Asynchronous device-to-host copy of `bytes` on `stream`. */
MOPS_API int32_t mops_cuda_memcpy_d2h(void *stream, void *dst, const void *src, int64_t bytes);
/** Asynchronous device-to-device copy of `bytes` on `stream` (the GPU memory floor). */
MOPS_API int32_t mops_cuda_memcpy_d2d(void *stream, void *dst, const void *src, int64_t bytes);
/** Creates a non-blocking stream; *stream receives it. */
MOPS_API int32_t mops_cuda_stream_create(void **stream);
/** Destroys a stream created by mops_cuda_stream_create. */
MOPS_API int32_t mops_cuda_stream_destroy(void *stream);
/** Waits until all work queued on `stream` has finished (the only synchronising call). */
MOPS_API int32_t mops_cuda_stream_synchronize(void *stream);

/* ======================= SSM kernels, CUDA (end) ======================== */

/* ============================================================ engine ops (CUDA library)
 * The CUDA twins of the engine ops of the CPU library (same dtypes, same op codes, same shape
 * conventions and the same results up to floating-point rounding), behind the DJL engine "Mamba"
 * for arrays on a GPU. Tensor pointers are device pointers; shape and stride arrays are host
 * memory, read before the call returns. Every function queues its work on `stream` (which must
 * not be NULL: it also names the device, made current for the call) and returns without
 * synchronising unless it says so. Device memory comes from one stream-ordered pool per device
 * (cudaMallocFromPoolAsync / cudaFreeAsync) whose release threshold keeps freed memory for reuse,
 * so neither allocation nor release synchronises; mops_cuda_engine_pool_trim returns it.
 */

/** Creates a non-blocking stream on `device`; *stream receives it (mops_cuda_stream_destroy). */
MOPS_API int32_t mops_cuda_engine_stream_create(int32_t device, void **stream);

/** Allocates bytes (zeroed when zero != 0) of the stream's device from the engine pool. */
MOPS_API int32_t mops_cuda_engine_alloc(void *stream, int64_t bytes, int32_t zero, void **out);

/** Returns memory from mops_cuda_engine_alloc to the pool in stream order (NULL is ignored). */
MOPS_API int32_t mops_cuda_engine_free(void *stream, void *ptr);

/** Bytes and blocks of `device` allocated by mops_cuda_engine_alloc and not yet freed. */
MOPS_API int32_t mops_cuda_engine_in_use(int32_t device, int64_t *bytes, int64_t *blocks);

/**
 * The engine pool of `device`: bytes reserved from the driver and bytes handed out; free and
 * total device memory (cudaMemGetInfo).
 */
MOPS_API int32_t mops_cuda_engine_pool_stats(int32_t device, int64_t *reserved, int64_t *used,
                                             int64_t *free_bytes, int64_t *total_bytes);

/**
 * The high-water marks of `device` since the last reset: bytes in use in the engine pool and in
 * the memory of recorded graphs (cudaMemPoolAttrUsedMemHigh, cudaGraphMemAttrUsedMemHigh); with
 * reset != 0 both restart from what is in use now.
 */
MOPS_API int32_t mops_cuda_engine_pool_high(int32_t device, int32_t reset, int64_t *pool_used_high,
                                            int64_t *graph_used_high);

/** Synchronises `device` and releases pooled memory above keep_bytes to the driver. */
MOPS_API int32_t mops_cuda_engine_pool_trim(int32_t device, int64_t keep_bytes);

/**
 * Starts recording the work queued on an engine `stream` into a CUDA graph (stream capture, mode
 * thread-local) instead of running it. While it records, engine allocations on the stream belong
 * to the graph, host transfers and synchronisation of the stream are refused (they could not be
 * replayed), and mops_cuda_take skips its host-side index check.
 */
MOPS_API int32_t mops_cuda_graph_begin(void *stream);

/**
 * Ends the recording of mops_cuda_graph_begin on `stream`. With discard == 0 the graph is
 * instantiated (each launch frees the allocations the previous launch left live and makes them
 * again at the same addresses) and launched once on `launch_stream` (the stream whose work it
 * follows; the recording stream may be a private one), which runs the recorded step; *exec
 * receives it for mops_cuda_graph_launch. With discard != 0, or when the recording failed (an
 * error is returned), nothing runs, the recording's allocations are forgotten (never free them)
 * and *exec is NULL.
 */
MOPS_API int32_t mops_cuda_graph_end(void *stream, void *launch_stream, int32_t discard,
                                     void **exec);

/** Launches a graph of mops_cuda_graph_end on `stream` (asynchronous). */
MOPS_API int32_t mops_cuda_graph_launch(void *exec, void *stream);

/** Destroys a graph of mops_cuda_graph_end (NULL is ignored). Its live outputs stay allocated. */
MOPS_API int32_t mops_cuda_graph_destroy(void *exec);

/** Asynchronous copy of `bytes` between host and device memory (to_device != 0: host to device). */
MOPS_API int32_t mops_cuda_engine_transfer(void *stream, void *dst, const void *src, int64_t bytes,
                                           int32_t to_device);

/** Same contract as mops_cpu_copy, device pointers (within one device). */
MOPS_API int32_t mops_cuda_copy(void *stream, int32_t rank, const int64_t *shape, int32_t src_dtype,
                                const void *src, const int64_t *src_strides, int32_t dst_dtype,
                                void *dst, const int64_t *dst_strides);

/** Same contract as mops_cpu_fill. */
MOPS_API int32_t mops_cuda_fill(void *stream, int32_t dtype, void *dst, int64_t count,
                                double value);

/** Same contract as mops_cpu_unary. */
MOPS_API int32_t mops_cuda_unary(void *stream, int32_t op, int32_t dtype, int32_t rank,
                                 const int64_t *shape, const void *x, const int64_t *x_strides,
                                 double scalar, void *out);

/** Same contract as mops_cpu_binary. */
MOPS_API int32_t mops_cuda_binary(void *stream, int32_t op, int32_t dtype, int32_t rank,
                                  const int64_t *shape, const void *a, const int64_t *a_strides,
                                  const void *b, const int64_t *b_strides, void *out);

/** Same contract as mops_cpu_where. */
MOPS_API int32_t mops_cuda_where(void *stream, int32_t dtype, int32_t rank, const int64_t *shape,
                                 const void *cond, const int64_t *cond_strides, const void *a,
                                 const int64_t *a_strides, const void *b, const int64_t *b_strides,
                                 void *out);

/** Same contract as mops_cpu_reduce (sums and products accumulate in double). */
MOPS_API int32_t mops_cuda_reduce(void *stream, int32_t op, int32_t dtype, const void *x,
                                  int64_t outer, int64_t n, int64_t inner, void *out);

/** Same contract as mops_cpu_softmax. */
MOPS_API int32_t mops_cuda_softmax(void *stream, int32_t dtype, const void *x, int64_t outer,
                                   int64_t n, int64_t inner, int32_t log, void *out);

/** Same contract as mops_cpu_cumsum. */
MOPS_API int32_t mops_cuda_cumsum(void *stream, int32_t dtype, const void *x, int64_t outer,
                                  int64_t n, int64_t inner, void *out);

/**
 * Same contract as mops_cpu_take; indices are device memory. An index outside [-n, n) is an
 * invalid argument: to report it this function synchronises the stream once.
 */
MOPS_API int32_t mops_cuda_take(void *stream, int32_t dtype, const void *x, int64_t outer,
                                int64_t n, int64_t inner, const int64_t *indices, int64_t count,
                                void *out);

/** Same contract as mops_cpu_topk (same order, ties by lower index). */
MOPS_API int32_t mops_cuda_topk(void *stream, int32_t dtype, const void *x, int64_t outer,
                                int64_t n, int64_t inner, int64_t k, int32_t largest, void *values,
                                int64_t *indices);

typedef enum {
    MOPS_GEMV_MEASURE = 0, /* time cuBLASLt and the GEMV's splits on a shape's first use */
    MOPS_GEMV_ALWAYS = 1,  /* the GEMV wherever it applies, split by a rule of thumb (tests) */
    MOPS_GEMV_NEVER = 2    /* cuBLASLt only */
} mops_gemv_mode;

/** Chooses how mops_cuda_matmul picks between its GEMV and cuBLASLt (process-wide). */
MOPS_API int32_t mops_cuda_gemv_mode(int32_t mode);

/**
 * Loads cuBLASLt (dlopen of libcublasLt.so.13, then libcublasLt.so) if not loaded yet; returns
 * MOPS_ERR_UNSUPPORTED with the loader's messages when it cannot be found.
 */
MOPS_API int32_t mops_cuda_gemm_load(void);

/**
 * Same contract as mops_cpu_matmul, through cuBLASLt (bound at run time): float32 in full
 * float32 precision unless allow_tf32 != 0; float16/bfloat16 with float32 accumulation (split-K
 * partial sums included). Operands with a unit row or column stride are read in place; others
 * are first copied to a contiguous buffer from the pool. A product of 1 to 4 rows by a transposed
 * weight (decoding's linears, 16-byte aligned rows) may run as the engine's own GEMV instead
 * (1, 2, 4 or 8 warps per output column): by default whichever of cuBLASLt and the GEMV's splits
 * was fastest when the shape was first timed (outside a graph recording; each candidate run with
 * the L2 cache refilled by other data first, as a decoding step finds it), see
 * mops_cuda_gemv_mode.
 */
MOPS_API int32_t mops_cuda_matmul(void *stream, int32_t dtype, int64_t batch, int64_t m, int64_t n,
                                  int64_t k, const void *a, int64_t a_batch_stride,
                                  int64_t a_row_stride, int64_t a_col_stride, const void *b,
                                  int64_t b_batch_stride, int64_t b_row_stride,
                                  int64_t b_col_stride, void *out, int32_t allow_tf32);

/**
 * A decoding layer's pre-norm fused with its first projection: the RMSNorm of each of 1 to 4 rows
 * in the prologue of the GEMV of mops_cuda_matmul,
 *   out[r, j] = sum_i round(x[r, i] * inv_r * norm_weight[i]) * w[j, i],
 *   inv_r = 1 / sqrt(mean_i(x[r, i]^2) + eps),
 * where round() is the rounding to dtype (none for float32) of the separate norm's output
 * (mops_cuda_rms_norm_gated without gate, one group), so the result is that of the norm followed
 * by mops_cuda_matmul up to the order of the norm's sum of squares (float32, like the product's
 * sums). x: [rows, k] with row stride x_row_stride; w: [n, k] with row stride w_row_stride;
 * norm_weight [k] contiguous; out contiguous [rows, n]; all in dtype (float32, float16 or
 * bfloat16). x, w and norm_weight must start on 16 bytes and rows hold whole 16-byte vectors
 * (k, x_row_stride and w_row_stride times the element size multiples of 16, w_row_stride >= k);
 * otherwise the call is an invalid argument, and the caller runs the norm and the product apart.
 * Each block of the GEMV stages the normalised rows in shared memory: rows * k * element size
 * beyond 96 KiB, the norm runs as its own kernel first (into pool memory), then the product.
 * The warps per output column: those measured for the plain product of this shape when it ran
 * on the GEMV, else this function's own, timed on the shape's first use as mops_cuda_matmul times
 * its own (the default split while a graph records, and in the modes ALWAYS and NEVER of
 * mops_cuda_gemv_mode: the fused forms always run on the GEMV, cuBLASLt cannot fuse them). out
 * must not overlap the inputs.
 */
MOPS_API int32_t mops_cuda_rms_norm_linear(void *stream, int32_t dtype, int64_t rows, int64_t n,
                                           int64_t k, const void *x, int64_t x_row_stride,
                                           const void *norm_weight, float eps, const void *w,
                                           int64_t w_row_stride, void *out);

/**
 * A decoding layer's last projection fused with its residual add: the GEMV of
 * mops_cuda_rms_norm_linear without the norm, whose epilogue adds the addend,
 *   out[r, j] = round(round(sum_i x[r, i] * w[j, i]) + addend[r, j]),
 * each round() the rounding to dtype, so the result is that of mops_cuda_matmul followed by the
 * engine's add, bit for bit, when both run the same warps per column. addend: [rows, n] in dtype
 * with row stride addend_row_stride (>= n), not overlapping out. The other arguments, their
 * requirements and the choice of the split are those of mops_cuda_rms_norm_linear.
 */
MOPS_API int32_t mops_cuda_linear_add(void *stream, int32_t dtype, int64_t rows, int64_t n,
                                      int64_t k, const void *x, int64_t x_row_stride, const void *w,
                                      int64_t w_row_stride, const void *addend,
                                      int64_t addend_row_stride, void *out);

/**
 * Fused causal grouped-query attention (flash-style online softmax; the q_len x kv_len scores
 * are never stored):
 *   out[b,h,i,:] = sum_{j <= q_offset + i} softmax_j(scale * q[b,h,i,:] . k[b,g,j,:]) v[b,g,j,:]
 * with g = h / (q_heads / kv_heads). q, out: [batch, q_heads, q_len, head_dim]; k, v: [batch,
 * kv_heads, kv_len, head_dim] (a KV cache holding q_offset earlier positions and the q_len new
 * ones: q_offset + q_len <= kv_len). Each tensor has 4 strides; the last one must be 1.
 * dtype is a floating-point mops_dtype shared by all four; accumulation in float32.
 * head_dim is at most 256.
 */
MOPS_API int32_t mops_cuda_attention(void *stream, int32_t dtype, int64_t batch, int64_t q_heads,
                                     int64_t kv_heads, int64_t q_len, int64_t kv_len,
                                     int64_t head_dim, int64_t q_offset, float scale, const void *q,
                                     const int64_t *q_strides, const void *k,
                                     const int64_t *k_strides, const void *v,
                                     const int64_t *v_strides, void *out,
                                     const int64_t *out_strides);

/**
 * Same contract as mops_cpu_sample_tokens, with logits, draws and tokens in device memory and the
 * same choices (the weights' sums are exact integers, so their order does not matter). The draws
 * are not read on the host: a draw outside [0, 2^53) is taken as the nearer end of the range.
 * rows must be below 2^31; a scratch of rows x vocab x 8 bytes comes from the engine pool.
 */
MOPS_API int32_t mops_cuda_sample_tokens(void *stream, int32_t dtype, const void *logits,
                                         int64_t rows, int64_t vocab, int64_t row_stride,
                                         float temperature, int64_t top_k, float top_p,
                                         float min_p, const int64_t *draws, int64_t *tokens);

/**
 * A product added to another matrix, out = addend + a b, for a [m, k] and b [k, n] with any strides
 * (b is typically the transposed view of an [n, k] weight: b_row_stride 1), addend and out
 * contiguous [m, n] in dtype (float32, float16 or bfloat16), not overlapping: a residual layer's
 * last projection and its residual add in one call. Where the engine's GEMV serves the product
 * (the rows of mops_cuda_matmul's GEMV), the add runs in its epilogue as in mops_cuda_linear_add,
 * bit for bit the product then the add; elsewhere (a prompt's rows) cuBLASLt's epilogue adds the
 * addend in float32 to the float32 product before the one rounding of out to dtype, where the
 * product then the add round twice: the two differ by the product's rounding, at most half a unit
 * in the last place of the product in dtype (none in float32, computed in full precision).
 */
MOPS_API int32_t mops_cuda_matmul_add(void *stream, int32_t dtype, int64_t m, int64_t n, int64_t k,
                                      const void *a, int64_t a_row_stride, int64_t a_col_stride,
                                      const void *b, int64_t b_row_stride, int64_t b_col_stride,
                                      const void *addend, void *out);

/* ========================================================= end of engine ops (CUDA library) */

#define MOPS_ABI_VERSION 5

#ifdef __cplusplus
}
#endif

#endif /* MAMBAOPS_H */
