// The scan recurrence on the GPU (Mamba-1 selective scan and its one-step update; the Mamba-2
// SSD entry points in ssd.cu call run_scan_cuda too).
//
// Sequences: every block owns up to `rpb` consecutive channels of one (batch, group), so that
// the rows of a block share B and C. A row (one (batch, channel)) is served by LPR lanes of one
// warp, lane l holding the SPL states n = l + j * LPR in registers (interleaved: the lanes of a
// row read consecutive state indices, coalesced in global memory and free of shared-memory bank
// conflicts; LPR and SPL are compile-time, so the shared-memory offsets are immediates). The
// block walks the sequence in tiles of `tile` steps: u, the transformed dt, silu(z) and the
// tile's B and C are staged cooperatively in shared memory (coalesced along whichever of time or
// channel/state is contiguous; odd pitches avoid bank conflicts; B and C are zero-padded to
// LPR * SPL states so the inner loop has no guards), the lanes update their states (exp2 with A
// pre-scaled by log2(e)) and reduce y with warp shuffles, and the tile's outputs are stored
// cooperatively. Single steps (the decoding updates) take a memory-bound warp-per-row kernel.
//
// Rows too few to fill the GPU (batch 1 prefill: D = 5120, N = 16 gives 160 blocks of 4 warps)
// leave the walk latency-bound; there the sequence is cut into chunks of 128 to 2048 steps, a
// grid axis of the same kernel (time-parallel form): a first pass walks every chunk from a zero
// state and leaves only its end state h_k and decay exp(A * sum dt), a pass over the chunks
// carries the state (H_{k+1} = decay_k * H_k + h_k), and a second walk of every chunk from its
// entering state stores the outputs. Twice the recurrence's work, but parallel over chunks; the
// states stay float32, so the result differs from the sequential walk only by association.
// Mamba-1 sequences of at most 16 states take, in that case, the single-pass scan of
// selective_scan_blocked.cu instead (parallel over time inside a warp, every step walked once),
// unless MAMBADJL_SCAN_SINGLE_PASS=0; the Mamba-2 recurrence (one decay per head) keeps this one.
#include <type_traits>

#include "cuda_check.cuh"
#include "dtype.hpp"
#include "mambaops.h"
#include "pdl.cuh"
#include "scan_cuda.cuh"
#include "scan_math.cuh"
#include "scan_params.hpp"
#include "selective_scan_blocked.cuh"
#include "status.hpp"

namespace mops {
namespace {

constexpr size_t MAX_SMEM = 48 * 1024;
constexpr size_t TARGET_SMEM = 24 * 1024; // small tiles leave room for several blocks per SM

// The time-parallel form: chunks of MIN_CHUNK to MAX_CHUNK steps, at most MAX_CHUNKS (gridDim.y)
// of them; RESIDENT_THREADS per multiprocessor (sm_80 and sm_90).
constexpr int64_t MIN_CHUNK = 128;
constexpr int64_t MAX_CHUNK = 2048;
constexpr int64_t MAX_CHUNKS = 65535;
constexpr int64_t RESIDENT_THREADS = 2048;

/** How the rows of a sequence scan are spread over blocks and tiles. */
struct ScanLayout {
    int lpr = 1;         // lanes per row
    int spl = 1;         // states per lane
    int threads = 32;    // threads per block
    int rpb = 1;         // rows (channels) per block
    int tile = 32;       // time steps per shared-memory tile
    int rp = 1;          // padded (odd) pitch of the per-row tile arrays
    int np = 1;          // padded (odd) pitch of the B and C tiles, above lpr * spl
    int tile_shift = 5;  // log2(tile)
    int rpb_shift = 0;   // log2(rpb)
    int n_shift = 0;     // log2 of dstate rounded up to a power of two
    int64_t cblocks = 1; // channel blocks per (batch, group)
    int64_t blocks = 1;

    size_t smem_bytes() const {
        return static_cast<size_t>(rpb) * (4 * sizeof(int64_t) + sizeof(float)) +
               static_cast<size_t>(tile) * (4 * rp + 2 * np) * sizeof(float);
    }
};

/**
 * The time chunks of a sequence launch: the blocks of chunk k = blockIdx.y walk the steps
 * [k * len, min(seqlen, (k + 1) * len)). The sequential walk is one chunk of the whole sequence
 * from p.init to p.fin. State k of a (batch, channel) row lies at ((batch * chunks + k) * channels
 * + channel) * dstate, with chunks = count for init and count - fin_from for fin and decay.
 */
struct ScanChunks {
    int64_t len = 1;             // steps per chunk
    int64_t count = 1;           // chunks per sequence
    const float *init = nullptr; // the state entering each chunk; NULL: zero
    float *fin = nullptr;        // the state leaving each chunk from fin_from on; NULL: none
    int64_t fin_from = 0;        // the first chunk that stores its end state
    float *decay = nullptr;      // as fin: exp(A * sum of dt) over the chunk (no outputs)
};

/**
 * The scan over the chunks of a sequence; HEAD_DECAY: A has one value per channel (Mamba-2, one
 * exp per row and step) rather than one per state (Mamba-1). Without OUTPUTS the blocks stage
 * neither z nor C and store no outputs: they leave each chunk's end state and decay.
 */
template <typename T, int LPR, int SPL, bool HEAD_DECAY, bool OUTPUTS>
__global__ void __launch_bounds__(256)
    scan_kernel(const ScanParams p, const ScanLayout lay, const ScanChunks ch) {
    extern __shared__ int64_t smem[];
    const int rpb = lay.rpb;
    const int rp = lay.rp;
    const int np = lay.np;
    const int tile = lay.tile;
    int64_t *s_row_u = smem;
    int64_t *s_row_dt = s_row_u + rpb;
    int64_t *s_row_z = s_row_dt + rpb;
    int64_t *s_row_o = s_row_z + rpb;
    float *s_bias = reinterpret_cast<float *>(s_row_o + rpb);
    float *s_u = s_bias + rpb;
    float *s_dt = s_u + tile * rp;
    float *s_z = s_dt + tile * rp;
    float *s_y = s_z + tile * rp;
    float *s_B = s_y + tile * rp;
    float *s_C = s_B + tile * np;

    const int64_t channels = p.channels();
    const int64_t cpg = channels / p.ngroups;
    const int N = static_cast<int>(p.dstate);
    const int64_t bg = blockIdx.x / lay.cblocks;
    const int64_t b = bg / p.ngroups;
    const int64_t g = bg % p.ngroups;
    const int64_t first = g * cpg + (blockIdx.x % lay.cblocks) * rpb; // first channel
    const int64_t chunk = blockIdx.y;
    const int64_t t_begin = chunk * ch.len;
    const int64_t t_end = p.seqlen - t_begin < ch.len ? p.seqlen : t_begin + ch.len;
    const int rows_here =
        static_cast<int>(cpg - (first - g * cpg) < rpb ? cpg - (first - g * cpg) : rpb);
    const int local = threadIdx.x / LPR;
    const int lane = threadIdx.x % LPR;
    const bool valid = local < rows_here;

    for (int i = threadIdx.x; i < rows_here; i += blockDim.x) {
        const int64_t rc = first + i;
        const int64_t r1 = rc / p.ch2;
        const int64_t r2 = rc % p.ch2;
        s_row_u[i] = b * p.us[0] + r1 * p.us[1] + r2 * p.us[2];
        s_row_dt[i] = b * p.dts[0] + r1 * p.dts[1] + r2 * p.dts[2];
        s_row_z[i] = b * p.zs[0] + r1 * p.zs[1] + r2 * p.zs[2];
        s_row_o[i] = b * p.os[0] + r1 * p.os[1] + r2 * p.os[2];
        s_bias[i] = p.dt_bias ? p.dt_bias[r1 * p.dtbs[0] + r2 * p.dtbs[1]] : 0.0f;
    }
    // the states past N meet zero B and C (the staging below never writes them)
    for (int i = threadIdx.x; i < tile * (np - N); i += blockDim.x) {
        const int k = (i / (np - N)) * np + N + i % (np - N);
        s_B[k] = 0.0f;
        s_C[k] = 0.0f;
    }

    const int64_t c = first + (valid ? local : 0);
    const int64_t c1 = c / p.ch2;
    const int64_t c2 = c % p.ch2;
    const float *Ap = p.A + c1 * p.As[0] + c2 * p.As[1];
    const int64_t state_in = ((b * ch.count + chunk) * channels + c) * p.dstate;
    float a2[SPL], s[SPL];
#pragma unroll
    for (int j = 0; j < SPL; ++j) {
        const int n = lane + j * LPR;
        const bool on = valid && n < N;
        a2[j] = on && !HEAD_DECAY ? Ap[n * p.As[2]] * LOG2E : 0.0f;
        s[j] = on && ch.init ? ch.init[state_in + n] : 0.0f;
    }
    float dt_sum = 0.0f; // the chunk's sum of dt, for its decay (no outputs)
    const float a2_head = Ap[0] * LOG2E;
    const float dskip = p.D ? p.D[c1 * p.Ds[0] + c2 * p.Ds[1]] : 0.0f;

    const T *Bp = static_cast<const T *>(p.B) + b * p.Bs[0] + g * p.Bs[1];
    const T *Cp = static_cast<const T *>(p.C) + b * p.Cs[0] + g * p.Cs[1];
    const T *u = static_cast<const T *>(p.u);
    const T *dt = static_cast<const T *>(p.dt);
    const T *z = static_cast<const T *>(p.z);
    T *out = static_cast<T *>(p.out);
    // the tile loops run over powers of two (index arithmetic by shifts and masks)
    const int row_elems = rpb * tile;
    const int bc_elems = (1 << lay.n_shift) * tile;
    const bool time_fast = p.us[3] == 1;
    const bool bc_time_fast = p.Bs[3] == 1;

    for (int64_t t0 = t_begin; t0 < t_end; t0 += tile) {
        const int tc = t_end - t0 < tile ? static_cast<int>(t_end - t0) : tile;
        __syncthreads();
#pragma unroll 4
        for (int i = threadIdx.x; i < row_elems; i += blockDim.x) {
            const int r = time_fast ? i >> lay.tile_shift : i & (rpb - 1);
            const int tt = time_fast ? i & (tile - 1) : i >> lay.rpb_shift;
            if (r < rows_here && tt < tc) {
                const int64_t t = t0 + tt;
                s_u[tt * rp + r] = to_float(u[s_row_u[r] + t * p.us[3]]);
                s_dt[tt * rp + r] = transform_dt_fast(to_float(dt[s_row_dt[r] + t * p.dts[3]]),
                                                      s_bias[r], p.softplus, p.dt_min, p.dt_max);
                if constexpr (OUTPUTS) {
                    s_z[tt * rp + r] = z ? silu_dev(to_float(z[s_row_z[r] + t * p.zs[3]])) : 1.0f;
                }
            }
        }
#pragma unroll 4
        for (int i = threadIdx.x; i < bc_elems; i += blockDim.x) {
            const int n = bc_time_fast ? i >> lay.tile_shift : i & ((1 << lay.n_shift) - 1);
            const int tt = bc_time_fast ? i & (tile - 1) : i >> lay.n_shift;
            if (n < N && tt < tc) {
                const int64_t t = t0 + tt;
                s_B[tt * np + n] = to_float(Bp[n * p.Bs[2] + t * p.Bs[3]]);
                if constexpr (OUTPUTS) {
                    s_C[tt * np + n] = to_float(Cp[n * p.Cs[2] + t * p.Cs[3]]);
                }
            }
        }
        __syncthreads();
        // every lane takes part (the shuffles need the whole warp); rows past the block's
        // channels compute on stale values and store nothing
#pragma unroll 2
        for (int tt = 0; tt < tc; ++tt) {
            const float uv = s_u[tt * rp + local];
            const float d = s_dt[tt * rp + local];
            const float du = d * uv;
            const float da_head = HEAD_DECAY ? exp2_approx(d * a2_head) : 0.0f;
            const float *bt = s_B + tt * np + lane;
            const float *ct = s_C + tt * np + lane;
            float y = 0.0f;
#pragma unroll
            for (int j = 0; j < SPL; ++j) {
                const float da = HEAD_DECAY ? da_head : exp2_approx(d * a2[j]);
                s[j] = fmaf(s[j], da, du * bt[j * LPR]);
                if constexpr (OUTPUTS) {
                    y = fmaf(ct[j * LPR], s[j], y);
                }
            }
            if constexpr (OUTPUTS) {
#pragma unroll
                for (int off = LPR / 2; off > 0; off /= 2) {
                    y += __shfl_xor_sync(0xffffffffu, y, off, LPR);
                }
                if (valid && lane == 0) {
                    s_y[tt * rp + local] = fmaf(dskip, uv, y) * s_z[tt * rp + local];
                }
            } else {
                dt_sum += d;
            }
        }
        if constexpr (OUTPUTS) {
            __syncthreads();
            for (int i = threadIdx.x; i < row_elems; i += blockDim.x) {
                const int r = time_fast ? i >> lay.tile_shift : i & (rpb - 1);
                const int tt = time_fast ? i & (tile - 1) : i >> lay.rpb_shift;
                if (r < rows_here && tt < tc) {
                    out[s_row_o[r] + (t0 + tt) * p.os[3]] = from_float<T>(s_y[tt * rp + r]);
                }
            }
        }
    }
    if (ch.fin && chunk >= ch.fin_from) {
        const int64_t state_out =
            ((b * (ch.count - ch.fin_from) + chunk - ch.fin_from) * channels + c) * p.dstate;
#pragma unroll
        for (int j = 0; j < SPL; ++j) {
            const int n = lane + j * LPR;
            if (valid && n < N) {
                ch.fin[state_out + n] = s[j];
                if constexpr (!OUTPUTS) {
                    ch.decay[state_out + n] = exp2_approx((HEAD_DECAY ? a2_head : a2[j]) * dt_sum);
                }
            }
        }
    }
}

/** Chunks whose end states and decays the carry loads together before it chains them. */
constexpr int CARRY_AHEAD = 8;

/**
 * The pass over the chunks: for every (batch, channel, state) walks the chunks in order from the
 * initial state (or zero), replacing each chunk's end state (from a zero start; the last chunk's
 * is not read) by the state entering that chunk: H_0 = init, H_{k+1} = decay_k * H_k + end_k. The
 * loads of CARRY_AHEAD chunks are issued together (a load after a store to the same array would
 * otherwise wait for it: one memory latency per chunk).
 */
__global__ void __launch_bounds__(256)
    chunk_carry_kernel(const float *__restrict__ init, float *__restrict__ state,
                       const float *__restrict__ decay, int64_t per_batch, int64_t total,
                       int64_t count) {
    for (int64_t i = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; i < total;
         i += static_cast<int64_t>(gridDim.x) * blockDim.x) {
        const int64_t base = (i / per_batch) * count * per_batch + i % per_batch;
        float h = init ? init[i] : 0.0f;
        for (int64_t k0 = 0; k0 + 1 < count; k0 += CARRY_AHEAD) {
            float end[CARRY_AHEAD];
            float dec[CARRY_AHEAD];
#pragma unroll
            for (int j = 0; j < CARRY_AHEAD; ++j) {
                if (k0 + j + 1 < count) {
                    const int64_t at = base + (k0 + j) * per_batch;
                    end[j] = state[at];
                    dec[j] = decay[at];
                }
            }
#pragma unroll
            for (int j = 0; j < CARRY_AHEAD; ++j) {
                if (k0 + j + 1 < count) {
                    state[base + (k0 + j) * per_batch] = h;
                    h = fmaf(dec[j], h, end[j]);
                }
            }
        }
        state[base + (count - 1) * per_batch] = h;
    }
}

constexpr int STEP_WARPS = 8;

__device__ __forceinline__ bool aligned16(const void *p) {
    return (reinterpret_cast<uintptr_t>(p) & 15u) == 0;
}

__device__ __forceinline__ void prefetch_l2(const void *p) {
    asm volatile("prefetch.global.L2 [%0];" ::"l"(p));
}

/** The 16-byte vectors of T that lane `lane` asks the L2 cache for, before its wait. */
template <typename T>
__device__ __forceinline__ void prefetch_dt_weight(const DtProjection &pr, int64_t c, int lane) {
    const char *w = static_cast<const char *>(pr.weight) + c * pr.weight_stride * sizeof(T);
    const int64_t bytes = pr.rank * static_cast<int64_t>(sizeof(T));
    for (int64_t at = 16 * lane; at < bytes; at += 16 * 32) {
        prefetch_l2(w + at);
    }
}

/**
 * dt of (batch b, channel c) from its projection, on the whole warp (every lane returns it):
 * round_T(sum_r low[b, r] * weight[c, r]) read back as float. Where both rows start on 16 bytes
 * and fill whole 16-byte vectors, lane l sums the vectors l, l + 32, ... element by element with
 * fmaf from zero and the lanes' sums meet in a butterfly of shuffles (offsets 16 down to 1): the
 * order of the engine's GEMV with one warp per output column (gemv_kernel of engine_gemv.cu, the
 * split of 1), whose stored product this then equals bit for bit. Otherwise lane l sums the
 * elements l, l + 32, ... in the same way (dt then differs from a separate product only by the
 * association of its float32 sum).
 */
template <typename T>
__device__ __forceinline__ float project_dt(const DtProjection &pr, int64_t b, int64_t c,
                                            int lane) {
    constexpr int VEC = 16 / sizeof(T);
    const T *x = static_cast<const T *>(pr.low) + b * pr.low_stride;
    const T *w = static_cast<const T *>(pr.weight) + c * pr.weight_stride;
    float acc = 0.0f;
    if (pr.rank % VEC == 0 && aligned16(x) && aligned16(w)) {
        const uint4 *xv = reinterpret_cast<const uint4 *>(x);
        const uint4 *wv = reinterpret_cast<const uint4 *>(w);
        for (int64_t v = lane; v < pr.rank / VEC; v += 32) {
            const uint4 xq = __ldg(xv + v);
            const uint4 wq = __ldg(wv + v);
            const T *xt = reinterpret_cast<const T *>(&xq);
            const T *wt = reinterpret_cast<const T *>(&wq);
#pragma unroll
            for (int e = 0; e < VEC; ++e) {
                acc = fmaf(to_float(xt[e]), to_float(wt[e]), acc);
            }
        }
    } else {
        for (int64_t r = lane; r < pr.rank; r += 32) {
            acc = fmaf(to_float(x[r]), to_float(w[r]), acc);
        }
    }
#pragma unroll
    for (int off = 16; off > 0; off /= 2) {
        acc += __shfl_xor_sync(0xffffffffu, acc, off);
    }
    return to_float(from_float<T>(acc));
}

/**
 * One step (seqlen 1) of the scan, the decoding update: memory-bound on the state, so one warp
 * per K consecutive rows (K channels of one head, which share B, C and the index arithmetic),
 * lane l holding the states l, l + 32, ... (NJ of them) of each row: every state is read once and
 * written once with coalesced 128-byte accesses, all loads of a lane issued together. With a dt
 * projection (p.proj; PROJECTED, a variant of its own so that the steps without one keep their
 * registers) the warp first computes each row's dt from it (project_dt), having asked for its
 * weight row in the L2 cache before the wait, as the GEMV does (only a prefetch may come before
 * it: the L2 cache is where writes meet, so it never makes a load see an old value).
 */
template <typename T, int NJ, int K, bool HEAD_DECAY, bool PROJECTED>
__global__ void __launch_bounds__(STEP_WARPS * 32) step_kernel(const ScanParams p, int64_t rows) {
    const int64_t row0 = (static_cast<int64_t>(blockIdx.x) * STEP_WARPS + threadIdx.x / 32) * K;
    const int lane = threadIdx.x % 32;
    constexpr bool projected = PROJECTED;
    if (projected && row0 < rows) {
#pragma unroll
        for (int k = 0; k < K; ++k) {
            prefetch_dt_weight<T>(p.proj, (row0 + k) % p.channels(), lane);
        }
    }
    pdl_begin();
    if (row0 >= rows) {
        return;
    }
    const int64_t channels = p.channels();
    const int64_t b = row0 / channels;
    const int64_t c = row0 % channels;
    const int64_t c1 = c / p.ch2;
    const int64_t c2 = c % p.ch2; // the K rows are c2 .. c2 + K - 1 of head c1 (K divides ch2)
    const int64_t g = p.group_of(c1);
    const int N = static_cast<int>(p.dstate);
    const T *Bp = static_cast<const T *>(p.B) + b * p.Bs[0] + g * p.Bs[1];
    const T *Cp = static_cast<const T *>(p.C) + b * p.Cs[0] + g * p.Cs[1];
    const T *up = static_cast<const T *>(p.u) + b * p.us[0] + c1 * p.us[1] + c2 * p.us[2];
    const T *dtp =
        projected ? nullptr
                  : static_cast<const T *>(p.dt) + b * p.dts[0] + c1 * p.dts[1] + c2 * p.dts[2];
    const T *zp =
        p.z ? static_cast<const T *>(p.z) + b * p.zs[0] + c1 * p.zs[1] + c2 * p.zs[2] : nullptr;
    const float *Ap = p.A + c1 * p.As[0] + c2 * p.As[1];
    float s[K][NJ], bv[NJ], cv[NJ];
#pragma unroll
    for (int j = 0; j < NJ; ++j) {
        const int n = lane + 32 * j;
        const bool on = n < N;
        bv[j] = on ? to_float(Bp[n * p.Bs[2]]) : 0.0f;
        cv[j] = on ? to_float(Cp[n * p.Cs[2]]) : 0.0f;
#pragma unroll
        for (int k = 0; k < K; ++k) {
            s[k][j] = on && p.init ? p.init[(row0 + k) * p.dstate + n] : 0.0f;
        }
    }
    float uv[K], d[K], zv[K];
#pragma unroll
    for (int k = 0; k < K; ++k) {
        uv[k] = to_float(up[k * p.us[2]]);
        const float bias = p.dt_bias ? p.dt_bias[c1 * p.dtbs[0] + (c2 + k) * p.dtbs[1]] : 0.0f;
        const float raw =
            projected ? project_dt<T>(p.proj, b, c + k, lane) : to_float(dtp[k * p.dts[2]]);
        d[k] = transform_dt_fast(raw, bias, p.softplus, p.dt_min, p.dt_max);
        zv[k] = zp ? silu_dev(to_float(zp[k * p.zs[2]])) : 1.0f;
    }
#pragma unroll
    for (int k = 0; k < K; ++k) {
        const float da_head = HEAD_DECAY ? exp2_approx(d[k] * Ap[k * p.As[1]] * LOG2E) : 0.0f;
        const float du = d[k] * uv[k];
        float y = 0.0f;
#pragma unroll
        for (int j = 0; j < NJ; ++j) {
            const int n = lane + 32 * j;
            const float a = !HEAD_DECAY && n < N ? Ap[k * p.As[1] + n * p.As[2]] : 0.0f;
            const float da = HEAD_DECAY ? da_head : exp2_approx(d[k] * a * LOG2E);
            s[k][j] = fmaf(s[k][j], da, du * bv[j]);
            y = fmaf(cv[j], s[k][j], y);
        }
#pragma unroll
        for (int off = 16; off > 0; off /= 2) {
            y += __shfl_xor_sync(0xffffffffu, y, off);
        }
        if (lane == 0) {
            const float dskip = p.D ? p.D[c1 * p.Ds[0] + (c2 + k) * p.Ds[1]] : 0.0f;
            static_cast<T *>(p.out)[b * p.os[0] + c1 * p.os[1] + (c2 + k) * p.os[2]] =
                from_float<T>(fmaf(dskip, uv[k], y) * zv[k]);
        }
    }
    if (p.fin) {
#pragma unroll
        for (int k = 0; k < K; ++k) {
#pragma unroll
            for (int j = 0; j < NJ; ++j) {
                if (lane + 32 * j < N) {
                    p.fin[(row0 + k) * p.dstate + lane + 32 * j] = s[k][j];
                }
            }
        }
    }
}

int log2_of(int v) {
    int s = 0;
    while ((1 << s) < v) {
        ++s;
    }
    return s;
}

/**
 * The block and tile shape for lanes-per-row lpr and states-per-lane spl: 128 threads (256 for
 * wide states, so that more rows share each staged B and C), fewer when a group has fewer
 * channels; the tile shrinks until shared memory fits about 24 KiB.
 */
ScanLayout scan_layout(const ScanParams &p, int lpr, int spl) {
    ScanLayout lay;
    lay.lpr = lpr;
    lay.spl = spl;
    const int64_t cpg = p.channels() / p.ngroups;
    lay.threads = lpr >= 16 ? 256 : 128;
    while (lay.threads > 32 && lay.threads / lpr / 2 >= cpg) {
        lay.threads /= 2;
    }
    lay.rpb = lay.threads / lpr;
    lay.cblocks = (cpg + lay.rpb - 1) / lay.rpb;
    lay.blocks = p.batch * p.ngroups * lay.cblocks;
    lay.rp = lay.rpb | 1;
    lay.np = (lpr * spl) | 1;
    lay.tile = 32;
    while (lay.tile > 8 && lay.smem_bytes() > TARGET_SMEM) {
        lay.tile /= 2;
    }
    lay.tile_shift = log2_of(lay.tile);
    lay.rpb_shift = log2_of(lay.rpb);
    lay.n_shift = log2_of(static_cast<int>(p.dstate));
    return lay;
}

/**
 * Calls f(LPR, SPL) (as std::integral_constant) with the lanes per row and states per lane for
 * dstate n: 4 states per lane up to 64, then 8.
 */
template <typename F> void for_lanes(int64_t n, F &&f) {
    using std::integral_constant;
    if (n <= 4) {
        f(integral_constant<int, 1>{}, integral_constant<int, 4>{});
    } else if (n <= 8) {
        f(integral_constant<int, 2>{}, integral_constant<int, 4>{});
    } else if (n <= 16) {
        f(integral_constant<int, 4>{}, integral_constant<int, 4>{});
    } else if (n <= 32) {
        f(integral_constant<int, 8>{}, integral_constant<int, 4>{});
    } else if (n <= 64) {
        f(integral_constant<int, 16>{}, integral_constant<int, 4>{});
    } else if (n <= 128) {
        f(integral_constant<int, 16>{}, integral_constant<int, 8>{});
    } else {
        f(integral_constant<int, 32>{}, integral_constant<int, 8>{});
    }
}

int lanes_per_row(int64_t n) {
    int lanes = 1;
    for_lanes(n, [&](auto lpr, auto) { lanes = decltype(lpr)::value; });
    return lanes;
}

/** Queues scan_kernel over the first `chunks` chunks of ch. */
template <typename T, bool HEAD_DECAY, bool OUTPUTS>
void launch_scan(const ScanParams &p, const ScanChunks &ch, int64_t chunks, cudaStream_t stream) {
    for_lanes(p.dstate, [&](auto lpr, auto spl) {
        constexpr int LPR = decltype(lpr)::value;
        constexpr int SPL = decltype(spl)::value;
        const ScanLayout lay = scan_layout(p, LPR, SPL);
        require(lay.blocks < (1LL << 31), "too many channels for one launch");
        require(chunks <= MAX_CHUNKS, "too many chunks for one launch");
        require(lay.smem_bytes() <= MAX_SMEM, "scan tile does not fit in shared memory");
        const dim3 grid(static_cast<unsigned>(lay.blocks), static_cast<unsigned>(chunks));
        scan_kernel<T, LPR, SPL, HEAD_DECAY, OUTPUTS>
            <<<grid, lay.threads, lay.smem_bytes(), stream>>>(p, lay, ch);
        MOPS_CUDA_CHECK_LAUNCH("scan_kernel launch");
    });
}

/** Queues scan_kernel on every dtype and decay form. */
template <bool OUTPUTS>
void launch_scan_any(const ScanParams &p, const ScanChunks &ch, int64_t chunks,
                     cudaStream_t stream) {
    const bool head_decay = p.As[2] == 0;
    dispatch_dtype(p.dtype, [&](auto tag) {
        using T = decltype(tag);
        head_decay ? launch_scan<T, true, OUTPUTS>(p, ch, chunks, stream)
                   : launch_scan<T, false, OUTPUTS>(p, ch, chunks, stream);
    });
}

int multiprocessors() {
    int device = 0;
    int sms = 0;
    MOPS_CUDA_CHECK(cudaGetDevice(&device));
    MOPS_CUDA_CHECK(cudaDeviceGetAttribute(&sms, cudaDevAttrMultiProcessorCount, device));
    return sms;
}

/** Threads of the sequential walk: one row per (batch, channel), lanes_per_row lanes each. */
int64_t row_threads(const ScanParams &p) {
    return p.batch * p.channels() * lanes_per_row(p.dstate);
}

/** Whether row_threads, below a quarter of the resident threads, leave most of the GPU idle. */
bool rows_leave_gpu_idle(const ScanParams &p, int sms) {
    return row_threads(p) < static_cast<int64_t>(sms) * (RESIDENT_THREADS / 4);
}

int64_t ceil_div(int64_t a, int64_t b) {
    return (a + b - 1) / b;
}

/**
 * Steps per chunk of the time-parallel form, or 0 for the sequential walk (rows that fill the GPU
 * by themselves, or a sequence of at most one chunk): the largest power of two from MAX_CHUNK
 * down to MIN_CHUNK that gives about four times the GPU's resident threads over the chunks.
 */
int64_t chunk_length(const ScanParams &p) {
    const int sms = multiprocessors();
    if (p.seqlen <= MIN_CHUNK || !rows_leave_gpu_idle(p, sms)) {
        return 0;
    }
    const int64_t target = 4 * static_cast<int64_t>(sms) * RESIDENT_THREADS;
    int64_t len = MAX_CHUNK;
    while (len > MIN_CHUNK && row_threads(p) * ceil_div(p.seqlen, len) < target) {
        len /= 2;
    }
    while (ceil_div(p.seqlen, len) > MAX_CHUNKS) {
        len *= 2;
    }
    return p.seqlen > len ? len : 0;
}

/**
 * The time-parallel scan in three launches: (1) every (batch, chunk, channel) walks its chunk
 * from a zero state, leaving the end state and the decay (all but the last chunk, whose end
 * state nothing reads); (2) the pass over the chunks turns the end states into the states
 * entering each chunk; (3) every chunk walks again from its entering state, storing the outputs,
 * and the last one the final state. The workspace (end/entering states and decays, float32
 * [batch, chunks, channels, dstate] each) is allocated on the stream.
 */
void run_scan_chunked(const ScanParams &p, int64_t len, cudaStream_t stream) {
    const int64_t count = ceil_div(p.seqlen, len);
    const int64_t per_batch = p.channels() * p.dstate;
    const int64_t states = p.batch * count * per_batch;
    void *work = nullptr;
    MOPS_CUDA_CHECK(
        cudaMallocAsync(&work, static_cast<size_t>(2 * states) * sizeof(float), stream));
    try {
        float *state = static_cast<float *>(work);
        ScanChunks ends;
        ends.len = len;
        ends.count = count;
        ends.fin = state;
        ends.decay = state + states;
        launch_scan_any<false>(p, ends, count - 1, stream);

        const int64_t total = p.batch * per_batch;
        const int64_t blocks = ceil_div(total, 256) < 65536 ? ceil_div(total, 256) : 65536;
        chunk_carry_kernel<<<static_cast<unsigned>(blocks), 256, 0, stream>>>(
            p.init, state, ends.decay, per_batch, total, count);
        MOPS_CUDA_CHECK_LAUNCH("chunk_carry_kernel launch");

        ScanChunks outs;
        outs.len = len;
        outs.count = count;
        outs.init = state;
        outs.fin = p.fin;
        outs.fin_from = count - 1;
        launch_scan_any<true>(p, outs, count, stream);
    } catch (...) {
        cudaFreeAsync(work, stream);
        throw;
    }
    MOPS_CUDA_CHECK(cudaFreeAsync(work, stream));
}

template <typename T, int K, bool HEAD_DECAY, bool PROJECTED>
void launch_step_rows(const ScanParams &p, cudaStream_t stream) {
    const int64_t rows = p.batch * p.channels();
    const int64_t per_block = STEP_WARPS * K;
    const int64_t blocks = (rows + per_block - 1) / per_block;
    require(blocks < (1LL << 31), "too many channels for one launch");
    const auto grid = static_cast<unsigned>(blocks);
    const int threads = STEP_WARPS * 32;
    if (p.dstate <= 32) {
        mops::launch_dependent("step_kernel", step_kernel<T, 1, K, HEAD_DECAY, PROJECTED>, grid,
                               threads, 0, stream, p, rows);
    } else if (p.dstate <= 64) {
        mops::launch_dependent("step_kernel", step_kernel<T, 2, K, HEAD_DECAY, PROJECTED>, grid,
                               threads, 0, stream, p, rows);
    } else if (p.dstate <= 128) {
        mops::launch_dependent("step_kernel", step_kernel<T, 4, K, HEAD_DECAY, PROJECTED>, grid,
                               threads, 0, stream, p, rows);
    } else {
        mops::launch_dependent("step_kernel", step_kernel<T, 8, K, HEAD_DECAY, PROJECTED>, grid,
                               threads, 0, stream, p, rows);
    }
}

/**
 * Four rows per warp where the head channels come in fours (Mamba-2), else one; a dt projection
 * (Mamba-1's folded dt_proj) takes the one-row variants that compute it.
 */
template <typename T, bool HEAD_DECAY> void launch_step(const ScanParams &p, cudaStream_t stream) {
    if (p.proj.rank > 0) {
        launch_step_rows<T, 1, HEAD_DECAY, true>(p, stream);
    } else if (p.ch2 % 4 == 0) {
        launch_step_rows<T, 4, HEAD_DECAY, false>(p, stream);
    } else {
        launch_step_rows<T, 1, HEAD_DECAY, false>(p, stream);
    }
}

} // namespace

void run_scan_cuda(const ScanParams &p, cudaStream_t stream) {
    if (p.seqlen == 1) {
        const bool head_decay = p.As[2] == 0;
        dispatch_dtype(p.dtype, [&](auto tag) {
            using T = decltype(tag);
            head_decay ? launch_step<T, true>(p, stream) : launch_step<T, false>(p, stream);
        });
        return;
    }
    if (blocked_scan_serves(p) && rows_leave_gpu_idle(p, multiprocessors())) {
        run_blocked_scan(p, stream);
        return;
    }
    const int64_t len = chunk_length(p);
    if (len > 0) {
        run_scan_chunked(p, len, stream);
        return;
    }
    ScanChunks whole;
    whole.len = p.seqlen;
    whole.init = p.init;
    whole.fin = p.fin;
    launch_scan_any<true>(p, whole, 1, stream);
}

bool scan_rows_leave_gpu_idle(const ScanParams &p) {
    return rows_leave_gpu_idle(p, multiprocessors());
}

} // namespace mops

extern "C" MOPS_API int32_t mops_cuda_selective_scan(
    void *stream, int32_t dtype, int64_t batch, int64_t dim, int64_t seqlen, int64_t dstate,
    int64_t ngroups, const void *u, const int64_t *u_strides, const void *delta,
    const int64_t *delta_strides, const float *A, const void *B, const int64_t *B_strides,
    const void *C, const int64_t *C_strides, const float *D, const void *z,
    const int64_t *z_strides, const float *delta_bias, int32_t softplus, const float *initial_state,
    float *final_state, void *out, const int64_t *out_strides) {
    return mops::guarded("cuda_selective_scan", [&] {
        mops::run_scan_cuda(mops::selective_scan_params(
                                dtype, batch, dim, seqlen, dstate, ngroups, u, u_strides, delta,
                                delta_strides, A, B, B_strides, C, C_strides, D, z, z_strides,
                                delta_bias, softplus, initial_state, final_state, out, out_strides),
                            static_cast<cudaStream_t>(stream));
    });
}

extern "C" MOPS_API int32_t mops_cuda_selective_state_update(
    void *stream, int32_t dtype, int64_t batch, int64_t dim, int64_t dstate, int64_t ngroups,
    float *state, const void *x, const int64_t *x_strides, const void *dt,
    const int64_t *dt_strides, const float *A, const void *B, const int64_t *B_strides,
    const void *C, const int64_t *C_strides, const float *D, const void *z,
    const int64_t *z_strides, const float *dt_bias, int32_t softplus, void *out,
    const int64_t *out_strides) {
    return mops::guarded("cuda_selective_state_update", [&] {
        mops::run_scan_cuda(mops::selective_state_update_params(
                                dtype, batch, dim, dstate, ngroups, state, x, x_strides, dt,
                                dt_strides, A, B, B_strides, C, C_strides, D, z, z_strides, dt_bias,
                                softplus, out, out_strides),
                            static_cast<cudaStream_t>(stream));
    });
}

extern "C" MOPS_API int32_t mops_cuda_selective_state_update_projected(
    void *stream, int32_t dtype, int64_t batch, int64_t dim, int64_t dstate, int64_t ngroups,
    float *state, const void *x, const int64_t *x_strides, const void *dt_low,
    int64_t dt_low_batch_stride, const void *dt_proj_weight, int64_t dt_proj_row_stride,
    int64_t dt_rank, const float *A, const void *B, const int64_t *B_strides, const void *C,
    const int64_t *C_strides, const float *D, const void *z, const int64_t *z_strides,
    const float *dt_bias, int32_t softplus, void *out, const int64_t *out_strides) {
    return mops::guarded("cuda_selective_state_update_projected", [&] {
        const mops::DtProjection proj{dt_low, dt_low_batch_stride, dt_proj_weight,
                                      dt_proj_row_stride, dt_rank};
        mops::run_scan_cuda(mops::selective_state_update_params(
                                dtype, batch, dim, dstate, ngroups, state, x, x_strides, nullptr,
                                nullptr, A, B, B_strides, C, C_strides, D, z, z_strides, dt_bias,
                                softplus, out, out_strides, proj),
                            static_cast<cudaStream_t>(stream));
    });
}
