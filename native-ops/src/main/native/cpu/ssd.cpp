// Mamba-2 SSD and its one-step update on the CPU: the scan recurrence of selective_scan.cpp
// with one decay per head, evaluated step by step (state [headdim, dstate] per head).
#include "mambaops.h"
#include "scan_cpu.hpp"
#include "scan_params.hpp"
#include "status.hpp"

extern "C" MOPS_API int32_t mops_cpu_ssd(
    int32_t dtype, int64_t batch, int64_t seqlen, int64_t nheads, int64_t headdim, int64_t ngroups,
    int64_t dstate, int64_t chunk_size, const void *x, const int64_t *x_strides, const void *dt,
    const int64_t *dt_strides, const float *A, const void *B, const int64_t *B_strides,
    const void *C, const int64_t *C_strides, const float *D, int32_t d_per_channel, const void *z,
    const int64_t *z_strides, const float *dt_bias, int32_t softplus, float dt_min, float dt_max,
    const float *initial_states, float *final_states, void *out, const int64_t *out_strides) {
    return mops::guarded("ssd", [&] {
        mops::run_scan_cpu(mops::ssd_params(
            dtype, batch, seqlen, nheads, headdim, ngroups, dstate, chunk_size, x, x_strides, dt,
            dt_strides, A, B, B_strides, C, C_strides, D, d_per_channel, z, z_strides, dt_bias,
            softplus, dt_min, dt_max, initial_states, final_states, out, out_strides));
    });
}

extern "C" MOPS_API int32_t mops_cpu_ssd_state_update(
    int32_t dtype, int64_t batch, int64_t nheads, int64_t headdim, int64_t ngroups, int64_t dstate,
    float *state, const void *x, const int64_t *x_strides, const void *dt,
    const int64_t *dt_strides, const float *A, const void *B, const int64_t *B_strides,
    const void *C, const int64_t *C_strides, const float *D, int32_t d_per_channel, const void *z,
    const int64_t *z_strides, const float *dt_bias, int32_t softplus, float dt_min, float dt_max,
    void *out, const int64_t *out_strides) {
    return mops::guarded("ssd_state_update", [&] {
        mops::run_scan_cpu(mops::ssd_state_update_params(
            dtype, batch, nheads, headdim, ngroups, dstate, state, x, x_strides, dt, dt_strides, A,
            B, B_strides, C, C_strides, D, d_per_channel, z, z_strides, dt_bias, softplus, dt_min,
            dt_max, out, out_strides));
    });
}
