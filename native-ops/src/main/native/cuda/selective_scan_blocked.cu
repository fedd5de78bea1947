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
// views, time in the [b, d, l] layout; element by element where neither is aligned; a thread's
// loads of a tile issued together, and L2 asked for the next chunk's lines while this one is
// scanned), each lane's ITEMS steps in one row segment with its float4 groups swizzled so that
// the lanes' 16-byte reads are free of bank conflicts. For each state n a lane walks its steps from
// zero (decays exp2(dt * A * log2(e)), the decay of the whole segment exp2(A * log2(e) * sum dt)),
// the warp combines the segments' (decay, end state) pairs with an inclusive shuffle scan in time
// order, the state carried from the previous chunk (or the initial state) enters through the
// exclusive prefix, and the lane walks its steps again from its entering state (the decays kept in
// registers), adding C * h to its outputs; the last lane leaves the chunk's end state in shared
// memory for the next chunk. The outputs (with D * u, gated by silu(z)) replace u in shared memory
// and are stored cooperatively, vectorised like the loads; after the last chunk the carried states
// are the final state. The states stay float32, so the result differs from the sequential walk only
// by association. 256 threads of at most 128 registers and 97 KiB of shared memory (N = 16): two
// blocks per multiprocessor.
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
constexpr int IN_FLIGHT = 4; // 16-byte loads a thread issues together when staging a tile
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
 * threadIdx.x, read anew at every use: the tile loops' per-thread indices and offsets are the same
 * in every chunk, and hoisted out of the chunk loop they would hold registers through the scan.
 */
__device__ __forceinline__ int thread_index() {
    int tid;
    asm volatile("mov.u32 %0, %%tid.x;" : "=r"(tid));
    return tid;
}

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

/** A 16-byte vector of T, kept packed. */
template <typename T> __device__ __forceinline__ uint4 load_vec(const T *src) {
    return __ldg(reinterpret_cast<const uint4 *>(src));
}

/** Element j of a packed vector. */
template <typename T> __device__ __forceinline__ T element(const uint4 &raw, int j) {
    T v;
    memcpy(&v, reinterpret_cast<const char *>(&raw) + j * sizeof(T), sizeof(T));
    return v;
}

/** Stores the elements of v as one 16-byte vector. */
template <typename T> __device__ __forceinline__ void store_vec(T *dst, const T (&v)[VEC<T>]) {
    uint4 raw;
    memcpy(&raw, v, sizeof raw);
    *reinterpret_cast<uint4 *>(dst) = raw;
}

/**
 * A tensor's tile of one chunk: element (r, t) at src[r * rs + t * ts] for the first rows_valid
 * of `rows` rows and the chunk's `steps` steps, read or written in `mode`: ALONG_ROWS (rs == 1,
 * rows_valid == rows a multiple of the vector) and ALONG_TIME (ts == 1) by 16-byte vectors, the
 * SCALAR mode and the ragged end of ALONG_TIME element by element.
 */
template <typename T> struct Tile {
    const T *src;
    int64_t rs;
    int64_t ts;
    int rows;
    int rows_valid;
    int steps;
    int mode;

    /** Whether a thread's item k is a whole vector of the tile (in MODE), from element (r, t). */
    template <int MODE> __device__ __forceinline__ bool vector_at(int k, int &r, int &t) const {
        constexpr int V = VEC<T>;
        if (MODE == ALONG_ROWS) {
            const int per_step = rows / V;
            r = (k % per_step) * V;
            t = k / per_step;
            return k < per_step * steps;
        }
        constexpr int per_row = CHUNK / V;
        r = k / per_row;
        t = (k % per_row) * V;
        return k < rows_valid * per_row && t + V <= steps;
    }

    /** Calls f(r, t) for every element of the tile outside the whole vectors (all for SCALAR). */
    template <typename F> __device__ __forceinline__ void for_elements(F f) const {
        if (mode == ALONG_ROWS) {
            return;
        }
        const int from = mode == ALONG_TIME ? steps - steps % VEC<T> : 0;
        const int span = steps - from;
        const bool rows_fast = rs <= ts; // consecutive threads along the smaller stride
        for (int k = thread_index(); k < rows_valid * span; k += THREADS) {
            const int r = rows_fast ? k % rows_valid : k / span;
            const int t = from + (rows_fast ? k / rows_valid : k % span);
            f(r, t);
        }
    }

    __device__ __forceinline__ T at(int r, int t) const { return src[r * rs + t * ts]; }
};

/** The most vectors a thread loads of a tile of ROWS_ rows. */
template <typename T, int ROWS_> constexpr int MAX_VECTORS = ROWS_ * CHUNK / (VEC<T> * THREADS);

/**
 * Hands the elements of a tile's whole vectors in MODE to put: the thread's MAXV vectors at
 * most, loaded IN_FLIGHT at a time (all loads of a batch issued before the first is used).
 */
template <int MODE, int MAXV, typename T, typename Put>
__device__ __forceinline__ void stage_vectors(const Tile<T> &tile, Put put) {
#pragma unroll
    for (int batch = 0; batch < MAXV; batch += IN_FLIGHT) {
        uint4 v[IN_FLIGHT];
#pragma unroll
        for (int i = 0; i < IN_FLIGHT && batch + i < MAXV; ++i) {
            int r = 0;
            int t = 0;
            if (tile.template vector_at<MODE>(thread_index() + (batch + i) * THREADS, r, t)) {
                v[i] = load_vec(tile.src + r * tile.rs + t * tile.ts);
            }
        }
#pragma unroll
        for (int i = 0; i < IN_FLIGHT && batch + i < MAXV; ++i) {
            int r = 0;
            int t = 0;
            if (tile.template vector_at<MODE>(thread_index() + (batch + i) * THREADS, r, t)) {
#pragma unroll
                for (int j = 0; j < VEC<T>; ++j) {
                    const float value = to_float(element<T>(v[i], j));
                    MODE == ALONG_ROWS ? put(r + j, t, value) : put(r, t + j, value);
                }
            }
        }
    }
}

/** Asks L2 for the lines of a tile's whole vectors in MODE (no wait, no registers held). */
template <int MODE, int MAXV, typename T>
__device__ __forceinline__ void prefetch_vectors(const Tile<T> &tile) {
#pragma unroll
    for (int it = 0; it < MAXV; ++it) {
        int r = 0;
        int t = 0;
        if (tile.template vector_at<MODE>(thread_index() + it * THREADS, r, t)) {
            asm volatile("prefetch.global.L2 [%0];" ::"l"(tile.src + r * tile.rs + t * tile.ts));
        }
    }
}

/** Asks L2 for a tile read by vectors (the element-wise modes are left to their loads). */
template <int MAXV, typename T> __device__ __forceinline__ void prefetch_tile(const Tile<T> &tile) {
    if (tile.mode == ALONG_ROWS) {
        prefetch_vectors<ALONG_ROWS, MAXV>(tile);
    } else if (tile.mode == ALONG_TIME) {
        prefetch_vectors<ALONG_TIME, MAXV>(tile);
    }
}

/** Hands every element (r, t, value) of a tile to put: its whole vectors, then the rest. */
template <int MAXV, typename T, typename Put>
__device__ __forceinline__ void stage_tile(const Tile<T> &tile, Put put) {
    if (tile.mode == ALONG_ROWS) {
        stage_vectors<ALONG_ROWS, MAXV>(tile, put);
    } else if (tile.mode == ALONG_TIME) {
        stage_vectors<ALONG_TIME, MAXV>(tile, put);
    }
    tile.for_elements([&](int r, int t) { put(r, t, to_float(tile.at(r, t))); });
}

/**
 * Stores the whole vectors in MODE of the chunk's outputs: element (r, t) of the out tile `o`
 * (o.src is the output) is the staged output y[r][slot(t)] gated by silu of z's element (r, t)
 * (no gate where z.src is NULL; z has o's mode), the thread's z loads in flight together.
 */
template <int MODE, typename T>
__device__ __forceinline__ void store_vectors(const Tile<T> &o, const Tile<T> &z, const float *y) {
    constexpr int V = VEC<T>;
    constexpr int MAXV = MAX_VECTORS<T, ROWS>;
    uint4 zv[MAXV] = {};
    if (z.src) {
#pragma unroll
        for (int it = 0; it < MAXV; ++it) {
            int r = 0;
            int t = 0;
            if (z.template vector_at<MODE>(thread_index() + it * THREADS, r, t)) {
                zv[it] = load_vec(z.src + r * z.rs + t * z.ts);
            }
        }
    }
#pragma unroll
    for (int it = 0; it < MAXV; ++it) {
        int r = 0;
        int t = 0;
        if (o.template vector_at<MODE>(thread_index() + it * THREADS, r, t)) {
            T v[V];
#pragma unroll
            for (int j = 0; j < V; ++j) {
                const int rj = MODE == ALONG_ROWS ? r + j : r;
                const int tj = MODE == ALONG_ROWS ? t : t + j;
                const float gate = z.src ? silu_dev(to_float(element<T>(zv[it], j))) : 1.0f;
                v[j] = from_float<T>(y[rj * CHUNK + slot(tj)] * gate);
            }
            store_vec(const_cast<T *>(o.src) + r * o.rs + t * o.ts, v);
        }
    }
}

/** Stores the chunk's outputs (see store_vectors): the whole vectors, then the rest. */
template <typename T>
__device__ __forceinline__ void store_tile(const Tile<T> &o, const Tile<T> &z, const float *y) {
    if (o.mode == ALONG_ROWS) {
        store_vectors<ALONG_ROWS>(o, z, y);
    } else if (o.mode == ALONG_TIME) {
        store_vectors<ALONG_TIME>(o, z, y);
    }
    o.for_elements([&](int r, int t) {
        const float gate = z.src ? silu_dev(to_float(z.at(r, t))) : 1.0f;
        const_cast<T *>(o.src)[r * o.rs + t * o.ts] = from_float<T>(y[r * CHUNK + slot(t)] * gate);
    });
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

    // the tiles of the chunk of `steps` steps from step t0
    const auto tile_u = [&](int64_t t0, int steps) {
        return Tile<T>{u + t0 * p.us[3], p.us[1], p.us[3], ROWS, rows_valid, steps, lay.u_mode};
    };
    const auto tile_dt = [&](int64_t t0, int steps) {
        return Tile<T>{dt + t0 * p.dts[3], p.dts[1], p.dts[3],   ROWS,
                       rows_valid,         steps,    lay.dt_mode};
    };
    const auto tile_B = [&](int64_t t0, int steps) {
        return Tile<T>{Bp + t0 * p.Bs[3], p.Bs[2], p.Bs[3], N, N, steps, lay.b_mode};
    };
    const auto tile_C = [&](int64_t t0, int steps) {
        return Tile<T>{Cp + t0 * p.Cs[3], p.Cs[2], p.Cs[3], N, N, steps, lay.c_mode};
    };
    const auto tile_z = [&](int64_t t0, int steps) {
        return Tile<T>{z ? z + t0 * p.zs[3] : nullptr,
                       p.zs[1],
                       p.zs[3],
                       ROWS,
                       rows_valid,
                       steps,
                       lay.out_mode};
    };
    const auto chunk_steps = [&](int64_t t0) {
        return p.seqlen - t0 < CHUNK ? static_cast<int>(p.seqlen - t0) : CHUNK;
    };
    constexpr int ROW_VECS = MAX_VECTORS<T, ROWS>;
    constexpr int STATE_VECS = MAX_VECTORS<T, MAX_STATES>;

    for (int64_t t0 = 0; t0 < p.seqlen; t0 += CHUNK) {
        const int steps = chunk_steps(t0);
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
        stage_tile<ROW_VECS>(tile_u(t0, steps), put_u);
        stage_tile<ROW_VECS>(tile_dt(t0, steps), put_dt);
        stage_tile<STATE_VECS>(tile_B(t0, steps), put_B);
        stage_tile<STATE_VECS>(tile_C(t0, steps), put_C);
        __syncthreads();
        // while the chunk is scanned, L2 fetches this chunk's z and the next chunk's inputs
        if (z) {
            prefetch_tile<ROW_VECS>(tile_z(t0, steps));
        }
        if (t0 + CHUNK < p.seqlen) {
            const int64_t t1 = t0 + CHUNK;
            const int next = chunk_steps(t1);
            prefetch_tile<ROW_VECS>(tile_u(t1, next));
            prefetch_tile<ROW_VECS>(tile_dt(t1, next));
            prefetch_tile<STATE_VECS>(tile_B(t1, next));
            prefetch_tile<STATE_VECS>(tile_C(t1, next));
        }
        // every warp walks (the block's syncs need it); rows past the block's channels store
        // nothing
        scan_chunk(s_u + warp * CHUNK, s_dt + warp * CHUNK, s_B, s_C, s_carry + warp * N,
                   s_a2 + warp * N, N, dskip);
        __syncthreads();
        const Tile<T> to{out + t0 * p.os[3], p.os[1], p.os[3],     ROWS,
                         rows_valid,         steps,   lay.out_mode};
        store_tile(to, tile_z(t0, steps), s_u);
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
