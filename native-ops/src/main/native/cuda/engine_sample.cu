// Engine ops (CUDA): choosing one token per row of logits by temperature, top-k, top-p and min-p
// and a given draw, with the CPU's definitions (common/sampling.hpp) and so the CPU's choices.
//
// One block per row. Every filter keeps a prefix of the row's ranking, and the draw picks a
// position in it, so each is the search for one 64-bit rank key: a radix search, 8 bits per pass
// from the top, that histograms the weight (a count for top-k, the fixed-point weight otherwise)
// of the keys still matching the digits chosen so far and picks the digit where the cumulative
// weight reaches the threshold. The sums are integers, so the block finds exactly the key the
// CPU's ordered walk finds. The fixed-point weights (a double exp each) are computed once per
// token into a scratch row from the engine pool, so that the passes only read them. A thread loads
// kBatch of its keys (and the weights of those still in the search) before it uses them, and adds
// the weights of consecutive keys of one digit in a register before one shared-memory atomic, which
// keeps the first passes (where most keys share their top digits) from serialising on one counter;
// the histogram's 64-bit bins are pairs of 32-bit words, which shared-memory atomics add natively.
#include <cuda_runtime.h>

#include <cstdint>
#include <string>

#include "engine_common.cuh"
#include "mambaops.h"
#include "pdl.cuh"
#include "sampling.hpp"
#include "status.hpp"

namespace mops {
namespace ce {
namespace {

constexpr int kSampleThreads = 1024;
constexpr int kWarps = kSampleThreads / 32;
constexpr uint64_t kNone = ~0ull;

/** Keys a thread walks together: their loads are issued before any is used. */
constexpr int kBatch = 4;

/**
 * The block's shared scratch. A histogram bin of 64-bit sums is kept as two 32-bit words, which
 * shared-memory atomics add natively (add_to_bin).
 */
struct Scratch {
    unsigned int low[256];
    unsigned int high[256];
    unsigned long long partial[kWarps];
    uint64_t before;
    int digit;
};

/**
 * Adds v to bin b: the add that makes the low word wrap carries one into the high word, so the
 * bin's sum (high * 2^32 + low) is the 64-bit sum that one 64-bit atomic per add would give, in
 * any order.
 */
__device__ void add_to_bin(Scratch &sh, int b, uint64_t v) {
    const auto lo = static_cast<unsigned int>(v);
    const auto hi = static_cast<unsigned int>(v >> 32);
    const unsigned int old = atomicAdd(&sh.low[b], lo);
    const unsigned int carry = old + lo < old ? 1u : 0u;
    if (hi + carry != 0) {
        atomicAdd(&sh.high[b], hi + carry);
    }
}

/** The sum of bin b. */
__device__ uint64_t bin(const Scratch &sh, int b) {
    return (static_cast<uint64_t>(sh.high[b]) << 32) + sh.low[b];
}

/** One row of logits and the settings that weigh it. */
template <typename T> struct Row {
    const T *logits;
    int64_t vocab;
    float temperature;
    double best;     // the best token's scaled logit
    uint64_t *fixed; // the fixed-point weight of every token of the row (once computed)

    __device__ float logit(int64_t i) const { return to_float(logits[i]); }

    __device__ double weight(float logit) const {
        return exp(sampling::scaled(logit, temperature) - best);
    }
};

enum class Combine { kSum, kMin, kMax };

/** Combines one value per thread over the block (every thread gets the result). */
template <Combine kOp> __device__ uint64_t block_combine(uint64_t v, Scratch &sh) {
    auto combine = [](uint64_t a, uint64_t b) {
        return kOp == Combine::kSum   ? a + b
               : kOp == Combine::kMin ? (a < b ? a : b)
                                      : (a > b ? a : b);
    };
    for (int offset = 16; offset > 0; offset /= 2) {
        v = combine(v, __shfl_down_sync(0xffffffffu, v, offset));
    }
    const int warp = threadIdx.x / 32;
    if (threadIdx.x % 32 == 0) {
        sh.partial[warp] = v;
    }
    __syncthreads();
    uint64_t all = sh.partial[0];
    for (int w = 1; w < kWarps; ++w) {
        all = combine(all, sh.partial[w]);
    }
    __syncthreads();
    return all;
}

/**
 * The smallest key K among the row's keys <= hi whose cumulative weight (of the keys <= K)
 * satisfies the threshold (sampling::satisfies), or kNone when even all of them do not. kCount
 * weighs every key 1; otherwise a key weighs its fixed-point weight.
 */
template <bool kCount, typename T>
__device__ uint64_t search(const Row<T> &row, uint64_t hi, double threshold, bool strict,
                           Scratch &sh) {
    uint64_t prefix = 0;
    uint64_t mask = 0;
    uint64_t before = 0;
    for (int shift = 56; shift >= 0; shift -= 8) {
        for (int b = threadIdx.x; b < 256; b += blockDim.x) {
            sh.low[b] = 0;
            sh.high[b] = 0;
        }
        __syncthreads();
        int run_digit = -1;
        uint64_t run = 0;
        // the thread's keys in order (i, i + blockDim.x, ...), kBatch at a time: logits, then the
        // weights of the keys still in the search, then the histogram
        for (int64_t i0 = threadIdx.x; i0 < row.vocab; i0 += kBatch * blockDim.x) {
            uint64_t key[kBatch];
            bool in[kBatch];
            uint64_t weight[kBatch];
#pragma unroll
            for (int j = 0; j < kBatch; ++j) {
                const int64_t i = i0 + static_cast<int64_t>(j) * blockDim.x;
                in[j] = i < row.vocab;
                key[j] = in[j] ? sampling::rank_key(row.logit(i), i) : 0;
            }
#pragma unroll
            for (int j = 0; j < kBatch; ++j) {
                in[j] = in[j] && key[j] <= hi && (key[j] & mask) == prefix;
                weight[j] = !in[j] ? 0 : kCount ? 1 : row.fixed[sampling::key_token(key[j])];
            }
#pragma unroll
            for (int j = 0; j < kBatch; ++j) {
                if (!in[j]) {
                    continue;
                }
                const int digit = static_cast<int>((key[j] >> shift) & 255u);
                if (digit != run_digit) {
                    if (run_digit >= 0) {
                        add_to_bin(sh, run_digit, run);
                    }
                    run_digit = digit;
                    run = 0;
                }
                run += weight[j];
            }
        }
        if (run_digit >= 0) {
            add_to_bin(sh, run_digit, run);
        }
        __syncthreads();
        if (threadIdx.x < 32) {
            // lane l owns the digits 8l .. 8l + 7
            const int lane = threadIdx.x;
            uint64_t own = 0;
            for (int d = 0; d < 8; ++d) {
                own += bin(sh, lane * 8 + d);
            }
            uint64_t inclusive = own;
            for (int offset = 1; offset < 32; offset *= 2) {
                const uint64_t up = __shfl_up_sync(0xffffffffu, inclusive, offset);
                if (lane >= offset) {
                    inclusive += up;
                }
            }
            uint64_t cumulative = before + inclusive - own;
            int found = -1;
            uint64_t found_before = 0;
            for (int d = 0; d < 8 && found < 0; ++d) {
                const uint64_t next = cumulative + bin(sh, lane * 8 + d);
                if (bin(sh, lane * 8 + d) != 0 && sampling::satisfies(next, threshold, strict)) {
                    found = lane * 8 + d;
                    found_before = cumulative;
                }
                cumulative = next;
            }
            const unsigned ballot = __ballot_sync(0xffffffffu, found >= 0);
            const int first_lane = ballot == 0 ? 0 : __ffs(ballot) - 1;
            const int digit = __shfl_sync(0xffffffffu, found, first_lane);
            const uint64_t digit_before = __shfl_sync(0xffffffffu, found_before, first_lane);
            if (lane == 0) {
                sh.digit = ballot == 0 ? -1 : digit;
                sh.before = digit_before;
            }
        }
        __syncthreads();
        const int digit = sh.digit;
        before = sh.before;
        __syncthreads();
        if (digit < 0) {
            return kNone;
        }
        prefix |= static_cast<uint64_t>(digit) << shift;
        mask |= 255ull << shift;
    }
    return prefix;
}

/** The sum of the fixed-point weights of the keys <= hi. */
template <typename T>
__device__ uint64_t weight_below(const Row<T> &row, uint64_t hi, Scratch &sh) {
    uint64_t sum = 0;
#pragma unroll 4
    for (int64_t i = threadIdx.x; i < row.vocab; i += blockDim.x) {
        if (sampling::rank_key(row.logit(i), i) <= hi) {
            sum += row.fixed[i];
        }
    }
    return block_combine<Combine::kSum>(sum, sh);
}

template <typename T>
__global__ void __launch_bounds__(kSampleThreads)
    sample_kernel(const T *logits, int64_t vocab, int64_t row_stride, float temperature,
                  int64_t top_k, float top_p, float min_p, const int64_t *draws, uint64_t *weights,
                  int64_t *tokens) {
    pdl_begin();
    __shared__ Scratch sh;
    Row<T> row{logits + blockIdx.x * row_stride, vocab, temperature, 0.0,
               weights + blockIdx.x * vocab};
    uint64_t first = kNone;
    for (int64_t i = threadIdx.x; i < vocab; i += blockDim.x) {
        const uint64_t key = sampling::rank_key(row.logit(i), i);
        first = key < first ? key : first;
    }
    first = block_combine<Combine::kMin>(first, sh);
    row.best = sampling::scaled(row.logit(sampling::key_token(first)), temperature);
    // each thread later reads only the weights it wrote here (the same strided walk)
    for (int64_t i = threadIdx.x; i < vocab; i += blockDim.x) {
        row.fixed[i] = sampling::fixed_weight(row.weight(row.logit(i)));
    }
    uint64_t hi = kNone;
    if (top_k > 0 && top_k < vocab) {
        hi = search<true>(row, hi, static_cast<double>(top_k), false, sh);
    }
    if (top_p < 1) {
        const uint64_t sum = weight_below(row, hi, sh);
        const uint64_t cut = search<false>(
            row, hi, static_cast<double>(top_p) * static_cast<double>(sum), false, sh);
        if (cut != kNone) {
            hi = cut;
        }
    }
    if (min_p > 0) {
        // the first key after the best whose weight is below min_p ends the kept prefix
        uint64_t cut = kNone;
        for (int64_t i = threadIdx.x; i < vocab; i += blockDim.x) {
            const float l = row.logit(i);
            const uint64_t key = sampling::rank_key(l, i);
            if (key <= hi && key != first && key < cut &&
                row.weight(l) < static_cast<double>(min_p)) {
                cut = key;
            }
        }
        cut = block_combine<Combine::kMin>(cut, sh);
        if (cut != kNone) {
            hi = cut - 1;
        }
    }
    const uint64_t total = weight_below(row, hi, sh);
    const double target = static_cast<double>(sampling::clamp_draw(draws[blockIdx.x])) *
                          sampling::kDrawScale * static_cast<double>(total);
    uint64_t chosen = search<false>(row, hi, target, true, sh);
    if (chosen == kNone) {
        // rounding kept the target at the total: the last kept token, as on the CPU
        uint64_t last = 0;
        for (int64_t i = threadIdx.x; i < vocab; i += blockDim.x) {
            const uint64_t key = sampling::rank_key(row.logit(i), i);
            if (key <= hi && key > last) {
                last = key;
            }
        }
        chosen = block_combine<Combine::kMax>(last, sh);
    }
    if (threadIdx.x == 0) {
        tokens[blockIdx.x] = sampling::key_token(chosen);
    }
}

} // namespace
} // namespace ce
} // namespace mops

extern "C" MOPS_API int32_t mops_cuda_sample_tokens(void *stream, int32_t dtype, const void *logits,
                                                    int64_t rows, int64_t vocab, int64_t row_stride,
                                                    float temperature, int64_t top_k, float top_p,
                                                    float min_p, const int64_t *draws,
                                                    int64_t *tokens) {
    return mops::guarded("cuda_sample_tokens", [&] {
        mops::sampling::check_arguments(logits, rows, vocab, row_stride, temperature, top_k, top_p,
                                        min_p, draws, tokens);
        mops::require(rows <= INT32_MAX, "rows must be below 2^31: got " + std::to_string(rows));
        mops::ce::dispatch(dtype, [&](auto tag) {
            using T = decltype(tag);
            if constexpr (!mops::ce::is_floating<T>()) {
                mops::sampling::refuse_dtype();
            } else {
                cudaStream_t s = mops::ce::bind(stream);
                mops::require(vocab <= INT64_MAX / 8 / rows,
                              "rows x vocab is too large: " + std::to_string(rows) + " x " +
                                  std::to_string(vocab));
                mops::ce::PoolBuffer weights(s, rows * vocab * 8);
                mops::launch_dependent("sample_kernel", mops::ce::sample_kernel<T>,
                                       static_cast<unsigned>(rows), mops::ce::kSampleThreads, 0, s,
                                       static_cast<const T *>(logits), vocab, row_stride,
                                       temperature, top_k, top_p, min_p, draws,
                                       static_cast<uint64_t *>(weights.get()), tokens);
            }
        });
    });
}
