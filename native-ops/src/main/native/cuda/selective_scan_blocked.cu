// The Mamba-1 sequence scan in one pass over the sequence, for rows too few to fill the GPU with
// the sequential walk of selective_scan.cu (batch 1 prefill: D = 5120 rows).
//
// Why: the time-parallel form of selective_scan.cu walks every chunk twice (once from zero for
// its end state, once from its entering state for the outputs) and stores and reloads the chunk
// states in between. Here each row's recurrence is parallel over time inside one warp, so every
// step is walked once and the state never leaves the multiprocessor.
//
// Layout: a block of ROWS warps owns ROWS consecutive channels of one (batch, group), which share
// B and C; warp w serves channel w, its lane l the ITEMS consecutive steps [l * ITEMS, (l + 1) *
// ITEMS) of a chunk of CHUNK = 32 * ITEMS steps. Per chunk the block stages u, the transformed dt
// (bias, softplus, limits) and the chunk's B and C as float32 in shared memory, loaded with 16-byte
// vectors along whichever axis is contiguous (channels or states in the engine's channels-last
// views, time in the [b, d, l] layout; element by element where neither is aligned), each lane's
// ITEMS steps in one row segment with its float4 groups swizzled so that the lanes' 16-byte reads
// are free of bank conflicts. For each state n a lane walks its steps from zero (decays exp2(dt *
// A * log2(e)), the decay of the whole segment exp2(A * log2(e) * sum dt)), the warp combines the
// segments' (decay, end state) pairs with an inclusive shuffle scan in time order, the state
// carried from the previous chunk (or the initial state) enters through the exclusive prefix, and
// the lane walks its steps again from its entering state, adding C * h to its outputs; the last
// lane leaves the chunk's end state in shared memory for the next chunk. The outputs (with D * u,
// gated by silu(z)) replace u in shared memory and are stored cooperatively, vectorised like the
// loads; after the last chunk the carried states are the final state. The states stay float32,
// so the result differs from the sequential walk only by association.
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <initializer_list>

#include "cuda_check.cuh"
#include "dtype.hpp"
#include "scan_math.cuh"
#include "scan_params.hpp"
#include "selective_scan_blocked.cuh"
#include "status.hpp"

namespace mops {
namespace {

constexpr int LANES = 32;
constexpr int ITEMS = 16;            // consecutive steps per lane
constexpr int QUADS = ITEMS / 4;     // float4 groups per lane segment
constexpr int CHUNK = LANES * ITEMS; // steps per chunk
constexpr int ROWS = 8;              // channels (warps) per block
constexpr int THREADS = ROWS * LANES;
constexpr int MAX_STATES = 16;
constexpr int VEC_BYTES = 16;
constexpr unsigned FULL_MASK = 0xffffffffu;

static_assert(QUADS * 4 == ITEMS && 8 % QUADS == 0, "a lane segment is 1, 2, 4 or 8 float4s");

/** How a tile of a tensor is read or written: 16-byte vectors along its rows or its time axis. */
enum VecMode : int { SCALAR = 0, ALONG_ROWS = 1, ALONG_TIME = 2 };

/** The channel blocks and the access mode of every tensor (chosen on the host). */
struct BlockedLayout {
    int64_t cblocks = 1; // channel blocks per (batch, group)
    int u_mode = SCALAR;
    int dt_mode = SCALAR;
    int out_mode = SCALAR; // out and z together
    int b_mode = SCALAR;
    int c_mode = SCALAR;
};

/** Elements of T in one 16-byte vector. */
template <typename T> constexpr int VEC = VEC_BYTES / static_cast<int>(sizeof(T));

/**
 * What a lane's float4 indices are XORed with: the 8 lanes of one 16-byte shared-memory phase
 * read segments ITEMS floats apart, and the XOR spreads their reads over distinct banks.
 */
__device__ __forceinline__ int swizzle(int lane) {
    return (lane / (8 / QUADS)) % QUADS;
}

/** Offset of chunk step t in a tile row: lane t / ITEMS's segment, quads swizzled. */
__device__ __forceinline__ int slot(int t) {
    const int lane = t / ITEMS;
    const int i = t % ITEMS;
    return lane * ITEMS + ((((i >> 2) ^ swizzle(lane)) << 2) | (i & 3));
}

template <typename T> __device__ __forceinline__ void load_vec(const T *src, T (&v)[VEC<T>]) {
    const uint4 raw = __ldg(reinterpret_cast<const uint4 *>(src));
    memcpy(v, &raw, sizeof raw);
}

template <typename T> __device__ __forceinline__ void store_vec(T *dst, const T (&v)[VEC<T>]) {
    uint4 raw;
    memcpy(&raw, v, sizeof raw);
    *reinterpret_cast<uint4 *>(dst) = raw;
}

/**
 * Reads a tile of `rows` rows by `steps` steps whose element (r, t) lies at src[r * rs + t * ts]
 * and hands each (r, t, value) of r < rows_valid to put. ALONG_ROWS (rs == 1, rows_valid == rows
 * a multiple of the vector) and ALONG_TIME (ts == 1) read 16-byte vectors; SCALAR reads elements,
 * consecutive threads along the axis of smaller stride.
 */
template <typename T, typename Put>
__device__ __forceinline__ void stage_tile(const T *src, int64_t rs, int64_t ts, int rows,
                                           int rows_valid, int steps, int mode, Put put) {
    constexpr int V = VEC<T>;
    if (mode == ALONG_ROWS) {
        const int per_step = rows / V;
        for (int k = threadIdx.x; k < per_step * steps; k += THREADS) {
            const int t = k / per_step;
            const int r0 = (k % per_step) * V;
            T v[V];
            load_vec(src + r0 + t * ts, v);
#pragma unroll
            for (int j = 0; j < V; ++j) {
                put(r0 + j, t, to_float(v[j]));
            }
        }
    } else if (mode == ALONG_TIME) {
        constexpr int per_row = CHUNK / V;
        for (int k = threadIdx.x; k < rows_valid * per_row; k += THREADS) {
            const int r = k / per_row;
            const int t0 = (k % per_row) * V;
            const T *at = src + r * rs + t0;
            if (t0 + V <= steps) {
                T v[V];
                load_vec(at, v);
#pragma unroll
                for (int j = 0; j < V; ++j) {
                    put(r, t0 + j, to_float(v[j]));
                }
            } else {
                for (int j = 0; t0 + j < steps; ++j) {
                    put(r, t0 + j, to_float(at[j]));
                }
            }
        }
    } else {
        const bool rows_fast = rs <= ts;
        for (int k = threadIdx.x; k < rows * CHUNK; k += THREADS) {
            const int r = rows_fast ? k % rows : k / CHUNK;
            const int t = rows_fast ? k / rows : k % CHUNK;
            if (r < rows_valid && t < steps) {
                put(r, t, to_float(src[r * rs + t * ts]));
            }
        }
    }
}

/**
 * Stores the chunk's outputs: element (r, t) of out (at dst[r * rs + t * ts]) is the staged
 * output y[r][slot(t)] gated by silu of z (at z[r * zrs + t * zts]; no gate where z is NULL), for
 * r < rows_valid and t < steps, with the access modes of stage_tile (z's strides match out's in
 * the vector modes).
 */
template <typename T>
__device__ __forceinline__ void store_tile(T *dst, int64_t rs, int64_t ts, const T *z, int64_t zrs,
                                           int64_t zts, int rows_valid, int steps, int mode,
                                           const float *y) {
    constexpr int V = VEC<T>;
    const auto gated = [&](int r, int t, float zv) {
        return y[r * CHUNK + slot(t)] * (z ? silu_dev(zv) : 1.0f);
    };
    if (mode == ALONG_ROWS) {
        constexpr int per_step = ROWS / V;
        for (int k = threadIdx.x; k < per_step * steps; k += THREADS) {
            const int t = k / per_step;
            const int r0 = (k % per_step) * V;
            T zv[V];
            if (z) {
                load_vec(z + r0 + t * zts, zv);
            }
            T v[V];
#pragma unroll
            for (int j = 0; j < V; ++j) {
                v[j] = from_float<T>(gated(r0 + j, t, z ? to_float(zv[j]) : 0.0f));
            }
            store_vec(dst + r0 + t * ts, v);
        }
    } else if (mode == ALONG_TIME) {
        constexpr int per_row = CHUNK / V;
        for (int k = threadIdx.x; k < rows_valid * per_row; k += THREADS) {
            const int r = k / per_row;
            const int t0 = (k % per_row) * V;
            if (t0 + V <= steps) {
                T zv[V];
                if (z) {
                    load_vec(z + r * zrs + t0, zv);
                }
                T v[V];
#pragma unroll
                for (int j = 0; j < V; ++j) {
                    v[j] = from_float<T>(gated(r, t0 + j, z ? to_float(zv[j]) : 0.0f));
                }
                store_vec(dst + r * rs + t0, v);
            } else {
                for (int j = 0; t0 + j < steps; ++j) {
                    const float zv = z ? to_float(z[r * zrs + t0 + j]) : 0.0f;
                    dst[r * rs + t0 + j] = from_float<T>(gated(r, t0 + j, zv));
                }
            }
        }
    } else {
        const bool rows_fast = rs <= ts;
        for (int k = threadIdx.x; k < ROWS * CHUNK; k += THREADS) {
            const int r = rows_fast ? k % ROWS : k / CHUNK;
            const int t = rows_fast ? k / ROWS : k % CHUNK;
            if (r < rows_valid && t < steps) {
                const float zv = z ? to_float(z[r * zrs + t * zts]) : 0.0f;
                dst[r * rs + t * ts] = from_float<T>(gated(r, t, zv));
            }
        }
    }
}

/**
 * One chunk of a warp's row (see the header): reads the row's u and dt from its staged tiles
 * (s_u, s_dt), walks every state over the lane's steps, and leaves the outputs (y + D * u, not
 * yet gated) in place of u; the states carried across chunks live in carry[n] (written by the
 * last lane), A * log2(e) in a2s[n].
 */
__device__ __forceinline__ void scan_chunk(float *s_u, const float *s_dt, const float *s_B,
                                           const float *s_C, float *carry, const float *a2s, int N,
                                           float dskip) {
    const int lane = threadIdx.x % LANES;
    const int sw = swizzle(lane);
    float4 *row_u = reinterpret_cast<float4 *>(s_u + lane * ITEMS);
    const float4 *row_dt = reinterpret_cast<const float4 *>(s_dt + lane * ITEMS);
    float d[ITEMS], du[ITEMS], y[ITEMS];
    float dsum = 0.0f;
#pragma unroll
    for (int q = 0; q < QUADS; ++q) {
        const float4 uq = row_u[q ^ sw];
        const float4 dq = row_dt[q ^ sw];
        const float uv[4] = {uq.x, uq.y, uq.z, uq.w};
        const float dv[4] = {dq.x, dq.y, dq.z, dq.w};
#pragma unroll
        for (int k = 0; k < 4; ++k) {
            d[4 * q + k] = dv[k];
            du[4 * q + k] = dv[k] * uv[k];
            y[4 * q + k] = dskip * uv[k];
            dsum += dv[k];
        }
    }
    for (int n = 0; n < N; ++n) {
        const float a2 = a2s[n];
        const float4 *row_B = reinterpret_cast<const float4 *>(s_B + n * CHUNK + lane * ITEMS);
        const float4 *row_C = reinterpret_cast<const float4 *>(s_C + n * CHUNK + lane * ITEMS);
        float dA[ITEMS], dBu[ITEMS];
        float h_end = 0.0f; // the lane's steps walked from a zero state
#pragma unroll
        for (int q = 0; q < QUADS; ++q) {
            const float4 bq = row_B[q ^ sw];
            const float bv[4] = {bq.x, bq.y, bq.z, bq.w};
#pragma unroll
            for (int k = 0; k < 4; ++k) {
                const int i = 4 * q + k;
                dA[i] = exp2_approx(d[i] * a2);
                dBu[i] = du[i] * bv[k];
                h_end = fmaf(dA[i], h_end, dBu[i]);
            }
        }
        float decay = exp2_approx(a2 * dsum); // over the lane's steps
        // combine with the lanes before, in time order: (decay, h_end) of lanes 0..lane
#pragma unroll
        for (int off = 1; off < LANES; off *= 2) {
            const float decay_up = __shfl_up_sync(FULL_MASK, decay, off);
            const float h_up = __shfl_up_sync(FULL_MASK, h_end, off);
            if (lane >= off) {
                h_end = fmaf(decay, h_up, h_end);
                decay *= decay_up;
            }
        }
        const float entering = carry[n];
        const float decay_before = __shfl_up_sync(FULL_MASK, decay, 1);
        const float h_before = __shfl_up_sync(FULL_MASK, h_end, 1);
        float h = lane == 0 ? entering : fmaf(decay_before, entering, h_before);
        __syncwarp();
        if (lane == LANES - 1) {
            carry[n] = fmaf(decay, entering, h_end);
        }
#pragma unroll
        for (int q = 0; q < QUADS; ++q) {
            const float4 cq = row_C[q ^ sw];
            const float cv[4] = {cq.x, cq.y, cq.z, cq.w};
#pragma unroll
            for (int k = 0; k < 4; ++k) {
                const int i = 4 * q + k;
                h = fmaf(dA[i], h, dBu[i]);
                y[i] = fmaf(cv[k], h, y[i]);
            }
        }
    }
#pragma unroll
    for (int q = 0; q < QUADS; ++q) {
        row_u[q ^ sw] = make_float4(y[4 * q], y[4 * q + 1], y[4 * q + 2], y[4 * q + 3]);
    }
}

/** Shared memory of a block: the u/y, dt, B and C tiles, then the carried states, A and biases. */
size_t smem_bytes(int64_t dstate) {
    return static_cast<size_t>((2 * ROWS + 2 * dstate) * CHUNK + 2 * ROWS * dstate + ROWS) *
           sizeof(float);
}

template <typename T>
__global__ void __launch_bounds__(THREADS, 2)
    blocked_scan_kernel(const ScanParams p, const BlockedLayout lay) {
    extern __shared__ float4 smem[];
    const int N = static_cast<int>(p.dstate);
    float *s_u = reinterpret_cast<float *>(smem); // [ROWS][CHUNK]; the outputs replace u
    float *s_dt = s_u + ROWS * CHUNK;             // [ROWS][CHUNK]
    float *s_B = s_dt + ROWS * CHUNK;             // [N][CHUNK]
    float *s_C = s_B + N * CHUNK;                 // [N][CHUNK]
    float *s_carry = s_C + N * CHUNK;             // [ROWS][N]
    float *s_a2 = s_carry + ROWS * N;             // [ROWS][N]: A * log2(e)
    float *s_bias = s_a2 + ROWS * N;              // [ROWS]

    const int64_t channels = p.channels();
    const int64_t cpg = channels / p.ngroups;
    const int64_t bg = blockIdx.x / lay.cblocks;
    const int64_t b = bg / p.ngroups;
    const int64_t g = bg % p.ngroups;
    const int64_t in_group = (blockIdx.x % lay.cblocks) * ROWS;
    const int64_t first = g * cpg + in_group; // the block's first channel
    const int rows_valid = static_cast<int>(cpg - in_group < ROWS ? cpg - in_group : ROWS);
    const int warp = threadIdx.x / LANES;

    for (int i = threadIdx.x; i < ROWS * N; i += THREADS) {
        const int r = i / N;
        const int n = i % N;
        const bool on = r < rows_valid;
        s_a2[i] = on ? p.A[(first + r) * p.As[0] + n * p.As[2]] * LOG2E : 0.0f;
        s_carry[i] = on && p.init ? p.init[(b * channels + first + r) * p.dstate + n] : 0.0f;
    }
    for (int r = threadIdx.x; r < ROWS; r += THREADS) {
        s_bias[r] = p.dt_bias && r < rows_valid ? p.dt_bias[(first + r) * p.dtbs[0]] : 0.0f;
    }
    const float dskip = p.D && warp < rows_valid ? p.D[(first + warp) * p.Ds[0]] : 0.0f;

    const T *u = static_cast<const T *>(p.u) + b * p.us[0] + first * p.us[1];
    const T *dt = static_cast<const T *>(p.dt) + b * p.dts[0] + first * p.dts[1];
    const T *z = p.z ? static_cast<const T *>(p.z) + b * p.zs[0] + first * p.zs[1] : nullptr;
    T *out = static_cast<T *>(p.out) + b * p.os[0] + first * p.os[1];
    const T *Bp = static_cast<const T *>(p.B) + b * p.Bs[0] + g * p.Bs[1];
    const T *Cp = static_cast<const T *>(p.C) + b * p.Cs[0] + g * p.Cs[1];
    const auto put_u = [&](int r, int t, float v) { s_u[r * CHUNK + slot(t)] = v; };
    const auto put_dt = [&](int r, int t, float v) {
        s_dt[r * CHUNK + slot(t)] = transform_dt_fast(v, s_bias[r], p.softplus, p.dt_min, p.dt_max);
    };
    const auto put_B = [&](int n, int t, float v) { s_B[n * CHUNK + slot(t)] = v; };
    const auto put_C = [&](int n, int t, float v) { s_C[n * CHUNK + slot(t)] = v; };

    for (int64_t t0 = 0; t0 < p.seqlen; t0 += CHUNK) {
        const int steps = p.seqlen - t0 < CHUNK ? static_cast<int>(p.seqlen - t0) : CHUNK;
        __syncthreads(); // the previous chunk's outputs are stored; s_bias is written
        if (steps < CHUNK) {
            // steps past the sequence keep the state: dt = 0 (decay 1), u = 0, B = C = 0
            for (int k = threadIdx.x; k < (2 * ROWS + 2 * N) * CHUNK; k += THREADS) {
                const int t = k % CHUNK;
                if (t >= steps) {
                    s_u[(k - t) + slot(t)] = 0.0f;
                }
            }
        }
        stage_tile(u + t0 * p.us[3], p.us[1], p.us[3], ROWS, rows_valid, steps, lay.u_mode, put_u);
        stage_tile(dt + t0 * p.dts[3], p.dts[1], p.dts[3], ROWS, rows_valid, steps, lay.dt_mode,
                   put_dt);
        stage_tile(Bp + t0 * p.Bs[3], p.Bs[2], p.Bs[3], N, N, steps, lay.b_mode, put_B);
        stage_tile(Cp + t0 * p.Cs[3], p.Cs[2], p.Cs[3], N, N, steps, lay.c_mode, put_C);
        __syncthreads();
        // every warp walks (the block's syncs need it); rows past the block's channels store
        // nothing
        scan_chunk(s_u + warp * CHUNK, s_dt + warp * CHUNK, s_B, s_C, s_carry + warp * N,
                   s_a2 + warp * N, N, dskip);
        __syncthreads();
        store_tile(out + t0 * p.os[3], p.os[1], p.os[3], z ? z + t0 * p.zs[3] : nullptr, p.zs[1],
                   p.zs[3], rows_valid, steps, lay.out_mode, s_u);
    }
    if (p.fin) {
        for (int i = threadIdx.x; i < rows_valid * N; i += THREADS) {
            p.fin[(b * channels + first) * p.dstate + i] = s_carry[i];
        }
    }
}

bool single_pass_enabled() {
    static const bool enabled = [] {
        const char *v = std::getenv("MAMBADJL_SCAN_SINGLE_PASS");
        return v == nullptr || std::strcmp(v, "0") != 0;
    }();
    return enabled;
}

/** An axis of a tensor outside its tile: its stride (elements) and extent. */
struct Axis {
    int64_t stride;
    int64_t extent;
};

/** Whether every index along the axis keeps a 16-byte aligned address 16-byte aligned. */
bool keeps_alignment(Axis a, size_t size) {
    return a.extent == 1 || (a.stride * static_cast<int64_t>(size)) % VEC_BYTES == 0;
}

/**
 * The access mode of a tensor whose tiles are rows (stride rows.stride; tiles start at multiples
 * of `tile_rows` rows, the last one whole where whole_rows) by steps (stride time.stride), at
 * base + the outer axes' offsets: ALONG_ROWS where rows are contiguous, ALONG_TIME where time is,
 * with every vector 16-byte aligned; else SCALAR.
 */
int vec_mode(const void *base, size_t size, Axis rows, int tile_rows, bool whole_rows, Axis time,
             std::initializer_list<Axis> outer) {
    if (reinterpret_cast<uintptr_t>(base) % VEC_BYTES != 0) {
        return SCALAR;
    }
    for (const Axis &a : outer) {
        if (!keeps_alignment(a, size)) {
            return SCALAR;
        }
    }
    if (rows.stride == 1 && whole_rows && (tile_rows * size) % VEC_BYTES == 0 &&
        keeps_alignment(time, size)) {
        return ALONG_ROWS;
    }
    if (time.stride == 1 && keeps_alignment(rows, size)) {
        return ALONG_TIME;
    }
    return SCALAR;
}

template <typename T> BlockedLayout blocked_layout(const ScanParams &p) {
    const size_t size = sizeof(T);
    const int64_t cpg = p.channels() / p.ngroups;
    const bool whole = cpg % ROWS == 0;
    BlockedLayout lay;
    lay.cblocks = (cpg + ROWS - 1) / ROWS;
    const auto row_mode = [&](const void *base, const int64_t *s) {
        return vec_mode(base, size, {s[1], p.ch1}, ROWS, whole, {s[3], p.seqlen},
                        {{s[0], p.batch}});
    };
    const auto state_mode = [&](const void *base, const int64_t *s) {
        return vec_mode(base, size, {s[2], p.dstate}, static_cast<int>(p.dstate), true,
                        {s[3], p.seqlen}, {{s[0], p.batch}, {s[1], p.ngroups}});
    };
    lay.u_mode = row_mode(p.u, p.us);
    lay.dt_mode = row_mode(p.dt, p.dts);
    lay.out_mode = row_mode(p.out, p.os);
    if (p.z && row_mode(p.z, p.zs) != lay.out_mode) {
        lay.out_mode = SCALAR; // z is read as out is written
    }
    lay.b_mode = state_mode(p.B, p.Bs);
    lay.c_mode = state_mode(p.C, p.Cs);
    return lay;
}

} // namespace

bool blocked_scan_serves(const ScanParams &p) {
    return single_pass_enabled() && p.seqlen > 1 && p.ch2 == 1 && p.As[2] != 0 &&
           p.dstate <= MAX_STATES;
}

void run_blocked_scan(const ScanParams &p, cudaStream_t stream) {
    const size_t smem = smem_bytes(p.dstate);
    dispatch_dtype(p.dtype, [&](auto tag) {
        using T = decltype(tag);
        const BlockedLayout lay = blocked_layout<T>(p);
        const int64_t blocks = p.batch * p.ngroups * lay.cblocks;
        require(blocks < (1LL << 31), "too many channels for one launch");
        MOPS_CUDA_CHECK(cudaFuncSetAttribute(blocked_scan_kernel<T>,
                                             cudaFuncAttributeMaxDynamicSharedMemorySize,
                                             static_cast<int>(smem)));
        blocked_scan_kernel<T><<<static_cast<unsigned>(blocks), THREADS, smem, stream>>>(p, lay);
        MOPS_CUDA_CHECK_LAUNCH("blocked_scan_kernel launch");
    });
}

} // namespace mops
