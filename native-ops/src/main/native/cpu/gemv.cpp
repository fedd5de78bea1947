// Engine ops: products of a few rows with a matrix read once from its storage (see gemv.hpp).
// Two layouts: "dot" when b's columns are contiguous (each output is a dot product of a row of
// a with a contiguous run of k elements), "axpy" when b's rows are contiguous (each row of b is
// scaled and added into a block of outputs held in cache). AVX2/FMA when the CPU has it,
// portable C++ otherwise, and for "dot" an AVX-512 path that keeps eight weight rows in flight
// (more concurrent streams read closer to the memory bandwidth on few cores: a decoding step
// is bound by these reads); work is split over blocks of outputs with OpenMP.
#include "gemv.hpp"

#include <algorithm>
#include <vector>

#if defined(__x86_64__)
#include <immintrin.h>
#endif

#include "cpu_simd.hpp"
#include "tensor_types.hpp"

namespace mops {
namespace {

constexpr int64_t DOT_ROWS = 4;     // b columns per dot-product step (AVX2, generic)
constexpr int64_t DOT_ROWS_512 = 8; // b columns per dot-product step (AVX-512)
constexpr int PREFETCH_BYTES = 256; // how far ahead each column is prefetched (AVX-512)
// Elements of b per thread: 128 KiB of float32 takes a thread longer to read (~7 us) than
// waking another costs (~2 us), so even the small products of a decoding step (Mamba's x_proj
// and dt_proj, 0.3-0.5 MB) are shared.
constexpr int64_t GEMV_GRAIN = 1 << 15;
constexpr int64_t AXPY_BLOCK = 256; // outputs per axpy task (kept in L1)

/** Converts the rows of a to contiguous floats. */
template <typename T>
void load_rows(int64_t m, int64_t k, const T *a, int64_t ars, int64_t acs, float *out) {
    for (int64_t i = 0; i < m; ++i) {
        for (int64_t p = 0; p < k; ++p) {
            out[i * k + p] = to_float(a[i * ars + p * acs]);
        }
    }
}

#if defined(__x86_64__)
MOPS_TARGET_AVX2 MOPS_ALWAYS_INLINE __m256 load8(const float *p) {
    return _mm256_loadu_ps(p);
}
MOPS_TARGET_AVX2 MOPS_ALWAYS_INLINE __m256 load8(const bf16 *p) {
    const __m128i h = _mm_loadu_si128(reinterpret_cast<const __m128i *>(p));
    return _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_cvtepu16_epi32(h), 16));
}
__attribute__((target("avx2,fma,f16c"))) MOPS_ALWAYS_INLINE __m256 load8(const f16 *p) {
    return _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i *>(p)));
}

MOPS_TARGET_AVX2 MOPS_ALWAYS_INLINE float hsum(__m256 v) {
    const __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    const __m128 t = _mm_add_ps(s, _mm_movehl_ps(s, s));
    return _mm_cvtss_f32(_mm_add_ss(t, _mm_shuffle_ps(t, t, 1)));
}

/** c[i, j0 + r] for r < DOT_ROWS: dot products of the rows of a with DOT_ROWS columns of b. */
template <typename T>
__attribute__((target("avx2,fma,f16c"))) void dot_block_avx2(int64_t m, int64_t k,
                                                               const float *a, const T *b,
                                                               int64_t bcs, int64_t j0,
                                                               int64_t rows, float *c,
                                                               int64_t ldc) {
    const int64_t k8 = k / 8 * 8;
    for (int64_t i = 0; i < m; ++i) {
        const float *ai = a + i * k;
        __m256 s0 = _mm256_setzero_ps(), s1 = _mm256_setzero_ps();
        __m256 s2 = _mm256_setzero_ps(), s3 = _mm256_setzero_ps();
        const T *b0 = b + (j0 + 0) * bcs;
        const T *b1 = b + (j0 + std::min<int64_t>(1, rows - 1)) * bcs;
        const T *b2 = b + (j0 + std::min<int64_t>(2, rows - 1)) * bcs;
        const T *b3 = b + (j0 + std::min<int64_t>(3, rows - 1)) * bcs;
        for (int64_t p = 0; p < k8; p += 8) {
            const __m256 av = _mm256_loadu_ps(ai + p);
            s0 = _mm256_fmadd_ps(av, load8(b0 + p), s0);
            s1 = _mm256_fmadd_ps(av, load8(b1 + p), s1);
            s2 = _mm256_fmadd_ps(av, load8(b2 + p), s2);
            s3 = _mm256_fmadd_ps(av, load8(b3 + p), s3);
        }
        float r[DOT_ROWS] = {hsum(s0), hsum(s1), hsum(s2), hsum(s3)};
        for (int64_t p = k8; p < k; ++p) {
            r[0] += ai[p] * to_float(b0[p]);
            r[1] += ai[p] * to_float(b1[p]);
            r[2] += ai[p] * to_float(b2[p]);
            r[3] += ai[p] * to_float(b3[p]);
        }
        for (int64_t q = 0; q < rows; ++q) {
            c[i * ldc + j0 + q] = r[q];
        }
    }
}

// GCC 12 warns that the _mm512_undefined_* values inside its own AVX-512 intrinsics are (or may
// be) used uninitialised (GCC bug 105593, fixed in GCC 13).
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#pragma GCC diagnostic ignored "-Wuninitialized"
MOPS_TARGET_AVX512 MOPS_ALWAYS_INLINE __m512 load16(const float *p) {
    return _mm512_loadu_ps(p);
}
MOPS_TARGET_AVX512 MOPS_ALWAYS_INLINE __m512 load16(const bf16 *p) {
    const __m256i h = _mm256_loadu_si256(reinterpret_cast<const __m256i *>(p));
    return _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(h), 16));
}
MOPS_TARGET_AVX512 MOPS_ALWAYS_INLINE __m512 load16(const f16 *p) {
    return _mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i *>(p)));
}

/**
 * c[i, j0 + r] for r < DOT_ROWS_512: dot products of the rows of a with DOT_ROWS_512 columns
 * of b, each column prefetched PREFETCH_BYTES ahead while the first row of a is multiplied.
 */
template <typename T>
MOPS_TARGET_AVX512 void dot_block_avx512(int64_t m, int64_t k, const float *a, const T *b,
                                         int64_t bcs, int64_t j0, int64_t rows, float *c,
                                         int64_t ldc) {
    constexpr int64_t ahead = PREFETCH_BYTES / sizeof(T);
    const int64_t k16 = k / 16 * 16;
    const T *col[DOT_ROWS_512];
    for (int64_t q = 0; q < DOT_ROWS_512; ++q) {
        col[q] = b + (j0 + std::min(q, rows - 1)) * bcs;
    }
    for (int64_t i = 0; i < m; ++i) {
        const float *ai = a + i * k;
        __m512 s[DOT_ROWS_512];
        for (int64_t q = 0; q < DOT_ROWS_512; ++q) {
            s[q] = _mm512_setzero_ps();
        }
        for (int64_t p = 0; p < k16; p += 16) {
            const __m512 av = _mm512_loadu_ps(ai + p);
            for (int64_t q = 0; q < DOT_ROWS_512; ++q) {
                if (i == 0) {
                    _mm_prefetch(reinterpret_cast<const char *>(col[q] + p + ahead), _MM_HINT_T0);
                }
                s[q] = _mm512_fmadd_ps(av, load16(col[q] + p), s[q]);
            }
        }
        float r[DOT_ROWS_512];
        for (int64_t q = 0; q < DOT_ROWS_512; ++q) {
            r[q] = _mm512_reduce_add_ps(s[q]);
            for (int64_t p = k16; p < k; ++p) {
                r[q] += ai[p] * to_float(col[q][p]);
            }
        }
        for (int64_t q = 0; q < rows; ++q) {
            c[i * ldc + j0 + q] = r[q];
        }
    }
}

#pragma GCC diagnostic pop

/** c[i, j0:j0+len] = sum_p a[i, p] * b[p, j0:j0+len], b's rows contiguous. */
template <typename T>
__attribute__((target("avx2,fma,f16c"))) void axpy_block_avx2(int64_t m, int64_t k,
                                                               const float *a, const T *b,
                                                               int64_t brs, int64_t j0,
                                                               int64_t len, float *c,
                                                               int64_t ldc) {
    alignas(32) float acc[GEMV_MAX_ROWS][AXPY_BLOCK];
    for (int64_t i = 0; i < m; ++i) {
        std::fill(acc[i], acc[i] + len, 0.0f);
    }
    const int64_t len8 = len / 8 * 8;
    for (int64_t p = 0; p < k; ++p) {
        const T *row = b + p * brs + j0;
        for (int64_t i = 0; i < m; ++i) {
            const __m256 av = _mm256_set1_ps(a[i * k + p]);
            float *ci = acc[i];
            for (int64_t j = 0; j < len8; j += 8) {
                _mm256_store_ps(ci + j, _mm256_fmadd_ps(av, load8(row + j), _mm256_load_ps(ci + j)));
            }
            for (int64_t j = len8; j < len; ++j) {
                ci[j] += a[i * k + p] * to_float(row[j]);
            }
        }
    }
    for (int64_t i = 0; i < m; ++i) {
        std::copy(acc[i], acc[i] + len, c + i * ldc + j0);
    }
}
#endif

template <typename T>
void dot_block_generic(int64_t m, int64_t k, const float *a, const T *b, int64_t bcs, int64_t j0,
                       int64_t rows, float *c, int64_t ldc) {
    for (int64_t i = 0; i < m; ++i) {
        for (int64_t q = 0; q < rows; ++q) {
            const T *col = b + (j0 + q) * bcs;
            float s = 0.0f;
            for (int64_t p = 0; p < k; ++p) {
                s += a[i * k + p] * to_float(col[p]);
            }
            c[i * ldc + j0 + q] = s;
        }
    }
}

template <typename T>
void axpy_block_generic(int64_t m, int64_t k, const float *a, const T *b, int64_t brs, int64_t j0,
                        int64_t len, float *c, int64_t ldc) {
    for (int64_t i = 0; i < m; ++i) {
        float *ci = c + i * ldc + j0;
        std::fill(ci, ci + len, 0.0f);
        for (int64_t p = 0; p < k; ++p) {
            const T *row = b + p * brs + j0;
            const float ap = a[i * k + p];
            for (int64_t j = 0; j < len; ++j) {
                ci[j] += ap * to_float(row[j]);
            }
        }
    }
}

/** The columns of b that the dot kernel of instruction-set level isa takes at once. */
int64_t dot_rows(int32_t isa) {
    return isa >= ISA_AVX512 ? DOT_ROWS_512 : DOT_ROWS;
}

/**
 * c[i, j0 + r] for r < rows (at most dot_rows(isa)): dot products of the m rows of a with columns
 * of b, with the dot kernel of level isa; gemv_rows and gemv_dot_columns both sum through it, so
 * that their sums agree.
 */
template <typename T>
void dot_block(int32_t isa, int64_t m, int64_t k, const float *a, const T *b, int64_t bcs,
               int64_t j0, int64_t rows, float *c, int64_t ldc) {
#if defined(__x86_64__)
    if (isa >= ISA_AVX512) {
        dot_block_avx512(m, k, a, b, bcs, j0, rows, c, ldc);
        return;
    }
    if (isa >= ISA_AVX2) {
        dot_block_avx2(m, k, a, b, bcs, j0, rows, c, ldc);
        return;
    }
#endif
    dot_block_generic(m, k, a, b, bcs, j0, rows, c, ldc);
}

template <typename T>
bool gemv_impl(int64_t m, int64_t n, int64_t k, const T *a, int64_t ars, int64_t acs, const T *b,
               int64_t brs, int64_t bcs, float *c) {
    const bool dot = brs == 1 && bcs >= k;
    const bool axpy = !dot && bcs == 1 && brs >= n;
    if (m < 1 || m > GEMV_MAX_ROWS || k < 1 || (!dot && !axpy)) {
        return false;
    }
    std::vector<float> arows(static_cast<size_t>(m * k));
    load_rows(m, k, a, ars, acs, arows.data());
    const float *af = arows.data();
    if (dot) {
        const int32_t isa = isa_level();
        const int64_t step = dot_rows(isa);
        const int64_t blocks = (n + step - 1) / step;
        // one contiguous share per thread (3-4 % faster per decoding step than chunks handed out
        // as threads arrive, measured side by side)
#pragma omp parallel for schedule(static) num_threads(threads_for(n *k, GEMV_GRAIN))
        for (int64_t q = 0; q < blocks; ++q) {
            const int64_t j0 = q * step;
            dot_block(isa, m, k, af, b, bcs, j0, std::min(step, n - j0), c, n);
        }
    } else {
        const bool avx2 = use_avx2();
        const int64_t blocks = (n + AXPY_BLOCK - 1) / AXPY_BLOCK;
#pragma omp parallel for schedule(static) num_threads(threads_for(n *k, GEMV_GRAIN))
        for (int64_t q = 0; q < blocks; ++q) {
            const int64_t j0 = q * AXPY_BLOCK;
            const int64_t len = std::min(AXPY_BLOCK, n - j0);
#if defined(__x86_64__)
            if (avx2) {
                axpy_block_avx2(m, k, af, b, brs, j0, len, c, n);
                continue;
            }
#endif
            axpy_block_generic(m, k, af, b, brs, j0, len, c, n);
        }
    }
    return true;
}

/** gemv_dot_columns: the dot blocks of gemv_impl for one row of a, in this thread. */
template <typename T>
void dot_columns(int64_t n, int64_t k, const float *a, const T *b, int64_t bcs, float *c) {
    const int32_t isa = isa_level();
    const int64_t step = dot_rows(isa);
    for (int64_t j0 = 0; j0 < n; j0 += step) {
        dot_block(isa, 1, k, a, b, bcs, j0, std::min(step, n - j0), c, n);
    }
}

} // namespace

void gemv_dot_columns(int64_t n, int64_t k, const float *a, const float *b, int64_t bcs, float *c) {
    dot_columns(n, k, a, b, bcs, c);
}

void gemv_dot_columns(int64_t n, int64_t k, const float *a, const f16 *b, int64_t bcs, float *c) {
    dot_columns(n, k, a, b, bcs, c);
}

void gemv_dot_columns(int64_t n, int64_t k, const float *a, const bf16 *b, int64_t bcs, float *c) {
    dot_columns(n, k, a, b, bcs, c);
}

bool gemv_rows(int64_t m, int64_t n, int64_t k, const float *a, int64_t ars, int64_t acs,
               const float *b, int64_t brs, int64_t bcs, float *c) {
    return gemv_impl(m, n, k, a, ars, acs, b, brs, bcs, c);
}

bool gemv_rows(int64_t m, int64_t n, int64_t k, const f16 *a, int64_t ars, int64_t acs,
               const f16 *b, int64_t brs, int64_t bcs, float *c) {
    return gemv_impl(m, n, k, a, ars, acs, b, brs, bcs, c);
}

bool gemv_rows(int64_t m, int64_t n, int64_t k, const bf16 *a, int64_t ars, int64_t acs,
               const bf16 *b, int64_t brs, int64_t bcs, float *c) {
    return gemv_impl(m, n, k, a, ars, acs, b, brs, bcs, c);
}

} // namespace mops
