// Checked CUDA calls: every runtime call and launch goes through MOPS_CUDA_CHECK, which
// turns a failure into a mops::Error carrying MOPS_ERR_CUDA (or MOPS_ERR_OUT_OF_MEMORY).
#pragma once

#include <cuda_runtime.h>

#include <string>

#include "status.hpp"

namespace mops {

inline void cuda_check(cudaError_t err, const char *what, const char *file, int line) {
    if (err == cudaSuccess) {
        return;
    }
    // Reset the runtime's last error so that a recoverable failure (an out-of-memory) is not
    // reported again by the next launch check; sticky errors stay until the context is reset.
    cudaGetLastError();
    std::string message = std::string(what) + " failed: " + cudaGetErrorName(err) + " (" +
                          cudaGetErrorString(err) + ") at " + file + ":" + std::to_string(line);
    throw Error(err == cudaErrorMemoryAllocation ? MOPS_ERR_OUT_OF_MEMORY : MOPS_ERR_CUDA, message);
}

} // namespace mops

#define MOPS_CUDA_CHECK(call) ::mops::cuda_check((call), #call, __FILE__, __LINE__)
#define MOPS_CUDA_CHECK_LAUNCH(name)                                                               \
    ::mops::cuda_check(cudaGetLastError(), name, __FILE__, __LINE__)
