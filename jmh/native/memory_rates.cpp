// Memory rates of this machine for jmh/NOTES.md: a per-thread memcpy at sizes below and beyond
// the last-level cache, and plain AVX-512 reads of 516 MiB (the weights of the mamba-130m shape)
// with 1-8 streams per thread, with and without software prefetching.
//
//   g++ -O3 -fopenmp jmh/native/memory_rates.cpp -o /tmp/memory_rates && /tmp/memory_rates
#include <immintrin.h>
#include <omp.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <initializer_list>

namespace {

double now_ms() {
    return std::chrono::duration<double, std::milli>(
               std::chrono::steady_clock::now().time_since_epoch())
        .count();
}

/** Sum of n floats read as `streams` interleaved ranges, prefetching `ahead` floats ahead. */
__attribute__((target("avx512f"))) float read_streams(const float *b, size_t n, int streams,
                                                      int ahead) {
    __m512 s[8];
    for (auto &v : s) {
        v = _mm512_setzero_ps();
    }
    const size_t per = n / streams / 16 * 16;
    for (size_t p = 0; p < per; p += 16) {
        for (int q = 0; q < streams; ++q) {
            const float *x = b + q * per + p;
            if (ahead > 0) {
                _mm_prefetch(reinterpret_cast<const char *>(x + ahead), _MM_HINT_T0);
            }
            s[q] = _mm512_add_ps(s[q], _mm512_loadu_ps(x));
        }
    }
    __m512 t = s[0];
    for (int i = 1; i < 8; ++i) {
        t = _mm512_add_ps(t, s[i]);
    }
    return _mm512_reduce_add_ps(t);
}

} // namespace

int main() {
    const int threads = omp_get_max_threads();
    for (size_t mib : {16, 64, 256, 1024}) {
        const size_t n = mib << 20;
        char *src = static_cast<char *>(aligned_alloc(64, n));
        char *dst = static_cast<char *>(aligned_alloc(64, n));
        memset(src, 1, n);
        memset(dst, 2, n);
        double best = 1e9;
        for (int r = 0; r < 10; ++r) {
            const double t0 = now_ms();
#pragma omp parallel
            {
                const size_t share = n / threads;
                const size_t off = omp_get_thread_num() * share;
                memcpy(dst + off, src + off, share);
            }
            best = std::min(best, now_ms() - t0);
        }
        printf("copy %4zu MiB, %d threads: %.2f ms, %.1f GB/s read + written\n", mib, threads,
               best, 2.0 * n / 1e6 / best);
        free(src);
        free(dst);
    }
    const size_t n = (516ull << 20) / 4;
    float *w = static_cast<float *>(aligned_alloc(64, n * 4));
    for (size_t i = 0; i < n; ++i) {
        w[i] = 1e-6f;
    }
    for (int streams : {1, 2, 4, 8}) {
        for (int ahead : {0, 64, 256}) {
            double best = 1e9;
            float sink = 0;
            for (int r = 0; r < 10; ++r) {
                const double t0 = now_ms();
#pragma omp parallel reduction(+ : sink)
                {
                    const size_t share = n / threads;
                    sink += read_streams(w + omp_get_thread_num() * share, share, streams, ahead);
                }
                best = std::min(best, now_ms() - t0);
            }
            printf("read 516 MiB, %d threads x %d streams, prefetch %3d floats: %.2f ms, %.1f GB/s"
                   " (%g)\n",
                   threads, streams, ahead, best, n * 4 / 1e6 / best, sink);
        }
    }
    free(w);
}
