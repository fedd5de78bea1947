// Engine ops (CUDA): taking rows along an axis by int64 indices (the embedding gather).
#include <cuda_runtime.h>

#include <cstdint>
#include <string>

#include "engine_common.cuh"
#include "mambaops.h"
#include "pdl.cuh"
#include "status.hpp"

namespace mops {
namespace ce {
namespace {

/** Records in *bad the first position whose index lies outside [-n, n). */
__global__ void check_indices(const int64_t *indices, int64_t count, int64_t n,
                              unsigned long long *bad) {
    pdl_begin();
    for (int64_t i = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; i < count;
         i += static_cast<int64_t>(gridDim.x) * blockDim.x) {
        const int64_t v = indices[i];
        if (v < -n || v >= n) {
            atomicMin(bad, static_cast<unsigned long long>(i));
        }
    }
}

/** out[o, i, j] = x[o, indices[i], j] for elements of type E (any type of the same size). */
template <typename E>
__global__ void take_kernel(const E *x, int64_t n, int64_t inner, const int64_t *indices,
                            int64_t count, int64_t total, E *out) {
    pdl_begin();
    for (int64_t e = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; e < total;
         e += static_cast<int64_t>(gridDim.x) * blockDim.x) {
        const int64_t j = e % inner;
        const int64_t r = e / inner;
        const int64_t o = r / count;
        int64_t v = indices[r % count];
        if (v < 0) {
            v += n;
        }
        // An index outside the axis was reported by check_indices; never read out of bounds.
        out[e] = (v >= 0 && v < n) ? x[(o * n + v) * inner + j] : E{};
    }
}

template <typename E>
void launch_take(cudaStream_t s, const void *x, int64_t n, int64_t inner, const int64_t *indices,
                 int64_t count, int64_t total, void *out) {
    mops::launch_dependent("take_kernel", take_kernel<E>, blocks_for(total, 256), 256, 0, s,
                           static_cast<const E *>(x), n, inner, indices, count, total,
                           static_cast<E *>(out));
}

} // namespace
} // namespace ce
} // namespace mops

extern "C" MOPS_API int32_t mops_cuda_take(void *stream, int32_t dtype, const void *x,
                                           int64_t outer, int64_t n, int64_t inner,
                                           const int64_t *indices, int64_t count, void *out) {
    return mops::guarded("cuda_take", [&] {
        const int size = mops::ce::dtype_bytes(dtype);
        mops::require(size != 0, "unknown tensor dtype code " + std::to_string(dtype));
        mops::require(outer >= 0 && n >= 0 && inner >= 0 && count >= 0, "negative size");
        if (outer == 0 || inner == 0 || count == 0) {
            return;
        }
        mops::require(x != nullptr && out != nullptr && indices != nullptr,
                      "x, indices or out is NULL");
        cudaStream_t s = mops::ce::bind(stream);
        // A recorded graph cannot wait for the check: while recording, an index outside the axis
        // reads as zeros (take_kernel never reads out of bounds) and the caller checks the ids.
        if (!mops::ce::is_recording(s)) {
            mops::ce::PoolBuffer flag(s, sizeof(unsigned long long));
            auto *bad = static_cast<unsigned long long *>(flag.get());
            MOPS_CUDA_CHECK(cudaMemsetAsync(bad, 0xFF, sizeof(unsigned long long), s));
            mops::launch_dependent("check_indices", mops::ce::check_indices,
                                   mops::ce::blocks_for(count, 256), 256, 0, s, indices, count, n,
                                   bad);
            unsigned long long position = 0;
            MOPS_CUDA_CHECK(
                cudaMemcpyAsync(&position, bad, sizeof position, cudaMemcpyDeviceToHost, s));
            MOPS_CUDA_CHECK(cudaStreamSynchronize(s));
            if (position != ~0ULL) {
                int64_t value = 0;
                MOPS_CUDA_CHECK(cudaMemcpyAsync(&value, indices + position, sizeof value,
                                                cudaMemcpyDeviceToHost, s));
                MOPS_CUDA_CHECK(cudaStreamSynchronize(s));
                throw mops::Error(MOPS_ERR_INVALID_ARGUMENT,
                                  "index " + std::to_string(value) + " at position " +
                                      std::to_string(position) +
                                      " is out of bounds for an axis of size " + std::to_string(n));
            }
        }
        const int64_t total = outer * count * inner;
        switch (size) {
        case 1:
            mops::ce::launch_take<uint8_t>(s, x, n, inner, indices, count, total, out);
            break;
        case 2:
            mops::ce::launch_take<uint16_t>(s, x, n, inner, indices, count, total, out);
            break;
        case 4:
            mops::ce::launch_take<uint32_t>(s, x, n, inner, indices, count, total, out);
            break;
        default:
            mops::ce::launch_take<uint64_t>(s, x, n, inner, indices, count, total, out);
            break;
        }
    });
}
