// A parallel memory copy: the bandwidth floor of the memory-bound kernels (see jmh/NOTES.md).
// Each thread copies one contiguous share, so that a copy larger than the caches takes glibc's
// path for large copies (non-temporal stores, no read for ownership of the destination), as a
// single-threaded memcpy of that size would.
#include <cstring>

#include <omp.h>

#include "mambaops.h"
#include "status.hpp"

extern "C" MOPS_API int32_t mops_cpu_memcpy(void *dst, const void *src, int64_t bytes) {
    return mops::guarded("copy", [&] {
        mops::require(dst != nullptr && src != nullptr, "dst or src is NULL");
        mops::require(bytes >= 0, "bytes must not be negative");
        auto *d = static_cast<char *>(dst);
        const auto *s = static_cast<const char *>(src);
#pragma omp parallel
        {
            // shares rounded to 4 KiB pages
            const int64_t threads = omp_get_num_threads();
            const int64_t share = (bytes / threads + 4095) / 4096 * 4096;
            const int64_t off = omp_get_thread_num() * share;
            if (off < bytes) {
                const int64_t n = bytes - off < share ? bytes - off : share;
                std::memcpy(d + off, s + off, static_cast<size_t>(n));
            }
        }
    });
}
