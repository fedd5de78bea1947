// Programmatic dependent launch (Hopper and later). A kernel started with mops::launch_dependent
// may be scheduled while the kernel before it in the stream is still running, so that its launch
// and the ramp of its blocks overlap that kernel's tail (a decoding step is hundreds of short
// kernels). Such a kernel must call pdl_wait() before its first access to global memory: the
// wait returns once the previous kernel has finished and its writes are visible. Each kernel
// first calls pdl_allow_dependents(), which lets the next kernel be scheduled in turn, so that a
// run of short kernels is resident together, each waiting for the one before it; a kernel that
// has work independent of its predecessors (the GEMV's prefetch of its weights) does it before
// its wait, overlapping them. The chain cannot deadlock: a kernel is scheduled only once every
// block of the one before it is resident, and it cannot end before those it waits for have.
//
// On devices before compute capability 9.0, or with MAMBADJL_CUDA_PDL=0 in the environment, the
// launch is an ordinary one (and both device calls do nothing).
#pragma once

#include <cuda_runtime.h>

#include <atomic>
#include <cstdlib>
#include <cstring>
#include <utility>

#include "cuda_check.cuh"

namespace mops {

/** Waits for the previous kernel of the stream (and its writes) when launched dependent. */
__device__ __forceinline__ void pdl_wait() {
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 900
    asm volatile("griddepcontrol.wait;" ::: "memory");
#endif
}

/** Lets the next kernel of the stream be scheduled before this one ends. */
__device__ __forceinline__ void pdl_allow_dependents() {
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 900
    asm volatile("griddepcontrol.launch_dependents;" ::: "memory");
#endif
}

/** The start of every kernel launched with launch_dependent: pdl_allow_dependents(), then
 * pdl_wait(). */
__device__ __forceinline__ void pdl_begin() {
    pdl_allow_dependents();
    pdl_wait();
}

/** Whether the current device launches dependent kernels early (cached per device). */
inline bool pdl_enabled() {
    constexpr int kDevices = 64;
    // 0: not yet known, 1: no, 2: yes
    static std::atomic<int> known[kDevices];
    static const bool allowed = [] {
        const char *v = std::getenv("MAMBADJL_CUDA_PDL");
        return v == nullptr || std::strcmp(v, "0") != 0;
    }();
    if (!allowed) {
        return false;
    }
    int device = 0;
    MOPS_CUDA_CHECK(cudaGetDevice(&device));
    if (device < 0 || device >= kDevices) {
        return false;
    }
    int state = known[device].load(std::memory_order_relaxed);
    if (state == 0) {
        int major = 0;
        MOPS_CUDA_CHECK(cudaDeviceGetAttribute(&major, cudaDevAttrComputeCapabilityMajor, device));
        state = major >= 9 ? 2 : 1;
        known[device].store(state, std::memory_order_relaxed);
    }
    return state == 2;
}

/**
 * Launches kernel on stream s as a programmatic dependent of the stream's previous kernel (where
 * pdl_enabled); the kernel must begin with pdl_wait(). Failures throw, as MOPS_CUDA_CHECK does.
 */
template <typename... Params, typename... Args>
void launch_dependent(const char *name, void (*kernel)(Params...), dim3 grid, dim3 block,
                      size_t shared_bytes, cudaStream_t s, Args &&...args) {
    cudaLaunchAttribute attribute[1];
    attribute[0].id = cudaLaunchAttributeProgrammaticStreamSerialization;
    attribute[0].val.programmaticStreamSerializationAllowed = 1;
    cudaLaunchConfig_t config{};
    config.gridDim = grid;
    config.blockDim = block;
    config.dynamicSmemBytes = shared_bytes;
    config.stream = s;
    config.attrs = attribute;
    config.numAttrs = pdl_enabled() ? 1 : 0;
    cuda_check(cudaLaunchKernelEx(&config, kernel, std::forward<Args>(args)...), name, __FILE__,
               __LINE__);
}

} // namespace mops
