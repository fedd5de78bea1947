// Engine ops: aligned host memory with a count of the bytes in use.
#include <atomic>
#include <cstdlib>
#include <cstring>
#include <string>

#include "mambaops.h"
#include "status.hpp"

namespace mops {
namespace {

constexpr int64_t kAlignment = 64;
// Each block starts with a header of kAlignment bytes that records its size.
std::atomic<int64_t> g_bytes{0};
std::atomic<int64_t> g_blocks{0};

} // namespace
} // namespace mops

extern "C" MOPS_API int32_t mops_cpu_host_alloc(int64_t bytes, int32_t zero, void **out) {
    return mops::guarded("host_alloc", [&] {
        mops::require(out != nullptr, "out is NULL");
        *out = nullptr;
        mops::require(bytes >= 0, "negative size " + std::to_string(bytes));
        if (bytes > (int64_t{1} << 56)) {
            throw mops::Error(MOPS_ERR_OUT_OF_MEMORY,
                              "cannot allocate " + std::to_string(bytes) + " bytes of host memory");
        }
        const int64_t total =
            ((bytes + mops::kAlignment - 1) / mops::kAlignment + 1) * mops::kAlignment;
        void *block = std::aligned_alloc(mops::kAlignment, static_cast<size_t>(total));
        if (block == nullptr) {
            throw mops::Error(MOPS_ERR_OUT_OF_MEMORY, "could not allocate " +
                                                          std::to_string(bytes) +
                                                          " bytes of host memory");
        }
        std::memcpy(block, &bytes, sizeof bytes);
        char *data = static_cast<char *>(block) + mops::kAlignment;
        if (zero) {
            std::memset(data, 0, static_cast<size_t>(total - mops::kAlignment));
        }
        mops::g_bytes += bytes;
        mops::g_blocks += 1;
        *out = data;
    });
}

extern "C" MOPS_API int32_t mops_cpu_host_free(void *ptr) {
    return mops::guarded("host_free", [&] {
        if (ptr == nullptr) {
            return;
        }
        char *block = static_cast<char *>(ptr) - mops::kAlignment;
        int64_t bytes;
        std::memcpy(&bytes, block, sizeof bytes);
        mops::g_bytes -= bytes;
        mops::g_blocks -= 1;
        std::free(block);
    });
}

extern "C" MOPS_API int32_t mops_cpu_host_in_use(int64_t *bytes, int64_t *blocks) {
    return mops::guarded("host_in_use", [&] {
        mops::require(bytes != nullptr && blocks != nullptr, "bytes or blocks is NULL");
        *bytes = mops::g_bytes.load();
        *blocks = mops::g_blocks.load();
    });
}
