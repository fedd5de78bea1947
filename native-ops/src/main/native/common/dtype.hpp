// Storage dtypes: float16 and bfloat16 conversions usable on the host and the device.
#pragma once

#include <cstdint>
#include <cstring>
#include <string>

#include "mambaops.h"
#include "status.hpp"

#if defined(__CUDACC__)
#define MOPS_HD __host__ __device__ __forceinline__
#else
#define MOPS_HD inline
#endif

namespace mops {

/** bfloat16 storage: the upper 16 bits of a float32, rounded to nearest even. */
struct bf16 {
    uint16_t bits;
};

/** IEEE 754 binary16 storage. */
struct f16 {
    uint16_t bits;
};

MOPS_HD float bits_to_float(uint32_t u) {
    float f;
    memcpy(&f, &u, sizeof f);
    return f;
}

MOPS_HD uint32_t float_to_bits(float f) {
    uint32_t u;
    memcpy(&u, &f, sizeof u);
    return u;
}

MOPS_HD float to_float(float v) {
    return v;
}

MOPS_HD float to_float(bf16 v) {
    return bits_to_float(static_cast<uint32_t>(v.bits) << 16);
}

MOPS_HD float to_float(f16 v) {
    uint32_t sign = (v.bits & 0x8000u) << 16;
    uint32_t exp = (v.bits >> 10) & 0x1Fu;
    uint32_t mant = v.bits & 0x3FFu;
    if (exp == 0x1Fu) { // inf or nan
        return bits_to_float(sign | 0x7F800000u | (mant << 13));
    }
    if (exp == 0) {
        if (mant == 0) {
            return bits_to_float(sign);
        }
        // subnormal: value = mant * 2^-24
        float f = static_cast<float>(mant) * 5.9604644775390625e-8f;
        return sign ? -f : f;
    }
    return bits_to_float(sign | ((exp + 112u) << 23) | (mant << 13));
}

template <typename T> MOPS_HD T from_float(float v);

template <> MOPS_HD float from_float<float>(float v) {
    return v;
}

template <> MOPS_HD bf16 from_float<bf16>(float v) {
    uint32_t u = float_to_bits(v);
    if ((u & 0x7FFFFFFFu) > 0x7F800000u) { // nan stays a quiet nan
        return bf16{static_cast<uint16_t>((u >> 16) | 0x40u)};
    }
    u += 0x7FFFu + ((u >> 16) & 1u);
    return bf16{static_cast<uint16_t>(u >> 16)};
}

template <> MOPS_HD f16 from_float<f16>(float v) {
    uint32_t u = float_to_bits(v);
    uint32_t sign = (u >> 16) & 0x8000u;
    uint32_t absu = u & 0x7FFFFFFFu;
    if (absu > 0x7F800000u) {
        return f16{static_cast<uint16_t>(sign | 0x7E00u)};
    }
    if (absu >= 0x477FF000u) { // rounds to >= 65520: overflow to inf
        return f16{static_cast<uint16_t>(sign | 0x7C00u)};
    }
    if (absu < 0x38800000u) { // below the smallest normal half: subnormal or zero
        float a = bits_to_float(absu) * 16777216.0f; // scale by 2^24
        // round to nearest even integer
        uint32_t m = static_cast<uint32_t>(a);
        float rem = a - static_cast<float>(m);
        if (rem > 0.5f || (rem == 0.5f && (m & 1u))) {
            m++;
        }
        return f16{static_cast<uint16_t>(sign | m)};
    }
    uint32_t exp = ((absu >> 23) - 112u) << 10;
    uint32_t mant = (absu >> 13) & 0x3FFu;
    uint32_t rest = absu & 0x1FFFu;
    uint32_t h = exp | mant;
    if (rest > 0x1000u || (rest == 0x1000u && (h & 1u))) {
        h++;
    }
    return f16{static_cast<uint16_t>(sign | h)};
}

/** The size in bytes of one element of a storage dtype, or 0 if the dtype is unknown. */
inline int dtype_size(int32_t dtype) {
    switch (dtype) {
    case MOPS_F32:
        return 4;
    case MOPS_F16:
    case MOPS_BF16:
        return 2;
    default:
        return 0;
    }
}

inline const char *dtype_name(int32_t dtype) {
    switch (dtype) {
    case MOPS_F32:
        return "float32";
    case MOPS_F16:
        return "float16";
    case MOPS_BF16:
        return "bfloat16";
    default:
        return "unknown";
    }
}

/** Calls fn with a value of the C++ type of the dtype (float, f16 or bf16). */
template <typename Fn> void dispatch_dtype(int32_t dtype, Fn &&fn) {
    switch (dtype) {
    case MOPS_F32:
        fn(float{});
        break;
    case MOPS_F16:
        fn(f16{});
        break;
    case MOPS_BF16:
        fn(bf16{});
        break;
    default:
        throw Error(MOPS_ERR_INVALID_ARGUMENT,
                    "unknown dtype code " + std::to_string(dtype) +
                        " (expected 0 = float32, 1 = float16, 2 = bfloat16)");
    }
}

} // namespace mops
