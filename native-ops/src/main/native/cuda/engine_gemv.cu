// Engine ops (CUDA): the product of a few rows by a transposed weight (decoding's linears), as a
// bandwidth-bound GEMV that reads each weight row once with 16-byte loads, one to eight warps per
// output column; mops_cuda_matmul uses it where it applies and cuBLASLt elsewhere. Two fused
// forms serve a decoding layer's residual step: the RMSNorm of the rows in the GEMV's prologue
// (mops_cuda_rms_norm_linear) and the residual add in its epilogue (mops_cuda_linear_add).
#include <cuda_bf16.h>
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
/** The most bytes of normalised rows a block of the NORM GEMV stages in shared memory. */
constexpr int64_t kMaxStagedBytes = 96 * 1024;

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
 * v rounded to T, to nearest even, as from_float<T> rounds every number (one conversion
 * instruction instead of its bit manipulation; a NaN stays a NaN, perhaps with other bits).
 */
template <typename T> __device__ __forceinline__ T round_to(float v);
template <> __device__ __forceinline__ float round_to<float>(float v) {
    return v;
}
template <> __device__ __forceinline__ f16 round_to<f16>(float v) {
    return f16{__half_as_ushort(__float2half_rn(v))};
}
template <> __device__ __forceinline__ bf16 round_to<bf16>(float v) {
    return bf16{__bfloat16_as_ushort(__float2bfloat16_rn(v))};
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
 *
 * NORM (mops_cuda_rms_norm_linear): the rows of a are RMS-normalised on the way in. After the
 * wait, while its first weight vectors load, every block sums the squares of each whole row
 * (float32, reduced over the block) for inv_r = rsqrt(mean(a_r^2) + eps) and stages the rows
 * round_T(a[r, i] * inv_r * g[i]) in shared memory (M * k values: the dynamic shared memory of
 * the launch), which the product then reads in place of a: the values, rounded to T, that the
 * separate norm (rms_norm.cu, same formula, same order of the products, same rounding) stores
 * before the plain GEMV reads them. The rows are a few kilobytes that every block reads from the
 * L2 cache anyway; normalising them once per block keeps the loop over the weights as short as
 * the plain one's (normalising per weight vector would make the product of several rows bound by
 * its instructions rather than by memory).
 *
 * addend (mops_cuda_linear_add; nullptr otherwise): out[r, j] = round_T(round_T(sum) +
 * addend[r, j]), the two roundings of the product stored in T and then added to the addend, so
 * the result is that of mops_cuda_matmul followed by the engine's add, bit for bit. It is a
 * branch on a kernel argument, taken or not by the whole grid, once per output column and row
 * (not in the loop over the weights): it leaves the plain GEMV's loop as it was, and costs no
 * template instantiations.
 */
template <typename T, int M, int SPLIT, bool NORM>
__global__ void __launch_bounds__(kGemvThreads)
    gemv_kernel(int64_t n, int64_t k, const T *a, int64_t lda, const T *w, int64_t ldw, const T *g,
                float eps, const T *addend, int64_t ldd, T *out) {
    constexpr int kVec = 16 / sizeof(T);
    constexpr int kCols = kGemvWarps / SPLIT;
    __shared__ float partial[kGemvWarps][M];
    extern __shared__ uint4 staged[]; // NORM: the M normalised rows of a, `vectors` each
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
    if constexpr (NORM) {
        float ss[M];
#pragma unroll
        for (int r = 0; r < M; ++r) {
            ss[r] = 0.0f;
        }
#pragma unroll 1
        for (int64_t v = threadIdx.x; v < vectors; v += kGemvThreads) {
#pragma unroll
            for (int r = 0; r < M; ++r) {
                const uint4 xv = __ldg(reinterpret_cast<const uint4 *>(a + r * lda) + v);
                const T *xt = reinterpret_cast<const T *>(&xv);
#pragma unroll
                for (int e = 0; e < kVec; ++e) {
                    const float f = as_float(xt[e]);
                    ss[r] = fmaf(f, f, ss[r]);
                }
            }
        }
#pragma unroll
        for (int r = 0; r < M; ++r) {
            for (int off = 16; off > 0; off /= 2) {
                ss[r] += __shfl_xor_sync(0xffffffffu, ss[r], off);
            }
        }
        if (lane == 0) {
#pragma unroll
            for (int r = 0; r < M; ++r) {
                partial[warp][r] = ss[r];
            }
        }
        __syncthreads();
        float inv[M];
#pragma unroll
        for (int r = 0; r < M; ++r) {
            float total = 0.0f;
            for (int q = 0; q < kGemvWarps; ++q) {
                total += partial[q][r];
            }
            // as rms_norm.cu computes it (built with --use_fast_math: an approximate division)
            inv[r] = rsqrtf(__fdividef(total, static_cast<float>(k)) + eps);
        }
#pragma unroll 1
        for (int64_t v = threadIdx.x; v < vectors; v += kGemvThreads) {
            const uint4 gv = __ldg(reinterpret_cast<const uint4 *>(g) + v);
            const T *gt = reinterpret_cast<const T *>(&gv);
#pragma unroll
            for (int r = 0; r < M; ++r) {
                const uint4 xv = __ldg(reinterpret_cast<const uint4 *>(a + r * lda) + v);
                const T *xt = reinterpret_cast<const T *>(&xv);
                uint4 yv;
                T *yt = reinterpret_cast<T *>(&yv);
#pragma unroll
                for (int e = 0; e < kVec; ++e) {
                    yt[e] = round_to<T>(as_float(xt[e]) * inv[r] * as_float(gt[e]));
                }
                staged[r * vectors + v] = yv;
            }
        }
        // the rows are staged, and partial is free for the columns' sums
        __syncthreads();
    }
    auto store = [&](int r, int64_t j, float sum) {
        T y = from_float<T>(sum);
        if (addend != nullptr) {
            y = from_float<T>(as_float(y) + as_float(addend[r * ldd + j]));
        }
        out[r * n + j] = y;
    };
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
                uint4 xv;
                if constexpr (NORM) {
                    xv = staged[r * vectors + v];
                } else {
                    xv = __ldg(reinterpret_cast<const uint4 *>(a + r * lda) + v);
                }
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
                    store(r, j, acc[r]);
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
                store(lane, j, sum);
            }
            // the next column's partial sums go where these were
            __syncthreads();
        }
    }
}

/**
 * How many blocks of gemv_kernel<T, M, SPLIT, NORM> with `shared_bytes` of dynamic shared memory
 * the current device holds at once (cached per device and variant, the variants differing in
 * registers, for the last size of shared memory asked: a model's products of one variant share
 * it).
 */
template <typename T, int M, int SPLIT, bool NORM> int64_t resident_blocks(int64_t shared_bytes) {
    constexpr int kDevices = 64;
    // (shared_bytes << 32) | blocks; 0 when not yet known
    static std::atomic<int64_t> known[kDevices];
    static std::atomic<bool> attribute_set[kDevices];
    int device = 0;
    MOPS_CUDA_CHECK(cudaGetDevice(&device));
    const bool cached = device >= 0 && device < kDevices;
    const int64_t entry = cached ? known[device].load() : 0;
    if (entry != 0 && (entry >> 32) == shared_bytes) {
        return entry & 0xFFFFFFFF;
    }
    auto kernel = gemv_kernel<T, M, SPLIT, NORM>;
    if (NORM && !(cached && attribute_set[device].load())) {
        MOPS_CUDA_CHECK(cudaFuncSetAttribute(kernel, cudaFuncAttributeMaxDynamicSharedMemorySize,
                                             static_cast<int>(kMaxStagedBytes)));
        if (cached) {
            attribute_set[device].store(true);
        }
    }
    int sms = 0;
    int per_sm = 0;
    MOPS_CUDA_CHECK(cudaDeviceGetAttribute(&sms, cudaDevAttrMultiProcessorCount, device));
    MOPS_CUDA_CHECK(cudaOccupancyMaxActiveBlocksPerMultiprocessor(
        &per_sm, kernel, kGemvThreads, static_cast<size_t>(shared_bytes)));
    const int64_t blocks = static_cast<int64_t>(sms) * (per_sm > 0 ? per_sm : 1);
    if (cached) {
        known[device].store((shared_bytes << 32) | blocks);
    }
    return blocks;
}

/** The operands of one GEMV launch (see run_gemv). */
struct GemvCall {
    int64_t n;
    int64_t k;
    const void *a;
    int64_t lda;
    const void *w;
    int64_t ldw;
    void *out;
    GemvFusion fusion;
};

template <typename T, int M, int SPLIT, bool NORM>
void launch_gemv(cudaStream_t s, const GemvCall &c) {
    constexpr int64_t cols = kGemvWarps / SPLIT;
    const int64_t groups = (c.n + cols - 1) / cols;
    const int64_t shared_bytes = NORM ? M * c.k * static_cast<int64_t>(sizeof(T)) : 0;
    require(shared_bytes <= kMaxStagedBytes,
            "the normalised rows of the GEMV need " + std::to_string(shared_bytes) +
                " bytes of shared memory, more than " + std::to_string(kMaxStagedBytes));
    const int64_t resident = resident_blocks<T, M, SPLIT, NORM>(shared_bytes);
    const int64_t blocks = groups < resident ? groups : resident;
    mops::launch_dependent(
        "gemv_kernel", gemv_kernel<T, M, SPLIT, NORM>, static_cast<unsigned>(blocks), kGemvThreads,
        static_cast<size_t>(shared_bytes), s, c.n, c.k, static_cast<const T *>(c.a), c.lda,
        static_cast<const T *>(c.w), c.ldw, static_cast<const T *>(c.fusion.norm_weight),
        c.fusion.eps, static_cast<const T *>(c.fusion.addend), c.fusion.addend_row_stride,
        static_cast<T *>(c.out));
}

/**
 * The plain or the NORM variant. The NORM variants exist for 2, 4 and 8 warps per column only
 * (36 kernels instead of 48, for a smaller library), and a split of 1 runs with 2: every split
 * computes the same sums (the slices partition each row), and 1 is the default only for products
 * of 32768 columns or more (gemv_default_split) or rows of fewer than 64 vectors
 * (gemv_max_split), which no normalised projection of the supported models has.
 */
template <typename T, int M, int SPLIT> void dispatch_norm(cudaStream_t s, const GemvCall &c) {
    if (c.fusion.norm_weight != nullptr) {
        launch_gemv<T, M, SPLIT == 1 ? 2 : SPLIT, true>(s, c);
    } else {
        launch_gemv<T, M, SPLIT, false>(s, c);
    }
}

template <typename T, int M> void dispatch_split(cudaStream_t s, int split, const GemvCall &c) {
    switch (split) {
    case 1:
        dispatch_norm<T, M, 1>(s, c);
        break;
    case 2:
        dispatch_norm<T, M, 2>(s, c);
        break;
    case 4:
        dispatch_norm<T, M, 4>(s, c);
        break;
    default:
        dispatch_norm<T, M, 8>(s, c);
        break;
    }
}

template <typename T> void dispatch_rows(cudaStream_t s, int split, int64_t m, const GemvCall &c) {
    switch (m) {
    case 1:
        dispatch_split<T, 1>(s, split, c);
        break;
    case 2:
        dispatch_split<T, 2>(s, split, c);
        break;
    case 3:
        dispatch_split<T, 3>(s, split, c);
        break;
    default:
        dispatch_split<T, 4>(s, split, c);
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

bool gemv_stages_rows(int32_t dtype, int64_t m, int64_t k) {
    return m * k * (dtype == MOPS_F32 ? 4 : 2) <= kMaxStagedBytes;
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
              const void *a, int64_t a_row_stride, const void *b, int64_t b_col_stride, void *out,
              const GemvFusion &fusion) {
    require(split == 1 || split == 2 || split == 4 || split == 8,
            "GEMV split must be 1, 2, 4 or 8, got " + std::to_string(split));
    const GemvCall call{n, k, a, a_row_stride, b, b_col_stride, out, fusion};
    switch (dtype) {
    case MOPS_F32:
        dispatch_rows<float>(s, split, m, call);
        break;
    case MOPS_F16:
        dispatch_rows<f16>(s, split, m, call);
        break;
    default:
        dispatch_rows<bf16>(s, split, m, call);
        break;
    }
}

} // namespace ce
} // namespace mops
