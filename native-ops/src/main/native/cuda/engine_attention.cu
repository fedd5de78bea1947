// Engine ops (CUDA): fused causal grouped-query attention with a KV cache, flash-style. A block of
// kRows warps serves kRows (query head, position) rows that share one KV head; it walks the keys
// in tiles of kTile held in shared memory, and each warp keeps its row's running maximum, sum and
// output (online softmax), so the q_len x kv_len scores are never stored.
#include <cuda_runtime.h>

#include <cmath>
#include <string>

#include "engine_common.cuh"
#include "mambaops.h"
#include "pdl.cuh"
#include "status.hpp"

namespace mops {
namespace ce {
namespace {

constexpr int kRows = 4;  // warps (query rows) per block
constexpr int kTile = 32; // keys per tile: one per lane
constexpr int kMaxHeadDim = 256;

struct AttentionArgs {
    int64_t q_heads, kv_heads, q_len, kv_len, head_dim, q_offset;
    float scale;
    int64_t qs[4], ks[4], vs[4], os[4];
    int64_t splits;    // key ranges processed by separate blocks (1: no split)
    int64_t split_len; // keys per range, a multiple of kTile
    float *part_acc;   // [splits, batch, q_heads, q_len, head_dim] unnormalised outputs
    float *part_ml;    // [splits, batch, q_heads, q_len, 2] running max and sum
};

__device__ __forceinline__ float warp_max(float v) {
    for (int o = 16; o > 0; o /= 2) {
        v = fmaxf(v, __shfl_xor_sync(0xffffffffu, v, o));
    }
    return v;
}

__device__ __forceinline__ float warp_sum(float v) {
    for (int o = 16; o > 0; o /= 2) {
        v += __shfl_xor_sync(0xffffffffu, v, o);
    }
    return v;
}

/** DPL: output channels per lane (head_dim <= 32 * DPL). */
template <typename T, int DPL>
__global__ void attention_kernel(AttentionArgs p, const T *q, const T *k, const T *v, T *out) {
    pdl_begin();
    extern __shared__ float smem[];
    const int64_t d = p.head_dim;
    const int64_t pitch = d + 1; // padding: lane j reads row j without bank conflicts
    float *ks = smem;
    float *vs = ks + kTile * pitch;
    float *qs = vs + kTile * pitch;
    const int lane = threadIdx.x % 32;
    const int warp = threadIdx.x / 32;
    const int64_t group = p.q_heads / p.kv_heads;
    const int64_t rows = group * p.q_len;
    const int64_t b = blockIdx.z / p.splits;
    const int64_t split = blockIdx.z % p.splits;
    const int64_t g = blockIdx.y;
    // Rows are ordered position-major so that a block's rows share their causal extent.
    const int64_t row = static_cast<int64_t>(blockIdx.x) * kRows + warp;
    const bool valid = row < rows;
    const int64_t pos = valid ? row / group : 0;
    const int64_t head = g * group + (valid ? row % group : 0);
    const int64_t last_row = min(rows - 1, static_cast<int64_t>(blockIdx.x) * kRows + kRows - 1);
    const int64_t key_begin = split * p.split_len;
    const int64_t key_end =
        min(min(p.kv_len, p.q_offset + last_row / group + 1), key_begin + p.split_len);
    const int64_t limit = p.q_offset + pos; // keys 0..limit are visible to this row

    const T *qrow = q + b * p.qs[0] + head * p.qs[1] + pos * p.qs[2];
    for (int64_t c = lane; c < d; c += 32) {
        qs[warp * d + c] = valid ? to_float(qrow[c]) * p.scale : 0.0f;
    }
    float acc[DPL];
    for (int t = 0; t < DPL; ++t) {
        acc[t] = 0.0f;
    }
    float m = -INFINITY;
    float l = 0.0f;
    const T *kbase = k + b * p.ks[0] + g * p.ks[1];
    const T *vbase = v + b * p.vs[0] + g * p.vs[1];
    for (int64_t t0 = key_begin; t0 < key_end; t0 += kTile) {
        __syncthreads(); // the previous tile is consumed (and qs is written)
        for (int64_t e = threadIdx.x; e < kTile * d; e += blockDim.x) {
            const int64_t j = e / d;
            const int64_t c = e % d;
            const int64_t key = t0 + j;
            const bool in = key < key_end;
            ks[j * pitch + c] = in ? to_float(kbase[key * p.ks[2] + c]) : 0.0f;
            vs[j * pitch + c] = in ? to_float(vbase[key * p.vs[2] + c]) : 0.0f;
        }
        __syncthreads();
        if (!valid || t0 > limit) {
            continue; // this row sees none of these keys (the loop still joins the barriers)
        }
        const int64_t key = t0 + lane;
        const bool visible = key <= limit && key < key_end;
        float s = -INFINITY;
        if (visible) {
            float dot = 0.0f;
            const float *kr = ks + lane * pitch;
            const float *qr = qs + warp * d;
            for (int64_t c = 0; c < d; ++c) {
                dot = fmaf(qr[c], kr[c], dot);
            }
            s = dot;
        }
        const float m_new = fmaxf(m, warp_max(s));
        const float prob = visible ? expf(s - m_new) : 0.0f;
        const float correction = expf(m - m_new); // 0 on the first visible tile (m = -inf)
        l = l * correction + warp_sum(prob);
        for (int t = 0; t < DPL; ++t) {
            acc[t] *= correction;
        }
        const int64_t left = limit - t0 + 1;
        const int count = left < kTile ? static_cast<int>(left) : kTile;
        for (int j = 0; j < count; ++j) {
            const float pj = __shfl_sync(0xffffffffu, prob, j);
            const float *vr = vs + j * pitch;
            for (int t = 0; t < DPL; ++t) {
                const int64_t c = lane + 32 * t;
                if (c < d) {
                    acc[t] = fmaf(pj, vr[c], acc[t]);
                }
            }
        }
        m = m_new;
    }
    if (valid && p.splits > 1) {
        // partial result of this key range: combined by attention_combine
        const int64_t batch = gridDim.z / p.splits;
        const int64_t index = ((split * batch + b) * p.q_heads + head) * p.q_len + pos;
        float *pa = p.part_acc + index * d;
        for (int t = 0; t < DPL; ++t) {
            const int64_t c = lane + 32 * t;
            if (c < d) {
                pa[c] = acc[t];
            }
        }
        if (lane == 0) {
            p.part_ml[index * 2] = m;
            p.part_ml[index * 2 + 1] = l;
        }
    } else if (valid) {
        T *orow = out + b * p.os[0] + head * p.os[1] + pos * p.os[2];
        const float inv = 1.0f / l;
        for (int t = 0; t < DPL; ++t) {
            const int64_t c = lane + 32 * t;
            if (c < d) {
                orow[c] = from_float<T>(acc[t] * inv);
            }
        }
    }
}

/** Merges the key ranges: out = sum_s acc_s e^(m_s - M) / sum_s l_s e^(m_s - M). */
template <typename T> __global__ void attention_combine(AttentionArgs p, int64_t batch, T *out) {
    pdl_begin();
    const int64_t d = p.head_dim;
    const int64_t rows = batch * p.q_heads * p.q_len;
    const int64_t total = rows * d;
    for (int64_t e = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; e < total;
         e += static_cast<int64_t>(gridDim.x) * blockDim.x) {
        const int64_t row = e / d;
        const int64_t c = e % d;
        float mx = -INFINITY;
        for (int64_t s = 0; s < p.splits; ++s) {
            mx = fmaxf(mx, p.part_ml[(s * rows + row) * 2]);
        }
        float sum = 0.0f;
        float value = 0.0f;
        for (int64_t s = 0; s < p.splits; ++s) {
            const float ms = p.part_ml[(s * rows + row) * 2];
            if (ms == -INFINITY) {
                continue; // no key of this range is visible to the row
            }
            const float w = expf(ms - mx);
            sum += p.part_ml[(s * rows + row) * 2 + 1] * w;
            value += p.part_acc[(s * rows + row) * d + c] * w;
        }
        const int64_t pos = row % p.q_len;
        const int64_t head = (row / p.q_len) % p.q_heads;
        const int64_t b = row / (p.q_len * p.q_heads);
        out[b * p.os[0] + head * p.os[1] + pos * p.os[2] + c] = from_float<T>(value / sum);
    }
}

int64_t row_blocks(const AttentionArgs &a) {
    return ((a.q_heads / a.kv_heads) * a.q_len + kRows - 1) / kRows;
}

/**
 * Key ranges per (rows, KV head, batch entry): one query (decoding) over a long cache gives too
 * few blocks to fill the GPU, so the keys are split into ranges of at least 128 whose partial
 * softmax results are merged afterwards (flash-decoding), aiming at about 4 blocks per SM.
 */
int64_t choose_splits(const AttentionArgs &a, int64_t batch, int sms) {
    const int64_t blocks = row_blocks(a) * a.kv_heads * batch;
    const int64_t want = (4 * static_cast<int64_t>(sms) + blocks - 1) / blocks;
    const int64_t by_length = a.kv_len / 128;
    int64_t splits = want < by_length ? want : by_length;
    if (splits > 64) {
        splits = 64;
    }
    if (splits * batch > 65535) {
        splits = 65535 / batch;
    }
    return splits < 2 ? 1 : splits;
}

template <typename T, int DPL>
void launch(cudaStream_t s, const AttentionArgs &a, int64_t batch, const void *q, const void *k,
            const void *v, void *out) {
    const dim3 grid(static_cast<unsigned int>(row_blocks(a)), static_cast<unsigned int>(a.kv_heads),
                    static_cast<unsigned int>(batch * a.splits));
    const size_t shared = sizeof(float) * (2 * kTile * (a.head_dim + 1) + kRows * a.head_dim);
    auto kernel = attention_kernel<T, DPL>;
    if (shared > 48 * 1024) {
        MOPS_CUDA_CHECK(cudaFuncSetAttribute(kernel, cudaFuncAttributeMaxDynamicSharedMemorySize,
                                             static_cast<int>(shared)));
    }
    mops::launch_dependent("attention_kernel", kernel, grid, kRows * 32, shared, s, a,
                           static_cast<const T *>(q), static_cast<const T *>(k),
                           static_cast<const T *>(v), static_cast<T *>(out));
    if (a.splits > 1) {
        const int64_t total = batch * a.q_heads * a.q_len * a.head_dim;
        mops::launch_dependent("attention_combine", attention_combine<T>, blocks_for(total, 256),
                               256, 0, s, a, batch, static_cast<T *>(out));
    }
}

} // namespace
} // namespace ce
} // namespace mops

extern "C" MOPS_API int32_t mops_cuda_attention(
    void *stream, int32_t dtype, int64_t batch, int64_t q_heads, int64_t kv_heads, int64_t q_len,
    int64_t kv_len, int64_t head_dim, int64_t q_offset, float scale, const void *q,
    const int64_t *q_strides, const void *k, const int64_t *k_strides, const void *v,
    const int64_t *v_strides, void *out, const int64_t *out_strides) {
    return mops::guarded("cuda_attention", [&] {
        using namespace mops::ce;
        mops::require(batch >= 0 && q_len >= 0 && kv_len >= 0, "negative size");
        mops::require(q_heads > 0 && kv_heads > 0 && q_heads % kv_heads == 0,
                      "q_heads (" + std::to_string(q_heads) +
                          ") must be a positive multiple of kv_heads (" + std::to_string(kv_heads) +
                          ")");
        mops::require(head_dim > 0 && head_dim <= kMaxHeadDim,
                      "head_dim " + std::to_string(head_dim) + " must be in [1, 256]");
        mops::require(q_offset >= 0 && q_offset + q_len <= kv_len,
                      "q_offset " + std::to_string(q_offset) + " + q_len " + std::to_string(q_len) +
                          " must not exceed kv_len " + std::to_string(kv_len));
        mops::require(kv_heads <= 65535 && batch <= 65535, "too many kv heads or batch entries");
        mops::require(q_strides && k_strides && v_strides && out_strides, "strides are NULL");
        mops::require(q_strides[3] == 1 && k_strides[3] == 1 && v_strides[3] == 1 &&
                          out_strides[3] == 1,
                      "the head_dim axis must be contiguous (stride 1) in q, k, v and out");
        if (batch == 0 || q_len == 0) {
            return;
        }
        mops::require(q && k && v && out, "q, k, v or out is NULL");
        cudaStream_t s = bind(stream);
        AttentionArgs a{};
        a.q_heads = q_heads;
        a.kv_heads = kv_heads;
        a.q_len = q_len;
        a.kv_len = kv_len;
        a.head_dim = head_dim;
        a.q_offset = q_offset;
        a.scale = scale;
        for (int i = 0; i < 4; ++i) {
            a.qs[i] = q_strides[i];
            a.ks[i] = k_strides[i];
            a.vs[i] = v_strides[i];
            a.os[i] = out_strides[i];
        }
        a.splits = 1;
        a.split_len = kv_len;
        int device = 0;
        MOPS_CUDA_CHECK(cudaGetDevice(&device));
        int sms = 0;
        MOPS_CUDA_CHECK(cudaDeviceGetAttribute(&sms, cudaDevAttrMultiProcessorCount, device));
        const int64_t splits = choose_splits(a, batch, sms);
        const int64_t rows = batch * q_heads * q_len;
        // partial results of the key ranges (one byte each when not split)
        PoolBuffer part_acc(s, splits > 1 ? splits * rows * head_dim * 4 : 1);
        PoolBuffer part_ml(s, splits > 1 ? splits * rows * 2 * 4 : 1);
        if (splits > 1) {
            const int64_t per = (kv_len + splits - 1) / splits;
            a.split_len = (per + kTile - 1) / kTile * kTile;
            a.splits = (kv_len + a.split_len - 1) / a.split_len;
            a.part_acc = static_cast<float *>(part_acc.get());
            a.part_ml = static_cast<float *>(part_ml.get());
        }
        mops::dispatch_dtype(dtype, [&](auto tag) {
            using T = decltype(tag);
            if (head_dim <= 64) {
                launch<T, 2>(s, a, batch, q, k, v, out);
            } else if (head_dim <= 128) {
                launch<T, 4>(s, a, batch, q, k, v, out);
            } else {
                launch<T, 8>(s, a, batch, q, k, v, out);
            }
        });
    });
}
