// Engine ops (CUDA): strided copy with dtype conversion, and fill.
#include <cuda_runtime.h>

#include <string>
#include <type_traits>

#include "engine_common.cuh"
#include "mambaops.h"
#include "pdl.cuh"
#include "status.hpp"

namespace mops {
namespace ce {
namespace {

template <typename S, typename D>
__global__ void copy_kernel(Strided<2> a, int64_t total, const S *src, D *dst) {
    pdl_begin();
    for (int64_t i = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; i < total;
         i += static_cast<int64_t>(gridDim.x) * blockDim.x) {
        int64_t off[2];
        a.offsets(i, off);
        if constexpr (std::is_same<S, D>::value) {
            dst[off[1]] = src[off[0]];
        } else {
            dst[off[1]] = store_double<D>(load_double(src[off[0]]));
        }
    }
}

template <typename T> __global__ void fill_double_kernel(T *dst, int64_t count, double value) {
    pdl_begin();
    const T v = store_double<T>(value);
    for (int64_t i = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; i < count;
         i += static_cast<int64_t>(gridDim.x) * blockDim.x) {
        dst[i] = v;
    }
}

} // namespace

/** Queues a strided copy with conversion (shared with the GEMM's operand packing). */
void strided_copy(cudaStream_t stream, int32_t rank, const int64_t *shape, int32_t src_dtype,
                  const void *src, const int64_t *src_strides, int32_t dst_dtype, void *dst,
                  const int64_t *dst_strides) {
    const int64_t total = check_shape(rank, shape);
    if (total == 0) {
        return;
    }
    require(src != nullptr && dst != nullptr, "src or dst is NULL");
    require(rank == 0 || (src_strides != nullptr && dst_strides != nullptr), "strides are NULL");
    const int64_t *strides[2] = {src_strides, dst_strides};
    const Strided<2> args = coalesce<2>(rank, shape, strides);
    dispatch(src_dtype, [&](auto stag) {
        using S = decltype(stag);
        dispatch(dst_dtype, [&](auto dtag) {
            using D = decltype(dtag);
            mops::launch_dependent("copy_kernel", copy_kernel<S, D>, blocks_for(total, 256), 256, 0,
                                   stream, args, total, static_cast<const S *>(src),
                                   static_cast<D *>(dst));
        });
    });
}

} // namespace ce
} // namespace mops

extern "C" MOPS_API int32_t mops_cuda_copy(void *stream, int32_t rank, const int64_t *shape,
                                           int32_t src_dtype, const void *src,
                                           const int64_t *src_strides, int32_t dst_dtype, void *dst,
                                           const int64_t *dst_strides) {
    return mops::guarded("cuda_copy", [&] {
        cudaStream_t s = mops::ce::bind(stream);
        mops::ce::strided_copy(s, rank, shape, src_dtype, src, src_strides, dst_dtype, dst,
                               dst_strides);
    });
}

extern "C" MOPS_API int32_t mops_cuda_fill(void *stream, int32_t dtype, void *dst, int64_t count,
                                           double value) {
    return mops::guarded("cuda_fill", [&] {
        mops::require(count >= 0, "negative count " + std::to_string(count));
        mops::require(mops::ce::dtype_bytes(dtype) != 0,
                      "unknown tensor dtype code " + std::to_string(dtype));
        if (count == 0) {
            return;
        }
        mops::require(dst != nullptr, "dst is NULL");
        cudaStream_t s = mops::ce::bind(stream);
        mops::ce::dispatch(dtype, [&](auto tag) {
            using T = decltype(tag);
            mops::launch_dependent("fill_double_kernel", mops::ce::fill_double_kernel<T>,
                                   mops::ce::blocks_for(count, 256), 256, 0, s,
                                   static_cast<T *>(dst), count, value);
        });
    });
}
