// The scan recurrence on the GPU (Mamba-1 selective scan and its one-step update; the Mamba-2
// SSD entry points in ssd.cu call run_scan_cuda too).
//
// A block of 128 threads owns ROWS = 128 / LPR channels (a row is one (batch, channel)); each
// row is served by LPR lanes of one warp, each lane holding SPL states in registers (state n
// lives in lane n % LPR, slot n / LPR). The block walks the sequence in tiles of TILE steps:
// u, the transformed dt and silu(z) of the tile are staged cooperatively in shared memory
// (coalesced along whichever of time or channel is contiguous), the lanes update their states
// and reduce y with warp shuffles, and the outputs of the tile are stored cooperatively.
#include "cuda_check.cuh"
#include "dtype.hpp"
#include "mambaops.h"
#include "scan_cuda.cuh"
#include "scan_params.hpp"
#include "status.hpp"

namespace mops {
namespace {

constexpr int THREADS = 128;
constexpr int TILE = 16;

__device__ __forceinline__ float silu_dev(float v) {
    return v / (1.0f + __expf(-v));
}

template <typename T, int SPL>
__global__ void __launch_bounds__(THREADS)
    scan_kernel(const ScanParams p, int lpr, int64_t total_rows) {
    const int rows_per_block = THREADS / lpr;
    __shared__ float s_u[THREADS][TILE];
    __shared__ float s_dt[THREADS][TILE];
    __shared__ float s_z[THREADS][TILE];
    __shared__ float s_y[THREADS][TILE];
    __shared__ int64_t s_row_u[THREADS], s_row_dt[THREADS], s_row_z[THREADS], s_row_o[THREADS];
    __shared__ float s_bias[THREADS];

    const int64_t channels = p.channels();
    const int64_t N = p.dstate;
    const int64_t first_row = static_cast<int64_t>(blockIdx.x) * rows_per_block;
    const int local = threadIdx.x / lpr;
    const int lane = threadIdx.x % lpr;
    const int64_t row = first_row + local;
    const bool valid = row < total_rows;
    const int64_t b = valid ? row / channels : 0;
    const int64_t c = valid ? row % channels : 0;
    const int64_t c1 = c / p.ch2;
    const int64_t c2 = c % p.ch2;

    // per-row base offsets, for the cooperative tile loads and stores
    if (threadIdx.x < rows_per_block) {
        const int64_t r = first_row + threadIdx.x;
        const int64_t rb = r < total_rows ? r / channels : 0;
        const int64_t rc = r < total_rows ? r % channels : 0;
        const int64_t r1 = rc / p.ch2;
        const int64_t r2 = rc % p.ch2;
        s_row_u[threadIdx.x] = rb * p.us[0] + r1 * p.us[1] + r2 * p.us[2];
        s_row_dt[threadIdx.x] = rb * p.dts[0] + r1 * p.dts[1] + r2 * p.dts[2];
        s_row_z[threadIdx.x] = rb * p.zs[0] + r1 * p.zs[1] + r2 * p.zs[2];
        s_row_o[threadIdx.x] = rb * p.os[0] + r1 * p.os[1] + r2 * p.os[2];
        s_bias[threadIdx.x] = p.dt_bias ? p.dt_bias[r1 * p.dtbs[0] + r2 * p.dtbs[1]] : 0.0f;
    }

    const int64_t g = p.group_of(c1);
    const T *Bp = static_cast<const T *>(p.B) + b * p.Bs[0] + g * p.Bs[1];
    const T *Cp = static_cast<const T *>(p.C) + b * p.Cs[0] + g * p.Cs[1];
    const float *Ap = p.A + c1 * p.As[0] + c2 * p.As[1];
    const bool a_scalar = p.As[2] == 0;
    float a[SPL], s[SPL];
    const int64_t state_base = (b * channels + c) * N;
#pragma unroll
    for (int j = 0; j < SPL; ++j) {
        const int64_t n = lane + static_cast<int64_t>(j) * lpr;
        const bool on = valid && n < N;
        a[j] = on ? Ap[n * p.As[2]] : 0.0f;
        s[j] = (on && p.init) ? p.init[state_base + n] : 0.0f;
    }
    const float dskip = (valid && p.D) ? p.D[c1 * p.Ds[0] + c2 * p.Ds[1]] : 0.0f;

    const T *u = static_cast<const T *>(p.u);
    const T *dt = static_cast<const T *>(p.dt);
    const T *z = static_cast<const T *>(p.z);
    T *out = static_cast<T *>(p.out);
    const int tile_elems = rows_per_block * TILE;
    const bool time_fast = p.us[3] == 1;
    const int64_t rows_here =
        total_rows - first_row < rows_per_block ? total_rows - first_row : rows_per_block;

    for (int64_t t0 = 0; t0 < p.seqlen; t0 += TILE) {
        const int tc = p.seqlen - t0 < TILE ? static_cast<int>(p.seqlen - t0) : TILE;
        __syncthreads();
        for (int i = threadIdx.x; i < tile_elems; i += THREADS) {
            const int r = time_fast ? i / TILE : i % rows_per_block;
            const int tt = time_fast ? i % TILE : i / rows_per_block;
            if (r < rows_here && tt < tc) {
                const int64_t t = t0 + tt;
                s_u[r][tt] = to_float(u[s_row_u[r] + t * p.us[3]]);
                s_dt[r][tt] = transform_dt(to_float(dt[s_row_dt[r] + t * p.dts[3]]), s_bias[r],
                                           p.softplus, p.dt_min, p.dt_max);
                s_z[r][tt] = z ? silu_dev(to_float(z[s_row_z[r] + t * p.zs[3]])) : 1.0f;
            }
        }
        __syncthreads();
        for (int tt = 0; tt < tc; ++tt) {
            const int64_t t = t0 + tt;
            const float uv = valid ? s_u[local][tt] : 0.0f;
            const float d = valid ? s_dt[local][tt] : 0.0f;
            const float du = d * uv;
            const float da_scalar = a_scalar ? __expf(d * a[0]) : 0.0f;
            float y = 0.0f;
#pragma unroll
            for (int j = 0; j < SPL; ++j) {
                const int64_t n = lane + static_cast<int64_t>(j) * lpr;
                if (valid && n < N) {
                    const float bv = to_float(Bp[n * p.Bs[2] + t * p.Bs[3]]);
                    const float cv = to_float(Cp[n * p.Cs[2] + t * p.Cs[3]]);
                    const float da = a_scalar ? da_scalar : __expf(d * a[j]);
                    s[j] = s[j] * da + du * bv;
                    y += cv * s[j];
                }
            }
            for (int off = lpr / 2; off > 0; off /= 2) {
                y += __shfl_xor_sync(0xffffffffu, y, off);
            }
            if (valid && lane == 0) {
                s_y[local][tt] = (y + dskip * uv) * s_z[local][tt];
            }
        }
        __syncthreads();
        for (int i = threadIdx.x; i < tile_elems; i += THREADS) {
            const int r = time_fast ? i / TILE : i % rows_per_block;
            const int tt = time_fast ? i % TILE : i / rows_per_block;
            if (r < rows_here && tt < tc) {
                out[s_row_o[r] + (t0 + tt) * p.os[3]] = from_float<T>(s_y[r][tt]);
            }
        }
    }
    if (p.fin) {
#pragma unroll
        for (int j = 0; j < SPL; ++j) {
            const int64_t n = lane + static_cast<int64_t>(j) * lpr;
            if (valid && n < N) {
                p.fin[state_base + n] = s[j];
            }
        }
    }
}

int lanes_for(int64_t n, int spl) {
    int lanes = 1;
    while (lanes * spl < n) {
        lanes *= 2;
    }
    return lanes;
}

} // namespace

void run_scan_cuda(const ScanParams &p, cudaStream_t stream) {
    const int spl = p.dstate <= 128 ? 4 : 8;
    const int lpr = lanes_for(p.dstate, spl);
    const int64_t rows = p.batch * p.channels();
    const int64_t rows_per_block = THREADS / lpr;
    const int64_t blocks = (rows + rows_per_block - 1) / rows_per_block;
    require(blocks < (1LL << 31), "too many channels for one launch");
    dispatch_dtype(p.dtype, [&](auto tag) {
        using T = decltype(tag);
        if (spl == 4) {
            scan_kernel<T, 4><<<static_cast<unsigned>(blocks), THREADS, 0, stream>>>(p, lpr, rows);
        } else {
            scan_kernel<T, 8><<<static_cast<unsigned>(blocks), THREADS, 0, stream>>>(p, lpr, rows);
        }
    });
    MOPS_CUDA_CHECK_LAUNCH("scan_kernel launch");
}

} // namespace mops

extern "C" MOPS_API int32_t mops_cuda_selective_scan(
    void *stream, int32_t dtype, int64_t batch, int64_t dim, int64_t seqlen, int64_t dstate,
    int64_t ngroups, const void *u, const int64_t *u_strides, const void *delta,
    const int64_t *delta_strides, const float *A, const void *B, const int64_t *B_strides,
    const void *C, const int64_t *C_strides, const float *D, const void *z,
    const int64_t *z_strides, const float *delta_bias, int32_t softplus, const float *initial_state,
    float *final_state, void *out, const int64_t *out_strides) {
    return mops::guarded("cuda_selective_scan", [&] {
        mops::run_scan_cuda(mops::selective_scan_params(
                                dtype, batch, dim, seqlen, dstate, ngroups, u, u_strides, delta,
                                delta_strides, A, B, B_strides, C, C_strides, D, z, z_strides,
                                delta_bias, softplus, initial_state, final_state, out, out_strides),
                            static_cast<cudaStream_t>(stream));
    });
}

extern "C" MOPS_API int32_t mops_cuda_selective_state_update(
    void *stream, int32_t dtype, int64_t batch, int64_t dim, int64_t dstate, int64_t ngroups,
    float *state, const void *x, const int64_t *x_strides, const void *dt,
    const int64_t *dt_strides, const float *A, const void *B, const int64_t *B_strides,
    const void *C, const int64_t *C_strides, const float *D, const void *z,
    const int64_t *z_strides, const float *dt_bias, int32_t softplus, void *out,
    const int64_t *out_strides) {
    return mops::guarded("cuda_selective_state_update", [&] {
        mops::run_scan_cuda(mops::selective_state_update_params(
                                dtype, batch, dim, dstate, ngroups, state, x, x_strides, dt,
                                dt_strides, A, B, B_strides, C, C_strides, D, z, z_strides, dt_bias,
                                softplus, out, out_strides),
                            static_cast<cudaStream_t>(stream));
    });
}
