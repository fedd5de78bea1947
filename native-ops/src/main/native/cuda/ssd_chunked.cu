// The Mamba-2 SSD in its chunked matrix form (state-space duality). With a_t the cumulative sum
// of dt * A inside a chunk (inclusive), for the steps t of chunk c and head channel p:
//
//   y[t, p] = sum_{s <= t in c} (C_t . B_s) exp(a_t - a_s) dt_s x[s, p]      (intra-chunk)
//           + exp(a_t) C_t . h_{c-1}[p, :]                                   (state entering c)
//   S_c[p, n] = sum_{s in c} exp(a_last - a_s) dt_s x[s, p] B_s[n]           (chunk state)
//   h_c = exp(a_last) h_{c-1} + S_c, h_{-1} = initial state, final state = h_last
//
// Four launches: (1) dt transform and cumulative decay per (batch, head, step), a block scan per
// (batch, head, chunk); (2) chunk states as 64 x 64 (p, n) tiles of a matrix product over the
// chunk's steps; (3) the pass over the chunks carrying the state, one thread per (batch, head, p,
// n), overwriting each chunk state with the state entering that chunk; (4) the outputs as 64 x 64
// (t, p) tiles: C times the entering state, then per 64-step source tile the masked, decayed C B^T
// tile times x. For float32 inputs the products of (2) and (4) run here on float32 CUDA cores from
// shared-memory tiles (every thread owns a 4 x 4 sub-tile); float16 and bfloat16 inputs take the
// tensor-core kernels of ssd_chunked_mma.cu for them, with the same (1) and (3). The workspace (2
// floats per (batch, head, step) and one P x N state per (batch, head, chunk)) is allocated on the
// stream.
#include <cmath>
#include <type_traits>

#include "cuda_check.cuh"
#include "dtype.hpp"
#include "scan_params.hpp"
#include "ssd_chunked.cuh"
#include "status.hpp"

namespace mops {
namespace {

constexpr int TILE = SSD_TILE;
constexpr int KT = 16; // reduction depth staged per pass over states
constexpr int ST = 32; // steps staged per pass in the chunk-state product
constexpr int THREADS = 256;
constexpr int SCAN_THREADS = 256; // steps per pass of the dt scan

__device__ __forceinline__ float transform_dt_acc(float v, float bias, bool softplus, float lo,
                                                  float hi) {
    v += bias;
    if (softplus && v <= 20.0f) {
        v = log1pf(expf(v));
    }
    return fminf(fmaxf(v, lo), hi);
}

/**
 * (1) transformed dt and cumulative decay; one block per (chunk, head, batch), its threads over
 * the chunk's steps (SCAN_THREADS at a time) with a block-wide inclusive scan, so that the sums
 * are not one thread's walk over the chunk.
 */
template <typename T>
__global__ void __launch_bounds__(SCAN_THREADS)
    dt_cumsum_kernel(const ScanParams p, const SsdChunkGeom g) {
    __shared__ float s_warp[SCAN_THREADS / 32];
    const int64_t c = blockIdx.x;
    const int64_t h = blockIdx.y;
    const int64_t b = blockIdx.z;
    const int lane = threadIdx.x % 32;
    const int warp = threadIdx.x / 32;
    const T *dt = static_cast<const T *>(p.dt) + b * p.dts[0] + h * p.dts[1];
    const float a = p.A[h * p.As[0]];
    const float bias = p.dt_bias ? p.dt_bias[h * p.dtbs[0]] : 0.0f;
    const int64_t base = (b * p.ch1 + h) * p.seqlen;
    const int64_t t0 = c * g.q;
    const int64_t t1 = t0 + g.q < p.seqlen ? t0 + g.q : p.seqlen;
    float carry = 0.0f; // the sum of the steps before this pass
    for (int64_t s0 = t0; s0 < t1; s0 += SCAN_THREADS) {
        const int64_t t = s0 + threadIdx.x;
        float v = 0.0f;
        if (t < t1) {
            v = transform_dt_acc(to_float(dt[t * p.dts[3]]), bias, p.softplus, p.dt_min, p.dt_max);
        }
        float sum = v * a;
#pragma unroll
        for (int o = 1; o < 32; o *= 2) {
            const float up = __shfl_up_sync(0xFFFFFFFFu, sum, o);
            if (lane >= o) {
                sum += up;
            }
        }
        if (lane == 31) {
            s_warp[warp] = sum;
        }
        __syncthreads();
        float before = carry;
        float total = carry;
#pragma unroll
        for (int w = 0; w < SCAN_THREADS / 32; ++w) {
            before += w < warp ? s_warp[w] : 0.0f;
            total += s_warp[w];
        }
        if (t < t1) {
            g.dtv[base + t] = v;
            g.cum[base + t] = before + sum;
        }
        carry = total;
        __syncthreads(); // s_warp is read before the next pass writes it
    }
}

/** (2) chunk states S_c, one 64 x 64 (p, n) tile per block; grid (nc * ptiles * ntiles, heads,
 * batch). */
template <typename T>
__global__ void __launch_bounds__(THREADS)
    chunk_state_kernel(const ScanParams p, const SsdChunkGeom g) {
    __shared__ float s_x[ST][TILE + 1];
    __shared__ float s_b[ST][TILE + 1];
    const SsdStateBlock blk(p, g);
    const int64_t h = blk.h, b = blk.b, c = blk.c, grp = blk.grp;
    const int64_t p0 = blk.p0, n0 = blk.n0, t0 = blk.t0, t1 = blk.t1;
    const int64_t P = p.ch2;
    const int64_t N = p.dstate;
    const T *x = static_cast<const T *>(p.u) + b * p.us[0] + h * p.us[1];
    const T *B = static_cast<const T *>(p.B) + b * p.Bs[0] + grp * p.Bs[1];
    const int64_t row = (b * p.ch1 + h) * p.seqlen;
    const float a_last = g.cum[row + t1 - 1];
    const int tx = threadIdx.x % 16;
    const int ty = threadIdx.x / 16;
    float acc[4][4] = {};
    for (int64_t s0 = t0; s0 < t1; s0 += ST) {
        __syncthreads();
        for (int i = threadIdx.x; i < ST * TILE; i += THREADS) {
            const int ss = i / TILE;
            const int cc = i % TILE;
            const int64_t s = s0 + ss;
            float xv = 0.0f;
            float bv = 0.0f;
            if (s < t1) {
                if (p0 + cc < P) {
                    const float w = expf(a_last - g.cum[row + s]) * g.dtv[row + s];
                    xv = to_float(x[(p0 + cc) * p.us[2] + s * p.us[3]]) * w;
                }
                if (n0 + cc < N) {
                    bv = to_float(B[(n0 + cc) * p.Bs[2] + s * p.Bs[3]]);
                }
            }
            s_x[ss][cc] = xv;
            s_b[ss][cc] = bv;
        }
        __syncthreads();
#pragma unroll 4
        for (int ss = 0; ss < ST; ++ss) {
            float xr[4];
            float br[4];
#pragma unroll
            for (int i = 0; i < 4; ++i) {
                xr[i] = s_x[ss][ty + 16 * i];
                br[i] = s_b[ss][tx + 16 * i];
            }
#pragma unroll
            for (int i = 0; i < 4; ++i) {
#pragma unroll
                for (int j = 0; j < 4; ++j) {
                    acc[i][j] = fmaf(xr[i], br[j], acc[i][j]);
                }
            }
        }
    }
    float *out = g.state + (((b * p.ch1 + h) * g.nc + c) * P) * N;
#pragma unroll
    for (int i = 0; i < 4; ++i) {
        const int64_t pp = p0 + ty + 16 * i;
#pragma unroll
        for (int j = 0; j < 4; ++j) {
            const int64_t nn = n0 + tx + 16 * j;
            if (pp < P && nn < N) {
                out[pp * N + nn] = acc[i][j];
            }
        }
    }
}

/** Chunks whose states the pass loads together before it chains them. */
constexpr int PASS_AHEAD = 8;

/**
 * (3) the pass over the chunks; one thread per (batch, head, p, n). The loads of PASS_AHEAD
 * chunks' states and decays are issued together (the states and the cumulative sums share one
 * workspace, so a load after a store would otherwise wait for it), then chained in order.
 */
__global__ void state_pass_kernel(const ScanParams p, const SsdChunkGeom g) {
    const int64_t PN = p.ch2 * p.dstate;
    const int64_t total = p.batch * p.ch1 * PN;
    for (int64_t i = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; i < total;
         i += static_cast<int64_t>(gridDim.x) * blockDim.x) {
        const int64_t bh = i / PN;
        const int64_t e = i % PN;
        float h = p.init ? p.init[i] : 0.0f;
        float *st = g.state + bh * g.nc * PN + e;
        const float *cum = g.cum + bh * p.seqlen;
        for (int64_t c0 = 0; c0 < g.nc; c0 += PASS_AHEAD) {
            float s[PASS_AHEAD];
            float decay[PASS_AHEAD];
#pragma unroll
            for (int j = 0; j < PASS_AHEAD; ++j) {
                const int64_t c = c0 + j;
                if (c < g.nc) {
                    const int64_t last =
                        (c + 1) * g.q < p.seqlen ? (c + 1) * g.q - 1 : p.seqlen - 1;
                    s[j] = st[c * PN];
                    decay[j] = expf(cum[last]);
                }
            }
#pragma unroll
            for (int j = 0; j < PASS_AHEAD; ++j) {
                if (c0 + j < g.nc) {
                    st[(c0 + j) * PN] = h;
                    h = fmaf(decay[j], h, s[j]);
                }
            }
        }
        if (p.fin) {
            p.fin[i] = h;
        }
    }
}

/** (4) outputs, one 64 x 64 (t, p) tile per block; grid (nc * ttiles * ptiles, heads, batch). */
template <typename T>
__global__ void __launch_bounds__(THREADS)
    chunk_out_kernel(const ScanParams p, const SsdChunkGeom g) {
    __shared__ float s_c[TILE][KT + 1];
    __shared__ float s_k[TILE][KT + 1]; // B of the source steps, or the entering state (p x n)
    __shared__ float s_m[TILE][TILE + 1];
    __shared__ float s_x[TILE][TILE + 1];
    __shared__ float s_cum_t[TILE];
    __shared__ float s_cum_s[TILE];
    __shared__ float s_dt_s[TILE];
    const SsdOutBlock blk(p, g);
    const int64_t h = blk.h, b = blk.b, c = blk.c, grp = blk.grp;
    const int64_t p0 = blk.p0, cs = blk.cs, ce = blk.ce, tt0 = blk.tt0;
    if (tt0 >= ce) {
        return; // the whole block: this tile lies past a short last chunk
    }
    const int64_t P = p.ch2;
    const int64_t N = p.dstate;
    const T *x = static_cast<const T *>(p.u) + b * p.us[0] + h * p.us[1];
    const T *B = static_cast<const T *>(p.B) + b * p.Bs[0] + grp * p.Bs[1];
    const T *C = static_cast<const T *>(p.C) + b * p.Cs[0] + grp * p.Cs[1];
    const int64_t row = (b * p.ch1 + h) * p.seqlen;
    const float *prev = g.state + (((b * p.ch1 + h) * g.nc + c) * P) * N;
    const int tx = threadIdx.x % 16;
    const int ty = threadIdx.x / 16;
    for (int i = threadIdx.x; i < TILE; i += THREADS) {
        s_cum_t[i] = tt0 + i < ce ? g.cum[row + tt0 + i] : 0.0f;
    }
    float acc[4][4] = {};
    // state entering the chunk: C_t . prev[p, :]
    for (int64_t k0 = 0; k0 < N; k0 += KT) {
        __syncthreads();
        for (int i = threadIdx.x; i < TILE * KT; i += THREADS) {
            const int r = i / KT;
            const int kk = i % KT;
            const bool kin = k0 + kk < N;
            s_c[r][kk] =
                kin && tt0 + r < ce ? to_float(C[(k0 + kk) * p.Cs[2] + (tt0 + r) * p.Cs[3]]) : 0.0f;
            s_k[r][kk] = kin && p0 + r < P ? prev[(p0 + r) * N + k0 + kk] : 0.0f;
        }
        __syncthreads();
#pragma unroll
        for (int kk = 0; kk < KT; ++kk) {
            float cr[4];
            float sr[4];
#pragma unroll
            for (int i = 0; i < 4; ++i) {
                cr[i] = s_c[ty + 16 * i][kk];
                sr[i] = s_k[tx + 16 * i][kk];
            }
#pragma unroll
            for (int i = 0; i < 4; ++i) {
#pragma unroll
                for (int j = 0; j < 4; ++j) {
                    acc[i][j] = fmaf(cr[i], sr[j], acc[i][j]);
                }
            }
        }
    }
    __syncthreads();
#pragma unroll
    for (int i = 0; i < 4; ++i) {
        const float decay = expf(s_cum_t[ty + 16 * i]);
#pragma unroll
        for (int j = 0; j < 4; ++j) {
            acc[i][j] *= decay;
        }
    }
    // intra-chunk: source tiles up to and including the diagonal one
    for (int64_t s0 = cs; s0 <= tt0; s0 += TILE) {
        __syncthreads();
        for (int i = threadIdx.x; i < TILE; i += THREADS) {
            const bool in = s0 + i < ce;
            s_cum_s[i] = in ? g.cum[row + s0 + i] : 0.0f;
            s_dt_s[i] = in ? g.dtv[row + s0 + i] : 0.0f;
        }
        for (int i = threadIdx.x; i < TILE * TILE; i += THREADS) {
            const int ss = i / TILE;
            const int cc = i % TILE;
            s_x[ss][cc] = s0 + ss < ce && p0 + cc < P
                              ? to_float(x[(p0 + cc) * p.us[2] + (s0 + ss) * p.us[3]])
                              : 0.0f;
        }
        float gm[4][4] = {};
        for (int64_t k0 = 0; k0 < N; k0 += KT) {
            __syncthreads();
            for (int i = threadIdx.x; i < TILE * KT; i += THREADS) {
                const int r = i / KT;
                const int kk = i % KT;
                const bool kin = k0 + kk < N;
                s_c[r][kk] = kin && tt0 + r < ce
                                 ? to_float(C[(k0 + kk) * p.Cs[2] + (tt0 + r) * p.Cs[3]])
                                 : 0.0f;
                s_k[r][kk] = kin && s0 + r < ce
                                 ? to_float(B[(k0 + kk) * p.Bs[2] + (s0 + r) * p.Bs[3]])
                                 : 0.0f;
            }
            __syncthreads();
#pragma unroll
            for (int kk = 0; kk < KT; ++kk) {
                float cr[4];
                float br[4];
#pragma unroll
                for (int i = 0; i < 4; ++i) {
                    cr[i] = s_c[ty + 16 * i][kk];
                    br[i] = s_k[tx + 16 * i][kk];
                }
#pragma unroll
                for (int i = 0; i < 4; ++i) {
#pragma unroll
                    for (int j = 0; j < 4; ++j) {
                        gm[i][j] = fmaf(cr[i], br[j], gm[i][j]);
                    }
                }
            }
        }
        // mask and decay: m[t, s] = (C_t . B_s) exp(a_t - a_s) dt_s for s <= t
#pragma unroll
        for (int i = 0; i < 4; ++i) {
            const int r = ty + 16 * i;
#pragma unroll
            for (int j = 0; j < 4; ++j) {
                const int q = tx + 16 * j;
                const bool keep = s0 + q <= tt0 + r && s0 + q < ce && tt0 + r < ce;
                s_m[r][q] = keep ? gm[i][j] * expf(s_cum_t[r] - s_cum_s[q]) * s_dt_s[q] : 0.0f;
            }
        }
        __syncthreads();
#pragma unroll 8
        for (int q = 0; q < TILE; ++q) {
            float mr[4];
            float xr[4];
#pragma unroll
            for (int i = 0; i < 4; ++i) {
                mr[i] = s_m[ty + 16 * i][q];
                xr[i] = s_x[q][tx + 16 * i];
            }
#pragma unroll
            for (int i = 0; i < 4; ++i) {
#pragma unroll
                for (int j = 0; j < 4; ++j) {
                    acc[i][j] = fmaf(mr[i], xr[j], acc[i][j]);
                }
            }
        }
    }
    // D skip, z gate, store
    const T *z = p.z ? static_cast<const T *>(p.z) + b * p.zs[0] + h * p.zs[1] : nullptr;
    T *out = static_cast<T *>(p.out) + b * p.os[0] + h * p.os[1];
#pragma unroll
    for (int i = 0; i < 4; ++i) {
        const int64_t t = tt0 + ty + 16 * i;
#pragma unroll
        for (int j = 0; j < 4; ++j) {
            const int64_t pp = p0 + tx + 16 * j;
            if (t < ce && pp < P) {
                float y = acc[i][j];
                if (p.D) {
                    y = fmaf(p.D[h * p.Ds[0] + pp * p.Ds[1]],
                             to_float(x[pp * p.us[2] + t * p.us[3]]), y);
                }
                if (z) {
                    y *= ssd_silu(to_float(z[pp * p.zs[2] + t * p.zs[3]]));
                }
                out[pp * p.os[2] + t * p.os[3]] = from_float<T>(y);
            }
        }
    }
}

int ceil_div(int64_t a, int64_t b) {
    return static_cast<int>((a + b - 1) / b);
}

template <typename T>
void launch_chunked(const ScanParams &p, const SsdChunkGeom &g, cudaStream_t stream) {
    const dim3 cgrid(static_cast<unsigned>(g.nc), static_cast<unsigned>(p.ch1),
                     static_cast<unsigned>(p.batch));
    dt_cumsum_kernel<T><<<cgrid, SCAN_THREADS, 0, stream>>>(p, g);
    MOPS_CUDA_CHECK_LAUNCH("ssd dt_cumsum_kernel launch");
    const dim3 sgrid(static_cast<unsigned>(g.nc * g.ptiles * g.ntiles),
                     static_cast<unsigned>(p.ch1), static_cast<unsigned>(p.batch));
    if constexpr (std::is_same<T, float>::value) {
        chunk_state_kernel<T><<<sgrid, THREADS, 0, stream>>>(p, g);
        MOPS_CUDA_CHECK_LAUNCH("ssd chunk_state_kernel launch");
    } else {
        launch_ssd_chunk_states_mma(p, g, stream);
    }
    const int64_t total = p.batch * p.channels() * p.dstate;
    const int64_t pass_blocks = (total + 255) / 256 < 65536 ? (total + 255) / 256 : 65536;
    state_pass_kernel<<<static_cast<unsigned>(pass_blocks), 256, 0, stream>>>(p, g);
    MOPS_CUDA_CHECK_LAUNCH("ssd state_pass_kernel launch");
    const dim3 ogrid(static_cast<unsigned>(g.nc * g.ttiles * g.ptiles),
                     static_cast<unsigned>(p.ch1), static_cast<unsigned>(p.batch));
    if constexpr (std::is_same<T, float>::value) {
        chunk_out_kernel<T><<<ogrid, THREADS, 0, stream>>>(p, g);
        MOPS_CUDA_CHECK_LAUNCH("ssd chunk_out_kernel launch");
    } else {
        launch_ssd_chunk_outputs_mma(p, g, stream);
    }
}

} // namespace

void run_ssd_chunked_cuda(const ScanParams &p, int64_t chunk_size, cudaStream_t stream) {
    require(p.As[2] == 0 && p.As[1] == 0, "the chunked SSD needs one decay per head");
    SsdChunkGeom g;
    g.q = chunk_size < p.seqlen ? chunk_size : p.seqlen;
    g.nc = (p.seqlen + g.q - 1) / g.q;
    g.ttiles = ceil_div(g.q, TILE);
    g.ptiles = ceil_div(p.ch2, TILE);
    g.ntiles = ceil_div(p.dstate, TILE);
    require(p.batch <= 65535 && p.ch1 <= 65535,
            "the CUDA SSD takes at most 65535 batch rows and 65535 heads: " +
                dims({{"batch", p.batch}, {"nheads", p.ch1}}));
    require(g.nc * g.ttiles * g.ptiles < (1LL << 31) && g.nc * g.ptiles * g.ntiles < (1LL << 31),
            "too many chunks for one launch; use a larger chunk_size");
    const int64_t steps = p.batch * p.ch1 * p.seqlen;
    const int64_t states = p.batch * p.ch1 * g.nc * p.ch2 * p.dstate;
    const size_t bytes = static_cast<size_t>(2 * steps + states) * sizeof(float);
    void *work = nullptr;
    MOPS_CUDA_CHECK(cudaMallocAsync(&work, bytes, stream));
    g.dtv = static_cast<float *>(work);
    g.cum = g.dtv + steps;
    g.state = g.cum + steps;
    try {
        dispatch_dtype(p.dtype, [&](auto tag) { launch_chunked<decltype(tag)>(p, g, stream); });
    } catch (...) {
        cudaFreeAsync(work, stream);
        throw;
    }
    MOPS_CUDA_CHECK(cudaFreeAsync(work, stream));
}

} // namespace mops
