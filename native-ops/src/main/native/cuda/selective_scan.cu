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
#include "cuda_check.cuh"
#include "dtype.hpp"
#include "mambaops.h"
#include "scan_cuda.cuh"
#include "scan_params.hpp"
#include "status.hpp"

namespace mops {
namespace {

constexpr float LOG2E = 1.4426950408889634f;
constexpr size_t MAX_SMEM = 48 * 1024;
constexpr size_t TARGET_SMEM = 24 * 1024; // small tiles leave room for several blocks per SM

__device__ __forceinline__ float silu_dev(float v) {
    return v / (1.0f + __expf(-v));
}

__device__ __forceinline__ float exp2_approx(float v) {
    float r;
    asm("ex2.approx.ftz.f32 %0, %1;" : "=f"(r) : "f"(v));
    return r;
}

/** transform_dt with the fast log and exp of the special-function unit. */
__device__ __forceinline__ float transform_dt_fast(float v, float bias, bool softplus, float lo,
                                                   float hi) {
    v += bias;
    if (softplus && v <= 20.0f) {
        v = __logf(1.0f + __expf(v));
    }
    return fminf(fmaxf(v, lo), hi);
}

/** How the rows of a sequence scan are spread over blocks and tiles. */
struct ScanLayout {
    int lpr = 1;        // lanes per row
    int spl = 1;        // states per lane
    int threads = 32;   // threads per block
    int rpb = 1;        // rows (channels) per block
    int tile = 32;      // time steps per shared-memory tile
    int rp = 1;         // padded (odd) pitch of the per-row tile arrays
    int np = 1;         // padded (odd) pitch of the B and C tiles, above lpr * spl
    int tile_shift = 5; // log2(tile)
    int rpb_shift = 0;  // log2(rpb)
    int n_shift = 0;    // log2 of dstate rounded up to a power of two
    int64_t chunks = 1; // channel blocks per (batch, group)
    int64_t blocks = 1;

    size_t smem_bytes() const {
        return static_cast<size_t>(rpb) * (4 * sizeof(int64_t) + sizeof(float)) +
               static_cast<size_t>(tile) * (4 * rp + 2 * np) * sizeof(float);
    }
};

/**
 * The scan over a sequence; HEAD_DECAY: A has one value per channel (Mamba-2, one exp per row
 * and step) rather than one per state (Mamba-1).
 */
template <typename T, int LPR, int SPL, bool HEAD_DECAY>
__global__ void __launch_bounds__(256) scan_kernel(const ScanParams p, const ScanLayout lay) {
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
    const int64_t bg = blockIdx.x / lay.chunks;
    const int64_t b = bg / p.ngroups;
    const int64_t g = bg % p.ngroups;
    const int64_t first = g * cpg + (blockIdx.x % lay.chunks) * rpb; // first channel
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
    const int64_t state_base = (b * channels + c) * p.dstate;
    float a2[SPL], s[SPL];
#pragma unroll
    for (int j = 0; j < SPL; ++j) {
        const int n = lane + j * LPR;
        const bool on = valid && n < N;
        a2[j] = on && !HEAD_DECAY ? Ap[n * p.As[2]] * LOG2E : 0.0f;
        s[j] = on && p.init ? p.init[state_base + n] : 0.0f;
    }
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

    for (int64_t t0 = 0; t0 < p.seqlen; t0 += tile) {
        const int tc = p.seqlen - t0 < tile ? static_cast<int>(p.seqlen - t0) : tile;
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
                s_z[tt * rp + r] = z ? silu_dev(to_float(z[s_row_z[r] + t * p.zs[3]])) : 1.0f;
            }
        }
#pragma unroll 4
        for (int i = threadIdx.x; i < bc_elems; i += blockDim.x) {
            const int n = bc_time_fast ? i >> lay.tile_shift : i & ((1 << lay.n_shift) - 1);
            const int tt = bc_time_fast ? i & (tile - 1) : i >> lay.n_shift;
            if (n < N && tt < tc) {
                const int64_t t = t0 + tt;
                s_B[tt * np + n] = to_float(Bp[n * p.Bs[2] + t * p.Bs[3]]);
                s_C[tt * np + n] = to_float(Cp[n * p.Cs[2] + t * p.Cs[3]]);
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
                y = fmaf(ct[j * LPR], s[j], y);
            }
#pragma unroll
            for (int off = LPR / 2; off > 0; off /= 2) {
                y += __shfl_xor_sync(0xffffffffu, y, off, LPR);
            }
            if (valid && lane == 0) {
                s_y[tt * rp + local] = fmaf(dskip, uv, y) * s_z[tt * rp + local];
            }
        }
        __syncthreads();
        for (int i = threadIdx.x; i < row_elems; i += blockDim.x) {
            const int r = time_fast ? i >> lay.tile_shift : i & (rpb - 1);
            const int tt = time_fast ? i & (tile - 1) : i >> lay.rpb_shift;
            if (r < rows_here && tt < tc) {
                out[s_row_o[r] + (t0 + tt) * p.os[3]] = from_float<T>(s_y[tt * rp + r]);
            }
        }
    }
    if (p.fin) {
#pragma unroll
        for (int j = 0; j < SPL; ++j) {
            if (valid && lane + j * LPR < N) {
                p.fin[state_base + lane + j * LPR] = s[j];
            }
        }
    }
}

constexpr int STEP_WARPS = 8;

/**
 * One step (seqlen 1) of the scan, the decoding update: memory-bound on the state, so one warp
 * per K consecutive rows (K channels of one head, which share B, C and the index arithmetic),
 * lane l holding the states l, l + 32, ... (NJ of them) of each row: every state is read once and
 * written once with coalesced 128-byte accesses, all loads of a lane issued together.
 */
template <typename T, int NJ, int K, bool HEAD_DECAY>
__global__ void __launch_bounds__(STEP_WARPS * 32) step_kernel(const ScanParams p, int64_t rows) {
    const int64_t row0 = (static_cast<int64_t>(blockIdx.x) * STEP_WARPS + threadIdx.x / 32) * K;
    const int lane = threadIdx.x % 32;
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
    const T *dtp = static_cast<const T *>(p.dt) + b * p.dts[0] + c1 * p.dts[1] + c2 * p.dts[2];
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
        d[k] = transform_dt_fast(to_float(dtp[k * p.dts[2]]), bias, p.softplus, p.dt_min, p.dt_max);
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
    lay.chunks = (cpg + lay.rpb - 1) / lay.rpb;
    lay.blocks = p.batch * p.ngroups * lay.chunks;
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

template <typename T, int LPR, int SPL, bool HEAD_DECAY>
void launch_scan_as(const ScanParams &p, cudaStream_t stream) {
    const ScanLayout lay = scan_layout(p, LPR, SPL);
    require(lay.blocks < (1LL << 31), "too many channels for one launch");
    require(lay.smem_bytes() <= MAX_SMEM, "scan tile does not fit in shared memory");
    scan_kernel<T, LPR, SPL, HEAD_DECAY>
        <<<static_cast<unsigned>(lay.blocks), lay.threads, lay.smem_bytes(), stream>>>(p, lay);
    MOPS_CUDA_CHECK_LAUNCH("scan_kernel launch");
}

/** Lanes per row and states per lane by dstate: 4 states per lane up to 64, then 8. */
template <typename T, bool HEAD_DECAY> void launch_scan(const ScanParams &p, cudaStream_t stream) {
    const int64_t n = p.dstate;
    if (n <= 4) {
        launch_scan_as<T, 1, 4, HEAD_DECAY>(p, stream);
    } else if (n <= 8) {
        launch_scan_as<T, 2, 4, HEAD_DECAY>(p, stream);
    } else if (n <= 16) {
        launch_scan_as<T, 4, 4, HEAD_DECAY>(p, stream);
    } else if (n <= 32) {
        launch_scan_as<T, 8, 4, HEAD_DECAY>(p, stream);
    } else if (n <= 64) {
        launch_scan_as<T, 16, 4, HEAD_DECAY>(p, stream);
    } else if (n <= 128) {
        launch_scan_as<T, 16, 8, HEAD_DECAY>(p, stream);
    } else {
        launch_scan_as<T, 32, 8, HEAD_DECAY>(p, stream);
    }
}

template <typename T, int K, bool HEAD_DECAY>
void launch_step_rows(const ScanParams &p, cudaStream_t stream) {
    const int64_t rows = p.batch * p.channels();
    const int64_t per_block = STEP_WARPS * K;
    const int64_t blocks = (rows + per_block - 1) / per_block;
    require(blocks < (1LL << 31), "too many channels for one launch");
    const auto grid = static_cast<unsigned>(blocks);
    const int threads = STEP_WARPS * 32;
    if (p.dstate <= 32) {
        step_kernel<T, 1, K, HEAD_DECAY><<<grid, threads, 0, stream>>>(p, rows);
    } else if (p.dstate <= 64) {
        step_kernel<T, 2, K, HEAD_DECAY><<<grid, threads, 0, stream>>>(p, rows);
    } else if (p.dstate <= 128) {
        step_kernel<T, 4, K, HEAD_DECAY><<<grid, threads, 0, stream>>>(p, rows);
    } else {
        step_kernel<T, 8, K, HEAD_DECAY><<<grid, threads, 0, stream>>>(p, rows);
    }
    MOPS_CUDA_CHECK_LAUNCH("step_kernel launch");
}

/** Four rows per warp where the head channels come in fours (Mamba-2), else one. */
template <typename T, bool HEAD_DECAY> void launch_step(const ScanParams &p, cudaStream_t stream) {
    if (p.ch2 % 4 == 0) {
        launch_step_rows<T, 4, HEAD_DECAY>(p, stream);
    } else {
        launch_step_rows<T, 1, HEAD_DECAY>(p, stream);
    }
}

} // namespace

void run_scan_cuda(const ScanParams &p, cudaStream_t stream) {
    const bool head_decay = p.As[2] == 0;
    dispatch_dtype(p.dtype, [&](auto tag) {
        using T = decltype(tag);
        if (p.seqlen == 1) {
            head_decay ? launch_step<T, true>(p, stream) : launch_step<T, false>(p, stream);
        } else {
            head_decay ? launch_scan<T, true>(p, stream) : launch_scan<T, false>(p, stream);
        }
    });
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
