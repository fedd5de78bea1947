// Engine ops: taking rows along an axis by int64 indices (embedding gather).
#include <cstring>
#include <string>

#include "mambaops.h"
#include "status.hpp"
#include "tensor_types.hpp"

extern "C" MOPS_API int32_t mops_cpu_take(int32_t dtype, const void *x, int64_t outer, int64_t n,
                                          int64_t inner, const int64_t *indices, int64_t count,
                                          void *out) {
    return mops::guarded("take", [&] {
        const int size = mops::tensor_dtype_size(dtype);
        mops::require(size != 0, "unknown tensor dtype code " + std::to_string(dtype));
        mops::require(outer >= 0 && n >= 0 && inner >= 0 && count >= 0, "negative size");
        if (outer == 0 || inner == 0 || count == 0) {
            return;
        }
        mops::require(x != nullptr && out != nullptr && indices != nullptr,
                      "x, indices or out is NULL");
        for (int64_t i = 0; i < count; ++i) {
            const int64_t v = indices[i];
            if (v < -n || v >= n) {
                throw mops::Error(MOPS_ERR_INVALID_ARGUMENT,
                                  "index " + std::to_string(v) + " at position " +
                                      std::to_string(i) + " is out of bounds for an axis of size " +
                                      std::to_string(n));
            }
        }
        const size_t row = static_cast<size_t>(inner) * size;
        const char *src = static_cast<const char *>(x);
        char *dst = static_cast<char *>(out);
        const int64_t rows = outer * count;
#pragma omp parallel for schedule(static) num_threads(mops::threads_for(rows *inner, 65536))
        for (int64_t r = 0; r < rows; ++r) {
            const int64_t o = r / count;
            int64_t v = indices[r % count];
            if (v < 0) {
                v += n;
            }
            std::memcpy(dst + r * row, src + (o * n + v) * row, row);
        }
    });
}
