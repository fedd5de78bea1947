// Engine ops (CUDA): device memory from one stream-ordered pool per device, with the count of the
// bytes handed out, pool statistics and trimming, streams per device and host transfers.
#include <cuda_runtime.h>

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <limits>
#include <mutex>
#include <string>
#include <unordered_map>

#include "engine_common.cuh"
#include "mambaops.h"
#include "status.hpp"

namespace mops {
namespace ce {
namespace {

constexpr int kMaxDevices = 64;

struct Block {
    int device;
    int64_t bytes;
    /** The stream whose graph recording made this allocation (graph-owned), or nullptr. */
    cudaStream_t recorded_on;
};

struct Registry {
    std::mutex mutex;
    cudaMemPool_t pools[kMaxDevices] = {};
    int64_t bytes[kMaxDevices] = {};
    int64_t blocks[kMaxDevices] = {};
    std::unordered_map<void *, Block> live;
};

Registry &registry() {
    static Registry *r = new Registry(); // never destroyed: frees may come during JVM shutdown
    return *r;
}

void check_device(int32_t device) {
    int count = 0;
    MOPS_CUDA_CHECK(cudaGetDeviceCount(&count));
    require(device >= 0 && device < count && device < kMaxDevices,
            "device " + std::to_string(device) + " does not exist (" + std::to_string(count) +
                " CUDA devices)");
}

/** The engine pool of a device, created on first use with an unlimited release threshold. */
cudaMemPool_t pool_of(int device) {
    Registry &r = registry();
    std::lock_guard<std::mutex> lock(r.mutex);
    if (r.pools[device] == nullptr) {
        cudaMemPoolProps props{};
        props.allocType = cudaMemAllocationTypePinned;
        props.handleTypes = cudaMemHandleTypeNone;
        props.location.type = cudaMemLocationTypeDevice;
        props.location.id = device;
        cudaMemPool_t pool = nullptr;
        MOPS_CUDA_CHECK(cudaMemPoolCreate(&pool, &props));
        // Keep freed memory for reuse: no release at synchronisation points, so allocations do
        // not go back to the driver (mops_cuda_engine_pool_trim returns it on request).
        uint64_t threshold = std::numeric_limits<uint64_t>::max();
        MOPS_CUDA_CHECK(cudaMemPoolSetAttribute(pool, cudaMemPoolAttrReleaseThreshold, &threshold));
        r.pools[device] = pool;
    }
    return r.pools[device];
}

std::string describe_free(int device) {
    size_t free_bytes = 0;
    size_t total = 0;
    if (cudaMemGetInfo(&free_bytes, &total) != cudaSuccess) {
        cudaGetLastError();
        return "";
    }
    return "; device " + std::to_string(device) + " has " + std::to_string(free_bytes >> 20) +
           " MiB free of " + std::to_string(total >> 20) + " MiB";
}

} // namespace

void *pool_alloc(cudaStream_t stream, int64_t bytes) {
    require(bytes >= 0, "negative size " + std::to_string(bytes));
    int device = 0;
    MOPS_CUDA_CHECK(cudaGetDevice(&device));
    require(device < kMaxDevices, "device index " + std::to_string(device) + " is too large");
    cudaMemPool_t pool = pool_of(device);
    const size_t size = static_cast<size_t>(bytes > 0 ? bytes : 1);
    void *ptr = nullptr;
    const bool recording = is_recording(stream);
    cudaError_t err = cudaMallocFromPoolAsync(&ptr, size, pool, stream);
    if (err == cudaErrorMemoryAllocation && !recording) {
        // Memory freed on other streams becomes reusable once their work is done: wait for the
        // device once and retry before reporting the failure.
        cudaGetLastError();
        MOPS_CUDA_CHECK(cudaDeviceSynchronize());
        err = cudaMallocFromPoolAsync(&ptr, size, pool, stream);
    }
    if (err == cudaErrorMemoryAllocation) {
        cudaGetLastError();
        throw Error(MOPS_ERR_OUT_OF_MEMORY,
                    "out of device memory: could not allocate " + std::to_string(bytes) + " bytes" +
                        describe_free(device) +
                        "; free arrays (close them) or use a smaller batch");
    }
    MOPS_CUDA_CHECK(err);
    Registry &r = registry();
    std::lock_guard<std::mutex> lock(r.mutex);
    r.live[ptr] = Block{device, bytes, recording ? stream : nullptr};
    r.bytes[device] += bytes;
    r.blocks[device] += 1;
    return ptr;
}

void pool_free(cudaStream_t stream, void *ptr) {
    if (ptr == nullptr) {
        return;
    }
    {
        Registry &r = registry();
        std::lock_guard<std::mutex> lock(r.mutex);
        auto it = r.live.find(ptr);
        require(it != r.live.end(), "pointer was not allocated by mops_cuda_engine_alloc");
        r.bytes[it->second.device] -= it->second.bytes;
        r.blocks[it->second.device] -= 1;
        r.live.erase(it);
    }
    MOPS_CUDA_CHECK(cudaFreeAsync(ptr, stream));
}

namespace {

struct KnownStream {
    std::atomic<cudaStream_t> stream{nullptr};
    int device = -1;
};

constexpr int kMaxStreams = 256;
KnownStream known_streams[kMaxStreams];
std::atomic<int> known_count{0};

} // namespace

void remember_stream(cudaStream_t stream, int device) {
    const int slot = known_count.fetch_add(1);
    require(slot < kMaxStreams, "too many engine streams");
    known_streams[slot].device = device;
    known_streams[slot].stream.store(stream, std::memory_order_release);
}

int engine_stream_device(cudaStream_t stream) {
    const int n = std::min(known_count.load(std::memory_order_acquire), kMaxStreams);
    for (int i = 0; i < n; i++) {
        if (known_streams[i].stream.load(std::memory_order_acquire) == stream) {
            return known_streams[i].device;
        }
    }
    return -1;
}

bool is_recording(cudaStream_t stream) {
    cudaStreamCaptureStatus status = cudaStreamCaptureStatusNone;
    MOPS_CUDA_CHECK(cudaStreamIsCapturing(stream, &status));
    return status != cudaStreamCaptureStatusNone;
}

void settle_recorded(cudaStream_t stream, bool discard) {
    Registry &r = registry();
    std::lock_guard<std::mutex> lock(r.mutex);
    for (auto it = r.live.begin(); it != r.live.end();) {
        if (it->second.recorded_on != stream) {
            ++it;
        } else if (discard) {
            r.bytes[it->second.device] -= it->second.bytes;
            r.blocks[it->second.device] -= 1;
            it = r.live.erase(it);
        } else {
            it->second.recorded_on = nullptr;
            ++it;
        }
    }
}

PoolBuffer::PoolBuffer(cudaStream_t stream, int64_t bytes)
    : stream_(stream), ptr_(pool_alloc(stream, bytes)) {}

PoolBuffer::~PoolBuffer() {
    try {
        pool_free(stream_, ptr_);
    } catch (const Error &) {
        // A destructor cannot report: the error is already recorded by the failed call that
        // unwinds through here, and a failed cudaFreeAsync leaves a sticky context error.
    }
}

} // namespace ce
} // namespace mops

extern "C" MOPS_API int32_t mops_cuda_engine_stream_create(int32_t device, void **stream) {
    return mops::guarded("cuda_engine_stream_create", [&] {
        mops::require(stream != nullptr, "stream is NULL");
        mops::ce::check_device(device);
        MOPS_CUDA_CHECK(cudaSetDevice(device));
        cudaStream_t s = nullptr;
        MOPS_CUDA_CHECK(cudaStreamCreateWithFlags(&s, cudaStreamNonBlocking));
        mops::ce::remember_stream(s, device);
        *stream = s;
    });
}

extern "C" MOPS_API int32_t mops_cuda_engine_alloc(void *stream, int64_t bytes, int32_t zero,
                                                   void **out) {
    return mops::guarded("cuda_engine_alloc", [&] {
        mops::require(out != nullptr, "out is NULL");
        *out = nullptr;
        cudaStream_t s = mops::ce::bind(stream);
        void *ptr = mops::ce::pool_alloc(s, bytes);
        if (zero && bytes > 0) {
            cudaError_t err = cudaMemsetAsync(ptr, 0, static_cast<size_t>(bytes), s);
            if (err != cudaSuccess) {
                mops::ce::pool_free(s, ptr);
                MOPS_CUDA_CHECK(err);
            }
        }
        *out = ptr;
    });
}

extern "C" MOPS_API int32_t mops_cuda_engine_free(void *stream, void *ptr) {
    return mops::guarded("cuda_engine_free", [&] {
        if (ptr != nullptr) {
            mops::ce::pool_free(mops::ce::bind(stream), ptr);
        }
    });
}

extern "C" MOPS_API int32_t mops_cuda_engine_in_use(int32_t device, int64_t *bytes,
                                                    int64_t *blocks) {
    return mops::guarded("cuda_engine_in_use", [&] {
        mops::require(bytes != nullptr && blocks != nullptr, "bytes or blocks is NULL");
        mops::require(device >= 0 && device < mops::ce::kMaxDevices,
                      "device " + std::to_string(device) + " is out of range");
        mops::ce::Registry &r = mops::ce::registry();
        std::lock_guard<std::mutex> lock(r.mutex);
        *bytes = r.bytes[device];
        *blocks = r.blocks[device];
    });
}

extern "C" MOPS_API int32_t mops_cuda_engine_pool_stats(int32_t device, int64_t *reserved,
                                                        int64_t *used, int64_t *free_bytes,
                                                        int64_t *total_bytes) {
    return mops::guarded("cuda_engine_pool_stats", [&] {
        mops::require(reserved != nullptr && used != nullptr && free_bytes != nullptr &&
                          total_bytes != nullptr,
                      "an output pointer is NULL");
        mops::ce::check_device(device);
        MOPS_CUDA_CHECK(cudaSetDevice(device));
        cudaMemPool_t pool = mops::ce::pool_of(device);
        uint64_t r = 0;
        uint64_t u = 0;
        MOPS_CUDA_CHECK(cudaMemPoolGetAttribute(pool, cudaMemPoolAttrReservedMemCurrent, &r));
        MOPS_CUDA_CHECK(cudaMemPoolGetAttribute(pool, cudaMemPoolAttrUsedMemCurrent, &u));
        size_t f = 0;
        size_t t = 0;
        MOPS_CUDA_CHECK(cudaMemGetInfo(&f, &t));
        *reserved = static_cast<int64_t>(r);
        *used = static_cast<int64_t>(u);
        *free_bytes = static_cast<int64_t>(f);
        *total_bytes = static_cast<int64_t>(t);
    });
}

extern "C" MOPS_API int32_t mops_cuda_engine_pool_high(int32_t device, int32_t reset,
                                                      int64_t *pool_used_high,
                                                      int64_t *graph_used_high) {
    return mops::guarded("cuda_engine_pool_high", [&] {
        mops::require(pool_used_high != nullptr && graph_used_high != nullptr,
                      "an output pointer is NULL");
        mops::ce::check_device(device);
        MOPS_CUDA_CHECK(cudaSetDevice(device));
        cudaMemPool_t pool = mops::ce::pool_of(device);
        uint64_t pool_high = 0;
        uint64_t graph_high = 0;
        MOPS_CUDA_CHECK(cudaMemPoolGetAttribute(pool, cudaMemPoolAttrUsedMemHigh, &pool_high));
        MOPS_CUDA_CHECK(
            cudaDeviceGetGraphMemAttribute(device, cudaGraphMemAttrUsedMemHigh, &graph_high));
        *pool_used_high = static_cast<int64_t>(pool_high);
        *graph_used_high = static_cast<int64_t>(graph_high);
        if (reset) {
            uint64_t zero = 0;
            MOPS_CUDA_CHECK(cudaMemPoolSetAttribute(pool, cudaMemPoolAttrUsedMemHigh, &zero));
            MOPS_CUDA_CHECK(
                cudaDeviceSetGraphMemAttribute(device, cudaGraphMemAttrUsedMemHigh, &zero));
        }
    });
}

extern "C" MOPS_API int32_t mops_cuda_engine_pool_trim(int32_t device, int64_t keep_bytes) {
    return mops::guarded("cuda_engine_pool_trim", [&] {
        mops::require(keep_bytes >= 0, "keep_bytes must not be negative");
        mops::ce::check_device(device);
        MOPS_CUDA_CHECK(cudaSetDevice(device));
        cudaMemPool_t pool = mops::ce::pool_of(device);
        MOPS_CUDA_CHECK(cudaDeviceSynchronize());
        MOPS_CUDA_CHECK(cudaMemPoolTrimTo(pool, static_cast<size_t>(keep_bytes)));
    });
}

extern "C" MOPS_API int32_t mops_cuda_engine_transfer(void *stream, void *dst, const void *src,
                                                      int64_t bytes, int32_t to_device) {
    return mops::guarded("cuda_engine_transfer", [&] {
        mops::require(bytes >= 0, "bytes must not be negative");
        if (bytes == 0) {
            return;
        }
        mops::require(dst != nullptr && src != nullptr, "dst or src is NULL");
        cudaStream_t s = mops::ce::bind(stream);
        mops::require(!mops::ce::is_recording(s),
                      "a copy between host and device memory cannot be recorded into a graph "
                      "(the host buffer would be read again at every replay): move data to or "
                      "from the device before or after the recorded step");
        MOPS_CUDA_CHECK(cudaMemcpyAsync(dst, src, static_cast<size_t>(bytes),
                                        to_device ? cudaMemcpyHostToDevice : cudaMemcpyDeviceToHost,
                                        s));
    });
}
