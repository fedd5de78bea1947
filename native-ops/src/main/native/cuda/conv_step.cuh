// One step of the depthwise causal convolution for one (sequence, channel) row: the arithmetic of
// mops_cuda_causal_conv1d_update, shared by its kernel (causal_conv1d.cu, built with
// --use_fast_math) and the GEMV that applies it to its own outputs (engine_gemv.cu, built without),
// so that both give the same bits: the instructions that --use_fast_math makes of the expressions
// are spelled out (flushed subnormals, the approximate exponential and division).
#pragma once

#include "dtype.hpp"

namespace mops {

/** The longest history of the convolution's state (filters of width 2 to 4). */
constexpr int kConvMaxHist = 3;

__device__ __forceinline__ float conv_fma(float a, float b, float c) {
    float d;
    asm("fma.rn.ftz.f32 %0, %1, %2, %3;" : "=f"(d) : "f"(a), "f"(b), "f"(c));
    return d;
}

/** SiLU where act: v / (1 + 2^(-v log2 e)), as --use_fast_math compiles v / (1 + __expf(-v)). */
__device__ __forceinline__ float conv_activate(float v, bool act) {
    if (!act) {
        return v;
    }
    float t;
    asm("mul.ftz.f32 %0, %1, 0fBFB8AA3B;" : "=f"(t) : "f"(v));
    asm("ex2.approx.ftz.f32 %0, %0;" : "+f"(t));
    asm("add.ftz.f32 %0, %0, 0f3F800000;" : "+f"(t));
    asm("div.approx.ftz.f32 %0, %1, %0;" : "+f"(t) : "f"(v));
    return t;
}

/**
 * Consumes the input xv of one row whose filters w, bias and state window (the width - 1 inputs
 * before xv, the oldest first) are in registers: returns activate(bias + sum_k w[k] * window[k]),
 * the window taken as its width - 1 inputs then xv, and shifts xv into the window.
 */
__device__ __forceinline__ float conv_step_in_registers(float xv,
                                                        const float (&w)[kConvMaxHist + 1],
                                                        int width, float bias,
                                                        float (&window)[kConvMaxHist], bool act) {
    const int hist = width - 1;
    float acc = conv_fma(w[hist], xv, bias);
#pragma unroll
    for (int k = 0; k < kConvMaxHist; ++k) {
        if (k < hist) {
            acc = conv_fma(w[k], window[k], acc);
        }
    }
#pragma unroll
    for (int k = 0; k < kConvMaxHist; ++k) {
        if (k < hist) {
            window[k] = k + 1 < hist ? window[k + 1] : xv;
        }
    }
    return conv_activate(acc, act);
}

/** Loads a row's filters w [width] (and its bias, 0 where null) as float32. */
template <typename T>
__device__ __forceinline__ void conv_load_filters(const T *w, int width, const T *bias,
                                                  float (&filters)[kConvMaxHist + 1],
                                                  float &shift) {
#pragma unroll
    for (int k = 0; k <= kConvMaxHist; ++k) {
        filters[k] = k < width ? to_float(w[k]) : 0.0f;
    }
    shift = bias ? to_float(*bias) : 0.0f;
}

/** Loads a row's state [width - 1] (float32). */
__device__ __forceinline__ void conv_load_state(const float *state, int width,
                                                float (&window)[kConvMaxHist]) {
#pragma unroll
    for (int k = 0; k < kConvMaxHist; ++k) {
        window[k] = k < width - 1 ? state[k] : 0.0f;
    }
}

/** Stores a row's state [width - 1]. */
__device__ __forceinline__ void conv_store_state(float *state, int width,
                                                 const float (&window)[kConvMaxHist]) {
#pragma unroll
    for (int k = 0; k < kConvMaxHist; ++k) {
        if (k < width - 1) {
            state[k] = window[k];
        }
    }
}

/**
 * conv_step_in_registers for a row whose filters w [width], bias (or null) and state [width - 1]
 * are in memory; the state is updated there.
 */
template <typename T>
__device__ __forceinline__ float conv_step(float xv, const T *w, int width, const T *bias,
                                           float *state, bool act) {
    float filters[kConvMaxHist + 1];
    float shift;
    float window[kConvMaxHist];
    conv_load_filters(w, width, bias, filters, shift);
    conv_load_state(state, width, window);
    const float y = conv_step_in_registers(xv, filters, width, shift, window, act);
    conv_store_state(state, width, window);
    return y;
}

} // namespace mops
