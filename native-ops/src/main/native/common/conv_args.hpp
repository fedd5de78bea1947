// Argument checks of the causal conv1d, shared by the CPU and CUDA backends.
#pragma once

#include <string>

#include "dtype.hpp"
#include "status.hpp"

namespace mops {

inline std::string conv_shape(int64_t batch, int64_t dim, int64_t seqlen, int32_t width) {
    return "x [batch=" + std::to_string(batch) + ", dim=" + std::to_string(dim) +
           ", seqlen=" + std::to_string(seqlen) + "], weight [" + std::to_string(dim) + ", " +
           std::to_string(width) + "]";
}

inline void check_conv_args(int32_t dtype, const void *x, int64_t batch, int64_t dim,
                            int64_t seqlen, const void *weight, int32_t width, const void *out) {
    require(dtype_size(dtype) != 0, "unknown dtype code " + std::to_string(dtype));
    require(x != nullptr, "x is NULL");
    require(weight != nullptr, "weight is NULL");
    require(out != nullptr, "out is NULL");
    require(batch > 0 && dim > 0 && seqlen > 0,
            "sizes must be positive: " + conv_shape(batch, dim, seqlen, width));
    require(width >= 2 && width <= 4,
            "width must be 2, 3 or 4: " + conv_shape(batch, dim, seqlen, width));
}

} // namespace mops
