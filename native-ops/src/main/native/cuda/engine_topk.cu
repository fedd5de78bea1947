// Engine ops (CUDA): the k largest or smallest elements along the middle axis of a contiguous
// [outer, n, inner] array, sorted, ties by lower index. One block per row selects the elements in
// order: round r takes the first element (in the sort order) that comes after the one taken in
// round r - 1, so no scratch memory is needed and the order equals the CPU's.
#include <cuda_runtime.h>

#include <string>

#include "engine_common.cuh"
#include "mambaops.h"
#include "pdl.cuh"
#include "status.hpp"

namespace mops {
namespace ce {
namespace {

constexpr int kThreads = 256;

/** Whether element (va, a) comes before (vb, b): NaN first (largest) or last (smallest). */
__device__ __forceinline__ bool before(double va, int64_t a, double vb, int64_t b, bool largest) {
    const bool na = va != va;
    const bool nb = vb != vb;
    if (na || nb) {
        return largest ? (na && !nb) || (na && nb && a < b) : (!na && nb) || (na && nb && a < b);
    }
    if (va != vb) {
        return largest ? va > vb : va < vb;
    }
    return a < b;
}

template <typename T>
__global__ void topk_kernel(const T *x, int64_t outer, int64_t n, int64_t inner, int64_t k,
                            bool largest, T *values, int64_t *indices) {
    pdl_begin();
    __shared__ double sv[kThreads];
    __shared__ int64_t si[kThreads];
    const int64_t rows = outer * inner;
    for (int64_t r = blockIdx.x; r < rows; r += gridDim.x) {
        const int64_t o = r / inner;
        const int64_t j = r % inner;
        const T *p = x + o * n * inner + j;
        double last_v = 0.0;
        int64_t last_i = -1;
        for (int64_t round = 0; round < k; ++round) {
            double best_v = 0.0;
            int64_t best_i = -1;
            for (int64_t i = threadIdx.x; i < n; i += blockDim.x) {
                const double v = load_double(p[i * inner]);
                if (last_i >= 0 && !before(last_v, last_i, v, i, largest)) {
                    continue; // taken in an earlier round
                }
                if (best_i < 0 || before(v, i, best_v, best_i, largest)) {
                    best_v = v;
                    best_i = i;
                }
            }
            sv[threadIdx.x] = best_v;
            si[threadIdx.x] = best_i;
            __syncthreads();
            for (int stride = blockDim.x / 2; stride > 0; stride /= 2) {
                if (threadIdx.x < stride) {
                    const int other = threadIdx.x + stride;
                    if (si[other] >= 0 &&
                        (si[threadIdx.x] < 0 ||
                         before(sv[other], si[other], sv[threadIdx.x], si[threadIdx.x], largest))) {
                        sv[threadIdx.x] = sv[other];
                        si[threadIdx.x] = si[other];
                    }
                }
                __syncthreads();
            }
            last_v = sv[0];
            last_i = si[0];
            if (threadIdx.x == 0) {
                const int64_t at = (o * k + round) * inner + j;
                values[at] = p[last_i * inner];
                indices[at] = last_i;
            }
            __syncthreads();
        }
    }
}

} // namespace
} // namespace ce
} // namespace mops

extern "C" MOPS_API int32_t mops_cuda_topk(void *stream, int32_t dtype, const void *x,
                                           int64_t outer, int64_t n, int64_t inner, int64_t k,
                                           int32_t largest, void *values, int64_t *indices) {
    return mops::guarded("cuda_topk", [&] {
        mops::ce::check_oni(x, values, outer, n, inner);
        mops::require(indices != nullptr, "indices is NULL");
        mops::require(k >= 1 && k <= n,
                      "k = " + std::to_string(k) + " must be in [1, " + std::to_string(n) + "]");
        mops::ce::dispatch(dtype, [&](auto tag) {
            using T = decltype(tag);
            const int64_t rows = outer * inner;
            if (rows == 0) {
                return;
            }
            cudaStream_t s = mops::ce::bind(stream);
            mops::launch_dependent("topk_kernel", mops::ce::topk_kernel<T>,
                                   mops::ce::blocks_for(rows, 1), mops::ce::kThreads, 0, s,
                                   static_cast<const T *>(x), outer, n, inner, k, largest != 0,
                                   static_cast<T *>(values), indices);
        });
    });
}
