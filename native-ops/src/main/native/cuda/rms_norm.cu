// Gated RMSNorm and RMSNorm fused with the residual add on the GPU: one block per (row, group)
// (gated; 1024 threads when there are few) or per row (add), float32 sums reduced over the block.
#include "cuda_check.cuh"
#include "dtype.hpp"
#include "mambaops.h"
#include "norm_args.hpp"
#include "pdl.cuh"
#include "status.hpp"

namespace mops {
namespace {

constexpr int NORM_THREADS = 256;

__device__ __forceinline__ float silu_norm(float v) {
    return v / (1.0f + __expf(-v));
}

/** Few rows (and groups) at most: the wide kernel serves them with 1024 threads each. */
constexpr int64_t WIDE_MAX_BLOCKS = 64;
constexpr int WIDE_THREADS = 1024;
constexpr int WIDE_PER_THREAD = 8;

/** Sum of v over the block of THREADS threads (all threads get the result). */
template <int THREADS = NORM_THREADS> __device__ float block_sum(float v) {
    __shared__ float partial[THREADS / 32];
    for (int off = 16; off > 0; off /= 2) {
        v += __shfl_xor_sync(0xffffffffu, v, off);
    }
    const int warp = threadIdx.x / 32;
    __syncthreads(); // partial may still be read by a previous call
    if (threadIdx.x % 32 == 0) {
        partial[warp] = v;
    }
    __syncthreads();
    float total = 0.0f;
    for (int w = 0; w < THREADS / 32; ++w) {
        total += partial[w];
    }
    return total;
}

template <typename T>
__global__ void __launch_bounds__(NORM_THREADS)
    gated_kernel(int64_t groups, int64_t group_size, const T *x, int64_t xs, const T *z, int64_t zs,
                 const T *w, float eps, bool before, T *out, int64_t os) {
    pdl_begin();
    const int64_t row = blockIdx.x / groups;
    const int64_t g0 = (blockIdx.x % groups) * group_size;
    const T *xr = x + row * xs + g0;
    const T *zr = z ? z + row * zs + g0 : nullptr;
    T *orow = out + row * os + g0;
    float ss = 0.0f;
    for (int64_t i = threadIdx.x; i < group_size; i += NORM_THREADS) {
        float v = to_float(xr[i]);
        if (zr && !before) {
            v *= silu_norm(to_float(zr[i]));
        }
        ss += v * v;
    }
    const float r = rsqrtf(block_sum(ss) / static_cast<float>(group_size) + eps);
    for (int64_t i = threadIdx.x; i < group_size; i += NORM_THREADS) {
        float v = to_float(xr[i]);
        const float gate = zr ? silu_norm(to_float(zr[i])) : 1.0f;
        if (!before) {
            v *= gate;
        }
        float y = v * r * to_float(w[g0 + i]);
        if (before) {
            y *= gate;
        }
        orow[i] = from_float<T>(y);
    }
}

/**
 * gated_kernel for few (row, group) blocks, as decoding has: 1024 threads per group, each holding
 * up to 8 of its values in registers, so the group is read once and its loads are all in flight
 * together (a 256-thread block walking a 5120-wide row leaves the GPU waiting on one SM).
 */
template <typename T>
__global__ void __launch_bounds__(WIDE_THREADS)
    gated_wide_kernel(int64_t groups, int64_t group_size, const T *x, int64_t xs, const T *z,
                      int64_t zs, const T *w, float eps, bool before, T *out, int64_t os) {
    pdl_begin();
    const int64_t row = blockIdx.x / groups;
    const int64_t g0 = (blockIdx.x % groups) * group_size;
    const T *xr = x + row * xs + g0;
    const T *zr = z ? z + row * zs + g0 : nullptr;
    T *orow = out + row * os + g0;
    float v[WIDE_PER_THREAD];
    float gate[WIDE_PER_THREAD];
    float ss = 0.0f;
#pragma unroll
    for (int j = 0; j < WIDE_PER_THREAD; ++j) {
        const int64_t i = threadIdx.x + static_cast<int64_t>(j) * WIDE_THREADS;
        v[j] = 0.0f;
        gate[j] = 1.0f;
        if (i < group_size) {
            float xv = to_float(xr[i]);
            if (zr) {
                gate[j] = silu_norm(to_float(zr[i]));
            }
            if (!before) {
                xv *= gate[j];
            }
            v[j] = xv;
            ss += xv * xv;
        }
    }
    const float r = rsqrtf(block_sum<WIDE_THREADS>(ss) / static_cast<float>(group_size) + eps);
#pragma unroll
    for (int j = 0; j < WIDE_PER_THREAD; ++j) {
        const int64_t i = threadIdx.x + static_cast<int64_t>(j) * WIDE_THREADS;
        if (i < group_size) {
            float y = v[j] * r * to_float(w[g0 + i]);
            if (before) {
                y *= gate[j];
            }
            orow[i] = from_float<T>(y);
        }
    }
}

template <typename T, typename R>
__global__ void __launch_bounds__(NORM_THREADS)
    add_kernel(int64_t hidden, const T *x, const R *res, const T *w, float eps, T *out,
               R *res_out) {
    pdl_begin();
    const int64_t base = static_cast<int64_t>(blockIdx.x) * hidden;
    float ss = 0.0f;
    for (int64_t i = threadIdx.x; i < hidden; i += NORM_THREADS) {
        float s = to_float(x[base + i]) + (res ? to_float(res[base + i]) : 0.0f);
        s = to_float(from_float<R>(s));
        if (res_out) {
            res_out[base + i] = from_float<R>(s); // may alias res: same thread, same element
        }
        ss += s * s;
    }
    const float r = rsqrtf(block_sum(ss) / static_cast<float>(hidden) + eps);
    for (int64_t i = threadIdx.x; i < hidden; i += NORM_THREADS) {
        float s;
        if (res_out) {
            s = to_float(res_out[base + i]);
        } else {
            s = to_float(
                from_float<R>(to_float(x[base + i]) + (res ? to_float(res[base + i]) : 0.0f)));
        }
        out[base + i] = from_float<T>(s * r * to_float(w[i]));
    }
}

} // namespace
} // namespace mops

extern "C" MOPS_API int32_t mops_cuda_rms_norm_gated(
    void *stream, int32_t dtype, int64_t rows, int64_t hidden, int64_t group_size, const void *x,
    int64_t x_row_stride, const void *z, int64_t z_row_stride, const void *weight, float eps,
    int32_t norm_before_gate, void *out, int64_t out_row_stride) {
    return mops::guarded("cuda_rms_norm_gated", [&] {
        mops::check_rms_norm_gated_args(dtype, rows, hidden, group_size, x, x_row_stride, z,
                                        z_row_stride, weight, eps, out, out_row_stride);
        const int64_t groups = hidden / group_size;
        const int64_t blocks = rows * groups;
        mops::require(blocks < (1LL << 31), "too many rows for one launch");
        auto s = static_cast<cudaStream_t>(stream);
        mops::dispatch_dtype(dtype, [&](auto tag) {
            using T = decltype(tag);
            const bool wide = blocks <= mops::WIDE_MAX_BLOCKS &&
                              group_size <= mops::WIDE_THREADS * mops::WIDE_PER_THREAD;
            if (wide) {
                mops::launch_dependent("gated_wide_kernel", mops::gated_wide_kernel<T>,
                                       static_cast<unsigned>(blocks), mops::WIDE_THREADS, 0, s,
                                       groups, group_size, static_cast<const T *>(x), x_row_stride,
                                       static_cast<const T *>(z), z_row_stride,
                                       static_cast<const T *>(weight), eps, norm_before_gate != 0,
                                       static_cast<T *>(out), out_row_stride);
            } else {
                mops::launch_dependent("gated_kernel", mops::gated_kernel<T>,
                                       static_cast<unsigned>(blocks), mops::NORM_THREADS, 0, s,
                                       groups, group_size, static_cast<const T *>(x), x_row_stride,
                                       static_cast<const T *>(z), z_row_stride,
                                       static_cast<const T *>(weight), eps, norm_before_gate != 0,
                                       static_cast<T *>(out), out_row_stride);
            }
        });
    });
}

extern "C" MOPS_API int32_t mops_cuda_add_rms_norm(void *stream, int32_t dtype, int64_t rows,
                                                   int64_t hidden, const void *x,
                                                   const void *residual, int32_t residual_dtype,
                                                   const void *weight, float eps, void *out,
                                                   void *residual_out) {
    return mops::guarded("cuda_add_rms_norm", [&] {
        mops::check_add_rms_norm_args(dtype, rows, hidden, x, residual_dtype, weight, eps, out);
        mops::require(rows < (1LL << 31), "too many rows for one launch");
        auto s = static_cast<cudaStream_t>(stream);
        mops::dispatch_dtype(dtype, [&](auto tag) {
            using T = decltype(tag);
            const unsigned blocks = static_cast<unsigned>(rows);
            if (residual_dtype == MOPS_F32) {
                mops::launch_dependent("add_kernel", mops::add_kernel<T, float>, blocks,
                                       mops::NORM_THREADS, 0, s, hidden, static_cast<const T *>(x),
                                       static_cast<const float *>(residual),
                                       static_cast<const T *>(weight), eps, static_cast<T *>(out),
                                       static_cast<float *>(residual_out));
            } else {
                mops::launch_dependent("add_kernel", mops::add_kernel<T, T>, blocks,
                                       mops::NORM_THREADS, 0, s, hidden, static_cast<const T *>(x),
                                       static_cast<const T *>(residual),
                                       static_cast<const T *>(weight), eps, static_cast<T *>(out),
                                       static_cast<T *>(residual_out));
            }
        });
    });
}
