// The scan recurrence on the CPU (Mamba-1 selective scan and its one-step update; the Mamba-2
// SSD entry points in ssd.cpp call run_scan_cpu too). Work is split over (batch, c1) tasks;
// each task walks the sequence in chunks of up to 64 steps, converting B and C of the chunk to
// float32 [t][n] once for all the inner channels, and keeps the state of its channels in a
// float32 buffer. The n-loops are vectorised (AVX2/FMA when the CPU has them).
#include <algorithm>
#include <vector>

#include <omp.h>

#include "cpu_simd.hpp"
#include "dtype.hpp"
#include "mambaops.h"
#include "scan_cpu.hpp"
#include "scan_params.hpp"
#include "status.hpp"

namespace mops {
namespace {

constexpr int64_t MAX_CHUNK = 64;

/** Steps per chunk: B and C of a chunk (2 * chunk * N floats) stay within 16 KiB of L1. */
inline int64_t chunk_for(int64_t n) {
    return std::min<int64_t>(MAX_CHUNK, std::max<int64_t>(8, 2048 / n));
}

template <typename T>
MOPS_ALWAYS_INLINE void scan_task_body(const ScanParams &p, int64_t task, int64_t block,
                                       float *work) {
    const int64_t N = p.dstate;
    const int64_t CHUNK = chunk_for(N);
    const int64_t blocks = (p.ch1 + block - 1) / block;
    const int64_t b = task / blocks;
    const int64_t c1_begin = (task % blocks) * block;
    const int64_t c1_end = std::min(p.ch1, c1_begin + block);
    const int64_t rows = (c1_end - c1_begin) * p.ch2; // channels of this task
    float *state = work;                              // [rows][N]
    float *bt = state + rows * N;                     // [CHUNK][N]
    float *ct = bt + CHUNK * N;                       // [CHUNK][N]
    float *arow = ct + CHUNK * N;                     // [N]
    float *dtv = arow + N;                            // [CHUNK] dt after bias, softplus and limits
    float *uv = dtv + CHUNK;                          // [CHUNK] u
    float *gate = uv + CHUNK;                         // [CHUNK] silu(z), or 1
    float *yv = gate + CHUNK;                         // [CHUNK] C . state
    const T *u = static_cast<const T *>(p.u);
    const T *dt = static_cast<const T *>(p.dt);
    const T *z = static_cast<const T *>(p.z);
    T *out = static_cast<T *>(p.out);
    const bool dt_shared = p.dts[2] == 0 && (p.dt_bias == nullptr || p.dtbs[1] == 0);
    const bool a_scalar = p.As[2] == 0;
    const int64_t cbase = (b * p.channels() + c1_begin * p.ch2) * N;
    for (int64_t i = 0; i < rows * N; ++i) {
        state[i] = p.init ? p.init[cbase + i] : 0.0f;
    }
    for (int64_t t0 = 0; t0 < p.seqlen; t0 += CHUNK) {
        const int64_t tc = std::min(CHUNK, p.seqlen - t0);
        int64_t loaded_group = -1;
        for (int64_t c1 = c1_begin; c1 < c1_end; ++c1) {
            // B and C of the chunk, converted once for all the channels of one group
            const int64_t g = p.group_of(c1);
            if (g != loaded_group) {
                loaded_group = g;
                const T *B = static_cast<const T *>(p.B) + b * p.Bs[0] + g * p.Bs[1];
                const T *C = static_cast<const T *>(p.C) + b * p.Cs[0] + g * p.Cs[1];
                for (int64_t n = 0; n < N; ++n) {
                    const T *bn = B + n * p.Bs[2] + t0 * p.Bs[3];
                    const T *cn = C + n * p.Cs[2] + t0 * p.Cs[3];
                    for (int64_t tt = 0; tt < tc; ++tt) {
                        bt[tt * N + n] = to_float(bn[tt * p.Bs[3]]);
                        ct[tt * N + n] = to_float(cn[tt * p.Cs[3]]);
                    }
                }
            }
            for (int64_t c2 = 0; c2 < p.ch2; ++c2) {
                if (c2 == 0 || !dt_shared) {
                    const T *dtr =
                        dt + b * p.dts[0] + c1 * p.dts[1] + c2 * p.dts[2] + t0 * p.dts[3];
                    const float bias =
                        p.dt_bias ? p.dt_bias[c1 * p.dtbs[0] + c2 * p.dtbs[1]] : 0.0f;
                    for (int64_t tt = 0; tt < tc; ++tt) {
                        dtv[tt] = to_float(dtr[tt * p.dts[3]]) + bias;
                    }
                    if (p.softplus) {
#pragma omp simd
                        for (int64_t tt = 0; tt < tc; ++tt) {
                            dtv[tt] = fast_softplus(dtv[tt]);
                        }
                    }
                    for (int64_t tt = 0; tt < tc; ++tt) {
                        dtv[tt] = std::min(std::max(dtv[tt], p.dt_min), p.dt_max);
                    }
                }
                const float *A = p.A + c1 * p.As[0] + c2 * p.As[1];
                for (int64_t n = 0; n < N; ++n) {
                    arow[n] = A[n * p.As[2]];
                }
                const float dskip = p.D ? p.D[c1 * p.Ds[0] + c2 * p.Ds[1]] : 0.0f;
                const T *ur = u + b * p.us[0] + c1 * p.us[1] + c2 * p.us[2] + t0 * p.us[3];
                for (int64_t tt = 0; tt < tc; ++tt) {
                    uv[tt] = to_float(ur[tt * p.us[3]]);
                }
                if (z) {
                    const T *zr = z + b * p.zs[0] + c1 * p.zs[1] + c2 * p.zs[2] + t0 * p.zs[3];
                    for (int64_t tt = 0; tt < tc; ++tt) {
                        gate[tt] = to_float(zr[tt * p.zs[3]]);
                    }
#pragma omp simd
                    for (int64_t tt = 0; tt < tc; ++tt) {
                        gate[tt] = silu(gate[tt]);
                    }
                }
                float *s = state + ((c1 - c1_begin) * p.ch2 + c2) * N;
                for (int64_t tt = 0; tt < tc; ++tt) {
                    const float d = dtv[tt];
                    const float du = d * uv[tt];
                    const float *bn = bt + tt * N;
                    const float *cn = ct + tt * N;
                    float y = 0.0f;
                    if (a_scalar) {
                        const float da = fast_exp(d * arow[0]);
#pragma omp simd reduction(+ : y)
                        for (int64_t n = 0; n < N; ++n) {
                            s[n] = s[n] * da + du * bn[n];
                            y += cn[n] * s[n];
                        }
                    } else {
#pragma omp simd reduction(+ : y)
                        for (int64_t n = 0; n < N; ++n) {
                            s[n] = s[n] * fast_exp(d * arow[n]) + du * bn[n];
                            y += cn[n] * s[n];
                        }
                    }
                    yv[tt] = y;
                }
                T *orow = out + b * p.os[0] + c1 * p.os[1] + c2 * p.os[2] + t0 * p.os[3];
                for (int64_t tt = 0; tt < tc; ++tt) {
                    const float y = yv[tt] + dskip * uv[tt];
                    orow[tt * p.os[3]] = from_float<T>(z ? y * gate[tt] : y);
                }
            }
        }
    }
    if (p.fin) {
        for (int64_t i = 0; i < rows * N; ++i) {
            p.fin[cbase + i] = state[i];
        }
    }
}

template <typename T>
MOPS_TARGET_AVX2 void scan_task_avx2(const ScanParams &p, int64_t task, int64_t block,
                                     float *work) {
    scan_task_body<T>(p, task, block, work);
}

template <typename T>
void scan_task_base(const ScanParams &p, int64_t task, int64_t block, float *work) {
    scan_task_body<T>(p, task, block, work);
}

template <typename T> void run_scan_typed(const ScanParams &p) {
    auto task_fn = use_avx2() ? &scan_task_avx2<T> : &scan_task_base<T>;
    // Consecutive outer channels per task share the conversion of B and C: as many as keep
    // 64 inner rows per task, fewer when that would leave threads without 8 tasks each.
    const int64_t threads = omp_get_max_threads();
    const int64_t by_rows = std::max<int64_t>(1, 64 / p.ch2);
    const int64_t by_threads = std::max<int64_t>(1, p.batch * p.ch1 / (8 * threads));
    const int64_t block = std::min(by_rows, by_threads);
    const int64_t tasks = p.batch * ((p.ch1 + block - 1) / block);
    const int64_t work_size =
        block * p.ch2 * p.dstate + 2 * MAX_CHUNK * p.dstate + p.dstate + 4 * MAX_CHUNK;
#pragma omp parallel if (p.batch * p.channels() * p.seqlen * p.dstate >= (1 << 16))
    {
        std::vector<float> work(static_cast<size_t>(work_size));
#pragma omp for schedule(dynamic, 1)
        for (int64_t task = 0; task < tasks; ++task) {
            task_fn(p, task, block, work.data());
        }
    }
}

} // namespace

void run_scan_cpu(const ScanParams &p) {
    dispatch_dtype(p.dtype, [&](auto tag) { run_scan_typed<decltype(tag)>(p); });
}

} // namespace mops

extern "C" MOPS_API int32_t mops_cpu_selective_scan(
    int32_t dtype, int64_t batch, int64_t dim, int64_t seqlen, int64_t dstate, int64_t ngroups,
    const void *u, const int64_t *u_strides, const void *delta, const int64_t *delta_strides,
    const float *A, const void *B, const int64_t *B_strides, const void *C,
    const int64_t *C_strides, const float *D, const void *z, const int64_t *z_strides,
    const float *delta_bias, int32_t softplus, const float *initial_state, float *final_state,
    void *out, const int64_t *out_strides) {
    return mops::guarded("selective_scan", [&] {
        mops::run_scan_cpu(mops::selective_scan_params(
            dtype, batch, dim, seqlen, dstate, ngroups, u, u_strides, delta, delta_strides, A, B,
            B_strides, C, C_strides, D, z, z_strides, delta_bias, softplus, initial_state,
            final_state, out, out_strides));
    });
}

extern "C" MOPS_API int32_t mops_cpu_selective_state_update(
    int32_t dtype, int64_t batch, int64_t dim, int64_t dstate, int64_t ngroups, float *state,
    const void *x, const int64_t *x_strides, const void *dt, const int64_t *dt_strides,
    const float *A, const void *B, const int64_t *B_strides, const void *C,
    const int64_t *C_strides, const float *D, const void *z, const int64_t *z_strides,
    const float *dt_bias, int32_t softplus, void *out, const int64_t *out_strides) {
    return mops::guarded("selective_state_update", [&] {
        mops::run_scan_cpu(mops::selective_state_update_params(
            dtype, batch, dim, dstate, ngroups, state, x, x_strides, dt, dt_strides, A, B,
            B_strides, C, C_strides, D, z, z_strides, dt_bias, softplus, out, out_strides));
    });
}
