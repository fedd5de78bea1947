// Engine ops (CUDA): reductions, softmax and cumulative sum over the middle axis of a contiguous
// [outer, n, inner] array. A row (one (outer, inner) pair) is reduced by a whole block when
// inner == 1 (the reduced elements are contiguous; a few long rows by several blocks and a fold
// of their partials) and by one thread otherwise (neighbouring threads then read neighbouring
// elements).
#include <cuda_runtime.h>

#include <cmath>
#include <string>

#include "engine_common.cuh"
#include "mambaops.h"
#include "pdl.cuh"
#include "status.hpp"

namespace mops {
namespace ce {
namespace {

constexpr int kThreads = 256;

/** A candidate of max/min/argmax/argmin: NaN wins (first one), then the extreme, then lower i. */
struct Best {
    double v;
    int64_t i;
};

__device__ __forceinline__ Best better(Best a, Best b, bool want_max) {
    const bool na = a.v != a.v;
    const bool nb = b.v != b.v;
    if (na || nb) {
        if (na && nb) {
            return a.i <= b.i ? a : b;
        }
        return na ? a : b;
    }
    if (a.v != b.v) {
        return (want_max ? a.v > b.v : a.v < b.v) ? a : b;
    }
    return a.i <= b.i ? a : b;
}

__device__ __forceinline__ double combine(int32_t op, double a, double b) {
    return op == MOPS_RED_PROD ? a * b : a + b;
}

/** Reduces one value per thread over the block; the result is valid in every thread. */
template <typename V, typename F> __device__ V block_reduce(V v, F f, V *scratch) {
    const int lane = threadIdx.x % 32;
    const int warp = threadIdx.x / 32;
    for (int o = 16; o > 0; o /= 2) {
        V other;
        if constexpr (std::is_same<V, Best>::value) {
            other.v = __shfl_down_sync(0xffffffffu, v.v, o);
            other.i = __shfl_down_sync(0xffffffffu, v.i, o);
        } else {
            other = __shfl_down_sync(0xffffffffu, v, o);
        }
        if (lane + o < 32) {
            v = f(v, other);
        }
    }
    if (lane == 0) {
        scratch[warp] = v;
    }
    __syncthreads();
    if (threadIdx.x == 0) {
        V r = scratch[0];
        for (int w = 1; w < static_cast<int>(blockDim.x / 32); ++w) {
            r = f(r, scratch[w]);
        }
        scratch[0] = r;
    }
    __syncthreads();
    V r = scratch[0];
    __syncthreads();
    return r;
}

template <typename T>
__device__ void write_result(int32_t op, const T *p, int64_t inner, double acc, Best best,
                             int64_t n, void *out, int64_t r) {
    switch (op) {
    case MOPS_RED_SUM:
    case MOPS_RED_PROD:
        static_cast<T *>(out)[r] = store_double<T>(acc);
        break;
    case MOPS_RED_MEAN:
        static_cast<T *>(out)[r] = store_double<T>(acc / static_cast<double>(n));
        break;
    case MOPS_RED_ARGMAX:
    case MOPS_RED_ARGMIN:
        static_cast<int64_t *>(out)[r] = best.i;
        break;
    default:
        static_cast<T *>(out)[r] = p[best.i * inner];
        break;
    }
}

template <typename T>
__global__ void reduce_rows_block(int32_t op, const T *x, int64_t rows, int64_t n, void *out) {
    pdl_begin();
    __shared__ double dscratch[kThreads / 32];
    __shared__ Best bscratch[kThreads / 32];
    const bool accumulate = op == MOPS_RED_SUM || op == MOPS_RED_MEAN || op == MOPS_RED_PROD;
    const bool want_max = op == MOPS_RED_MAX || op == MOPS_RED_ARGMAX;
    for (int64_t r = blockIdx.x; r < rows; r += gridDim.x) {
        const T *p = x + r * n;
        double acc = op == MOPS_RED_PROD ? 1.0 : 0.0;
        Best best{0.0, -1};
        for (int64_t i = threadIdx.x; i < n; i += blockDim.x) {
            const double v = load_double(p[i]);
            if (accumulate) {
                acc = combine(op, acc, v);
            } else {
                best = best.i < 0 ? Best{v, i} : better(best, Best{v, i}, want_max);
            }
        }
        if (accumulate) {
            acc = block_reduce<double>(
                acc, [op](double a, double b) { return combine(op, a, b); }, dscratch);
        } else {
            best = block_reduce<Best>(
                best,
                [want_max](Best a, Best b) {
                    return a.i < 0 ? b : (b.i < 0 ? a : better(a, b, want_max));
                },
                bscratch);
        }
        if (threadIdx.x == 0) {
            write_result<T>(op, p, 1, acc, best, n, out, r);
        }
    }
}

/** Rows at most, and elements per block at least, for which a row is split over blocks. */
constexpr int64_t kSplitMaxRows = 64;
constexpr int64_t kSplitChunk = 2048;
constexpr int64_t kSplitMaxParts = 128;

/**
 * First pass of a long row split over blocks (few rows, as the last position's logits of
 * decoding are): block (part, row) reduces its chunk of the row to one partial.
 */
template <typename T>
__global__ void reduce_rows_part(int32_t op, const T *x, int64_t n, int64_t chunk, double *pacc,
                                 Best *pbest) {
    pdl_begin();
    __shared__ double dscratch[kThreads / 32];
    __shared__ Best bscratch[kThreads / 32];
    const bool accumulate = op == MOPS_RED_SUM || op == MOPS_RED_MEAN || op == MOPS_RED_PROD;
    const bool want_max = op == MOPS_RED_MAX || op == MOPS_RED_ARGMAX;
    const int64_t row = blockIdx.y;
    const int64_t begin = blockIdx.x * chunk;
    const int64_t end = begin + chunk < n ? begin + chunk : n;
    const T *p = x + row * n;
    double acc = op == MOPS_RED_PROD ? 1.0 : 0.0;
    Best best{0.0, -1};
    for (int64_t i = begin + threadIdx.x; i < end; i += blockDim.x) {
        const double v = load_double(p[i]);
        if (accumulate) {
            acc = combine(op, acc, v);
        } else {
            best = best.i < 0 ? Best{v, i} : better(best, Best{v, i}, want_max);
        }
    }
    const int64_t slot = row * gridDim.x + blockIdx.x;
    if (accumulate) {
        acc = block_reduce<double>(
            acc, [op](double a, double b) { return combine(op, a, b); }, dscratch);
        if (threadIdx.x == 0) {
            pacc[slot] = acc;
        }
    } else {
        best = block_reduce<Best>(
            best,
            [want_max](Best a, Best b) {
                return a.i < 0 ? b : (b.i < 0 ? a : better(a, b, want_max));
            },
            bscratch);
        if (threadIdx.x == 0) {
            pbest[slot] = best;
        }
    }
}

/** Second pass: one thread per row folds its partials in order and writes the result. */
template <typename T>
__global__ void reduce_rows_parts(int32_t op, const T *x, int64_t rows, int64_t n, int64_t parts,
                                  const double *pacc, const Best *pbest, void *out) {
    pdl_begin();
    const int64_t row = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x;
    if (row >= rows) {
        return;
    }
    const bool accumulate = op == MOPS_RED_SUM || op == MOPS_RED_MEAN || op == MOPS_RED_PROD;
    const bool want_max = op == MOPS_RED_MAX || op == MOPS_RED_ARGMAX;
    double acc = op == MOPS_RED_PROD ? 1.0 : 0.0;
    Best best{0.0, -1};
    for (int64_t q = 0; q < parts; ++q) {
        if (accumulate) {
            acc = combine(op, acc, pacc[row * parts + q]);
        } else {
            const Best b = pbest[row * parts + q];
            best = best.i < 0 ? b : (b.i < 0 ? best : better(best, b, want_max));
        }
    }
    write_result<T>(op, x + row * n, 1, acc, best, n, out, row);
}

template <typename T>
__global__ void reduce_rows_thread(int32_t op, const T *x, int64_t outer, int64_t n, int64_t inner,
                                   void *out) {
    pdl_begin();
    const bool accumulate = op == MOPS_RED_SUM || op == MOPS_RED_MEAN || op == MOPS_RED_PROD;
    const bool want_max = op == MOPS_RED_MAX || op == MOPS_RED_ARGMAX;
    const int64_t rows = outer * inner;
    for (int64_t r = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; r < rows;
         r += static_cast<int64_t>(gridDim.x) * blockDim.x) {
        const T *p = x + (r / inner) * n * inner + r % inner;
        double acc = op == MOPS_RED_PROD ? 1.0 : 0.0;
        Best best{load_double(p[0]), 0};
        for (int64_t i = 0; i < n; ++i) {
            const double v = load_double(p[i * inner]);
            if (accumulate) {
                acc = combine(op, acc, v);
            } else if (i > 0) {
                best = better(best, Best{v, i}, want_max);
            }
        }
        write_result<T>(op, p, inner, acc, best, n, out, r);
    }
}

template <typename T>
__global__ void softmax_rows_block(const T *x, int64_t rows, int64_t n, bool log, T *out) {
    pdl_begin();
    __shared__ float fscratch[kThreads / 32];
    __shared__ double dscratch[kThreads / 32];
    for (int64_t r = blockIdx.x; r < rows; r += gridDim.x) {
        const T *p = x + r * n;
        T *o = out + r * n;
        float mx = -INFINITY;
        for (int64_t i = threadIdx.x; i < n; i += blockDim.x) {
            mx = fmaxf(mx, to_float(p[i]));
        }
        mx = block_reduce<float>(mx, [](float a, float b) { return fmaxf(a, b); }, fscratch);
        double sum = 0.0;
        for (int64_t i = threadIdx.x; i < n; i += blockDim.x) {
            sum += exp(static_cast<double>(to_float(p[i]) - mx));
        }
        sum = block_reduce<double>(sum, [](double a, double b) { return a + b; }, dscratch);
        const float lse = static_cast<float>(::log(sum));
        const float inv = static_cast<float>(1.0 / sum);
        for (int64_t i = threadIdx.x; i < n; i += blockDim.x) {
            const float v = to_float(p[i]) - mx;
            o[i] = from_float<T>(log ? v - lse : expf(v) * inv);
        }
    }
}

template <typename T>
__global__ void softmax_rows_thread(const T *x, int64_t outer, int64_t n, int64_t inner, bool log,
                                    T *out) {
    pdl_begin();
    const int64_t rows = outer * inner;
    for (int64_t r = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; r < rows;
         r += static_cast<int64_t>(gridDim.x) * blockDim.x) {
        const int64_t base = (r / inner) * n * inner + r % inner;
        float mx = -INFINITY;
        for (int64_t i = 0; i < n; ++i) {
            mx = fmaxf(mx, to_float(x[base + i * inner]));
        }
        double sum = 0.0;
        for (int64_t i = 0; i < n; ++i) {
            sum += exp(static_cast<double>(to_float(x[base + i * inner]) - mx));
        }
        const float lse = static_cast<float>(::log(sum));
        const float inv = static_cast<float>(1.0 / sum);
        for (int64_t i = 0; i < n; ++i) {
            const float v = to_float(x[base + i * inner]) - mx;
            out[base + i * inner] = from_float<T>(log ? v - lse : expf(v) * inv);
        }
    }
}

template <typename T>
__global__ void cumsum_rows_thread(const T *x, int64_t outer, int64_t n, int64_t inner, T *out) {
    pdl_begin();
    const int64_t rows = outer * inner;
    for (int64_t r = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; r < rows;
         r += static_cast<int64_t>(gridDim.x) * blockDim.x) {
        const int64_t base = (r / inner) * n * inner + r % inner;
        if constexpr (is_floating<T>()) {
            double acc = 0.0;
            for (int64_t i = 0; i < n; ++i) {
                acc += load_double(x[base + i * inner]);
                out[base + i * inner] = store_double<T>(acc);
            }
        } else {
            int64_t acc = 0;
            for (int64_t i = 0; i < n; ++i) {
                acc += load(x[base + i * inner]);
                out[base + i * inner] = store<T>(acc);
            }
        }
    }
}

} // namespace
} // namespace ce
} // namespace mops

extern "C" MOPS_API int32_t mops_cuda_reduce(void *stream, int32_t op, int32_t dtype, const void *x,
                                             int64_t outer, int64_t n, int64_t inner, void *out) {
    return mops::guarded("cuda_reduce", [&] {
        mops::ce::check_oni(x, out, outer, n, inner);
        mops::require(op >= MOPS_RED_SUM && op <= MOPS_RED_ARGMIN,
                      "unknown reduce op " + std::to_string(op));
        mops::ce::dispatch(dtype, [&](auto tag) {
            using T = decltype(tag);
            const int64_t rows = outer * inner;
            if (rows == 0) {
                return;
            }
            cudaStream_t s = mops::ce::bind(stream);
            const T *p = static_cast<const T *>(x);
            if (inner == 1 && rows <= mops::ce::kSplitMaxRows && n >= 2 * mops::ce::kSplitChunk) {
                // few long rows: split each over blocks, then fold the partials
                int64_t parts = (n + mops::ce::kSplitChunk - 1) / mops::ce::kSplitChunk;
                parts = parts < mops::ce::kSplitMaxParts ? parts : mops::ce::kSplitMaxParts;
                const int64_t chunk = (n + parts - 1) / parts;
                mops::ce::PoolBuffer acc(s, rows * parts * static_cast<int64_t>(sizeof(double)));
                mops::ce::PoolBuffer best(s, rows * parts *
                                                 static_cast<int64_t>(sizeof(mops::ce::Best)));
                const dim3 grid(static_cast<unsigned>(parts), static_cast<unsigned>(rows));
                mops::launch_dependent("reduce_rows_part", mops::ce::reduce_rows_part<T>, grid,
                                       mops::ce::kThreads, 0, s, op, p, n, chunk,
                                       static_cast<double *>(acc.get()),
                                       static_cast<mops::ce::Best *>(best.get()));
                mops::launch_dependent("reduce_rows_parts", mops::ce::reduce_rows_parts<T>, 1, 64,
                                       0, s, op, p, rows, n, parts,
                                       static_cast<const double *>(acc.get()),
                                       static_cast<const mops::ce::Best *>(best.get()), out);
            } else if (inner == 1) {
                mops::launch_dependent("reduce_rows_block", mops::ce::reduce_rows_block<T>,
                                       mops::ce::blocks_for(rows, 1), mops::ce::kThreads, 0, s, op,
                                       p, rows, n, out);
            } else {
                mops::launch_dependent("reduce_rows_thread", mops::ce::reduce_rows_thread<T>,
                                       mops::ce::blocks_for(rows, 128), 128, 0, s, op, p, outer, n,
                                       inner, out);
            }
        });
    });
}

extern "C" MOPS_API int32_t mops_cuda_softmax(void *stream, int32_t dtype, const void *x,
                                              int64_t outer, int64_t n, int64_t inner, int32_t log,
                                              void *out) {
    return mops::guarded("cuda_softmax", [&] {
        mops::ce::check_oni(x, out, outer, n, inner);
        mops::dispatch_dtype(dtype, [&](auto tag) {
            using T = decltype(tag);
            const int64_t rows = outer * inner;
            if (rows == 0) {
                return;
            }
            cudaStream_t s = mops::ce::bind(stream);
            const T *p = static_cast<const T *>(x);
            T *o = static_cast<T *>(out);
            if (inner == 1) {
                mops::launch_dependent("softmax_rows_block", mops::ce::softmax_rows_block<T>,
                                       mops::ce::blocks_for(rows, 1), mops::ce::kThreads, 0, s, p,
                                       rows, n, log != 0, o);
            } else {
                mops::launch_dependent("softmax_rows_thread", mops::ce::softmax_rows_thread<T>,
                                       mops::ce::blocks_for(rows, 128), 128, 0, s, p, outer, n,
                                       inner, log != 0, o);
            }
        });
    });
}

extern "C" MOPS_API int32_t mops_cuda_cumsum(void *stream, int32_t dtype, const void *x,
                                             int64_t outer, int64_t n, int64_t inner, void *out) {
    return mops::guarded("cuda_cumsum", [&] {
        mops::ce::check_oni(x, out, outer, n, inner);
        mops::ce::dispatch(dtype, [&](auto tag) {
            using T = decltype(tag);
            const int64_t rows = outer * inner;
            if (rows == 0) {
                return;
            }
            cudaStream_t s = mops::ce::bind(stream);
            mops::launch_dependent("cumsum_rows_thread", mops::ce::cumsum_rows_thread<T>,
                                   mops::ce::blocks_for(rows, 128), 128, 0, s,
                                   static_cast<const T *>(x), outer, n, inner,
                                   static_cast<T *>(out));
        });
    });
}
