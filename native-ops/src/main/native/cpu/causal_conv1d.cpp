// Depthwise causal conv1d and its one-step update on the CPU (see mambaops.h). The update
// (decoding) has a path of its own: a dot product and a shift of the state per channel, then
// the activation over a block of channels in one vectorised pass. An input whose channels are
// contiguous ([batch, length, channels] read through a transpose, as the blocks pass it) is
// convolved in tiles of channels x steps, vectorised over the channels, instead of row by row
// through a stride of a whole time step.
#include <algorithm>
#include <cmath>
#include <type_traits>
#include <vector>

#include "cpu_simd.hpp"

#include "conv_args.hpp"
#include "dtype.hpp"
#include "mambaops.h"
#include "status.hpp"
#include "tensor_types.hpp"

namespace mops {
namespace {

constexpr int64_t CONV_CHUNK = 256;

/** One row of the convolution, CONV_CHUNK steps at a time so that the t-loops vectorise. */
template <typename T, int W>
MOPS_ALWAYS_INLINE void conv_row_body(const T *xr, int64_t seqlen, int64_t xs_t, const float *w,
                                      float bv, float *window, T *orow, int64_t os_t, bool act,
                                      float *buf, float *acc) {
    constexpr int hist = W - 1;
    for (int k = 0; k < hist; ++k) {
        buf[k] = window[k];
    }
    for (int64_t t0 = 0; t0 < seqlen; t0 += CONV_CHUNK) {
        const int64_t tc = std::min(CONV_CHUNK, seqlen - t0);
        for (int64_t tt = 0; tt < tc; ++tt) {
            buf[hist + tt] = to_float(xr[(t0 + tt) * xs_t]);
        }
#pragma omp simd
        for (int64_t tt = 0; tt < tc; ++tt) {
            float a = bv;
            for (int k = 0; k < W; ++k) {
                a += w[k] * buf[tt + k];
            }
            acc[tt] = act ? silu(a) : a;
        }
        for (int64_t tt = 0; tt < tc; ++tt) {
            orow[(t0 + tt) * os_t] = from_float<T>(acc[tt]);
        }
        for (int k = 0; k < hist; ++k) {
            buf[k] = buf[tc + k];
        }
    }
    for (int k = 0; k < hist; ++k) {
        window[k] = buf[k];
    }
}

template <typename T, int W>
MOPS_TARGET_AVX2 void conv_row_avx2(const T *xr, int64_t seqlen, int64_t xs_t, const float *w,
                                    float bv, float *window, T *orow, int64_t os_t, bool act,
                                    float *buf, float *acc) {
    conv_row_body<T, W>(xr, seqlen, xs_t, w, bv, window, orow, os_t, act, buf, acc);
}

template <typename T, int W>
void conv_row_base(const T *xr, int64_t seqlen, int64_t xs_t, const float *w, float bv,
                   float *window, T *orow, int64_t os_t, bool act, float *buf, float *acc) {
    conv_row_body<T, W>(xr, seqlen, xs_t, w, bv, window, orow, os_t, act, buf, acc);
}

template <typename T>
using ConvRowFn = void (*)(const T *, int64_t, int64_t, const float *, float, float *, T *, int64_t,
                           bool, float *, float *);

/** pick(std::integral_constant<int, W>) for the filter width W (2, 3 or 4; checked before). */
template <typename Pick> auto for_width(int width, Pick pick) {
    switch (width) {
    case 2:
        return pick(std::integral_constant<int, 2>{});
    case 3:
        return pick(std::integral_constant<int, 3>{});
    default:
        return pick(std::integral_constant<int, 4>{});
    }
}

template <typename T> ConvRowFn<T> conv_row_fn(int width) {
    return for_width(width, [](auto w) -> ConvRowFn<T> {
        return use_avx2() ? &conv_row_avx2<T, w> : &conv_row_base<T, w>;
    });
}

constexpr int64_t TILE_CH = 64; // channels per tile of the channels-last path
constexpr int64_t TILE_T = 64;  // steps per tile of the channels-last path

/**
 * Steps [t0, t0 + tn) of channels [0, dn) of one tile: x[t] at x + t * xs_t (channels
 * contiguous), taps w[k][d], inputs before step 0 in hist[k][d] (oldest first); the output
 * tile is written through os_d and os_t. Sums in the order of conv_row_body.
 */
template <typename T, int W>
MOPS_ALWAYS_INLINE void conv_tile_body(const T *x, int64_t xs_t, int64_t dn, int64_t t0, int64_t tn,
                                       const float *w, const float *bv, const float *hist, T *out,
                                       int64_t os_d, int64_t os_t, bool act, float *acc) {
    for (int64_t tt = 0; tt < tn; ++tt) {
        float *a = acc + tt * TILE_CH;
        for (int64_t d = 0; d < dn; ++d) {
            a[d] = bv[d];
        }
        for (int k = 0; k < W; ++k) {
            const int64_t src = t0 + tt - (W - 1) + k;
            const float *wk = w + k * TILE_CH;
            if (src >= 0) {
                const T *xr = x + src * xs_t;
#pragma omp simd
                for (int64_t d = 0; d < dn; ++d) {
                    a[d] += wk[d] * to_float(xr[d]);
                }
            } else {
                const float *hr = hist + (src + W - 1) * TILE_CH;
#pragma omp simd
                for (int64_t d = 0; d < dn; ++d) {
                    a[d] += wk[d] * hr[d];
                }
            }
        }
    }
    if (act) {
#pragma omp simd
        for (int64_t i = 0; i < tn * TILE_CH; ++i) {
            acc[i] = silu(acc[i]);
        }
    }
    for (int64_t d = 0; d < dn; ++d) {
        T *o = out + d * os_d + t0 * os_t;
        for (int64_t tt = 0; tt < tn; ++tt) {
            o[tt * os_t] = from_float<T>(acc[tt * TILE_CH + d]);
        }
    }
}

template <typename T, int W>
MOPS_TARGET_AVX512 void conv_tile_avx512(const T *x, int64_t xs_t, int64_t dn, int64_t t0,
                                         int64_t tn, const float *w, const float *bv,
                                         const float *hist, T *out, int64_t os_d, int64_t os_t,
                                         bool act, float *acc) {
    conv_tile_body<T, W>(x, xs_t, dn, t0, tn, w, bv, hist, out, os_d, os_t, act, acc);
}

template <typename T, int W>
MOPS_TARGET_AVX2 void conv_tile_avx2(const T *x, int64_t xs_t, int64_t dn, int64_t t0, int64_t tn,
                                     const float *w, const float *bv, const float *hist, T *out,
                                     int64_t os_d, int64_t os_t, bool act, float *acc) {
    conv_tile_body<T, W>(x, xs_t, dn, t0, tn, w, bv, hist, out, os_d, os_t, act, acc);
}

template <typename T, int W>
void conv_tile_base(const T *x, int64_t xs_t, int64_t dn, int64_t t0, int64_t tn, const float *w,
                    const float *bv, const float *hist, T *out, int64_t os_d, int64_t os_t,
                    bool act, float *acc) {
    conv_tile_body<T, W>(x, xs_t, dn, t0, tn, w, bv, hist, out, os_d, os_t, act, acc);
}

template <typename T>
using ConvTileFn = void (*)(const T *, int64_t, int64_t, int64_t, int64_t, const float *,
                            const float *, const float *, T *, int64_t, int64_t, bool, float *);

template <typename T> ConvTileFn<T> conv_tile_fn(int width) {
    return for_width(width, [](auto w) -> ConvTileFn<T> {
        return use_avx512() ? &conv_tile_avx512<T, w>
                            : (use_avx2() ? &conv_tile_avx2<T, w> : &conv_tile_base<T, w>);
    });
}

/** The convolution of a channels-last input (xs_d == 1): (batch, tile of channels) tasks. */
template <typename T>
void conv1d_channels_last(const T *x, int64_t batch, int64_t dim, int64_t seqlen, int64_t xs_b,
                          int64_t xs_t, const T *weight, int width, const T *bias,
                          const float *initial_state, float *final_state, T *out, int64_t os_b,
                          int64_t os_d, int64_t os_t, bool act) {
    const int hist = width - 1;
    const int64_t tiles = (dim + TILE_CH - 1) / TILE_CH;
    const ConvTileFn<T> tile_fn = conv_tile_fn<T>(width);
#pragma omp parallel for schedule(static) if (batch * dim * seqlen >= (1 << 15))
    for (int64_t task = 0; task < batch * tiles; ++task) {
        const int64_t b = task / tiles;
        const int64_t d0 = (task % tiles) * TILE_CH;
        const int64_t dn = std::min(TILE_CH, dim - d0);
        alignas(64) float w[4 * TILE_CH] = {};
        alignas(64) float bv[TILE_CH] = {};
        alignas(64) float prev[3 * TILE_CH] = {};
        alignas(64) float acc[TILE_T * TILE_CH];
        for (int64_t d = 0; d < dn; ++d) {
            for (int k = 0; k < width; ++k) {
                w[k * TILE_CH + d] = to_float(weight[(d0 + d) * width + k]);
            }
            bv[d] = bias ? to_float(bias[d0 + d]) : 0.0f;
            for (int k = 0; k < hist && initial_state; ++k) {
                prev[k * TILE_CH + d] = initial_state[(b * dim + d0 + d) * hist + k];
            }
        }
        const T *xb = x + b * xs_b + d0;
        for (int64_t t0 = 0; t0 < seqlen; t0 += TILE_T) {
            tile_fn(xb, xs_t, dn, t0, std::min(TILE_T, seqlen - t0), w, bv, prev,
                    out + b * os_b + d0 * os_d, os_d, os_t, act, acc);
        }
        if (final_state) {
            // the last hist inputs of [prev, x], oldest first (prev was read before: the two
            // states may alias)
            for (int64_t d = 0; d < dn; ++d) {
                for (int k = 0; k < hist; ++k) {
                    const int64_t src = seqlen - hist + k;
                    final_state[(b * dim + d0 + d) * hist + k] =
                        src >= 0 ? to_float(xb[src * xs_t + d]) : prev[(src + hist) * TILE_CH + d];
                }
            }
        }
    }
}

template <typename T>
void conv1d_rows(const T *x, int64_t batch, int64_t dim, int64_t seqlen, int64_t xs_b, int64_t xs_d,
                 int64_t xs_t, const T *weight, int width, const T *bias,
                 const float *initial_state, float *final_state, T *out, int64_t os_b, int64_t os_d,
                 int64_t os_t, bool act) {
    if (xs_d == 1 && dim > 1 && seqlen > 1) {
        conv1d_channels_last(x, batch, dim, seqlen, xs_b, xs_t, weight, width, bias,
                             initial_state, final_state, out, os_b, os_d, os_t, act);
        return;
    }
    const int64_t rows = batch * dim;
    const int hist = width - 1;
    const ConvRowFn<T> row_fn = conv_row_fn<T>(width);
#pragma omp parallel if (rows * seqlen >= (1 << 15))
    {
        std::vector<float> buf(static_cast<size_t>(hist + CONV_CHUNK));
        std::vector<float> acc(static_cast<size_t>(CONV_CHUNK));
#pragma omp for schedule(static)
        for (int64_t r = 0; r < rows; ++r) {
            const int64_t b = r / dim;
            const int64_t d = r % dim;
            float w[4] = {0, 0, 0, 0};
            for (int k = 0; k < width; ++k) {
                w[k] = to_float(weight[d * width + k]);
            }
            const float bv = bias ? to_float(bias[d]) : 0.0f;
            // window holds the previous inputs, oldest first; read before final_state is
            // written, so that the two may alias.
            float window[3] = {0, 0, 0};
            if (initial_state) {
                for (int k = 0; k < hist; ++k) {
                    window[k] = initial_state[r * hist + k];
                }
            }
            row_fn(x + b * xs_b + d * xs_d, seqlen, xs_t, w, bv, window, out + b * os_b + d * os_d,
                   os_t, act, buf.data(), acc.data());
            if (final_state) {
                for (int k = 0; k < hist; ++k) {
                    final_state[r * hist + k] = window[k];
                }
            }
        }
    }
}

/** One step of rows [r_begin, r_end) of [batch * dim]; state [rows][W - 1] in place. */
template <typename T, int W>
MOPS_ALWAYS_INLINE void conv_update_body(const T *x, int64_t r_begin, int64_t r_end, int64_t dim,
                                         int64_t xs_b, int64_t xs_d, const T *weight,
                                         const T *bias, float *state, T *out, int64_t os_b,
                                         int64_t os_d, bool act) {
    constexpr int hist = W - 1;
    alignas(64) float acc[CONV_CHUNK];
    for (int64_t r0 = r_begin; r0 < r_end; r0 += CONV_CHUNK) {
        const int64_t len = std::min(CONV_CHUNK, r_end - r0);
        int64_t b = r0 / dim;
        int64_t d = r0 % dim;
        for (int64_t j = 0; j < len; ++j) {
            const float xv = to_float(x[b * xs_b + d * xs_d]);
            const T *w = weight + d * W;
            float *window = state + (r0 + j) * hist;
            float a = bias ? to_float(bias[d]) : 0.0f;
            for (int k = 0; k < hist; ++k) {
                a += to_float(w[k]) * window[k];
            }
            acc[j] = a + to_float(w[hist]) * xv;
            for (int k = 0; k + 1 < hist; ++k) {
                window[k] = window[k + 1];
            }
            window[hist - 1] = xv;
            if (++d == dim) {
                d = 0;
                ++b;
            }
        }
        if (act) {
#pragma omp simd
            for (int64_t j = 0; j < len; ++j) {
                acc[j] = silu(acc[j]);
            }
        }
        b = r0 / dim;
        d = r0 % dim;
        for (int64_t j = 0; j < len; ++j) {
            out[b * os_b + d * os_d] = from_float<T>(acc[j]);
            if (++d == dim) {
                d = 0;
                ++b;
            }
        }
    }
}

template <typename T, int W>
MOPS_TARGET_AVX2 void conv_update_avx2(const T *x, int64_t r_begin, int64_t r_end, int64_t dim,
                                       int64_t xs_b, int64_t xs_d, const T *weight, const T *bias,
                                       float *state, T *out, int64_t os_b, int64_t os_d, bool act) {
    conv_update_body<T, W>(x, r_begin, r_end, dim, xs_b, xs_d, weight, bias, state, out, os_b,
                           os_d, act);
}

template <typename T, int W>
void conv_update_base(const T *x, int64_t r_begin, int64_t r_end, int64_t dim, int64_t xs_b,
                      int64_t xs_d, const T *weight, const T *bias, float *state, T *out,
                      int64_t os_b, int64_t os_d, bool act) {
    conv_update_body<T, W>(x, r_begin, r_end, dim, xs_b, xs_d, weight, bias, state, out, os_b,
                           os_d, act);
}

template <typename T>
using ConvUpdateFn = void (*)(const T *, int64_t, int64_t, int64_t, int64_t, int64_t, const T *,
                              const T *, float *, T *, int64_t, int64_t, bool);

template <typename T> ConvUpdateFn<T> conv_update_fn(int width) {
    return for_width(width, [](auto w) -> ConvUpdateFn<T> {
        return use_avx2() ? &conv_update_avx2<T, w> : &conv_update_base<T, w>;
    });
}

template <typename T>
void conv1d_update_rows(const T *x, int64_t batch, int64_t dim, int64_t xs_b, int64_t xs_d,
                        const T *weight, int width, const T *bias, float *state, T *out,
                        int64_t os_b, int64_t os_d, bool act) {
    const ConvUpdateFn<T> fn = conv_update_fn<T>(width);
    const int64_t rows = batch * dim;
    const int threads = threads_for(rows * width, 1 << 15);
    const int64_t per = (rows + threads - 1) / threads;
#pragma omp parallel for schedule(static) num_threads(threads)
    for (int t = 0; t < threads; ++t) {
        const int64_t begin = t * per;
        fn(x, begin, std::min(rows, begin + per), dim, xs_b, xs_d, weight, bias, state, out, os_b,
           os_d, act);
    }
}

} // namespace
} // namespace mops

extern "C" MOPS_API int32_t mops_cpu_causal_conv1d(
    int32_t dtype, const void *x, int64_t batch, int64_t dim, int64_t seqlen,
    int64_t x_batch_stride, int64_t x_dim_stride, int64_t x_time_stride, const void *weight,
    int32_t width, const void *bias, const float *initial_state, float *final_state, void *out,
    int64_t out_batch_stride, int64_t out_dim_stride, int64_t out_time_stride, int32_t silu) {
    return mops::guarded("causal_conv1d", [&] {
        mops::check_conv_args(dtype, x, batch, dim, seqlen, weight, width, out);
        mops::dispatch_dtype(dtype, [&](auto tag) {
            using T = decltype(tag);
            mops::conv1d_rows<T>(static_cast<const T *>(x), batch, dim, seqlen, x_batch_stride,
                                 x_dim_stride, x_time_stride, static_cast<const T *>(weight), width,
                                 static_cast<const T *>(bias), initial_state, final_state,
                                 static_cast<T *>(out), out_batch_stride, out_dim_stride,
                                 out_time_stride, silu != 0);
        });
    });
}

extern "C" MOPS_API int32_t mops_cpu_causal_conv1d_update(
    int32_t dtype, const void *x, int64_t batch, int64_t dim, int64_t x_batch_stride,
    int64_t x_dim_stride, const void *weight, int32_t width, const void *bias, float *conv_state,
    void *out, int64_t out_batch_stride, int64_t out_dim_stride, int32_t silu) {
    return mops::guarded("causal_conv1d_update", [&] {
        mops::check_conv_args(dtype, x, batch, dim, 1, weight, width, out);
        mops::require(conv_state != nullptr, "conv_state is NULL");
        mops::dispatch_dtype(dtype, [&](auto tag) {
            using T = decltype(tag);
            mops::conv1d_update_rows<T>(static_cast<const T *>(x), batch, dim, x_batch_stride,
                                        x_dim_stride, static_cast<const T *>(weight), width,
                                        static_cast<const T *>(bias), conv_state,
                                        static_cast<T *>(out), out_batch_stride, out_dim_stride,
                                        silu != 0);
        });
    });
}
