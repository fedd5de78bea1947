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

#define MOPS_ABI_VERSION 1

#ifdef __cplusplus
}
#endif

#endif /* MAMBAOPS_H */
