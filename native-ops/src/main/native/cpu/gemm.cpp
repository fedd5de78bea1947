// Engine ops: batched GEMM on the CPU. Panels of A (MR rows) and B (NR columns) are packed into
// float32 (converting the dtype and absorbing any strides), then a register-blocked MR x NR
// micro-kernel (6 x 32 with AVX-512, 6 x 16 with AVX2/FMA, portable C++ otherwise) accumulates
// over KC-deep slices. Work is split over (row block, column group) tasks with OpenMP. A few rows (decoding)
// take the unpacked path of gemv.hpp instead.
#include <algorithm>
#include <cstring>
#include <string>
#include <vector>

#if defined(__x86_64__)
#include <immintrin.h>
#endif

#include "cpu_simd.hpp"
#include "gemv.hpp"
#include "mambaops.h"
#include "status.hpp"
#include "tensor_types.hpp"

namespace mops {
namespace {

constexpr int64_t MR = 6;
constexpr int64_t KC = 256;
constexpr int64_t MC = 96;   // rows per task, a multiple of MR
constexpr int64_t NC = 2048; // columns of B packed at once, a multiple of every NR
constexpr int64_t NG = 4;    // NR-panels per task

using Kernel = void (*)(int64_t kc, const float *a, const float *b, float *c, int64_t ldc,
                        bool accumulate, int64_t m, int64_t n);

/** Adds (or stores) the valid m x n part of an MR x NR tile into C. */
template <int64_t NR>
inline void write_tile(const float *tile, float *c, int64_t ldc, bool accumulate, int64_t m,
                       int64_t n) {
    for (int64_t i = 0; i < m; ++i) {
        for (int64_t j = 0; j < n; ++j) {
            c[i * ldc + j] = accumulate ? c[i * ldc + j] + tile[i * NR + j] : tile[i * NR + j];
        }
    }
}

template <int64_t NR>
void kernel_generic(int64_t kc, const float *a, const float *b, float *c, int64_t ldc,
                    bool accumulate, int64_t m, int64_t n) {
    float tile[MR * NR] = {0};
    for (int64_t p = 0; p < kc; ++p) {
        const float *ap = a + p * MR;
        const float *bp = b + p * NR;
        for (int64_t i = 0; i < MR; ++i) {
            for (int64_t j = 0; j < NR; ++j) {
                tile[i * NR + j] += ap[i] * bp[j];
            }
        }
    }
    write_tile<NR>(tile, c, ldc, accumulate, m, n);
}

#if defined(__x86_64__)
/** MR x 32 on AVX-512: two vectors of B and six broadcasts of A feed twelve FMAs per step. */
MOPS_TARGET_AVX512 void kernel_avx512(int64_t kc, const float *a, const float *b, float *c,
                                      int64_t ldc, bool accumulate, int64_t m, int64_t n) {
    constexpr int64_t NR = 32;
    __m512 acc[MR][2];
    for (auto &row : acc) {
        row[0] = _mm512_setzero_ps();
        row[1] = _mm512_setzero_ps();
    }
    for (int64_t p = 0; p < kc; ++p) {
        const __m512 b0 = _mm512_load_ps(b + p * NR);
        const __m512 b1 = _mm512_load_ps(b + p * NR + 16);
        const float *ap = a + p * MR;
        for (int64_t i = 0; i < MR; ++i) {
            const __m512 av = _mm512_set1_ps(ap[i]);
            acc[i][0] = _mm512_fmadd_ps(av, b0, acc[i][0]);
            acc[i][1] = _mm512_fmadd_ps(av, b1, acc[i][1]);
        }
    }
    alignas(64) float tile[MR * NR];
    for (int64_t i = 0; i < MR; ++i) {
        _mm512_store_ps(tile + i * NR, acc[i][0]);
        _mm512_store_ps(tile + i * NR + 16, acc[i][1]);
    }
    write_tile<NR>(tile, c, ldc, accumulate, m, n);
}

__attribute__((target("avx2,fma"))) void kernel_avx2(int64_t kc, const float *a, const float *b,
                                                     float *c, int64_t ldc, bool accumulate,
                                                     int64_t m, int64_t n) {
    constexpr int64_t NR = 16;
    __m256 c00 = _mm256_setzero_ps(), c01 = _mm256_setzero_ps();
    __m256 c10 = _mm256_setzero_ps(), c11 = _mm256_setzero_ps();
    __m256 c20 = _mm256_setzero_ps(), c21 = _mm256_setzero_ps();
    __m256 c30 = _mm256_setzero_ps(), c31 = _mm256_setzero_ps();
    __m256 c40 = _mm256_setzero_ps(), c41 = _mm256_setzero_ps();
    __m256 c50 = _mm256_setzero_ps(), c51 = _mm256_setzero_ps();
    for (int64_t p = 0; p < kc; ++p) {
        const __m256 b0 = _mm256_load_ps(b + p * NR);
        const __m256 b1 = _mm256_load_ps(b + p * NR + 8);
        const float *ap = a + p * MR;
        __m256 av = _mm256_broadcast_ss(ap + 0);
        c00 = _mm256_fmadd_ps(av, b0, c00);
        c01 = _mm256_fmadd_ps(av, b1, c01);
        av = _mm256_broadcast_ss(ap + 1);
        c10 = _mm256_fmadd_ps(av, b0, c10);
        c11 = _mm256_fmadd_ps(av, b1, c11);
        av = _mm256_broadcast_ss(ap + 2);
        c20 = _mm256_fmadd_ps(av, b0, c20);
        c21 = _mm256_fmadd_ps(av, b1, c21);
        av = _mm256_broadcast_ss(ap + 3);
        c30 = _mm256_fmadd_ps(av, b0, c30);
        c31 = _mm256_fmadd_ps(av, b1, c31);
        av = _mm256_broadcast_ss(ap + 4);
        c40 = _mm256_fmadd_ps(av, b0, c40);
        c41 = _mm256_fmadd_ps(av, b1, c41);
        av = _mm256_broadcast_ss(ap + 5);
        c50 = _mm256_fmadd_ps(av, b0, c50);
        c51 = _mm256_fmadd_ps(av, b1, c51);
    }
    alignas(32) float tile[MR * NR];
    _mm256_store_ps(tile + 0 * NR, c00);
    _mm256_store_ps(tile + 0 * NR + 8, c01);
    _mm256_store_ps(tile + 1 * NR, c10);
    _mm256_store_ps(tile + 1 * NR + 8, c11);
    _mm256_store_ps(tile + 2 * NR, c20);
    _mm256_store_ps(tile + 2 * NR + 8, c21);
    _mm256_store_ps(tile + 3 * NR, c30);
    _mm256_store_ps(tile + 3 * NR + 8, c31);
    _mm256_store_ps(tile + 4 * NR, c40);
    _mm256_store_ps(tile + 4 * NR + 8, c41);
    _mm256_store_ps(tile + 5 * NR, c50);
    _mm256_store_ps(tile + 5 * NR + 8, c51);
    write_tile<NR>(tile, c, ldc, accumulate, m, n);
}
#endif

/** Packs B[p0:p0+kc, j0:j0+nc] into NR-wide panels, zero-padded: panel q holds kc x NR. */
template <int64_t NR, typename T>
void pack_b(const T *b, int64_t rs, int64_t cs, int64_t p0, int64_t kc, int64_t j0, int64_t nc,
            float *out) {
    const int64_t panels = (nc + NR - 1) / NR;
#pragma omp parallel for schedule(static) num_threads(threads_for(panels *kc *NR, 65536))
    for (int64_t q = 0; q < panels; ++q) {
        float *dst = out + q * kc * NR;
        const int64_t jn = std::min(NR, nc - q * NR);
        for (int64_t p = 0; p < kc; ++p) {
            const T *row = b + (p0 + p) * rs + (j0 + q * NR) * cs;
            for (int64_t j = 0; j < jn; ++j) {
                dst[p * NR + j] = to_float(row[j * cs]);
            }
            for (int64_t j = jn; j < NR; ++j) {
                dst[p * NR + j] = 0.0f;
            }
        }
    }
}

/** Packs A[i0:i0+mc, p0:p0+kc] into MR-tall panels, zero-padded: panel q holds kc x MR. */
template <typename T>
void pack_a(const T *a, int64_t rs, int64_t cs, int64_t i0, int64_t mc, int64_t p0, int64_t kc,
            float *out) {
    const int64_t panels = (mc + MR - 1) / MR;
    for (int64_t q = 0; q < panels; ++q) {
        float *dst = out + q * kc * MR;
        const int64_t im = std::min(MR, mc - q * MR);
        for (int64_t i = 0; i < MR; ++i) {
            if (i < im) {
                const T *row = a + (i0 + q * MR + i) * rs + p0 * cs;
                for (int64_t p = 0; p < kc; ++p) {
                    dst[p * MR + i] = to_float(row[p * cs]);
                }
            } else {
                for (int64_t p = 0; p < kc; ++p) {
                    dst[p * MR + i] = 0.0f;
                }
            }
        }
    }
}

/** c (m x n, row-major, leading dimension n) = a * b for one matrix of the batch. */
template <int64_t NR, typename T>
void gemm_one(Kernel kernel, int64_t m, int64_t n, int64_t k, const T *a, int64_t ars, int64_t acs,
              const T *b, int64_t brs, int64_t bcs, float *c, float *bpack) {
    if (k == 0) {
        std::fill(c, c + m * n, 0.0f);
        return;
    }
    for (int64_t j0 = 0; j0 < n; j0 += NC) {
        const int64_t nc = std::min(NC, n - j0);
        const int64_t npanels = (nc + NR - 1) / NR;
        const int64_t ngroups = (npanels + NG - 1) / NG;
        const int64_t mblocks = (m + MC - 1) / MC;
        for (int64_t p0 = 0; p0 < k; p0 += KC) {
            const int64_t kc = std::min(KC, k - p0);
            pack_b<NR>(b, brs, bcs, p0, kc, j0, nc, bpack);
            const int64_t tasks = mblocks * ngroups;
            const bool accumulate = p0 > 0;
#pragma omp parallel num_threads(threads_for(tasks *MC *NG *NR *kc, 1 << 17))
            {
                std::vector<float> apack(static_cast<size_t>(MC * KC));
                int64_t packed_block = -1;
#pragma omp for schedule(static)
                for (int64_t t = 0; t < tasks; ++t) {
                    const int64_t ib = t / ngroups;
                    const int64_t g = t % ngroups;
                    const int64_t i0 = ib * MC;
                    const int64_t mc = std::min(MC, m - i0);
                    if (packed_block != ib) {
                        pack_a(a, ars, acs, i0, mc, p0, kc, apack.data());
                        packed_block = ib;
                    }
                    const int64_t q_end = std::min(npanels, (g + 1) * NG);
                    for (int64_t q = g * NG; q < q_end; ++q) {
                        const int64_t jn = std::min(NR, nc - q * NR);
                        for (int64_t r = 0; r * MR < mc; ++r) {
                            const int64_t im = std::min(MR, mc - r * MR);
                            kernel(kc, apack.data() + r * kc * MR, bpack + q * kc * NR,
                                   c + (i0 + r * MR) * n + j0 + q * NR, n, accumulate, im, jn);
                        }
                    }
                }
            }
        }
    }
}

/** The packed GEMM of one matrix with the micro-kernel of this CPU (and instruction-set cap). */
template <typename T>
void gemm_packed(int64_t m, int64_t n, int64_t k, const T *a, int64_t ars, int64_t acs, const T *b,
                 int64_t brs, int64_t bcs, float *c, float *bpack) {
#if defined(__x86_64__)
    if (use_avx512()) {
        gemm_one<32>(kernel_avx512, m, n, k, a, ars, acs, b, brs, bcs, c, bpack);
        return;
    }
    if (use_avx2()) {
        gemm_one<16>(kernel_avx2, m, n, k, a, ars, acs, b, brs, bcs, c, bpack);
        return;
    }
#endif
    gemm_one<16>(kernel_generic<16>, m, n, k, a, ars, acs, b, brs, bcs, c, bpack);
}

template <typename T>
void matmul(int64_t batch, int64_t m, int64_t n, int64_t k, const T *a, int64_t abs_, int64_t ars,
            int64_t acs, const T *b, int64_t bbs, int64_t brs, int64_t bcs, T *out) {
    constexpr int64_t widest_nr = 32;
    const int64_t bpack_size = KC * ((std::min(NC, n) + widest_nr - 1) / widest_nr) * widest_nr;
    float *bpack = nullptr; // allocated on the first product that the GEMV path does not take
    std::vector<float> cbuf;
    try {
        if (!std::is_same<T, float>::value) {
            cbuf.resize(static_cast<size_t>(m * n));
        }
        for (int64_t s = 0; s < batch; ++s) {
            float *c = std::is_same<T, float>::value ? reinterpret_cast<float *>(out + s * m * n)
                                                     : cbuf.data();
            if (m > GEMV_MAX_ROWS ||
                !gemv_rows(m, n, k, a + s * abs_, ars, acs, b + s * bbs, brs, bcs, c)) {
                if (bpack == nullptr) {
                    bpack = static_cast<float *>(std::aligned_alloc(
                        64, static_cast<size_t>(((bpack_size * 4 + 63) / 64) * 64)));
                    if (bpack == nullptr) {
                        throw Error(MOPS_ERR_OUT_OF_MEMORY,
                                    "could not allocate the packed B buffer");
                    }
                }
                gemm_packed(m, n, k, a + s * abs_, ars, acs, b + s * bbs, brs, bcs, c, bpack);
            }
            if (!std::is_same<T, float>::value) {
                T *o = out + s * m * n;
                for (int64_t i = 0; i < m * n; ++i) {
                    o[i] = from_float<T>(cbuf[static_cast<size_t>(i)]);
                }
            }
        }
    } catch (...) {
        std::free(bpack);
        throw;
    }
    std::free(bpack);
}

} // namespace
} // namespace mops

extern "C" MOPS_API int32_t mops_cpu_matmul(int32_t dtype, int64_t batch, int64_t m, int64_t n,
                                            int64_t k, const void *a, int64_t a_batch_stride,
                                            int64_t a_row_stride, int64_t a_col_stride,
                                            const void *b, int64_t b_batch_stride,
                                            int64_t b_row_stride, int64_t b_col_stride, void *out) {
    return mops::guarded("matmul", [&] {
        mops::require(batch >= 0 && m >= 0 && n >= 0 && k >= 0,
                      "sizes must be non-negative: batch " + std::to_string(batch) + ", m " +
                          std::to_string(m) + ", n " + std::to_string(n) + ", k " +
                          std::to_string(k));
        if (batch == 0 || m == 0 || n == 0) {
            return;
        }
        mops::require(a != nullptr && b != nullptr && out != nullptr, "a, b or out is NULL");
        mops::dispatch_dtype(dtype, [&](auto tag) {
            using T = decltype(tag);
            mops::matmul<T>(batch, m, n, k, static_cast<const T *>(a), a_batch_stride, a_row_stride,
                            a_col_stride, static_cast<const T *>(b), b_batch_stride, b_row_stride,
                            b_col_stride, static_cast<T *>(out));
        });
    });
}
