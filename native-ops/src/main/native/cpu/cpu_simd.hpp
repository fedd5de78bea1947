// Run-time choice between the AVX2/FMA and the baseline (x86-64-v2) code paths, and the
// branch-free math that the compiler vectorises in both.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>

#define MOPS_ALWAYS_INLINE inline __attribute__((always_inline))
#if defined(__x86_64__)
#define MOPS_TARGET_AVX2 __attribute__((target("avx2,fma")))
#else
#define MOPS_TARGET_AVX2
#endif

namespace mops {

/** True when this CPU runs the AVX2/FMA paths (decided once). */
inline bool use_avx2() {
#if defined(__x86_64__)
    static const bool yes = [] {
        __builtin_cpu_init();
        return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
    }();
    return yes;
#else
    return false;
#endif
}

/** exp(x) within 2 ulp for x in [-87, 88] (Cephes' polynomial); branch-free, vectorisable. */
MOPS_ALWAYS_INLINE float fast_exp(float x) {
    x = std::min(std::max(x, -87.0f), 88.0f);
    // floor(x / ln2 + 0.5) by truncating a positive value (x / ln2 + 0.5 > -126 here)
    const int32_t ki = static_cast<int32_t>(x * 1.44269504088896341f + 128.5f) - 128;
    const float k = static_cast<float>(ki);
    float r = x - k * 0.693359375f;
    r = r + k * 2.12194440e-4f;
    float p = 1.9875691500e-4f;
    p = p * r + 1.3981999507e-3f;
    p = p * r + 8.3334519073e-3f;
    p = p * r + 4.1665795894e-2f;
    p = p * r + 1.6666665459e-1f;
    p = p * r + 5.0000001201e-1f;
    p = p * r * r + r + 1.0f;
    const int32_t bits = (ki + 127) << 23;
    float scale;
    std::memcpy(&scale, &bits, sizeof scale);
    return p * scale;
}

MOPS_ALWAYS_INLINE float silu(float v) { return v / (1.0f + std::exp(-v)); }

} // namespace mops
