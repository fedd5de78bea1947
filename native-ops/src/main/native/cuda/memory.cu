// Device-memory and stream helpers of the CUDA library (stream-ordered allocation, async copies).
#include "cuda_check.cuh"
#include "mambaops.h"
#include "status.hpp"

extern "C" MOPS_API int32_t mops_cuda_malloc(void *stream, int64_t bytes, void **ptr) {
    return mops::guarded("cuda_malloc", [&] {
        mops::require(ptr != nullptr, "ptr is NULL");
        mops::require(bytes > 0, "bytes must be positive, got " + std::to_string(bytes));
        *ptr = nullptr;
        MOPS_CUDA_CHECK(
            cudaMallocAsync(ptr, static_cast<size_t>(bytes), static_cast<cudaStream_t>(stream)));
    });
}

extern "C" MOPS_API int32_t mops_cuda_free(void *stream, void *ptr) {
    return mops::guarded("cuda_free", [&] {
        if (ptr != nullptr) {
            MOPS_CUDA_CHECK(cudaFreeAsync(ptr, static_cast<cudaStream_t>(stream)));
        }
    });
}

extern "C" MOPS_API int32_t mops_cuda_memcpy_h2d(void *stream, void *dst, const void *src,
                                                 int64_t bytes) {
    return mops::guarded("cuda_memcpy_h2d", [&] {
        mops::require(dst != nullptr && src != nullptr, "dst or src is NULL");
        mops::require(bytes >= 0, "bytes must not be negative");
        MOPS_CUDA_CHECK(cudaMemcpyAsync(dst, src, static_cast<size_t>(bytes),
                                        cudaMemcpyHostToDevice, static_cast<cudaStream_t>(stream)));
    });
}

extern "C" MOPS_API int32_t mops_cuda_memcpy_d2h(void *stream, void *dst, const void *src,
                                                 int64_t bytes) {
    return mops::guarded("cuda_memcpy_d2h", [&] {
        mops::require(dst != nullptr && src != nullptr, "dst or src is NULL");
        mops::require(bytes >= 0, "bytes must not be negative");
        MOPS_CUDA_CHECK(cudaMemcpyAsync(dst, src, static_cast<size_t>(bytes),
                                        cudaMemcpyDeviceToHost, static_cast<cudaStream_t>(stream)));
    });
}

extern "C" MOPS_API int32_t mops_cuda_memcpy_d2d(void *stream, void *dst, const void *src,
                                                 int64_t bytes) {
    return mops::guarded("cuda_memcpy_d2d", [&] {
        mops::require(dst != nullptr && src != nullptr, "dst or src is NULL");
        mops::require(bytes >= 0, "bytes must not be negative");
        MOPS_CUDA_CHECK(cudaMemcpyAsync(dst, src, static_cast<size_t>(bytes),
                                        cudaMemcpyDeviceToDevice,
                                        static_cast<cudaStream_t>(stream)));
    });
}

extern "C" MOPS_API int32_t mops_cuda_stream_create(void **stream) {
    return mops::guarded("cuda_stream_create", [&] {
        mops::require(stream != nullptr, "stream is NULL");
        cudaStream_t s = nullptr;
        MOPS_CUDA_CHECK(cudaStreamCreateWithFlags(&s, cudaStreamNonBlocking));
        *stream = s;
    });
}

extern "C" MOPS_API int32_t mops_cuda_stream_destroy(void *stream) {
    return mops::guarded("cuda_stream_destroy", [&] {
        mops::require(stream != nullptr, "stream is NULL");
        auto s = static_cast<cudaStream_t>(stream);
        MOPS_CUDA_CHECK(cudaStreamSynchronize(s));
        MOPS_CUDA_CHECK(cudaStreamDestroy(s));
    });
}

extern "C" MOPS_API int32_t mops_cuda_stream_synchronize(void *stream) {
    return mops::guarded("cuda_stream_synchronize", [&] {
        cudaStreamCaptureStatus status = cudaStreamCaptureStatusNone;
        MOPS_CUDA_CHECK(cudaStreamIsCapturing(static_cast<cudaStream_t>(stream), &status));
        mops::require(status == cudaStreamCaptureStatusNone,
                      "the stream is recording a graph: a recorded step cannot wait for the "
                      "device (read results after the recording ends)");
        MOPS_CUDA_CHECK(cudaStreamSynchronize(static_cast<cudaStream_t>(stream)));
    });
}
