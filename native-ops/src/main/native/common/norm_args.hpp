// Argument checks of the RMSNorm kernels, shared by the CPU and CUDA backends.
#pragma once

#include <string>

#include "dtype.hpp"
#include "status.hpp"

namespace mops {

inline void check_rms_norm_gated_args(int32_t dtype, int64_t rows, int64_t hidden,
                                      int64_t group_size, const void *x, int64_t x_row_stride,
                                      const void *z, int64_t z_row_stride, const void *weight,
                                      float eps, const void *out, int64_t out_row_stride) {
    const std::string shape = "x [rows=" + std::to_string(rows) +
                              ", hidden=" + std::to_string(hidden) + "], group_size " +
                              std::to_string(group_size);
    require(dtype_size(dtype) != 0, "unknown dtype code " + std::to_string(dtype));
    require(x != nullptr, "x is NULL");
    require(weight != nullptr, "weight is NULL");
    require(out != nullptr, "out is NULL");
    require(rows > 0 && hidden > 0 && group_size > 0, "sizes must be positive: " + shape);
    require(hidden % group_size == 0, "group_size must divide hidden: " + shape);
    require(x_row_stride >= hidden && out_row_stride >= hidden &&
                (z == nullptr || z_row_stride >= hidden),
            "row strides must be at least hidden: " + shape);
    require(eps >= 0.0f, "eps must be non-negative: " + shape);
}

inline void check_add_rms_norm_args(int32_t dtype, int64_t rows, int64_t hidden, const void *x,
                                    int32_t residual_dtype, const void *weight, float eps,
                                    const void *out) {
    const std::string shape =
        "x [rows=" + std::to_string(rows) + ", hidden=" + std::to_string(hidden) + "]";
    require(dtype_size(dtype) != 0, "unknown dtype code " + std::to_string(dtype));
    require(residual_dtype == MOPS_F32 || residual_dtype == dtype,
            std::string("residual dtype must be float32 or x's dtype (") + dtype_name(dtype) +
                "), got code " + std::to_string(residual_dtype));
    require(x != nullptr, "x is NULL");
    require(weight != nullptr, "weight is NULL");
    require(out != nullptr, "out is NULL");
    require(rows > 0 && hidden > 0, "sizes must be positive: " + shape);
    require(eps >= 0.0f, "eps must be non-negative: " + shape);
}

} // namespace mops
