// One step of the depthwise causal convolution for one (sequence, channel) row: the arithmetic of
// mops_cuda_causal_conv1d_update, shared by its kernel (causal_conv1d.cu) and the GEMV that
// applies it to its own outputs (engine_gemv.cu), so that both give the same bits.
#pragma once

#include "dtype.hpp"

namespace mops {

/** The longest history of the convolution's state (filters of width 2 to 4). */
constexpr int kConvMaxHist = 3;

/** SiLU where act, as every causal-convolution kernel applies it (fast exp of --use_fast_math). */
__device__ __forceinline__ float conv_activate(float v, bool act) {
    return act ? v / (1.0f + __expf(-v)) : v;
}

/**
 * Consumes the input xv of one row: returns activate(bias + sum_k w[k] * window[k]) over the
 * window (the width - 1 inputs of `state`, then xv), and shifts xv into `state` (float32, the
 * oldest input first). `w` is the row's width filters, `bias` the row's bias or null.
 */
template <typename T>
__device__ __forceinline__ float conv_step(float xv, const T *w, int width, const T *bias,
                                           float *state, bool act) {
    const int hist = width - 1;
    float acc = (bias ? to_float(*bias) : 0.0f) + to_float(w[hist]) * xv;
    float window[kConvMaxHist];
#pragma unroll
    for (int k = 0; k < kConvMaxHist; ++k) {
        window[k] = k < hist ? state[k] : 0.0f;
        if (k < hist) {
            acc += to_float(w[k]) * window[k];
        }
    }
#pragma unroll
    for (int k = 0; k < kConvMaxHist; ++k) {
        if (k < hist) {
            state[k] = k + 1 < hist ? window[k + 1] : xv;
        }
    }
    return conv_activate(acc, act);
}

} // namespace mops
