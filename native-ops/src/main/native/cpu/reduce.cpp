// Engine ops: reductions, softmax, cumulative sum and top-k over the middle axis of a
// contiguous [outer, n, inner] array.
#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <string>
#include <vector>

#include "mambaops.h"
#include "status.hpp"
#include "tensor_types.hpp"

namespace mops {
namespace {

void check_oni(const void *x, const void *out, int64_t outer, int64_t n, int64_t inner) {
    require(x != nullptr && out != nullptr, "x or out is NULL");
    require(outer >= 0 && n > 0 && inner >= 0,
            "sizes must be outer >= 0, n > 0, inner >= 0: got [" + std::to_string(outer) + ", " +
                std::to_string(n) + ", " + std::to_string(inner) + "]");
}

template <typename T>
void reduce(int32_t op, const T *x, int64_t outer, int64_t n, int64_t inner, void *out) {
    const int64_t rows = outer * inner;
#pragma omp parallel for schedule(static) num_threads(threads_for(rows *n, 32768))
    for (int64_t r = 0; r < rows; ++r) {
        const int64_t o = r / inner;
        const int64_t j = r % inner;
        const T *p = x + o * n * inner + j;
        switch (op) {
        case MOPS_RED_SUM:
        case MOPS_RED_MEAN:
        case MOPS_RED_PROD: {
            double acc = op == MOPS_RED_PROD ? 1.0 : 0.0;
            for (int64_t i = 0; i < n; ++i) {
                const double v = load_double(p[i * inner]);
                acc = op == MOPS_RED_PROD ? acc * v : acc + v;
            }
            if (op == MOPS_RED_MEAN) {
                acc /= static_cast<double>(n);
            }
            static_cast<T *>(out)[r] = store_double<T>(acc);
            break;
        }
        default: {
            const bool want_max = op == MOPS_RED_MAX || op == MOPS_RED_ARGMAX;
            double best = load_double(p[0]);
            int64_t at = 0;
            for (int64_t i = 1; i < n && best == best; ++i) {
                const double v = load_double(p[i * inner]);
                if (v != v || (want_max ? v > best : v < best)) {
                    best = v;
                    at = i;
                }
            }
            if (op == MOPS_RED_ARGMAX || op == MOPS_RED_ARGMIN) {
                static_cast<int64_t *>(out)[r] = at;
            } else {
                static_cast<T *>(out)[r] = p[at * inner];
            }
            break;
        }
        }
    }
}

template <typename T>
void softmax(const T *x, int64_t outer, int64_t n, int64_t inner, bool log, T *out) {
    const int64_t rows = outer * inner;
#pragma omp parallel for schedule(static) num_threads(threads_for(rows *n, 32768))
    for (int64_t r = 0; r < rows; ++r) {
        const int64_t base = (r / inner) * n * inner + r % inner;
        float mx = -std::numeric_limits<float>::infinity();
        for (int64_t i = 0; i < n; ++i) {
            mx = std::max(mx, to_float(x[base + i * inner]));
        }
        double sum = 0.0;
        for (int64_t i = 0; i < n; ++i) {
            sum += std::exp(static_cast<double>(to_float(x[base + i * inner]) - mx));
        }
        const float lse = static_cast<float>(std::log(sum));
        const float inv = static_cast<float>(1.0 / sum);
        for (int64_t i = 0; i < n; ++i) {
            const float v = to_float(x[base + i * inner]) - mx;
            out[base + i * inner] = from_float<T>(log ? v - lse : std::exp(v) * inv);
        }
    }
}

template <typename T> void cumsum(const T *x, int64_t outer, int64_t n, int64_t inner, T *out) {
    const int64_t rows = outer * inner;
#pragma omp parallel for schedule(static) num_threads(threads_for(rows *n, 32768))
    for (int64_t r = 0; r < rows; ++r) {
        const int64_t base = (r / inner) * n * inner + r % inner;
        if constexpr (is_floating<T>()) {
            double acc = 0.0;
            for (int64_t i = 0; i < n; ++i) {
                acc += load_double(x[base + i * inner]);
                out[base + i * inner] = store_double<T>(acc);
            }
        } else {
            int64_t acc = 0;
            for (int64_t i = 0; i < n; ++i) {
                acc += load(x[base + i * inner]);
                out[base + i * inner] = store<T>(acc);
            }
        }
    }
}

template <typename T>
void topk(const T *x, int64_t outer, int64_t n, int64_t inner, int64_t k, bool largest, T *values,
          int64_t *indices) {
    const int64_t rows = outer * inner;
#pragma omp parallel for schedule(static) num_threads(threads_for(rows *n, 32768))
    for (int64_t r = 0; r < rows; ++r) {
        const int64_t o = r / inner;
        const int64_t j = r % inner;
        const T *p = x + o * n * inner + j;
        std::vector<int64_t> order(static_cast<size_t>(n));
        std::iota(order.begin(), order.end(), int64_t{0});
        // NaN ranks above everything (as torch.topk does), ties keep the lower index first.
        auto before = [&](int64_t a, int64_t b) {
            const double va = load_double(p[a * inner]);
            const double vb = load_double(p[b * inner]);
            const bool na = va != va;
            const bool nb = vb != vb;
            if (na || nb) {
                return largest ? (na && !nb) || (na && nb && a < b)
                               : (!na && nb) || (na && nb && a < b);
            }
            if (va != vb) {
                return largest ? va > vb : va < vb;
            }
            return a < b;
        };
        std::partial_sort(order.begin(), order.begin() + k, order.end(), before);
        for (int64_t i = 0; i < k; ++i) {
            const int64_t at = (o * k + i) * inner + j;
            values[at] = p[order[static_cast<size_t>(i)] * inner];
            indices[at] = order[static_cast<size_t>(i)];
        }
    }
}

} // namespace
} // namespace mops

extern "C" MOPS_API int32_t mops_cpu_reduce(int32_t op, int32_t dtype, const void *x, int64_t outer,
                                            int64_t n, int64_t inner, void *out) {
    return mops::guarded("reduce", [&] {
        mops::check_oni(x, out, outer, n, inner);
        mops::require(op >= MOPS_RED_SUM && op <= MOPS_RED_ARGMIN,
                      "unknown reduce op " + std::to_string(op));
        mops::dispatch_tensor_dtype(dtype, [&](auto tag) {
            using T = decltype(tag);
            mops::reduce<T>(op, static_cast<const T *>(x), outer, n, inner, out);
        });
    });
}

extern "C" MOPS_API int32_t mops_cpu_softmax(int32_t dtype, const void *x, int64_t outer, int64_t n,
                                             int64_t inner, int32_t log, void *out) {
    return mops::guarded("softmax", [&] {
        mops::check_oni(x, out, outer, n, inner);
        mops::dispatch_dtype(dtype, [&](auto tag) {
            using T = decltype(tag);
            mops::softmax<T>(static_cast<const T *>(x), outer, n, inner, log != 0,
                             static_cast<T *>(out));
        });
    });
}

extern "C" MOPS_API int32_t mops_cpu_cumsum(int32_t dtype, const void *x, int64_t outer, int64_t n,
                                            int64_t inner, void *out) {
    return mops::guarded("cumsum", [&] {
        mops::check_oni(x, out, outer, n, inner);
        mops::dispatch_tensor_dtype(dtype, [&](auto tag) {
            using T = decltype(tag);
            mops::cumsum<T>(static_cast<const T *>(x), outer, n, inner, static_cast<T *>(out));
        });
    });
}

extern "C" MOPS_API int32_t mops_cpu_topk(int32_t dtype, const void *x, int64_t outer, int64_t n,
                                          int64_t inner, int64_t k, int32_t largest, void *values,
                                          int64_t *indices) {
    return mops::guarded("topk", [&] {
        mops::check_oni(x, values, outer, n, inner);
        mops::require(indices != nullptr, "indices is NULL");
        mops::require(k >= 1 && k <= n,
                      "k = " + std::to_string(k) + " must be in [1, " + std::to_string(n) + "]");
        mops::dispatch_tensor_dtype(dtype, [&](auto tag) {
            using T = decltype(tag);
            mops::topk<T>(static_cast<const T *>(x), outer, n, inner, k, largest != 0,
                          static_cast<T *>(values), indices);
        });
    });
}
