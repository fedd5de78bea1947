// Token sampling (mops_cpu_sample_tokens / mops_cuda_sample_tokens): the definitions that the CPU
// and CUDA versions share, so that both choose the same token from the same logits and draw.
//
// A row's tokens are ranked by a 64-bit key whose ascending order is logit descending, then
// token id ascending. Every filter (top-k, top-p, min-p) keeps a prefix of that ranking, and the
// draw picks a position in it, so each is a search for one key. Weights are exp(l / T - max) in
// double, held as integers with 44 fraction bits: sums of them are exact and independent of the
// order in which they are added, which is what lets a parallel search on the GPU find the same
// key as the sequential walk on the CPU.
#pragma once

#include <cmath>
#include <cstdint>
#include <string>

#include "dtype.hpp"
#include "status.hpp"

namespace mops {
namespace sampling {

/** The weight of the best token, 1.0, as a fixed-point integer. */
constexpr double kOne = 17592186044416.0; // 2^44

/** A draw u in [0, 1) is passed as the integer u * 2^53 (what java.util.Random draws). */
constexpr double kDrawScale = 1.0 / 9007199254740992.0; // 2^-53

/** The end of the draws' range: a draw is an integer in [0, 2^53). */
constexpr int64_t kDrawEnd = int64_t{1} << 53;

/** A draw moved into [0, 2^53) (the device's reading of a draw it cannot refuse). */
MOPS_HD int64_t clamp_draw(int64_t draw) {
    return draw < 0 ? 0 : draw >= kDrawEnd ? kDrawEnd - 1 : draw;
}

/** The ranking key of a token: ascending order = logit descending, then id ascending. */
MOPS_HD uint64_t rank_key(float logit, int64_t token) {
    const uint32_t bits = float_to_bits(logit);
    // signed-integer order of the floats, flipped (descending) and moved to unsigned order
    const int32_t ordered = static_cast<int32_t>(bits ^ ((bits >> 31) ? 0x7fffffffu : 0u));
    const uint32_t descending = static_cast<uint32_t>(~ordered) ^ 0x80000000u;
    return (static_cast<uint64_t>(descending) << 32) | static_cast<uint32_t>(token);
}

/** The token of a key. */
MOPS_HD int64_t key_token(uint64_t key) {
    return static_cast<int64_t>(key & 0xffffffffu);
}

/** A logit scaled by the temperature, as the host sampler computes it (float division). */
MOPS_HD double scaled(float logit, float temperature) {
    return static_cast<double>(logit / temperature);
}

/** The fixed-point weight of a probability-proportional weight w in [0, 1]. */
MOPS_HD uint64_t fixed_weight(double w) {
    return static_cast<uint64_t>(w * kOne + 0.5);
}

/** Whether a cumulative weight satisfies a search: reaches (>=) or passes (>) the threshold. */
MOPS_HD bool satisfies(uint64_t cumulative, double threshold, bool strict) {
    const double c = static_cast<double>(cumulative);
    return strict ? c > threshold : c >= threshold;
}

/** Refuses logits of a dtype that is not floating-point. */
[[noreturn]] inline void refuse_dtype() {
    throw Error(MOPS_ERR_INVALID_ARGUMENT,
                "sample_tokens needs float32, float16 or bfloat16 logits");
}

/** The checks both versions make of their arguments. */
inline void check_arguments(const void *logits, int64_t rows, int64_t vocab, int64_t row_stride,
                            float temperature, int64_t top_k, float top_p, float min_p,
                            const void *draws, const void *tokens) {
    require(logits != nullptr && draws != nullptr && tokens != nullptr,
            "logits, draws or tokens is NULL");
    require(rows > 0 && vocab > 0, "rows and vocab must be positive: got rows " +
                                       std::to_string(rows) + ", vocab " + std::to_string(vocab));
    require(vocab <= INT32_MAX, "vocab must be below 2^31: got " + std::to_string(vocab));
    require(row_stride >= vocab, "row_stride " + std::to_string(row_stride) +
                                     " is shorter than a row of " + std::to_string(vocab));
    require(std::isfinite(temperature) && temperature > 0,
            "temperature must be positive and finite: got " + std::to_string(temperature));
    require(top_k >= 0, "top_k must be 0 (off) or positive: got " + std::to_string(top_k));
    require(top_p > 0 && top_p <= 1, "top_p must be in (0, 1]: got " + std::to_string(top_p));
    require(min_p >= 0 && min_p <= 1, "min_p must be in [0, 1]: got " + std::to_string(min_p));
}

} // namespace sampling
} // namespace mops
