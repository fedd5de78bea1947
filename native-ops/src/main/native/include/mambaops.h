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
MOPS_API int32_t mops_cpu_copy(void *dst, const void *src, int64_t bytes);

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

#define MOPS_ABI_VERSION 1

#ifdef __cplusplus
}
#endif

#endif /* MAMBAOPS_H */
