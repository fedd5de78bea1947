// Depthwise causal conv1d on the GPU (see mops_cuda_causal_conv1d in mambaops.h).
//
// The long conv is tiled along the sequence and coalesced along whichever axis of x is
// contiguous:
//  - time contiguous ([b, d, l]): a block owns TIME_TILE steps of one (batch, channel) row; the
//    tile and its width - 1 steps of history are staged in shared memory; thread i loads and
//    computes the steps 16i .. 16i + 15, with 16-byte vector loads and stores where the row is
//    contiguous and aligned;
//  - otherwise ([b, l, d]): a block owns THREADS consecutive channels of one batch and
//    CHANNEL_TILE steps; each thread walks its channel with a register window, so every load
//    and store of a warp covers consecutive channels.
// The final state is written by a second, per-row kernel queued after the first, so that it may
// alias the initial state. The one-step update keeps one thread per row.
#include "conv_args.hpp"
#include "cuda_check.cuh"
#include "dtype.hpp"
#include "mambaops.h"
#include "pdl.cuh"
#include "status.hpp"

namespace mops {
namespace {

constexpr int THREADS = 128;
constexpr int PER_THREAD = 16;
constexpr int TIME_TILE = THREADS * PER_THREAD;
constexpr int CHANNEL_TILE = 64;
constexpr int MAX_HIST = 3;

/** Arguments of the long conv kernels. */
template <typename T> struct ConvArgs {
    const T *x;
    int64_t batch, dim, seqlen, xs_b, xs_d, xs_t;
    const T *weight;
    int width;
    const T *bias;
    const float *init;
    T *out;
    int64_t os_b, os_d, os_t;
    bool act;
};

__device__ __forceinline__ float activate(float v, bool act) {
    return act ? v / (1.0f + __expf(-v)) : v;
}

/** x[row, t] for t in [-hist, seqlen): the initial state (or zero) before the sequence. */
template <typename T>
__device__ __forceinline__ float padded_x(const ConvArgs<T> &a, const T *xr, int64_t row, int64_t t,
                                          int hist) {
    if (t >= 0) {
        return to_float(xr[t * a.xs_t]);
    }
    return a.init ? a.init[row * hist + hist + t] : 0.0f;
}

/** Whether PER_THREAD elements at p can move as 16-byte vectors. */
template <typename T> __device__ __forceinline__ bool vector_ok(const T *p) {
    return reinterpret_cast<uintptr_t>(p) % 16 == 0;
}

template <typename T>
__global__ void __launch_bounds__(THREADS)
    conv1d_time_tile_kernel(const ConvArgs<T> a, int64_t tiles) {
    constexpr int VEC = 16 / sizeof(T); // elements per 16-byte vector
    // s_x[LEAD + j] = x[t0 + j]; the MAX_HIST slots before it hold the history
    constexpr int LEAD = MAX_HIST + 1;
    __shared__ __align__(16) float s_x[LEAD + TIME_TILE];
    // the launch keeps the block count below 2^31, so 32-bit divisions suffice
    const uint32_t row = blockIdx.x / static_cast<uint32_t>(tiles);
    const int64_t t0 = static_cast<int64_t>(blockIdx.x % static_cast<uint32_t>(tiles)) * TIME_TILE;
    const int64_t b = row / static_cast<uint32_t>(a.dim);
    const int64_t d = row % static_cast<uint32_t>(a.dim);
    const int hist = a.width - 1;
    const T *xr = a.x + b * a.xs_b + d * a.xs_d;
    const bool full = t0 + TIME_TILE <= a.seqlen;
    const int first = threadIdx.x * PER_THREAD; // this thread's steps: first .. first + 15
    float v[PER_THREAD];
    if (full && a.xs_t == 1 && vector_ok(xr + t0)) {
#pragma unroll
        for (int q = 0; q < PER_THREAD / VEC; ++q) {
            const uint4 raw = *reinterpret_cast<const uint4 *>(xr + t0 + first + q * VEC);
            T e[VEC];
            memcpy(e, &raw, sizeof raw);
#pragma unroll
            for (int k = 0; k < VEC; ++k) {
                v[q * VEC + k] = to_float(e[k]);
            }
        }
    } else {
#pragma unroll
        for (int m = 0; m < PER_THREAD; ++m) {
            const int64_t t = t0 + first + m;
            v[m] = t < a.seqlen ? to_float(xr[t * a.xs_t]) : 0.0f;
        }
    }
#pragma unroll
    for (int q = 0; q < PER_THREAD; q += 4) {
        *reinterpret_cast<float4 *>(&s_x[LEAD + first + q]) =
            make_float4(v[q], v[q + 1], v[q + 2], v[q + 3]);
    }
    if (threadIdx.x < hist) {
        s_x[LEAD - 1 - threadIdx.x] = padded_x(a, xr, row, t0 - 1 - threadIdx.x, hist);
    }
    // weights aligned right: out[t] = bias + sum_k w[k] * x[t - MAX_HIST + k]
    const int lead = MAX_HIST - hist;
    float w[MAX_HIST + 1];
#pragma unroll
    for (int k = 0; k <= MAX_HIST; ++k) {
        w[k] = k >= lead ? to_float(a.weight[d * a.width + k - lead]) : 0.0f;
    }
    const float bv = a.bias ? to_float(a.bias[d]) : 0.0f;
    __syncthreads();
    // win[q] = x[t0 + first + q - LEAD]
    float win[PER_THREAD + LEAD];
#pragma unroll
    for (int q = 0; q < PER_THREAD + LEAD; q += 4) {
        const float4 f = *reinterpret_cast<const float4 *>(&s_x[first + q]);
        win[q] = f.x, win[q + 1] = f.y, win[q + 2] = f.z, win[q + 3] = f.w;
    }
    T o[PER_THREAD];
#pragma unroll
    for (int m = 0; m < PER_THREAD; ++m) {
        float acc = bv;
#pragma unroll
        for (int k = 0; k <= MAX_HIST; ++k) {
            acc += w[k] * win[m + LEAD - MAX_HIST + k];
        }
        o[m] = from_float<T>(activate(acc, a.act));
    }
    T *orow = a.out + b * a.os_b + d * a.os_d;
    if (full && a.os_t == 1 && vector_ok(orow + t0)) {
#pragma unroll
        for (int q = 0; q < PER_THREAD / VEC; ++q) {
            uint4 raw;
            memcpy(&raw, &o[q * VEC], sizeof raw);
            *reinterpret_cast<uint4 *>(orow + t0 + first + q * VEC) = raw;
        }
    } else {
#pragma unroll
        for (int m = 0; m < PER_THREAD; ++m) {
            const int64_t t = t0 + first + m;
            if (t < a.seqlen) {
                orow[t * a.os_t] = o[m];
            }
        }
    }
}

template <typename T>
__global__ void __launch_bounds__(THREADS)
    conv1d_channel_tile_kernel(const ConvArgs<T> a, int64_t dim_blocks, int64_t time_blocks) {
    const int64_t blk = blockIdx.x;
    const int64_t b = blk / (dim_blocks * time_blocks);
    const int64_t rest = blk % (dim_blocks * time_blocks);
    const int64_t t0 = (rest / dim_blocks) * CHANNEL_TILE;
    const int64_t d = (rest % dim_blocks) * THREADS + threadIdx.x;
    if (d >= a.dim) {
        return;
    }
    const int64_t row = b * a.dim + d;
    const int hist = a.width - 1;
    const T *xr = a.x + b * a.xs_b + d * a.xs_d;
    T *orow = a.out + b * a.os_b + d * a.os_d;
    // weights aligned right: out[t] = bias + sum_k w[k] * x[t - MAX_HIST + k], with zero
    // weights in front when the width is below MAX_HIST + 1 (compile-time register indices)
    const int lead = MAX_HIST - hist;
    float w[MAX_HIST + 1];
    float window[MAX_HIST];
#pragma unroll
    for (int k = 0; k <= MAX_HIST; ++k) {
        w[k] = k >= lead ? to_float(a.weight[d * a.width + k - lead]) : 0.0f;
    }
#pragma unroll
    for (int k = 0; k < MAX_HIST; ++k) {
        window[k] = k >= lead ? padded_x(a, xr, row, t0 - MAX_HIST + k, hist) : 0.0f;
    }
    const float bv = a.bias ? to_float(a.bias[d]) : 0.0f;
    const int64_t t_end = t0 + CHANNEL_TILE < a.seqlen ? t0 + CHANNEL_TILE : a.seqlen;
#pragma unroll 4
    for (int64_t t = t0; t < t_end; ++t) {
        const float xv = to_float(xr[t * a.xs_t]);
        float acc = bv + w[MAX_HIST] * xv;
#pragma unroll
        for (int k = 0; k < MAX_HIST; ++k) {
            acc += w[k] * window[k];
        }
#pragma unroll
        for (int k = 0; k + 1 < MAX_HIST; ++k) {
            window[k] = window[k + 1];
        }
        window[MAX_HIST - 1] = xv;
        orow[t * a.os_t] = from_float<T>(activate(acc, a.act));
    }
}

/** final_state[row] = the last width - 1 inputs of the padded sequence (read before written). */
template <typename T>
__global__ void conv1d_final_state_kernel(const ConvArgs<T> a, float *final_state) {
    const int64_t row = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
    if (row >= a.batch * a.dim) {
        return;
    }
    const int hist = a.width - 1;
    const T *xr = a.x + (row / a.dim) * a.xs_b + (row % a.dim) * a.xs_d;
    float v[MAX_HIST];
#pragma unroll
    for (int k = 0; k < MAX_HIST; ++k) {
        v[k] = k < hist ? padded_x(a, xr, row, a.seqlen - hist + k, hist) : 0.0f;
    }
#pragma unroll
    for (int k = 0; k < MAX_HIST; ++k) {
        if (k < hist) {
            final_state[row * hist + k] = v[k];
        }
    }
}

/** One decoding step per (batch, channel) row; conv_state is read before it is written. */
template <typename T>
__global__ void conv1d_update_kernel(const T *x, int64_t batch, int64_t dim, int64_t xs_b,
                                     int64_t xs_d, const T *weight, int width, const T *bias,
                                     float *state, T *out, int64_t os_b, int64_t os_d, bool act) {
    pdl_begin();
    const int64_t r = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
    if (r >= batch * dim) {
        return;
    }
    const int64_t b = r / dim;
    const int64_t d = r % dim;
    const int hist = width - 1;
    const float xv = to_float(x[b * xs_b + d * xs_d]);
    float acc = (bias ? to_float(bias[d]) : 0.0f) + to_float(weight[d * width + hist]) * xv;
    float window[MAX_HIST];
#pragma unroll
    for (int k = 0; k < MAX_HIST; ++k) {
        window[k] = k < hist ? state[r * hist + k] : 0.0f;
        if (k < hist) {
            acc += to_float(weight[d * width + k]) * window[k];
        }
    }
#pragma unroll
    for (int k = 0; k < MAX_HIST; ++k) {
        if (k < hist) {
            state[r * hist + k] = k + 1 < hist ? window[k + 1] : xv;
        }
    }
    out[b * os_b + d * os_d] = from_float<T>(activate(acc, act));
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
        auto s = static_cast<cudaStream_t>(stream);
        mops::dispatch_dtype(dtype, [&](auto tag) {
            using T = decltype(tag);
            const mops::ConvArgs<T> a{static_cast<const T *>(x),
                                      batch,
                                      dim,
                                      seqlen,
                                      x_batch_stride,
                                      x_dim_stride,
                                      x_time_stride,
                                      static_cast<const T *>(weight),
                                      width,
                                      static_cast<const T *>(bias),
                                      initial_state,
                                      static_cast<T *>(out),
                                      out_batch_stride,
                                      out_dim_stride,
                                      out_time_stride,
                                      silu != 0};
            if (x_time_stride == 1 || x_dim_stride != 1) {
                const int64_t tiles = (seqlen + mops::TIME_TILE - 1) / mops::TIME_TILE;
                const int64_t blocks = rows * tiles;
                mops::require(blocks < (1LL << 31), "too many rows for one launch");
                mops::conv1d_time_tile_kernel<T>
                    <<<static_cast<unsigned>(blocks), mops::THREADS, 0, s>>>(a, tiles);
                MOPS_CUDA_CHECK_LAUNCH("conv1d_time_tile_kernel launch");
            } else {
                const int64_t dim_blocks = (dim + mops::THREADS - 1) / mops::THREADS;
                const int64_t time_blocks = (seqlen + mops::CHANNEL_TILE - 1) / mops::CHANNEL_TILE;
                const int64_t blocks = batch * dim_blocks * time_blocks;
                mops::require(blocks < (1LL << 31), "too many rows for one launch");
                mops::conv1d_channel_tile_kernel<T>
                    <<<static_cast<unsigned>(blocks), mops::THREADS, 0, s>>>(a, dim_blocks,
                                                                             time_blocks);
                MOPS_CUDA_CHECK_LAUNCH("conv1d_channel_tile_kernel launch");
            }
            if (final_state) {
                const int64_t blocks = (rows + mops::THREADS - 1) / mops::THREADS;
                mops::require(blocks < (1LL << 31), "too many rows for one launch");
                mops::conv1d_final_state_kernel<T>
                    <<<static_cast<unsigned>(blocks), mops::THREADS, 0, s>>>(a, final_state);
                MOPS_CUDA_CHECK_LAUNCH("conv1d_final_state_kernel launch");
            }
        });
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
        const int64_t blocks = (rows + mops::THREADS - 1) / mops::THREADS;
        mops::require(blocks < (1LL << 31), "too many rows for one launch");
        auto s = static_cast<cudaStream_t>(stream);
        mops::dispatch_dtype(dtype, [&](auto tag) {
            using T = decltype(tag);
            mops::launch_dependent("conv1d_update_kernel", mops::conv1d_update_kernel<T>,
                                   static_cast<unsigned>(blocks), mops::THREADS, 0, s,
                                   static_cast<const T *>(x), batch, dim, x_batch_stride,
                                   x_dim_stride, static_cast<const T *>(weight), width,
                                   static_cast<const T *>(bias), conv_state, static_cast<T *>(out),
                                   out_batch_stride, out_dim_stride, silu != 0);
        });
    });
}
