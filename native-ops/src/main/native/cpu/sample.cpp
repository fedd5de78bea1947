// Engine ops: choosing one token per row of logits by temperature, top-k, top-p and min-p and a
// given draw (common/sampling.hpp has the shared definitions). The CPU walks the ranking in
// order: a selection for top-k, then a sort of the candidates.
#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "mambaops.h"
#include "sampling.hpp"
#include "status.hpp"
#include "tensor_types.hpp"

namespace mops {
namespace {

/** The settings of a sampling call. */
struct Settings {
    float temperature;
    int64_t top_k;
    float top_p;
    float min_p;
};

template <typename T>
int64_t sample_row(const T *row, int64_t vocab, const Settings &s, int64_t draw,
                   std::vector<uint64_t> &keys, std::vector<double> &weights) {
    using sampling::key_token;
    keys.resize(vocab);
    for (int64_t i = 0; i < vocab; ++i) {
        keys[i] = sampling::rank_key(to_float(row[i]), i);
    }
    int64_t n = vocab;
    if (s.top_k > 0 && s.top_k < vocab) {
        n = s.top_k;
        std::nth_element(keys.begin(), keys.begin() + (n - 1), keys.end());
    }
    std::sort(keys.begin(), keys.begin() + n);
    const double best = sampling::scaled(to_float(row[key_token(keys[0])]), s.temperature);
    weights.resize(n);
    for (int64_t r = 0; r < n; ++r) {
        weights[r] =
            std::exp(sampling::scaled(to_float(row[key_token(keys[r])]), s.temperature) - best);
    }
    int64_t keep = n;
    if (s.top_p < 1) {
        uint64_t sum = 0;
        for (int64_t r = 0; r < n; ++r) {
            sum += sampling::fixed_weight(weights[r]);
        }
        const double target = static_cast<double>(s.top_p) * static_cast<double>(sum);
        uint64_t cumulative = 0;
        for (int64_t r = 0; r < n; ++r) {
            cumulative += sampling::fixed_weight(weights[r]);
            if (sampling::satisfies(cumulative, target, false)) {
                keep = r + 1;
                break;
            }
        }
    }
    if (s.min_p > 0) {
        int64_t r = 1;
        while (r < keep && weights[r] >= static_cast<double>(s.min_p)) {
            ++r;
        }
        keep = r;
    }
    uint64_t total = 0;
    for (int64_t r = 0; r < keep; ++r) {
        total += sampling::fixed_weight(weights[r]);
    }
    const double target =
        static_cast<double>(draw) * sampling::kDrawScale * static_cast<double>(total);
    uint64_t cumulative = 0;
    for (int64_t r = 0; r < keep; ++r) {
        cumulative += sampling::fixed_weight(weights[r]);
        if (sampling::satisfies(cumulative, target, true)) {
            return key_token(keys[r]);
        }
    }
    return key_token(keys[keep - 1]);
}

} // namespace
} // namespace mops

extern "C" MOPS_API int32_t mops_cpu_sample_tokens(int32_t dtype, const void *logits, int64_t rows,
                                                   int64_t vocab, int64_t row_stride,
                                                   float temperature, int64_t top_k, float top_p,
                                                   float min_p, const int64_t *draws,
                                                   int64_t *tokens) {
    return mops::guarded("sample_tokens", [&] {
        mops::sampling::check_arguments(logits, rows, vocab, row_stride, temperature, top_k, top_p,
                                        min_p, draws, tokens);
        for (int64_t r = 0; r < rows; ++r) {
            mops::require(draws[r] >= 0 && draws[r] < mops::sampling::kDrawEnd,
                          "draw " + std::to_string(draws[r]) + " of row " + std::to_string(r) +
                              " is outside [0, 2^53)");
        }
        const mops::Settings settings{temperature, top_k, top_p, min_p};
        mops::dispatch_tensor_dtype(dtype, [&](auto tag) {
            using T = decltype(tag);
            if constexpr (!mops::is_floating<T>()) {
                mops::sampling::refuse_dtype();
            } else {
                std::vector<uint64_t> keys;
                std::vector<double> weights;
                const T *x = static_cast<const T *>(logits);
                for (int64_t r = 0; r < rows; ++r) {
                    tokens[r] = mops::sample_row(x + r * row_stride, vocab, settings, draws[r],
                                                 keys, weights);
                }
            }
        });
    });
}
