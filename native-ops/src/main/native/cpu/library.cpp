// Library-level entry points of the CPU library: version, build information, last error.
#include <string>

#include "mambaops.h"
#include "status.hpp"

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
#if defined(__x86_64__)
        __builtin_cpu_init();
        s += __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")
                 ? ", AVX2/FMA available"
                 : ", baseline x86-64-v2 (no AVX2/FMA)";
#endif
        return s;
    }();
    return info.c_str();
}
