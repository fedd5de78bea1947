// Engine ops: aligned host memory with a count of the bytes in use, and a bounded cache of freed
// blocks so that the same-sized intermediates of every decoding step reuse resident pages instead
// of faulting fresh ones in (glibc returns large freed blocks to the system).
#include <atomic>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <string>
#include <unordered_map>

#include "mambaops.h"
#include "status.hpp"

namespace mops {
namespace {

constexpr int64_t kAlignment = 64;

// Each block starts with a header of kAlignment bytes: the size asked for and the size of the
// whole block; while the block is cached, also its links in the list of its size and in the list
// of all cached blocks (most recently freed first).
struct Header {
    int64_t bytes;
    int64_t total;
    Header *size_prev;
    Header *size_next;
    Header *age_prev;
    Header *age_next;
};
static_assert(sizeof(Header) <= kAlignment, "the header must fit in the alignment");

std::atomic<int64_t> g_bytes{0};
std::atomic<int64_t> g_blocks{0};

// The cache of freed blocks, keyed by their total size. Every field is guarded by `mutex`.
struct BlockCache {
    std::mutex mutex;
    std::unordered_map<int64_t, Header *> by_size; // newest block of each size
    Header *newest = nullptr;
    Header *oldest = nullptr;
    int64_t limit = 0;
    int64_t bytes = 0;
    int64_t blocks = 0;
    int64_t hits = 0;
    int64_t misses = 0;

    // Removes a cached block from both lists.
    void unlink(Header *h) {
        if (h->size_prev != nullptr) {
            h->size_prev->size_next = h->size_next;
        } else if (h->size_next != nullptr) {
            by_size[h->total] = h->size_next;
        } else {
            by_size.erase(h->total);
        }
        if (h->size_next != nullptr) {
            h->size_next->size_prev = h->size_prev;
        }
        (h->age_prev != nullptr ? h->age_prev->age_next : newest) = h->age_next;
        (h->age_next != nullptr ? h->age_next->age_prev : oldest) = h->age_prev;
        bytes -= h->total;
        blocks -= 1;
    }

    // Adds a freed block as the newest of both lists.
    void push(Header *h) {
        auto it = by_size.find(h->total);
        Header *next = it == by_size.end() ? nullptr : it->second;
        h->size_prev = nullptr;
        h->size_next = next;
        if (next != nullptr) {
            next->size_prev = h;
        }
        by_size[h->total] = h;
        h->age_prev = nullptr;
        h->age_next = newest;
        (newest != nullptr ? newest->age_prev : oldest) = h;
        newest = h;
        bytes += h->total;
        blocks += 1;
    }

    // Takes the most recently freed block of a size, or returns NULL.
    Header *take(int64_t total) {
        auto it = by_size.find(total);
        if (it == by_size.end()) {
            misses += 1;
            return nullptr;
        }
        Header *h = it->second;
        unlink(h);
        hits += 1;
        return h;
    }

    // Frees the oldest blocks until at most `keep` bytes stay cached.
    void trim(int64_t keep) {
        while (bytes > keep && oldest != nullptr) {
            Header *h = oldest;
            unlink(h);
            std::free(h);
        }
    }
};

BlockCache &cache() {
    static BlockCache *instance = new BlockCache(); // never destroyed: frees may come at exit
    return *instance;
}

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
        mops::Header *h;
        {
            mops::BlockCache &c = mops::cache();
            std::lock_guard<std::mutex> lock(c.mutex);
            h = c.take(total);
        }
        if (h == nullptr) {
            h = static_cast<mops::Header *>(
                std::aligned_alloc(mops::kAlignment, static_cast<size_t>(total)));
        }
        if (h == nullptr) {
            throw mops::Error(MOPS_ERR_OUT_OF_MEMORY, "could not allocate " +
                                                          std::to_string(bytes) +
                                                          " bytes of host memory");
        }
        h->bytes = bytes;
        h->total = total;
        char *data = reinterpret_cast<char *>(h) + mops::kAlignment;
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
        auto *h = reinterpret_cast<mops::Header *>(static_cast<char *>(ptr) - mops::kAlignment);
        mops::g_bytes -= h->bytes;
        mops::g_blocks -= 1;
        mops::BlockCache &c = mops::cache();
        {
            std::lock_guard<std::mutex> lock(c.mutex);
            if (h->total <= c.limit) {
                c.trim(c.limit - h->total);
                c.push(h);
                return;
            }
        }
        std::free(h);
    });
}

extern "C" MOPS_API int32_t mops_cpu_host_in_use(int64_t *bytes, int64_t *blocks) {
    return mops::guarded("host_in_use", [&] {
        mops::require(bytes != nullptr && blocks != nullptr, "bytes or blocks is NULL");
        *bytes = mops::g_bytes.load();
        *blocks = mops::g_blocks.load();
    });
}

extern "C" MOPS_API int32_t mops_cpu_host_cache_limit(int64_t limit_bytes) {
    return mops::guarded("host_cache_limit", [&] {
        mops::require(limit_bytes >= 0, "negative cache limit " + std::to_string(limit_bytes));
        mops::BlockCache &c = mops::cache();
        std::lock_guard<std::mutex> lock(c.mutex);
        c.limit = limit_bytes;
        c.trim(limit_bytes);
    });
}

extern "C" MOPS_API int32_t mops_cpu_host_cache_trim(int64_t keep_bytes) {
    return mops::guarded("host_cache_trim", [&] {
        mops::require(keep_bytes >= 0, "negative size to keep " + std::to_string(keep_bytes));
        mops::BlockCache &c = mops::cache();
        std::lock_guard<std::mutex> lock(c.mutex);
        c.trim(keep_bytes);
    });
}

extern "C" MOPS_API int32_t mops_cpu_host_cache_stats(int64_t *stats) {
    return mops::guarded("host_cache_stats", [&] {
        mops::require(stats != nullptr, "stats is NULL");
        mops::BlockCache &c = mops::cache();
        std::lock_guard<std::mutex> lock(c.mutex);
        stats[0] = c.bytes;
        stats[1] = c.blocks;
        stats[2] = c.hits;
        stats[3] = c.misses;
        stats[4] = c.limit;
    });
}
