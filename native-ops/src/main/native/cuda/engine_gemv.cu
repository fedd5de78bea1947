// Engine ops (CUDA): the product of a few rows by a transposed weight (decoding's linears), as a
// bandwidth-bound GEMV that reads each weight row once with 16-byte loads, one warp per output
// column; mops_cuda_matmul uses it where it applies and cuBLASLt elsewhere.
#include <cuda_fp16.h>
#include <cuda_runtime.h>

#include <cstdint>

#include "dtype.hpp"
#include "engine_common.cuh"
#include "status.hpp"

namespace mops {
namespace ce {
namespace {

constexpr int kGemvThreads = 256;
constexpr int kGemvWarps = kGemvThreads / 32;
constexpr int kMaxRows = 4;
constexpr int64_t kMaxSharedBytes = 48 * 1024;

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
 * out[r, j] = sum_i a[r, i] * w[j, i] for r < M: the rows of a are staged in shared memory, each
 * warp takes output columns j in turn and reads the weight row j once, 16 bytes per lane and
 * load, accumulating in float32.
 */
template <typename T, int M>
__global__ void __launch_bounds__(kGemvThreads)
    gemv_kernel(int64_t n, int64_t k, const T *a, int64_t lda, const T *w, int64_t ldw, T *out) {
    extern __shared__ __align__(16) unsigned char staged[];
    T *xs = reinterpret_cast<T *>(staged);
    for (int64_t i = threadIdx.x; i < M * k; i += kGemvThreads) {
        const int64_t r = i / k;
        xs[i] = a[r * lda + (i - r * k)];
    }
    __syncthreads();
    constexpr int kVec = 16 / sizeof(T);
    const int warp = threadIdx.x / 32;
    const int lane = threadIdx.x % 32;
    for (int64_t j = static_cast<int64_t>(blockIdx.x) * kGemvWarps + warp; j < n;
         j += static_cast<int64_t>(gridDim.x) * kGemvWarps) {
        const T *wr = w + j * ldw;
        float acc[M];
#pragma unroll
        for (int r = 0; r < M; ++r) {
            acc[r] = 0.0f;
        }
#pragma unroll 4
        for (int64_t i = static_cast<int64_t>(lane) * kVec; i < k; i += 32 * kVec) {
            const uint4 wv = __ldg(reinterpret_cast<const uint4 *>(wr + i));
            const T *wt = reinterpret_cast<const T *>(&wv);
#pragma unroll
            for (int r = 0; r < M; ++r) {
                const uint4 xv = *reinterpret_cast<const uint4 *>(xs + r * k + i);
                const T *xt = reinterpret_cast<const T *>(&xv);
#pragma unroll
                for (int e = 0; e < kVec; ++e) {
                    acc[r] = fmaf(as_float(xt[e]), as_float(wt[e]), acc[r]);
                }
            }
        }
#pragma unroll
        for (int r = 0; r < M; ++r) {
            float v = acc[r];
            for (int off = 16; off > 0; off /= 2) {
                v += __shfl_xor_sync(0xffffffffu, v, off);
            }
            if (lane == 0) {
                out[r * n + j] = from_float<T>(v);
            }
        }
    }
}

template <typename T, int M>
void launch_gemv(cudaStream_t s, int64_t n, int64_t k, const void *a, int64_t lda, const void *w,
                 int64_t ldw, void *out) {
    const int64_t blocks = (n + kGemvWarps - 1) / kGemvWarps;
    const unsigned grid = static_cast<unsigned>(blocks < 65535 * 8 ? blocks : 65535 * 8);
    const size_t shared = static_cast<size_t>(M * k) * sizeof(T);
    gemv_kernel<T, M><<<grid, kGemvThreads, shared, s>>>(n, k, static_cast<const T *>(a), lda,
                                                         static_cast<const T *>(w), ldw,
                                                         static_cast<T *>(out));
    MOPS_CUDA_CHECK_LAUNCH("gemv_kernel");
}

template <typename T>
void dispatch_rows(cudaStream_t s, int64_t m, int64_t n, int64_t k, const void *a, int64_t lda,
                   const void *w, int64_t ldw, void *out) {
    switch (m) {
    case 1:
        launch_gemv<T, 1>(s, n, k, a, lda, w, ldw, out);
        break;
    case 2:
        launch_gemv<T, 2>(s, n, k, a, lda, w, ldw, out);
        break;
    case 3:
        launch_gemv<T, 3>(s, n, k, a, lda, w, ldw, out);
        break;
    default:
        launch_gemv<T, 4>(s, n, k, a, lda, w, ldw, out);
        break;
    }
}

bool aligned16(const void *p) {
    return (reinterpret_cast<uintptr_t>(p) & 15u) == 0;
}

} // namespace

bool try_gemv(cudaStream_t s, int32_t dtype, int64_t batch, int64_t m, int64_t n, int64_t k,
              const void *a, int64_t a_row_stride, int64_t a_col_stride, const void *b,
              int64_t b_row_stride, int64_t b_col_stride, void *out) {
    const int elem = dtype == MOPS_F32 ? 4 : (dtype == MOPS_F16 || dtype == MOPS_BF16) ? 2 : 0;
    // a: m rows of k contiguous values; b: the transposed view of a [n, k] weight (b[i, j] at
    // w[j * ldw + i]), whose rows start on 16 bytes and hold whole 16-byte vectors
    if (elem == 0 || batch != 1 || m < 1 || m > kMaxRows || a_col_stride != 1 ||
        b_row_stride != 1 || b_col_stride < k || (k * elem) % 16 != 0 ||
        (b_col_stride * elem) % 16 != 0 || !aligned16(b) || m * k * elem > kMaxSharedBytes) {
        return false;
    }
    switch (dtype) {
    case MOPS_F32:
        dispatch_rows<float>(s, m, n, k, a, a_row_stride, b, b_col_stride, out);
        break;
    case MOPS_F16:
        dispatch_rows<f16>(s, m, n, k, a, a_row_stride, b, b_col_stride, out);
        break;
    default:
        dispatch_rows<bf16>(s, m, n, k, a, a_row_stride, b, b_col_stride, out);
        break;
    }
    return true;
}

} // namespace ce
} // namespace mops
