// Library-level entry points of the CUDA library: version, device count, last error.
#include "cuda_check.cuh"
#include "mambaops.h"
#include "status.hpp"

extern "C" MOPS_API const char *mops_cuda_last_error(void) {
    return mops::last_error().c_str();
}

extern "C" MOPS_API int32_t mops_cuda_abi_version(void) {
    return MOPS_ABI_VERSION;
}

extern "C" MOPS_API int32_t mops_cuda_device_count(int32_t *count) {
    return mops::guarded("cuda_device_count", [&] {
        mops::require(count != nullptr, "count is NULL");
        int n = 0;
        cudaError_t err = cudaGetDeviceCount(&n);
        if (err == cudaErrorNoDevice || err == cudaErrorInsufficientDriver) {
            cudaGetLastError(); // clear the sticky-free error so later calls start clean
            n = 0;
        } else {
            MOPS_CUDA_CHECK(err);
        }
        *count = n;
    });
}
