// A parallel memory copy: the bandwidth floor of the memory-bound kernels (see jmh/NOTES.md).
#include <cstring>

#include "mambaops.h"
#include "status.hpp"

extern "C" MOPS_API int32_t mops_cpu_memcpy(void *dst, const void *src, int64_t bytes) {
    return mops::guarded("copy", [&] {
        mops::require(dst != nullptr && src != nullptr, "dst or src is NULL");
        mops::require(bytes >= 0, "bytes must not be negative");
        constexpr int64_t block = 1 << 20;
        const int64_t blocks = (bytes + block - 1) / block;
        auto *d = static_cast<char *>(dst);
        const auto *s = static_cast<const char *>(src);
#pragma omp parallel for schedule(static)
        for (int64_t i = 0; i < blocks; ++i) {
            const int64_t off = i * block;
            const int64_t n = bytes - off < block ? bytes - off : block;
            std::memcpy(d + off, s + off, static_cast<size_t>(n));
        }
    });
}
