// The device arithmetic of the scan kernels (selective_scan.cu, selective_scan_blocked.cu): the
// decay as exp2 with A pre-scaled by log2(e), the dt transform and the gate, on the fast
// special-function unit.
#pragma once

namespace mops {

constexpr float LOG2E = 1.4426950408889634f;

__device__ __forceinline__ float silu_dev(float v) {
    return v / (1.0f + __expf(-v));
}

__device__ __forceinline__ float exp2_approx(float v) {
    float r;
    asm("ex2.approx.ftz.f32 %0, %1;" : "=f"(r) : "f"(v));
    return r;
}

/** transform_dt with the fast log and exp of the special-function unit. */
__device__ __forceinline__ float transform_dt_fast(float v, float bias, bool softplus, float lo,
                                                   float hi) {
    v += bias;
    if (softplus && v <= 20.0f) {
        v = __logf(1.0f + __expf(v));
    }
    return fminf(fmaxf(v, lo), hi);
}

} // namespace mops
