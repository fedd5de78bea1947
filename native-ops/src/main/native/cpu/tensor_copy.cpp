// Engine ops: strided copy with dtype conversion, and fill.
#include <string>

#include "mambaops.h"
#include "status.hpp"
#include "tensor_types.hpp"

extern "C" MOPS_API int32_t mops_cpu_copy(int32_t rank, const int64_t *shape, int32_t src_dtype,
                                          const void *src, const int64_t *src_strides,
                                          int32_t dst_dtype, void *dst,
                                          const int64_t *dst_strides) {
    return mops::guarded("copy", [&] {
        const int64_t n = mops::check_shape(rank, shape);
        if (n == 0) {
            return;
        }
        mops::require(src != nullptr && dst != nullptr, "src or dst is NULL");
        mops::require(rank == 0 || (src_strides != nullptr && dst_strides != nullptr),
                      "strides are NULL");
        const int64_t *strides[2] = {src_strides, dst_strides};
        mops::dispatch_tensor_dtype(src_dtype, [&](auto stag) {
            using S = decltype(stag);
            mops::dispatch_tensor_dtype(dst_dtype, [&](auto dtag) {
                using D = decltype(dtag);
                const S *s = static_cast<const S *>(src);
                D *d = static_cast<D *>(dst);
                mops::strided_for<2>(rank, shape, strides, [&](int64_t, const int64_t *off) {
                    if constexpr (std::is_same<S, D>::value) {
                        d[off[1]] = s[off[0]];
                    } else {
                        d[off[1]] = mops::store_double<D>(mops::load_double(s[off[0]]));
                    }
                });
            });
        });
    });
}

extern "C" MOPS_API int32_t mops_cpu_fill(int32_t dtype, void *dst, int64_t count, double value) {
    return mops::guarded("fill", [&] {
        mops::require(count >= 0, "negative count " + std::to_string(count));
        if (count == 0) {
            return;
        }
        mops::require(dst != nullptr, "dst is NULL");
        mops::dispatch_tensor_dtype(dtype, [&](auto tag) {
            using T = decltype(tag);
            const T v = mops::store_double<T>(value);
            T *d = static_cast<T *>(dst);
#pragma omp parallel for schedule(static) num_threads(mops::threads_for(count, 65536))
            for (int64_t i = 0; i < count; ++i) {
                d[i] = v;
            }
        });
    });
}
