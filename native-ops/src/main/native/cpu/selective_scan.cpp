// The scan recurrence on the CPU (Mamba-1 selective scan and its one-step update; the Mamba-2
// SSD entry points in ssd.cpp call run_scan_cpu too). Work is split over (batch, c1) tasks;
// each task walks the sequence in chunks of up to 64 steps, converting B and C of the chunk to
// float32 [t][n] once for all the inner channels, and keeps the state of its channels in a
// float32 buffer. The n-loops are vectorised (AVX2/FMA when the CPU has them). A single step
// (decoding) takes a path of its own: dt, u and the gate of a block of channels are transformed
// in vectorised passes, and each state row is updated where it lies (AVX-512 when available).
#include <algorithm>
#include <vector>

#if defined(__x86_64__)
#include <immintrin.h>
#endif

#include <omp.h>

#include "cpu_simd.hpp"
#include "dtype.hpp"
#include "gemv.hpp"
#include "mambaops.h"
#include "scan_cpu.hpp"
#include "scan_params.hpp"
#include "status.hpp"
#include "tensor_types.hpp"

namespace mops {
namespace {

constexpr int64_t MAX_CHUNK = 64;

/** Steps per chunk: B and C of a chunk (2 * chunk * N floats) stay within 16 KiB of L1. */
inline int64_t chunk_for(int64_t n) {
    return std::min<int64_t>(MAX_CHUNK, std::max<int64_t>(8, 2048 / n));
}

/**
 * One step of one state row: s[n] = s_in[n] * exp(d * A[n]) + du * B[n] (A[0] for every n when
 * a_scalar) written to s_out, which may be s_in; returns sum_n C[n] * s[n].
 */
MOPS_ALWAYS_INLINE float state_row(int64_t N, const float *s_in, float *s_out, float d,
                                   const float *A, bool a_scalar, float du, const float *bn,
                                   const float *cn) {
    float y = 0.0f;
    if (a_scalar) {
        const float da = fast_exp(d * A[0]);
#pragma omp simd reduction(+ : y)
        for (int64_t n = 0; n < N; ++n) {
            const float sn = s_in[n] * da + du * bn[n];
            s_out[n] = sn;
            y += cn[n] * sn;
        }
    } else {
#pragma omp simd reduction(+ : y)
        for (int64_t n = 0; n < N; ++n) {
            const float sn = s_in[n] * fast_exp(d * A[n]) + du * bn[n];
            s_out[n] = sn;
            y += cn[n] * sn;
        }
    }
    return y;
}

#if defined(__x86_64__)
// GCC 12 warns that the _mm512_undefined_* values inside its own AVX-512 intrinsics are (or may
// be) used uninitialised (GCC bug 105593, fixed in GCC 13).
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#pragma GCC diagnostic ignored "-Wuninitialized"
/** fast_exp on 16 lanes, step for step. */
MOPS_TARGET_AVX512 MOPS_ALWAYS_INLINE __m512 fast_exp16(__m512 x) {
    x = _mm512_min_ps(_mm512_max_ps(x, _mm512_set1_ps(-87.0f)), _mm512_set1_ps(88.0f));
    const __m512i ki = _mm512_sub_epi32(
        _mm512_cvttps_epi32(_mm512_fmadd_ps(x, _mm512_set1_ps(1.44269504088896341f),
                                            _mm512_set1_ps(128.5f))),
        _mm512_set1_epi32(128));
    const __m512 k = _mm512_cvtepi32_ps(ki);
    __m512 r = _mm512_fnmadd_ps(k, _mm512_set1_ps(0.693359375f), x);
    r = _mm512_fmadd_ps(k, _mm512_set1_ps(2.12194440e-4f), r);
    __m512 p = _mm512_set1_ps(1.9875691500e-4f);
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.3981999507e-3f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(8.3334519073e-3f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(4.1665795894e-2f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.6666665459e-1f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(5.0000001201e-1f));
    p = _mm512_add_ps(_mm512_fmadd_ps(_mm512_mul_ps(p, r), r, r), _mm512_set1_ps(1.0f));
    const __m512i bits = _mm512_slli_epi32(_mm512_add_epi32(ki, _mm512_set1_epi32(127)), 23);
    return _mm512_mul_ps(p, _mm512_castsi512_ps(bits));
}

/** state_row for N a multiple of 16: lanes of 16 and a tree sum instead of a serial one. */
MOPS_TARGET_AVX512 MOPS_ALWAYS_INLINE float state_row16_body(int64_t N, const float *s_in,
                                                             float *s_out, float d, const float *A,
                                                             bool a_scalar, float du,
                                                             const float *bn, const float *cn) {
    const __m512 dv = _mm512_set1_ps(d);
    const __m512 duv = _mm512_set1_ps(du);
    const __m512 da = _mm512_set1_ps(a_scalar ? fast_exp(d * A[0]) : 0.0f);
    __m512 y = _mm512_setzero_ps();
    for (int64_t n = 0; n < N; n += 16) {
        const __m512 decay = a_scalar ? da : fast_exp16(_mm512_mul_ps(dv, _mm512_loadu_ps(A + n)));
        const __m512 sn = _mm512_fmadd_ps(_mm512_loadu_ps(s_in + n), decay,
                                          _mm512_mul_ps(duv, _mm512_loadu_ps(bn + n)));
        _mm512_storeu_ps(s_out + n, sn);
        y = _mm512_fmadd_ps(_mm512_loadu_ps(cn + n), sn, y);
    }
    return _mm512_reduce_add_ps(y);
}

/**
 * state_row16_body as a call of its own: GCC inlines AVX-512 code only into functions that are
 * AVX-512 themselves.
 */
MOPS_TARGET_AVX512 float state_row16(int64_t N, const float *s_in, float *s_out, float d,
                                     const float *A, bool a_scalar, float du, const float *bn,
                                     const float *cn) {
    return state_row16_body(N, s_in, s_out, d, A, a_scalar, du, bn, cn);
}

/**
 * tc steps of one state row (N a multiple of 16) in one call: yv[t] = state_row(...) for the
 * time steps of a chunk, B and C of step t at bt + t * N and ct + t * N. With N = 16 the row
 * stays in a register from step to step (the same arithmetic as state_row16_body).
 */
MOPS_TARGET_AVX512 void state_rows16(int64_t N, float *s, int64_t tc, const float *dtv,
                                     const float *uv, const float *A, bool a_scalar,
                                     const float *bt, const float *ct, float *yv) {
    if (N != 16) {
        for (int64_t tt = 0; tt < tc; ++tt) {
            yv[tt] = state_row16_body(N, s, s, dtv[tt], A, a_scalar, dtv[tt] * uv[tt],
                                      bt + tt * N, ct + tt * N);
        }
        return;
    }
    __m512 sv = _mm512_loadu_ps(s);
    const __m512 av = a_scalar ? _mm512_set1_ps(A[0]) : _mm512_loadu_ps(A);
    for (int64_t tt = 0; tt < tc; ++tt) {
        const float d = dtv[tt];
        const __m512 decay = a_scalar ? _mm512_set1_ps(fast_exp(d * A[0]))
                                      : fast_exp16(_mm512_mul_ps(_mm512_set1_ps(d), av));
        sv = _mm512_fmadd_ps(sv, decay,
                             _mm512_mul_ps(_mm512_set1_ps(d * uv[tt]), _mm512_loadu_ps(bt + tt * 16)));
        yv[tt] = _mm512_reduce_add_ps(_mm512_mul_ps(_mm512_loadu_ps(ct + tt * 16), sv));
    }
    _mm512_storeu_ps(s, sv);
}
#pragma GCC diagnostic pop
#endif

/** state_row, on 16-lane AVX-512 when WIDE (the caller is an AVX-512 function) and N allows. */
template <bool WIDE>
MOPS_ALWAYS_INLINE float state_row_for(int64_t N, const float *s_in, float *s_out, float d,
                                       const float *A, bool a_scalar, float du, const float *bn,
                                       const float *cn) {
#if defined(__x86_64__)
    if constexpr (WIDE) {
        if (N % 16 == 0) {
            return state_row16(N, s_in, s_out, d, A, a_scalar, du, bn, cn);
        }
    }
#endif
    return state_row(N, s_in, s_out, d, A, a_scalar, du, bn, cn);
}

template <typename T, bool WIDE>
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
                bool done = false;
#if defined(__x86_64__)
                if constexpr (WIDE) {
                    if (N % 16 == 0) {
                        state_rows16(N, s, tc, dtv, uv, arow, a_scalar, bt, ct, yv);
                        done = true;
                    }
                }
#endif
                for (int64_t tt = 0; tt < tc && !done; ++tt) {
                    const float d = dtv[tt];
                    yv[tt] = state_row(N, s, s, d, arow, a_scalar, d * uv[tt], bt + tt * N,
                                       ct + tt * N);
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
MOPS_TARGET_AVX512 void scan_task_avx512(const ScanParams &p, int64_t task, int64_t block,
                                         float *work) {
    scan_task_body<T, true>(p, task, block, work);
}

template <typename T>
MOPS_TARGET_AVX2 void scan_task_avx2(const ScanParams &p, int64_t task, int64_t block,
                                     float *work) {
    scan_task_body<T, false>(p, task, block, work);
}

template <typename T>
void scan_task_base(const ScanParams &p, int64_t task, int64_t block, float *work) {
    scan_task_body<T, false>(p, task, block, work);
}

constexpr int64_t STEP_BLOCK = 256; // channels per pass of the one-step path
constexpr int64_t MAX_DSTATE = 256; // check_common's bound

/**
 * The one-step recurrence of channels [c1_begin, c1_end) of batch b (seqlen is 1). With a dt
 * projection, low holds its rows as float32 ([batch, rank]) and dt of each block of channels is
 * the product's columns summed as the CPU's GEMV sums them (gemv_dot_columns), rounded to T.
 */
template <typename T, bool WIDE>
MOPS_ALWAYS_INLINE void step_body(const ScanParams &p, const float *low, int64_t b,
                                  int64_t c1_begin, int64_t c1_end) {
    const int64_t N = p.dstate;
    alignas(64) float bn[MAX_DSTATE], cn[MAX_DSTATE], zero[MAX_DSTATE], scratch[MAX_DSTATE];
    alignas(64) float arow[MAX_DSTATE];
    alignas(64) float dtv[STEP_BLOCK], uv[STEP_BLOCK], gv[STEP_BLOCK], yv[STEP_BLOCK];
    std::fill(zero, zero + N, 0.0f);
    const T *u = static_cast<const T *>(p.u);
    const T *dt = static_cast<const T *>(p.dt);
    const T *z = static_cast<const T *>(p.z);
    T *out = static_cast<T *>(p.out);
    const int64_t first = c1_begin * p.ch2;
    const int64_t last = c1_end * p.ch2;
    int64_t loaded_group = -1;
    for (int64_t ch0 = first; ch0 < last; ch0 += STEP_BLOCK) {
        const int64_t len = std::min(STEP_BLOCK, last - ch0);
        // (c1, c2) of channel ch0 + j, advanced without divisions
        const int64_t c1_first = ch0 / p.ch2;
        const int64_t c2_first = ch0 % p.ch2;
        int64_t c1 = c1_first;
        int64_t c2 = c2_first;
        const auto next = [&] {
            if (++c2 == p.ch2) {
                c2 = 0;
                ++c1;
            }
        };
        if (low != nullptr) {
            gemv_dot_columns(len, p.proj.rank, low + b * p.proj.rank,
                             static_cast<const T *>(p.proj.weight) + ch0 * p.proj.weight_stride,
                             p.proj.weight_stride, dtv);
        }
        for (int64_t j = 0; j < len; ++j, next()) {
            const float bias = p.dt_bias ? p.dt_bias[c1 * p.dtbs[0] + c2 * p.dtbs[1]] : 0.0f;
            const float raw = low != nullptr
                                  ? to_float(from_float<T>(dtv[j]))
                                  : to_float(dt[b * p.dts[0] + c1 * p.dts[1] + c2 * p.dts[2]]);
            dtv[j] = raw + bias;
            uv[j] = to_float(u[b * p.us[0] + c1 * p.us[1] + c2 * p.us[2]]);
            gv[j] = z ? to_float(z[b * p.zs[0] + c1 * p.zs[1] + c2 * p.zs[2]]) : 1.0f;
        }
        if (p.softplus) {
#pragma omp simd
            for (int64_t j = 0; j < len; ++j) {
                dtv[j] = fast_softplus(dtv[j]);
            }
        }
#pragma omp simd
        for (int64_t j = 0; j < len; ++j) {
            dtv[j] = std::min(std::max(dtv[j], p.dt_min), p.dt_max);
        }
        if (z) {
#pragma omp simd
            for (int64_t j = 0; j < len; ++j) {
                gv[j] = silu(gv[j]);
            }
        }
        c1 = c1_first;
        c2 = c2_first;
        int64_t group_c1 = -1;
        for (int64_t j = 0; j < len; ++j, next()) {
            const int64_t ch = ch0 + j;
            const int64_t g = c1 == group_c1 ? loaded_group : p.group_of(c1);
            group_c1 = c1;
            if (g != loaded_group) {
                loaded_group = g;
                const T *B = static_cast<const T *>(p.B) + b * p.Bs[0] + g * p.Bs[1];
                const T *C = static_cast<const T *>(p.C) + b * p.Cs[0] + g * p.Cs[1];
                for (int64_t n = 0; n < N; ++n) {
                    bn[n] = to_float(B[n * p.Bs[2]]);
                    cn[n] = to_float(C[n * p.Cs[2]]);
                }
            }
            const int64_t row = (b * p.channels() + ch) * N;
            const float *sin = p.init ? p.init + row : zero;
            float *sout = p.fin ? p.fin + row : scratch;
            const float d = dtv[j];
            const float *A = p.A + c1 * p.As[0] + c2 * p.As[1];
            if (p.As[2] > 1) {
                for (int64_t n = 0; n < N; ++n) {
                    arow[n] = A[n * p.As[2]];
                }
                A = arow;
            }
            yv[j] = state_row_for<WIDE>(N, sin, sout, d, A, p.As[2] == 0, d * uv[j], bn, cn);
        }
        c1 = c1_first;
        c2 = c2_first;
        for (int64_t j = 0; j < len; ++j, next()) {
            const float dskip = p.D ? p.D[c1 * p.Ds[0] + c2 * p.Ds[1]] : 0.0f;
            out[b * p.os[0] + c1 * p.os[1] + c2 * p.os[2]] =
                from_float<T>((yv[j] + dskip * uv[j]) * gv[j]);
        }
    }
}

template <typename T>
MOPS_TARGET_AVX512 void step_task_avx512(const ScanParams &p, const float *low, int64_t b,
                                         int64_t c1_begin, int64_t c1_end) {
    step_body<T, true>(p, low, b, c1_begin, c1_end);
}

template <typename T>
MOPS_TARGET_AVX2 void step_task_avx2(const ScanParams &p, const float *low, int64_t b,
                                     int64_t c1_begin, int64_t c1_end) {
    step_body<T, false>(p, low, b, c1_begin, c1_end);
}

template <typename T>
void step_task_base(const ScanParams &p, const float *low, int64_t b, int64_t c1_begin,
                    int64_t c1_end) {
    step_body<T, false>(p, low, b, c1_begin, c1_end);
}

/**
 * seqlen 1: (batch, block of outer channels) tasks, a static share of them per thread; the rows of
 * a dt projection converted to float32 once, before them (as the GEMV converts them).
 */
template <typename T> void run_step_typed(const ScanParams &p) {
    auto task_fn = use_avx512() ? &step_task_avx512<T>
                                : (use_avx2() ? &step_task_avx2<T> : &step_task_base<T>);
    std::vector<float> low;
    if (p.proj.rank > 0) {
        low.resize(static_cast<size_t>(p.batch * p.proj.rank));
        const T *rows = static_cast<const T *>(p.proj.low);
        for (int64_t b = 0; b < p.batch; ++b) {
            for (int64_t r = 0; r < p.proj.rank; ++r) {
                low[static_cast<size_t>(b * p.proj.rank + r)] =
                    to_float(rows[b * p.proj.low_stride + r]);
            }
        }
    }
    const float *lowp = low.empty() ? nullptr : low.data();
    const int threads = threads_for(p.batch * p.channels() * p.dstate, 1 << 13);
    const int64_t block = (p.ch1 + threads - 1) / threads;
    const int64_t blocks = (p.ch1 + block - 1) / block;
#pragma omp parallel for schedule(static) num_threads(threads)
    for (int64_t task = 0; task < p.batch * blocks; ++task) {
        const int64_t c1_begin = (task % blocks) * block;
        task_fn(p, lowp, task / blocks, c1_begin, std::min(p.ch1, c1_begin + block));
    }
}

template <typename T> void run_scan_typed(const ScanParams &p) {
    if (p.seqlen == 1) {
        run_step_typed<T>(p);
        return;
    }
    auto task_fn = use_avx512() ? &scan_task_avx512<T>
                                : (use_avx2() ? &scan_task_avx2<T> : &scan_task_base<T>);
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

extern "C" MOPS_API int32_t mops_cpu_selective_state_update_projected(
    int32_t dtype, int64_t batch, int64_t dim, int64_t dstate, int64_t ngroups, float *state,
    const void *x, const int64_t *x_strides, const void *dt_low, int64_t dt_low_batch_stride,
    const void *dt_proj_weight, int64_t dt_proj_row_stride, int64_t dt_rank, const float *A,
    const void *B, const int64_t *B_strides, const void *C, const int64_t *C_strides,
    const float *D, const void *z, const int64_t *z_strides, const float *dt_bias, int32_t softplus,
    void *out, const int64_t *out_strides) {
    return mops::guarded("selective_state_update_projected", [&] {
        const mops::DtProjection proj{dt_low, dt_low_batch_stride, dt_proj_weight,
                                      dt_proj_row_stride, dt_rank};
        mops::run_scan_cpu(mops::selective_state_update_params(
            dtype, batch, dim, dstate, ngroups, state, x, x_strides, nullptr, nullptr, A, B,
            B_strides, C, C_strides, D, z, z_strides, dt_bias, softplus, out, out_strides, proj));
    });
}
