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
#define MOPS_TARGET_AVX512 __attribute__((target("avx512f,avx2,fma,f16c")))
#else
#define MOPS_TARGET_AVX2
#define MOPS_TARGET_AVX512
#endif

namespace mops {

/** Instruction-set levels of the CPU paths (mops_cpu_isa_level). */
enum IsaLevel : int32_t { ISA_BASELINE = 0, ISA_AVX2 = 1, ISA_AVX512 = 2 };

/** The highest level this CPU and its OS support (decided once). */
inline int32_t detected_isa() {
#if defined(__x86_64__)
    static const int32_t level = [] {
        __builtin_cpu_init();
        if (!__builtin_cpu_supports("avx2") || !__builtin_cpu_supports("fma") ||
            !__builtin_cpu_supports("f16c")) {
            return ISA_BASELINE;
        }
        return __builtin_cpu_supports("avx512f") ? ISA_AVX512 : ISA_AVX2;
    }();
    return level;
#else
    return ISA_BASELINE;
#endif
}

/** The level in effect: the detected one unless a caller capped it (defined in library.cpp). */
int32_t isa_level();

/** True when the AVX2/FMA paths (which may also convert float16 with F16C) run. */
inline bool use_avx2() {
    return isa_level() >= ISA_AVX2;
}

/** True when the AVX-512F paths run (they also use AVX2/FMA/F16C). */
inline bool use_avx512() {
    return isa_level() >= ISA_AVX512;
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

/** log(x) for normal positive x within 2 ulp (Cephes' polynomial); branch-free, vectorisable. */
MOPS_ALWAYS_INLINE float fast_log(float x) {
    int32_t bits;
    std::memcpy(&bits, &x, sizeof bits);
    int32_t e = ((bits >> 23) & 0xFF) - 126; // x = m * 2^e with m in [0.5, 1)
    bits = (bits & 0x007FFFFF) | 0x3F000000;
    float m;
    std::memcpy(&m, &bits, sizeof m);
    // move m into [sqrt(0.5), sqrt(2)) for the polynomial
    const bool small = m < 0.707106781186547524f;
    e = small ? e - 1 : e;
    m = small ? m + m - 1.0f : m - 1.0f;
    const float z = m * m;
    float y = 7.0376836292e-2f;
    y = y * m - 1.1514610310e-1f;
    y = y * m + 1.1676998740e-1f;
    y = y * m - 1.2420140846e-1f;
    y = y * m + 1.4249322787e-1f;
    y = y * m - 1.6668057665e-1f;
    y = y * m + 2.0000714765e-1f;
    y = y * m - 2.4999993993e-1f;
    y = y * m + 3.3333331174e-1f;
    y = y * m * z;
    const float fe = static_cast<float>(e);
    y += -2.12194440e-4f * fe;
    y += -0.5f * z;
    return m + y + 0.693359375f * fe;
}

/** softplus as mamba_ssm computes it (log1p(exp(v)), v above 20); vectorisable. */
MOPS_ALWAYS_INLINE float fast_softplus(float v) {
    const float e = fast_exp(v);
    // log1p(e): the series where 1 + e would round away e's digits
    const float series = e * (1.0f - e * (0.5f - e * (1.0f / 3.0f)));
    const float sp = e < 1e-3f ? series : fast_log(1.0f + e);
    return v > 20.0f ? v : sp;
}

MOPS_ALWAYS_INLINE float silu(float v) {
    return v / (1.0f + fast_exp(-v));
}

} // namespace mops
