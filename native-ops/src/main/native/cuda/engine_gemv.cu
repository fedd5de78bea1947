// Engine ops (CUDA): the product of a few rows by a transposed weight (decoding's linears), as a
// bandwidth-bound GEMV that reads each weight row once with 16-byte loads, one to eight warps per
// output column; mops_cuda_matmul uses it where it applies and cuBLASLt elsewhere.
#include <cuda_fp16.h>
#include <cuda_runtime.h>

#include <atomic>
#include <cstdint>
#include <string>

#include "dtype.hpp"
#include "engine_common.cuh"
#include "pdl.cuh"
#include "status.hpp"

namespace mops {
namespace ce {
namespace {

constexpr int kGemvThreads = 256;
constexpr int kGemvWarps = kGemvThreads / 32;
constexpr int kMaxRows = 4;
constexpr int64_t kTargetBlocks = 4096;
/** Weight vectors per lane loaded ahead of their use (before the wait, for a block's first column).
 */
constexpr int kGemvAhead = 4;

__device__ __forceinline__ void prefetch_l2(const void *p) {
    asm volatile("prefetch.global.L2 [%0];" ::"l"(p));
}

__device__ __forceinline__ float as_float(float v) {
    return v;
}
__device__ __forceinline__ float as_float(bf16 v) {
    return to_float(v);
}
__device__ __forceinline__ float as_float(f16 v) {
    return __half2float(__ushort_as_half(v.bits));
}

/**
 * out[r, j] = sum_i a[r, i] * w[j, i] for r < M. A block of 8 warps takes 8 / SPLIT output
 * columns j at a time; the SPLIT warps of a column each read one slice of the weight row j (16
 * bytes per lane and load) and of the rows of a (from the caches: they are small and every block
 * reads them), accumulating in float32; the slices' sums are added in shared memory. SPLIT grows
 * as the columns get fewer, so that even a narrow product keeps every multiprocessor busy.
 *
 * The grid is what the GPU holds at once, and each block walks its columns with a stride of the
 * grid. A lane loads the first kGemvAhead vectors of its slice of the next column before the
 * sums of the current column are reduced. Before pdl_wait() it asks for its slice of the block's
 * first column to be brought into the L2 cache: launched dependent, the GEMV thus reads several
 * megabytes of weights while the kernel before it (a norm, a convolution step) still runs. Only
 * a prefetch may come before the wait (w may be what that kernel writes; the L2 cache is where
 * writes meet, so the prefetch never makes a load see an old value).
 */
template <typename T, int M, int SPLIT>
__global__ void __launch_bounds__(kGemvThreads)
    gemv_kernel(int64_t n, int64_t k, const T *a, int64_t lda, const T *w, int64_t ldw, T *out) {
    constexpr int kVec = 16 / sizeof(T);
    constexpr int kCols = kGemvWarps / SPLIT;
    __shared__ float partial[kGemvWarps][M];
    const int warp = threadIdx.x / 32;
    const int lane = threadIdx.x % 32;
    const int slice = warp % SPLIT;
    const int64_t vectors = k / kVec;
    const int64_t per = (vectors + SPLIT - 1) / SPLIT;
    const int64_t begin = slice * per < vectors ? slice * per : vectors;
    const int64_t end = begin + per < vectors ? begin + per : vectors;
    const int64_t groups = (n + kCols - 1) / kCols;
    const uint4 zero = make_uint4(0, 0, 0, 0);
    uint4 ahead[kGemvAhead];
    auto load_ahead = [&](int64_t group) {
        const int64_t j = group * kCols + warp / SPLIT;
        const uint4 *wr = reinterpret_cast<const uint4 *>(w + j * ldw);
#pragma unroll
        for (int q = 0; q < kGemvAhead; ++q) {
            const int64_t v = begin + lane + q * 32;
            ahead[q] = group < groups && j < n && v < end ? __ldg(wr + v) : zero;
        }
    };
    if (blockIdx.x < groups && blockIdx.x * kCols + warp / SPLIT < n) {
        const uint4 *wr = reinterpret_cast<const uint4 *>(
            w + (static_cast<int64_t>(blockIdx.x) * kCols + warp / SPLIT) * ldw);
        for (int64_t v = begin + lane; v < end; v += 32) {
            prefetch_l2(wr + v);
        }
    }
    pdl_begin();
    load_ahead(blockIdx.x);
    for (int64_t group = blockIdx.x; group < groups; group += gridDim.x) {
        const int64_t j = group * kCols + warp / SPLIT;
        float acc[M];
#pragma unroll
        for (int r = 0; r < M; ++r) {
            acc[r] = 0.0f;
        }
        auto accumulate = [&](const uint4 &wv, int64_t v) {
            const T *wt = reinterpret_cast<const T *>(&wv);
#pragma unroll
            for (int r = 0; r < M; ++r) {
                const uint4 xv = __ldg(reinterpret_cast<const uint4 *>(a + r * lda) + v);
                const T *xt = reinterpret_cast<const T *>(&xv);
#pragma unroll
                for (int e = 0; e < kVec; ++e) {
                    acc[r] = fmaf(as_float(xt[e]), as_float(wt[e]), acc[r]);
                }
            }
        };
        if (j < n) {
#pragma unroll
            for (int q = 0; q < kGemvAhead; ++q) {
                const int64_t v = begin + lane + q * 32;
                if (v < end) {
                    accumulate(ahead[q], v);
                }
            }
            const uint4 *wr = reinterpret_cast<const uint4 *>(w + j * ldw);
#pragma unroll 4
            for (int64_t v = begin + lane + kGemvAhead * 32; v < end; v += 32) {
                accumulate(__ldg(wr + v), v);
            }
        }
        load_ahead(group + gridDim.x);
#pragma unroll
        for (int r = 0; r < M; ++r) {
            for (int off = 16; off > 0; off /= 2) {
                acc[r] += __shfl_xor_sync(0xffffffffu, acc[r], off);
            }
        }
        if constexpr (SPLIT == 1) {
            if (lane == 0 && j < n) {
#pragma unroll
                for (int r = 0; r < M; ++r) {
                    out[r * n + j] = from_float<T>(acc[r]);
                }
            }
        } else {
            if (lane == 0) {
#pragma unroll
                for (int r = 0; r < M; ++r) {
                    partial[warp][r] = acc[r];
                }
            }
            __syncthreads();
            if (slice == 0 && lane < M && j < n) {
                float sum = 0.0f;
#pragma unroll
                for (int q = 0; q < SPLIT; ++q) {
                    sum += partial[warp + q][lane];
                }
                out[lane * n + j] = from_float<T>(sum);
            }
            // the next column's partial sums go where these were
            __syncthreads();
        }
    }
}

/** How many blocks of kernel the current device holds at once (cached per device). */
template <typename K> int64_t resident_blocks(K kernel) {
    constexpr int kDevices = 64;
    static std::atomic<int64_t> known[kDevices];
    int device = 0;
    MOPS_CUDA_CHECK(cudaGetDevice(&device));
    int64_t blocks = device >= 0 && device < kDevices ? known[device].load() : 0;
    if (blocks == 0) {
        int sms = 0;
        int per_sm = 0;
        MOPS_CUDA_CHECK(cudaDeviceGetAttribute(&sms, cudaDevAttrMultiProcessorCount, device));
        MOPS_CUDA_CHECK(
            cudaOccupancyMaxActiveBlocksPerMultiprocessor(&per_sm, kernel, kGemvThreads, 0));
        blocks = static_cast<int64_t>(sms) * (per_sm > 0 ? per_sm : 1);
        if (device >= 0 && device < kDevices) {
            known[device].store(blocks);
        }
    }
    return blocks;
}

template <typename T, int M, int SPLIT>
void launch_gemv(cudaStream_t s, int64_t n, int64_t k, const void *a, int64_t lda, const void *w,
                 int64_t ldw, void *out) {
    constexpr int64_t cols = kGemvWarps / SPLIT;
    const int64_t groups = (n + cols - 1) / cols;
    auto kernel = gemv_kernel<T, M, SPLIT>;
    const int64_t resident = resident_blocks(kernel);
    const int64_t blocks = groups < resident ? groups : resident;
    mops::launch_dependent("gemv_kernel", kernel, static_cast<unsigned>(blocks), kGemvThreads, 0, s,
                           n, k, static_cast<const T *>(a), lda, static_cast<const T *>(w), ldw,
                           static_cast<T *>(out));
}

template <typename T, int M>
void dispatch_split(cudaStream_t s, int split, int64_t n, int64_t k, const void *a, int64_t lda,
                    const void *w, int64_t ldw, void *out) {
    switch (split) {
    case 1:
        launch_gemv<T, M, 1>(s, n, k, a, lda, w, ldw, out);
        break;
    case 2:
        launch_gemv<T, M, 2>(s, n, k, a, lda, w, ldw, out);
        break;
    case 4:
        launch_gemv<T, M, 4>(s, n, k, a, lda, w, ldw, out);
        break;
    default:
        launch_gemv<T, M, 8>(s, n, k, a, lda, w, ldw, out);
        break;
    }
}

template <typename T>
void dispatch_rows(cudaStream_t s, int split, int64_t m, int64_t n, int64_t k, const void *a,
                   int64_t lda, const void *w, int64_t ldw, void *out) {
    switch (m) {
    case 1:
        dispatch_split<T, 1>(s, split, n, k, a, lda, w, ldw, out);
        break;
    case 2:
        dispatch_split<T, 2>(s, split, n, k, a, lda, w, ldw, out);
        break;
    case 3:
        dispatch_split<T, 3>(s, split, n, k, a, lda, w, ldw, out);
        break;
    default:
        dispatch_split<T, 4>(s, split, n, k, a, lda, w, ldw, out);
        break;
    }
}

int64_t vectors_of(int32_t dtype, int64_t k) {
    return k / (dtype == MOPS_F32 ? 4 : 8);
}

bool aligned16(const void *p) {
    return (reinterpret_cast<uintptr_t>(p) & 15u) == 0;
}

} // namespace

bool gemv_applies(int32_t dtype, int64_t batch, int64_t m, int64_t n, int64_t k, const void *a,
                  int64_t a_row_stride, int64_t a_col_stride, const void *b, int64_t b_row_stride,
                  int64_t b_col_stride) {
    const int elem = dtype == MOPS_F32 ? 4 : (dtype == MOPS_F16 || dtype == MOPS_BF16) ? 2 : 0;
    // a: m rows of k contiguous values and b: the transposed view of a [n, k] weight (b[i, j] at
    // w[j * ldw + i]), every row of both starting on 16 bytes and holding whole 16-byte vectors
    return elem != 0 && batch == 1 && m >= 1 && m <= kMaxRows && a_col_stride == 1 &&
           b_row_stride == 1 && b_col_stride >= k && (k * elem) % 16 == 0 &&
           (b_col_stride * elem) % 16 == 0 && aligned16(b) && (a_row_stride * elem) % 16 == 0 &&
           aligned16(a) && n < (int64_t{1} << 31) / kGemvWarps * kGemvWarps;
}

int gemv_max_split(int32_t dtype, int64_t k) {
    int split = 1;
    while (split < kGemvWarps && vectors_of(dtype, k) >= 2 * 32 * split) {
        split *= 2;
    }
    return split;
}

int gemv_default_split(int32_t dtype, int64_t n, int64_t k) {
    int split = 1;
    while (split < gemv_max_split(dtype, k) && n * split < kTargetBlocks * kGemvWarps) {
        split *= 2;
    }
    return split;
}

void run_gemv(cudaStream_t s, int32_t dtype, int split, int64_t m, int64_t n, int64_t k,
              const void *a, int64_t a_row_stride, const void *b, int64_t b_col_stride, void *out) {
    require(split == 1 || split == 2 || split == 4 || split == 8,
            "GEMV split must be 1, 2, 4 or 8, got " + std::to_string(split));
    switch (dtype) {
    case MOPS_F32:
        dispatch_rows<float>(s, split, m, n, k, a, a_row_stride, b, b_col_stride, out);
        break;
    case MOPS_F16:
        dispatch_rows<f16>(s, split, m, n, k, a, a_row_stride, b, b_col_stride, out);
        break;
    default:
        dispatch_rows<bf16>(s, split, m, n, k, a, a_row_stride, b, b_col_stride, out);
        break;
    }
}

} // namespace ce
} // namespace mops
