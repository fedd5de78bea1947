// Mamba-2 SSD and its one-step update on the GPU. Sequences with few (batch, head, head channel)
// rows take the chunked matrix form of ssd_chunked.cu (chunks of chunk_size steps, parallel over
// chunks); sequences whose rows fill the GPU take the recurrence of selective_scan.cu with one
// decay per head (measured faster there while the chunked products run on float32 CUDA cores:
// jmh/NOTES.md); single steps (seqlen 1, and the state update) take its one-step kernel.
#include "cuda_check.cuh"
#include "dtype.hpp"
#include "mambaops.h"
#include "scan_cuda.cuh"
#include "scan_params.hpp"
#include "ssd_chunked.cuh"
#include "status.hpp"

namespace {

/**
 * Whether the recurrence leaves most of the GPU idle: it serves a row with up to 32 lanes (4-8
 * states each), so rows x lanes below a quarter of the multiprocessors' resident threads leave
 * the sequence walk latency-bound, where the chunked form's parallelism over chunks wins.
 */
bool prefer_chunked(const mops::ScanParams &p) {
    int device = 0;
    int sms = 0;
    MOPS_CUDA_CHECK(cudaGetDevice(&device));
    MOPS_CUDA_CHECK(cudaDeviceGetAttribute(&sms, cudaDevAttrMultiProcessorCount, device));
    const int64_t n = p.dstate;
    const int64_t lanes = n <= 4 ? 1 : n <= 8 ? 2 : n <= 16 ? 4 : n <= 32 ? 8 : n <= 128 ? 16 : 32;
    return p.batch * p.channels() * lanes < static_cast<int64_t>(sms) * 512;
}

} // namespace

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
        if (seqlen == 1 || !prefer_chunked(p)) {
            mops::run_scan_cuda(p, static_cast<cudaStream_t>(stream));
        } else {
            mops::run_ssd_chunked_cuda(p, chunk_size, static_cast<cudaStream_t>(stream));
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
