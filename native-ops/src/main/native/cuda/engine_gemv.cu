// Engine ops (CUDA): the product of a few rows by a transposed weight (decoding's linears), as a
// bandwidth-bound GEMV that reads each weight row once with 16-byte loads, one to eight warps per
// output column; mops_cuda_matmul uses it where it applies and cuBLASLt elsewhere. Fused forms
// serve a decoding layer's residual step: the RMSNorm of the rows in the GEMV's prologue
// (mops_cuda_rms_norm_linear), the residual add in its epilogue (mops_cuda_linear_add), and both
// with the Mamba-2 mixer's gated norm in place of the plain one
// (mops_cuda_gated_rms_norm_linear_add).
#include <cuda_bf16.h>
#include <cuda_fp16.h>
#include <cuda_runtime.h>

#include <atomic>
#include <cstdint>
#include <string>

#include "conv_step.cuh"
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
/** The most bytes of normalised rows a block of a normalising GEMV stages in shared memory. */
constexpr int64_t kMaxStagedBytes = 96 * 1024;
/** The most groups per row of the gated norm in the GEMV's prologue (Codestral has 8). */
constexpr int kMaxNormGroups = 8;
/**
 * The threads per group of rms_norm.cu's gated_wide_kernel and the most channels they hold, whose
 * order of the sums the gated prologue reproduces.
 */
constexpr int kWideThreads = 1024;
constexpr int64_t kMaxWideGroup = 8 * kWideThreads;

/** What gemv_kernel does to the rows of a before the product: nothing, or one of two norms. */
enum class Rows { kAsIs, kNorm, kGatedNorm };

/**
 * The dynamic shared memory of a normalising GEMV: the M staged rows of k elements, and for the
 * gated norm the values it squares in float32 (stage_gated_rows).
 */
int64_t gemv_staged_bytes(int64_t elem, int64_t m, int64_t k, const GemvFusion &fusion) {
    return m * k * (elem + (fusion.gate != nullptr ? 4 : 0));
}

__device__ __forceinline__ void prefetch_l2(const void *p) {
    asm volatile("prefetch.global.L2 [%0];" ::"l"(p));
}

/** The convolution step of a GEMV's epilogue (GemvFusion's conv_* fields; state null: none). */
template <typename T> struct GemvConv {
    int64_t start;
    int64_t channels;
    const T *weight;
    int width;
    const T *bias;
    float *state;
    bool act;
};

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

// The float32 instructions of the gated norm (rms_norm.cu), which is built with --use_fast_math
// while the engine ops are not: subnormal inputs and results flushed to zero, an approximate
// division, exponential and reciprocal square root. The gated prologue spells them out (they are
// what that file compiles to: its PTX), so that each normalised value is the separate norm's.
__device__ __forceinline__ float mul_ftz(float a, float b) {
    float r;
    asm("mul.ftz.f32 %0, %1, %2;" : "=f"(r) : "f"(a), "f"(b));
    return r;
}
__device__ __forceinline__ float add_ftz(float a, float b) {
    float r;
    asm("add.ftz.f32 %0, %1, %2;" : "=f"(r) : "f"(a), "f"(b));
    return r;
}
__device__ __forceinline__ float fma_ftz(float a, float b, float c) {
    float r;
    asm("fma.rn.ftz.f32 %0, %1, %2, %3;" : "=f"(r) : "f"(a), "f"(b), "f"(c));
    return r;
}
__device__ __forceinline__ float div_ftz(float a, float b) {
    float r;
    asm("div.approx.ftz.f32 %0, %1, %2;" : "=f"(r) : "f"(a), "f"(b));
    return r;
}
__device__ __forceinline__ float ex2_ftz(float a) {
    float r;
    asm("ex2.approx.ftz.f32 %0, %1;" : "=f"(r) : "f"(a));
    return r;
}
__device__ __forceinline__ float rsqrt_ftz(float a) {
    float r;
    asm("rsqrt.approx.ftz.f32 %0, %1;" : "=f"(r) : "f"(a));
    return r;
}

/** rms_norm.cu's silu_norm, v / (1 + __expf(-v)): __expf(u) is 2^(u * log2(e)). */
__device__ __forceinline__ float silu_ftz(float v) {
    return div_ftz(v, add_ftz(ex2_ftz(mul_ftz(v, __uint_as_float(0xbfb8aa3bu))), 1.0f));
}

/**
 * Reduces N values per lane (N a power of two up to 32) over the lanes of the warp at once: on
 * return the lanes l with l / (32 / N) == v hold the sum over the lanes of their value v. Each
 * sum is added in the order of a butterfly reduction (lanes l and l ^ 16 first, then ^ 8, ^ 4,
 * ^ 2, ^ 1), whose result is the same in every lane: the sum a butterfly of that one value gives
 * (as rms_norm.cu's block_sum does), with N - 1 + 5 - log2(N) shuffles instead of 5 N. In the
 * first log2(N) steps a lane keeps the half of its values whose sums end in lanes on its side of
 * the step's lane bit and sends its partner the other half; the last steps are the butterfly's.
 */
template <int N> __device__ __forceinline__ float reduce_sums(float (&values)[N]) {
    const int lane = threadIdx.x % 32;
    int bit = 16;
#pragma unroll
    for (int half = N / 2; half > 0; half /= 2, bit /= 2) {
        const bool upper = (lane & bit) != 0;
#pragma unroll
        for (int i = 0; i < half; ++i) {
            const float send = upper ? values[i] : values[i + half];
            const float keep = upper ? values[i + half] : values[i];
            values[i] = add_ftz(keep, __shfl_xor_sync(0xffffffffu, send, bit));
        }
    }
    for (; bit > 0; bit /= 2) {
        values[0] = add_ftz(values[0], __shfl_xor_sync(0xffffffffu, values[0], bit));
    }
    return values[0];
}

/**
 * The prologue of the GEMV with Rows::kGatedNorm: stages the rows of the Mamba-2 gated norm,
 * round_T(norm(a) * silu(z)) (before) or round_T(norm(a * silu(z))), each group of group_size
 * channels normalised with its own inv = rsqrt(mean(v^2) + eps): the values rms_norm.cu's
 * gated_wide_kernel stores (which serves every decoding step: at most 64 groups of at most 8192
 * channels), bit for bit. The same float32 instructions for each value, and the sums of squares
 * added in the same order: that kernel's thread t of 1024 sums the channels t + 1024 j of its
 * group in order of j, a butterfly reduces each warp and the 32 warps' sums are added in order.
 * Here thread t stands for the threads t + 256 q (q < 4) of each group, at the same lane of
 * warps warp + 8 q, and reduce_sums reduces the 4 warps' sums of each warp at once.
 *
 * The values to square, a or a * silu(z) in float32, are first kept in shared memory after the
 * staged rows (M * k * 4 bytes more), read from the L2 cache as 16-byte vectors: the sums then
 * read each in the wide kernel's order from there, and the pass that normalises them reads them
 * again. Every block normalises the rows, so every block evaluates the gate of every value, and
 * the gate (an exponential and a division) is what the multiprocessors' special-function units
 * serve at a sixteenth of the rate of the other arithmetic: it is evaluated once per value and
 * block, in the first pass (not before) or the last (before).
 */
template <typename T, int M>
__device__ __forceinline__ void stage_gated_rows(int64_t k, const T *a, int64_t lda, const T *g,
                                                 float eps, const T *z, int64_t ldz,
                                                 int64_t group_size, bool before, uint4 *staged) {
    constexpr int kVec = 16 / sizeof(T);
    constexpr int kQuads = kVec / 4;                    // float4 per vector of T
    constexpr int kStand = kWideThreads / kGemvThreads; // the wide kernel's threads per thread
    __shared__ float warp_sums[kMaxRows * kMaxNormGroups][kWideThreads / 32];
    __shared__ float inv[kMaxRows * kMaxNormGroups];
    const int warp = threadIdx.x / 32;
    const int lane = threadIdx.x % 32;
    const int64_t vectors = k / kVec;
    const int64_t group_vectors = group_size / kVec;
    const int groups = static_cast<int>(k / group_size);
    const int pairs = M * groups;
    float *values = reinterpret_cast<float *>(staged + M * vectors);
#pragma unroll 1
    for (int64_t v = threadIdx.x; v < vectors; v += kGemvThreads) {
#pragma unroll
        for (int r = 0; r < M; ++r) {
            const uint4 xv = __ldg(reinterpret_cast<const uint4 *>(a + r * lda) + v);
            const T *xt = reinterpret_cast<const T *>(&xv);
            uint4 zv = make_uint4(0, 0, 0, 0);
            if (!before) {
                zv = __ldg(reinterpret_cast<const uint4 *>(z + r * ldz) + v);
            }
            const T *zt = reinterpret_cast<const T *>(&zv);
#pragma unroll
            for (int q = 0; q < kQuads; ++q) {
                float4 fq;
                float *f = reinterpret_cast<float *>(&fq);
#pragma unroll
                for (int e = 0; e < 4; ++e) {
                    const int i = 4 * q + e;
                    f[e] = before ? as_float(xt[i])
                                  : mul_ftz(as_float(xt[i]), silu_ftz(as_float(zt[i])));
                }
                reinterpret_cast<float4 *>(values + r * k)[v * kQuads + q] = fq;
            }
        }
    }
    __syncthreads();
#pragma unroll 1
    for (int pair = 0; pair < pairs; ++pair) {
        const float *vr = values + (pair / groups) * k + (pair % groups) * group_size;
        float sums[kStand];
#pragma unroll
        for (int q = 0; q < kStand; ++q) {
            sums[q] = 0.0f;
#pragma unroll 1
            for (int64_t c = threadIdx.x + q * kGemvThreads; c < group_size; c += kWideThreads) {
                sums[q] = fma_ftz(vr[c], vr[c], sums[q]);
            }
        }
        // lanes 8 q to 8 q + 7: the sum of the wide kernel's warp warp + 8 q
        const float total = reduce_sums(sums);
        if (lane % (32 / kStand) == 0) {
            warp_sums[pair][warp + kGemvWarps * (lane / (32 / kStand))] = total;
        }
    }
    __syncthreads();
    if (threadIdx.x < pairs) {
        float total = 0.0f;
        for (int q = 0; q < kWideThreads / 32; ++q) {
            total = add_ftz(total, warp_sums[threadIdx.x][q]);
        }
        inv[threadIdx.x] = rsqrt_ftz(add_ftz(div_ftz(total, static_cast<float>(group_size)), eps));
    }
    __syncthreads();
#pragma unroll 1
    for (int64_t v = threadIdx.x; v < vectors; v += kGemvThreads) {
        const int group = static_cast<int>(v / group_vectors);
        const uint4 gv = __ldg(reinterpret_cast<const uint4 *>(g) + v);
        const T *gt = reinterpret_cast<const T *>(&gv);
#pragma unroll
        for (int r = 0; r < M; ++r) {
            const float scale = inv[r * groups + group];
            uint4 zv = make_uint4(0, 0, 0, 0);
            if (before) {
                zv = __ldg(reinterpret_cast<const uint4 *>(z + r * ldz) + v);
            }
            const T *zt = reinterpret_cast<const T *>(&zv);
            uint4 yv;
            T *yt = reinterpret_cast<T *>(&yv);
#pragma unroll
            for (int q = 0; q < kQuads; ++q) {
                const float4 fq = reinterpret_cast<const float4 *>(values + r * k)[v * kQuads + q];
                const float *f = reinterpret_cast<const float *>(&fq);
#pragma unroll
                for (int e = 0; e < 4; ++e) {
                    const int i = 4 * q + e;
                    const float y = mul_ftz(mul_ftz(f[e], scale), as_float(gt[i]));
                    yt[i] = round_to<T>(before ? mul_ftz(y, silu_ftz(as_float(zt[i]))) : y);
                }
            }
            staged[r * vectors + v] = yv;
        }
    }
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
 * Rows::kNorm (mops_cuda_rms_norm_linear): the rows of a are RMS-normalised on the way in. After
 * the wait, while its first weight vectors load, every block sums the squares of each whole row
 * (float32, reduced over the block) for inv_r = rsqrt(mean(a_r^2) + eps) and stages the rows
 * round_T(a[r, i] * inv_r * g[i]) in shared memory (M * k values: the dynamic shared memory of
 * the launch), which the product then reads in place of a: the values, rounded to T, that the
 * separate norm (rms_norm.cu, same formula, same order of the products, same rounding) stores
 * before the plain GEMV reads them. The rows are a few kilobytes that every block reads from the
 * L2 cache anyway; normalising them once per block keeps the loop over the weights as short as
 * the plain one's (normalising per weight vector would make the product of several rows bound by
 * its instructions rather than by memory).
 *
 * Rows::kGatedNorm (mops_cuda_gated_rms_norm_linear_add): the rows of the Mamba-2 mixer's gated
 * norm, gated by z, staged the same way (stage_gated_rows). Its own variants, not a branch in
 * those of kNorm: its prologue takes registers, which would be every kNorm variant's too (and
 * fewer of their blocks resident).
 *
 * addend (mops_cuda_linear_add; nullptr otherwise): out[r, j] = round_T(round_T(sum) +
 * addend[r, j]), the two roundings of the product stored in T and then added to the addend, so
 * the result is that of mops_cuda_matmul followed by the engine's add, bit for bit. It is a
 * branch on a kernel argument, taken or not by the whole grid, once per output column and row
 * (not in the loop over the weights): it leaves the plain GEMV's loop as it was, and costs no
 * template instantiations.
 *
 * conv (mops_cuda_rms_norm_linear_conv; conv.state null otherwise): the outputs of the columns
 * [conv.start, conv.start + conv.channels) go through one step of the causal convolution
 * (conv_step, the arithmetic of the separate update kernel, from the output rounded to T) and
 * their rows of the convolution's state take them in. The lanes that will store a column load its
 * filters and state rows into registers before the loop over its weights, so that the epilogue
 * does not wait for them after the reduction. A branch on a kernel argument, as the addend's.
 */
template <typename T, int M, int SPLIT, Rows ROWS>
__global__ void __launch_bounds__(kGemvThreads)
    gemv_kernel(int64_t n, int64_t k, const T *a, int64_t lda, const T *w, int64_t ldw, const T *g,
                float eps, const T *z, int64_t ldz, int64_t group_size, bool before,
                const T *addend, int64_t ldd, const GemvConv<T> conv, T *out) {
    constexpr int kVec = 16 / sizeof(T);
    constexpr int kCols = kGemvWarps / SPLIT;
    constexpr bool kNormed = ROWS != Rows::kAsIs;
    __shared__ float partial[kGemvWarps][M];
    // kNormed: the M normalised rows of a, `vectors` each (then what stage_gated_rows keeps)
    extern __shared__ uint4 staged[];
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
    if constexpr (ROWS == Rows::kGatedNorm) {
        stage_gated_rows<T, M>(k, a, lda, g, eps, z, ldz, group_size, before, staged);
    } else if constexpr (ROWS == Rows::kNorm) {
        {
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
        }
    }
    if constexpr (kNormed) {
        // the rows are staged, and partial is free for the columns' sums
        __syncthreads();
    }
    // the rows of the convolution's state that a storing lane holds: all M rows where one lane
    // stores the column (SPLIT 1), its own row otherwise
    constexpr int kConvRows = SPLIT == 1 ? M : 1;
    for (int64_t group = blockIdx.x; group < groups; group += gridDim.x) {
        const int64_t j = group * kCols + warp / SPLIT;
        // the convolution's operands of column j, loaded by the lanes that store it while the
        // column's weights stream in
        const int64_t cj = j - conv.start;
        const bool convolved = conv.state != nullptr && j < n && cj >= 0 && cj < conv.channels;
        const bool stores = slice == 0 && (SPLIT == 1 ? lane == 0 : lane < M);
        float filters[kConvMaxHist + 1];
        float shift = 0.0f;
        float window[kConvRows][kConvMaxHist];
        if (convolved && stores) {
            conv_load_filters(conv.weight + cj * conv.width, conv.width,
                              conv.bias ? conv.bias + cj : nullptr, filters, shift);
#pragma unroll
            for (int q = 0; q < kConvRows; ++q) {
                const int r = SPLIT == 1 ? q : lane;
                conv_load_state(conv.state + (r * conv.channels + cj) * (conv.width - 1),
                                conv.width, window[q]);
            }
        }
        auto store = [&](int r, float sum) {
            T y = from_float<T>(sum);
            if (addend != nullptr) {
                y = from_float<T>(as_float(y) + as_float(addend[r * ldd + j]));
            }
            if (convolved) {
                float (&win)[kConvMaxHist] = window[SPLIT == 1 ? r : 0];
                y = from_float<T>(
                    conv_step_in_registers(as_float(y), filters, conv.width, shift, win, conv.act));
                conv_store_state(conv.state + (r * conv.channels + cj) * (conv.width - 1),
                                 conv.width, win);
            }
            out[r * n + j] = y;
        };
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
                if constexpr (kNormed) {
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
                    store(r, acc[r]);
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
                store(lane, sum);
            }
            // the next column's partial sums go where these were
            __syncthreads();
        }
    }
}

/**
 * How many blocks of gemv_kernel<T, M, SPLIT, ROWS> with `shared_bytes` of dynamic shared memory
 * the current device holds at once (cached per device and variant, the variants differing in
 * registers, for the last size of shared memory asked: a model's products of one variant share
 * it).
 */
template <typename T, int M, int SPLIT, Rows ROWS> int64_t resident_blocks(int64_t shared_bytes) {
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
    auto kernel = gemv_kernel<T, M, SPLIT, ROWS>;
    if (ROWS != Rows::kAsIs && !(cached && attribute_set[device].load())) {
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

template <typename T, int M, int SPLIT, Rows ROWS>
void launch_gemv(cudaStream_t s, const GemvCall &c) {
    constexpr int64_t cols = kGemvWarps / SPLIT;
    const int64_t groups = (c.n + cols - 1) / cols;
    const int64_t shared_bytes =
        ROWS != Rows::kAsIs ? gemv_staged_bytes(static_cast<int64_t>(sizeof(T)), M, c.k, c.fusion)
                            : 0;
    require(shared_bytes <= kMaxStagedBytes,
            "the normalised rows of the GEMV need " + std::to_string(shared_bytes) +
                " bytes of shared memory, more than " + std::to_string(kMaxStagedBytes));
    const int64_t resident = resident_blocks<T, M, SPLIT, ROWS>(shared_bytes);
    const int64_t blocks = groups < resident ? groups : resident;
    mops::launch_dependent(
        "gemv_kernel", gemv_kernel<T, M, SPLIT, ROWS>, static_cast<unsigned>(blocks), kGemvThreads,
        static_cast<size_t>(shared_bytes), s, c.n, c.k, static_cast<const T *>(c.a), c.lda,
        static_cast<const T *>(c.w), c.ldw, static_cast<const T *>(c.fusion.norm_weight),
        c.fusion.eps, static_cast<const T *>(c.fusion.gate), c.fusion.gate_row_stride,
        c.fusion.group_size, c.fusion.norm_before_gate, static_cast<const T *>(c.fusion.addend),
        c.fusion.addend_row_stride,
        GemvConv<T>{c.fusion.conv_start, c.fusion.conv_channels,
                    static_cast<const T *>(c.fusion.conv_weight), c.fusion.conv_width,
                    static_cast<const T *>(c.fusion.conv_bias), c.fusion.conv_state,
                    c.fusion.conv_silu},
        static_cast<T *>(c.out));
}

/**
 * The plain or a normalising variant. The normalising variants exist for 2, 4 and 8 warps per
 * column only (36 kernels each instead of 48, for a smaller library), and a split of 1 runs with
 * 2: every split
 * computes the same sums (the slices partition each row), and 1 is the default only for products
 * of 32768 columns or more (gemv_default_split) or rows of fewer than 64 vectors
 * (gemv_max_split), which no normalised projection of the supported models has.
 */
template <typename T, int M, int SPLIT> void dispatch_norm(cudaStream_t s, const GemvCall &c) {
    constexpr int kNormSplit = SPLIT == 1 ? 2 : SPLIT;
    if (c.fusion.gate != nullptr) {
        launch_gemv<T, M, kNormSplit, Rows::kGatedNorm>(s, c);
    } else if (c.fusion.norm_weight != nullptr) {
        launch_gemv<T, M, kNormSplit, Rows::kNorm>(s, c);
    } else {
        launch_gemv<T, M, SPLIT, Rows::kAsIs>(s, c);
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

bool gemv_stages_rows(int32_t dtype, int64_t m, int64_t k, const GemvFusion &fusion) {
    return gemv_staged_bytes(dtype == MOPS_F32 ? 4 : 2, m, k, fusion) <= kMaxStagedBytes;
}

bool gemv_gates_rows(int32_t dtype, int64_t k, const GemvFusion &fusion) {
    const int elem = dtype == MOPS_F32 ? 4 : 2;
    const int64_t size = fusion.group_size;
    // groups of whole 16-byte vectors that gated_wide_kernel serves; the gate read as vectors
    return size >= 1 && size <= kMaxWideGroup && k % size == 0 && k / size <= kMaxNormGroups &&
           (size * elem) % 16 == 0 && aligned16(fusion.gate) &&
           (fusion.gate_row_stride * elem) % 16 == 0;
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
