// Mamba-2 SSD and its one-step update on the GPU, in one of two forms: the chunked matrix form of
// ssd_chunked.cu (chunks of chunk_size steps, parallel over chunks; its products on tensor cores
// for float16 and bfloat16, ssd_chunked_mma.cu, on float32 CUDA cores for float32) or the
// recurrence of selective_scan.cu with one decay per head. Single steps (seqlen 1, and the state
// update) take the recurrence's one-step kernel. 16-bit sequences of at least one full chunk take
// the chunked form: on tensor cores it does its ~3x larger arithmetic (jmh/NOTES.md) at more than
// 10x the float32 rate, and it spreads over chunks, so it beats the recurrence whatever the number
// of rows. Shorter 16-bit sequences and float32 ones take the chunked form only where the
// recurrence would leave the GPU mostly idle (scan_rows_leave_gpu_idle): below one chunk the
// chunked form is one quadratic chunk per head, and the float32 products were measured 1.6-1.7x
// slower than the recurrence where the rows fill the GPU.
#include "cuda_check.cuh"
#include "dtype.hpp"
#include "mambaops.h"
#include "scan_cuda.cuh"
#include "scan_params.hpp"
#include "ssd_chunked.cuh"
#include "status.hpp"

extern "C" MOPS_API int32_t mops_cuda_ssd(
    void *stream, int32_t dtype, int64_t batch, int64_t seqlen, int64_t nheads, int64_t headdim,
    int64_t ngroups, int64_t dstate, int64_t chunk_size, const void *x, const int64_t *x_strides,
    const void *dt, const int64_t *dt_strides, const float *A, const void *B,
    const int64_t *B_strides, const void *C, const int64_t *C_strides, const float *D,
    int32_t d_per_channel, const void *z, const int64_t *z_strides, const float *dt_bias,
    int32_t softplus, float dt_min, float dt_max, const float *initial_states, float *final_states,
    void *out, const int64_t *out_strides) {
    return mops::guarded("cuda_ssd", [&] {
        const mops::ScanParams p = mops::ssd_params(
            dtype, batch, seqlen, nheads, headdim, ngroups, dstate, chunk_size, x, x_strides, dt,
            dt_strides, A, B, B_strides, C, C_strides, D, d_per_channel, z, z_strides, dt_bias,
            softplus, dt_min, dt_max, initial_states, final_states, out, out_strides);
        const bool tensor_cores = dtype == MOPS_F16 || dtype == MOPS_BF16;
        if (seqlen > 1 &&
            ((tensor_cores && seqlen >= chunk_size) || mops::scan_rows_leave_gpu_idle(p))) {
            mops::run_ssd_chunked_cuda(p, chunk_size, static_cast<cudaStream_t>(stream));
        } else {
            mops::run_scan_cuda(p, static_cast<cudaStream_t>(stream));
        }
    });
}

extern "C" MOPS_API int32_t mops_cuda_ssd_state_update(
    void *stream, int32_t dtype, int64_t batch, int64_t nheads, int64_t headdim, int64_t ngroups,
    int64_t dstate, float *state, const void *x, const int64_t *x_strides, const void *dt,
    const int64_t *dt_strides, const float *A, const void *B, const int64_t *B_strides,
    const void *C, const int64_t *C_strides, const float *D, int32_t d_per_channel, const void *z,
    const int64_t *z_strides, const float *dt_bias, int32_t softplus, float dt_min, float dt_max,
    void *out, const int64_t *out_strides) {
    return mops::guarded("cuda_ssd_state_update", [&] {
        mops::run_scan_cuda(mops::ssd_state_update_params(
                                dtype, batch, nheads, headdim, ngroups, dstate, state, x, x_strides,
                                dt, dt_strides, A, B, B_strides, C, C_strides, D, d_per_channel, z,
                                z_strides, dt_bias, softplus, dt_min, dt_max, out, out_strides),
                            static_cast<cudaStream_t>(stream));
    });
}
