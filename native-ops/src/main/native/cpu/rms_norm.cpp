// Gated RMSNorm and RMSNorm fused with the residual add, on the CPU: one row per task,
// float32 arithmetic, AVX2/FMA when the CPU has them.
#include <cmath>
#include <vector>

#include "cpu_simd.hpp"
#include "dtype.hpp"
#include "mambaops.h"
#include "norm_args.hpp"
#include "status.hpp"

namespace mops {
namespace {

template <typename T>
MOPS_ALWAYS_INLINE void gated_row_body(int64_t hidden, int64_t group, const T *x, const T *z,
                                       const T *w, float eps, bool before, T *out, float *v) {
    for (int64_t i = 0; i < hidden; ++i) {
        v[i] = to_float(x[i]);
    }
    if (z && !before) {
#pragma omp simd
        for (int64_t i = 0; i < hidden; ++i) {
            v[i] *= silu(to_float(z[i]));
        }
    }
    for (int64_t g0 = 0; g0 < hidden; g0 += group) {
        float ss = 0.0f;
#pragma omp simd reduction(+ : ss)
        for (int64_t i = g0; i < g0 + group; ++i) {
            ss += v[i] * v[i];
        }
        const float r = 1.0f / std::sqrt(ss / static_cast<float>(group) + eps);
#pragma omp simd
        for (int64_t i = g0; i < g0 + group; ++i) {
            v[i] = v[i] * r * to_float(w[i]);
        }
    }
    if (z && before) {
#pragma omp simd
        for (int64_t i = 0; i < hidden; ++i) {
            v[i] *= silu(to_float(z[i]));
        }
    }
    for (int64_t i = 0; i < hidden; ++i) {
        out[i] = from_float<T>(v[i]);
    }
}

template <typename T>
MOPS_TARGET_AVX2 void gated_row_avx2(int64_t hidden, int64_t group, const T *x, const T *z,
                                     const T *w, float eps, bool before, T *out, float *v) {
    gated_row_body<T>(hidden, group, x, z, w, eps, before, out, v);
}

template <typename T>
void gated_row_base(int64_t hidden, int64_t group, const T *x, const T *z, const T *w, float eps,
                    bool before, T *out, float *v) {
    gated_row_body<T>(hidden, group, x, z, w, eps, before, out, v);
}

template <typename T, typename R>
MOPS_ALWAYS_INLINE void add_row_body(int64_t hidden, const T *x, const R *res, const T *w,
                                     float eps, T *out, R *res_out, float *v) {
    float ss = 0.0f;
    for (int64_t i = 0; i < hidden; ++i) {
        float s = to_float(x[i]) + (res ? to_float(res[i]) : 0.0f);
        s = to_float(from_float<R>(s)); // the norm reads the stored residual
        v[i] = s;
        ss += s * s;
    }
    if (res_out) {
        for (int64_t i = 0; i < hidden; ++i) {
            res_out[i] = from_float<R>(v[i]);
        }
    }
    const float r = 1.0f / std::sqrt(ss / static_cast<float>(hidden) + eps);
    for (int64_t i = 0; i < hidden; ++i) {
        out[i] = from_float<T>(v[i] * r * to_float(w[i]));
    }
}

template <typename T, typename R>
MOPS_TARGET_AVX2 void add_row_avx2(int64_t hidden, const T *x, const R *res, const T *w, float eps,
                                   T *out, R *res_out, float *v) {
    add_row_body<T, R>(hidden, x, res, w, eps, out, res_out, v);
}

template <typename T, typename R>
void add_row_base(int64_t hidden, const T *x, const R *res, const T *w, float eps, T *out,
                  R *res_out, float *v) {
    add_row_body<T, R>(hidden, x, res, w, eps, out, res_out, v);
}

template <typename T, typename R>
void add_rms_norm_typed(int64_t rows, int64_t hidden, const T *x, const R *res, const T *w,
                        float eps, T *out, R *res_out) {
    auto row_fn = use_avx2() ? &add_row_avx2<T, R> : &add_row_base<T, R>;
#pragma omp parallel if (rows * hidden >= (1 << 15))
    {
        std::vector<float> v(static_cast<size_t>(hidden));
#pragma omp for schedule(static)
        for (int64_t r = 0; r < rows; ++r) {
            row_fn(hidden, x + r * hidden, res ? res + r * hidden : nullptr, w, eps,
                   out + r * hidden, res_out ? res_out + r * hidden : nullptr, v.data());
        }
    }
}

} // namespace
} // namespace mops

extern "C" MOPS_API int32_t mops_cpu_rms_norm_gated(int32_t dtype, int64_t rows, int64_t hidden,
                                                    int64_t group_size, const void *x,
                                                    int64_t x_row_stride, const void *z,
                                                    int64_t z_row_stride, const void *weight,
                                                    float eps, int32_t norm_before_gate, void *out,
                                                    int64_t out_row_stride) {
    return mops::guarded("rms_norm_gated", [&] {
        mops::check_rms_norm_gated_args(dtype, rows, hidden, group_size, x, x_row_stride, z,
                                        z_row_stride, weight, eps, out, out_row_stride);
        mops::dispatch_dtype(dtype, [&](auto tag) {
            using T = decltype(tag);
            auto row_fn = mops::use_avx2() ? &mops::gated_row_avx2<T> : &mops::gated_row_base<T>;
            const T *xp = static_cast<const T *>(x);
            const T *zp = static_cast<const T *>(z);
            const T *wp = static_cast<const T *>(weight);
            T *op = static_cast<T *>(out);
#pragma omp parallel if (rows * hidden >= (1 << 15))
            {
                std::vector<float> v(static_cast<size_t>(hidden));
#pragma omp for schedule(static)
                for (int64_t r = 0; r < rows; ++r) {
                    row_fn(hidden, group_size, xp + r * x_row_stride,
                           zp ? zp + r * z_row_stride : nullptr, wp, eps, norm_before_gate != 0,
                           op + r * out_row_stride, v.data());
                }
            }
        });
    });
}

extern "C" MOPS_API int32_t mops_cpu_add_rms_norm(int32_t dtype, int64_t rows, int64_t hidden,
                                                  const void *x, const void *residual,
                                                  int32_t residual_dtype, const void *weight,
                                                  float eps, void *out, void *residual_out) {
    return mops::guarded("add_rms_norm", [&] {
        mops::check_add_rms_norm_args(dtype, rows, hidden, x, residual_dtype, weight, eps, out);
        mops::dispatch_dtype(dtype, [&](auto tag) {
            using T = decltype(tag);
            const T *xp = static_cast<const T *>(x);
            const T *wp = static_cast<const T *>(weight);
            T *op = static_cast<T *>(out);
            if (residual_dtype == MOPS_F32) {
                mops::add_rms_norm_typed<T, float>(rows, hidden, xp,
                                                   static_cast<const float *>(residual), wp, eps,
                                                   op, static_cast<float *>(residual_out));
            } else {
                mops::add_rms_norm_typed<T, T>(rows, hidden, xp, static_cast<const T *>(residual),
                                               wp, eps, op, static_cast<T *>(residual_out));
            }
        });
    });
}
