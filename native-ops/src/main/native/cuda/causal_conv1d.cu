// Depthwise causal conv1d on the GPU (see mops_cuda_causal_conv1d in mambaops.h).
// One thread per (batch, channel) row walks the sequence with a register window.
#include "conv_args.hpp"
#include "cuda_check.cuh"
#include "dtype.hpp"
#include "mambaops.h"
#include "status.hpp"

namespace mops {
namespace {

template <typename T>
__global__ void conv1d_rows_kernel(const T *x, int64_t batch, int64_t dim, int64_t seqlen,
                                   int64_t xs_b, int64_t xs_d, int64_t xs_t, const T *weight,
                                   int width, const T *bias, const float *initial_state,
                                   float *final_state, T *out, int64_t os_b, int64_t os_d,
                                   int64_t os_t, bool act) {
    const int64_t r = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
    if (r >= batch * dim) {
        return;
    }
    const int64_t b = r / dim;
    const int64_t d = r % dim;
    const int hist = width - 1;
    float w[4] = {0, 0, 0, 0};
    for (int k = 0; k < width; ++k) {
        w[k] = to_float(weight[d * width + k]);
    }
    const float bv = bias ? to_float(bias[d]) : 0.0f;
    float window[4] = {0, 0, 0, 0};
    if (initial_state) {
        for (int k = 0; k < hist; ++k) {
            window[k] = initial_state[r * hist + k];
        }
    }
    const T *xr = x + b * xs_b + d * xs_d;
    T *orow = out + b * os_b + d * os_d;
    for (int64_t t = 0; t < seqlen; ++t) {
        const float xv = to_float(xr[t * xs_t]);
        float acc = bv + w[hist] * xv;
        for (int k = 0; k < hist; ++k) {
            acc += w[k] * window[k];
        }
        for (int k = 0; k + 1 < hist; ++k) {
            window[k] = window[k + 1];
        }
        window[hist - 1] = xv;
        orow[t * os_t] = from_float<T>(act ? acc / (1.0f + __expf(-acc)) : acc);
    }
    if (final_state) {
        for (int k = 0; k < hist; ++k) {
            final_state[r * hist + k] = window[k];
        }
    }
}

} // namespace
} // namespace mops

extern "C" MOPS_API int32_t mops_cuda_causal_conv1d(
    void *stream, int32_t dtype, const void *x, int64_t batch, int64_t dim, int64_t seqlen,
    int64_t x_batch_stride, int64_t x_dim_stride, int64_t x_time_stride, const void *weight,
    int32_t width, const void *bias, const float *initial_state, float *final_state, void *out,
    int64_t out_batch_stride, int64_t out_dim_stride, int64_t out_time_stride, int32_t silu) {
    return mops::guarded("cuda_causal_conv1d", [&] {
        mops::check_conv_args(dtype, x, batch, dim, seqlen, weight, width, out);
        const int64_t rows = batch * dim;
        const int threads = 128;
        const int64_t blocks = (rows + threads - 1) / threads;
        mops::require(blocks < (1LL << 31), "too many rows for one launch");
        auto s = static_cast<cudaStream_t>(stream);
        mops::dispatch_dtype(dtype, [&](auto tag) {
            using T = decltype(tag);
            mops::conv1d_rows_kernel<T><<<static_cast<unsigned>(blocks), threads, 0, s>>>(
                static_cast<const T *>(x), batch, dim, seqlen, x_batch_stride, x_dim_stride,
                x_time_stride, static_cast<const T *>(weight), width, static_cast<const T *>(bias),
                initial_state, final_state, static_cast<T *>(out), out_batch_stride, out_dim_stride,
                out_time_stride, silu != 0);
        });
        MOPS_CUDA_CHECK_LAUNCH("conv1d_rows_kernel launch");
    });
}

extern "C" MOPS_API int32_t mops_cuda_causal_conv1d_update(
    void *stream, int32_t dtype, const void *x, int64_t batch, int64_t dim, int64_t x_batch_stride,
    int64_t x_dim_stride, const void *weight, int32_t width, const void *bias, float *conv_state,
    void *out, int64_t out_batch_stride, int64_t out_dim_stride, int32_t silu) {
    return mops::guarded("cuda_causal_conv1d_update", [&] {
        mops::check_conv_args(dtype, x, batch, dim, 1, weight, width, out);
        mops::require(conv_state != nullptr, "conv_state is NULL");
        const int64_t rows = batch * dim;
        const int threads = 128;
        const int64_t blocks = (rows + threads - 1) / threads;
        mops::require(blocks < (1LL << 31), "too many rows for one launch");
        auto s = static_cast<cudaStream_t>(stream);
        // One step of the full convolution whose state is read and written in place (each
        // thread reads its row's state before writing it).
        mops::dispatch_dtype(dtype, [&](auto tag) {
            using T = decltype(tag);
            mops::conv1d_rows_kernel<T><<<static_cast<unsigned>(blocks), threads, 0, s>>>(
                static_cast<const T *>(x), batch, dim, 1, x_batch_stride, x_dim_stride, 0,
                static_cast<const T *>(weight), width, static_cast<const T *>(bias), conv_state,
                conv_state, static_cast<T *>(out), out_batch_stride, out_dim_stride, 0, silu != 0);
        });
        MOPS_CUDA_CHECK_LAUNCH("conv1d_rows_kernel launch");
    });
}
