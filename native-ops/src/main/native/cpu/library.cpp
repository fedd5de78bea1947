// Library-level entry points of the CPU library: version, build information, last error.
#include <algorithm>
#include <atomic>
#include <string>

#include "cpu_simd.hpp"
#include "mambaops.h"
#include "status.hpp"

namespace mops {
namespace {
std::atomic<int32_t> isa_cap{ISA_AVX512};
} // namespace

int32_t isa_level() {
    return std::min(detected_isa(), isa_cap.load(std::memory_order_relaxed));
}
} // namespace mops

extern "C" MOPS_API const char *mops_last_error(void) {
    return mops::last_error().c_str();
}

extern "C" MOPS_API int32_t mops_abi_version(void) {
    return MOPS_ABI_VERSION;
}

extern "C" MOPS_API const char *mops_cpu_build_info(void) {
    static const std::string info = [] {
        std::string s = "mambaops-cpu abi " + std::to_string(MOPS_ABI_VERSION);
#if defined(_OPENMP)
        s += ", OpenMP " + std::to_string(_OPENMP);
#endif
        static const char *const names[] = {"baseline x86-64-v2 (no AVX2/FMA)",
                                            "AVX2/FMA available", "AVX-512F and AVX2/FMA available"};
        return s + ", " + names[mops::detected_isa()];
    }();
    return info.c_str();
}

extern "C" MOPS_API int32_t mops_cpu_isa_level(int32_t level) {
    if (level >= 0) {
        mops::isa_cap.store(level, std::memory_order_relaxed);
    }
    return mops::isa_level();
}
