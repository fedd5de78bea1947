// The products of the chunked Mamba-2 SSD on tensor cores, for float16 and bfloat16 inputs: the
// chunk states (launch (2) of ssd_chunked.cu) and the outputs (launch (4)); launches (1) and (3)
// and the workspace are those of ssd_chunked.cu. Each block computes one 64 x 64 tile with 4
// warps, every warp a 32 x 32 quarter as 2 x 2 WMMA 16 x 16 x 16 products of 16-bit operands
// staged in shared memory, accumulated in float32:
//
//   (2) S_c[p, n] = sum_s (exp(a_last - a_s) dt_s x[s, p]) B[s, n]: the scaled x is formed in
//       float32 and rounded to the input dtype (mamba_ssm rounds the scaled B the same way); the
//       chunk states stay float32, as does the pass over the chunks.
//   (4) y[t, p] = exp(a_t) (C h_{c-1}^T)[t, p] + sum over 64-step source tiles up to the diagonal
//       of (C B^T o decay mask . dt)[t, s] x[s, p]: the entering state is rounded to the input
//       dtype for its product, and the masked C B^T tile is formed in float32 from the float32
//       product and rounded before it multiplies x, both as mamba_ssm does. The exp(a_t) factor
//       of the entering-state term scales the float32 product row by row (through shared memory)
//       rather than C, so that the one 16-bit C tile serves both products.
//
// Any head dimension and state size (up to 256) and any chunk size tile: rows and columns past
// the sizes are staged as zeros. Rows of 8 contiguous, 16-byte aligned elements load as 16-byte
// vectors; other strides load element by element.
#include <cuda_bf16.h>
#include <cuda_fp16.h>
#include <mma.h>

#include <cstdint>
#include <string>
#include <type_traits>

#include "cuda_check.cuh"
#include "dtype.hpp"
#include "scan_params.hpp"
#include "ssd_chunked.cuh"
#include "status.hpp"

namespace mops {
namespace {

namespace wmma = nvcuda::wmma;

constexpr int TILE = SSD_TILE;
constexpr int WM = 16; // WMMA tile side
constexpr int LDH =
    TILE + 8; // row pitch of 16-bit tiles: 32-byte aligned fragments, banks staggered
constexpr int LDF = TILE + 4; // row pitch of float32 tiles
constexpr int THREADS = 128;  // 4 warps, each a 32 x 32 quarter of the tile
constexpr int TILE_BYTES = TILE * LDH * 2;

/** The WMMA element type of a 16-bit storage dtype and its conversions to and from float32. */
template <typename T> struct Mma;

template <> struct Mma<bf16> {
    using type = __nv_bfloat16;
    static __device__ __forceinline__ uint16_t round(float v) {
        return __bfloat16_as_ushort(__float2bfloat16_rn(v));
    }
    static __device__ __forceinline__ float widen(uint16_t v) {
        return __bfloat162float(__ushort_as_bfloat16(v));
    }
};

template <> struct Mma<f16> {
    using type = __half;
    static __device__ __forceinline__ uint16_t round(float v) {
        return __half_as_ushort(__float2half_rn(v));
    }
    static __device__ __forceinline__ float widen(uint16_t v) {
        return __half2float(__ushort_as_half(v));
    }
};

template <typename T, typename Layout>
using FragA = wmma::fragment<wmma::matrix_a, WM, WM, WM, typename Mma<T>::type, Layout>;
template <typename T, typename Layout>
using FragB = wmma::fragment<wmma::matrix_b, WM, WM, WM, typename Mma<T>::type, Layout>;
using FragAcc = wmma::fragment<wmma::accumulator, WM, WM, WM, float>;

template <typename T>
__device__ __forceinline__ const typename Mma<T>::type *mma_ptr(const uint16_t *p) {
    return reinterpret_cast<const typename Mma<T>::type *>(p);
}

/** Scales the two 16-bit values packed in w by s, rounding each back to 16 bits. */
template <typename T> __device__ __forceinline__ uint32_t scale_pair(uint32_t w, float s) {
    const uint32_t lo = Mma<T>::round(Mma<T>::widen(static_cast<uint16_t>(w & 0xFFFFu)) * s);
    const uint32_t hi = Mma<T>::round(Mma<T>::widen(static_cast<uint16_t>(w >> 16)) * s);
    return lo | (hi << 16);
}

/**
 * Stages a 64 x 64 tile of 16-bit values into shared memory (row r at dst + r * ld): element
 * (r, c) = src[r * rs + c * cs] for r < nrows and c < ncols, times scale[r] (rounded back to 16
 * bits) where scale is given, zero elsewhere. Whole rows of contiguous, 16-byte aligned elements
 * load 8 at a time; other layouts element by element, consecutive threads along the smaller
 * stride.
 */
template <typename T>
__device__ void stage_tile(uint16_t *dst, int ld, const uint16_t *src, int64_t rs, int64_t cs,
                           int nrows, int ncols, const float *scale) {
    const bool vec =
        cs == 1 && ncols >= TILE && rs % 8 == 0 && (reinterpret_cast<uintptr_t>(src) & 15u) == 0;
    if (vec) {
        constexpr int PER_ROW = TILE / 8;
        for (int i = threadIdx.x; i < TILE * PER_ROW; i += THREADS) {
            const int r = i / PER_ROW;
            const int c = (i % PER_ROW) * 8;
            uint4 v = make_uint4(0u, 0u, 0u, 0u);
            if (r < nrows) {
                v = *reinterpret_cast<const uint4 *>(src + r * rs + c);
                if (scale) {
                    const float s = scale[r];
                    v.x = scale_pair<T>(v.x, s);
                    v.y = scale_pair<T>(v.y, s);
                    v.z = scale_pair<T>(v.z, s);
                    v.w = scale_pair<T>(v.w, s);
                }
            }
            *reinterpret_cast<uint4 *>(dst + r * ld + c) = v;
        }
        return;
    }
    const bool rows_fast = rs < cs;
    for (int i = threadIdx.x; i < TILE * TILE; i += THREADS) {
        const int r = rows_fast ? i % TILE : i / TILE;
        const int c = rows_fast ? i / TILE : i % TILE;
        uint16_t v = 0;
        if (r < nrows && c < ncols) {
            v = src[r * rs + c * cs];
            if (scale) {
                v = Mma<T>::round(Mma<T>::widen(v) * scale[r]);
            }
        }
        dst[r * ld + c] = v;
    }
}

/** Zeroes the four accumulators of a warp. */
__device__ __forceinline__ void zero(FragAcc (&acc)[2][2]) {
#pragma unroll
    for (int i = 0; i < 2; ++i) {
#pragma unroll
        for (int j = 0; j < 2; ++j) {
            wmma::fill_fragment(acc[i][j], 0.0f);
        }
    }
}

/** Stores a warp's four accumulators, its 32 x 32 quarter (wr, wc), into a float32 tile. */
__device__ __forceinline__ void store_quarter(float *dst, const FragAcc (&acc)[2][2], int wr,
                                              int wc) {
#pragma unroll
    for (int i = 0; i < 2; ++i) {
#pragma unroll
        for (int j = 0; j < 2; ++j) {
            wmma::store_matrix_sync(dst + (32 * wr + WM * i) * LDF + 32 * wc + WM * j, acc[i][j],
                                    LDF, wmma::mem_row_major);
        }
    }
}

/**
 * acc += A B over k in [0, kend) for the warp's quarter (wr, wc): A (rows of the tile, k) at
 * a[row * lda + k] row-major; B (k, columns) at b[k * ldb + col] (row-major) or at
 * b[col * ldb + k] (col-major).
 */
template <typename T, typename BLayout>
__device__ __forceinline__ void mma_quarter(FragAcc (&acc)[2][2], const uint16_t *a, int lda,
                                            const uint16_t *b, int ldb, int kend, int wr, int wc) {
    constexpr bool b_rows = std::is_same<BLayout, wmma::row_major>::value;
    for (int k = 0; k < kend; k += WM) {
        FragA<T, wmma::row_major> fa[2];
        FragB<T, BLayout> fb[2];
#pragma unroll
        for (int i = 0; i < 2; ++i) {
            wmma::load_matrix_sync(fa[i], mma_ptr<T>(a + (32 * wr + WM * i) * lda + k), lda);
        }
#pragma unroll
        for (int j = 0; j < 2; ++j) {
            const int col = 32 * wc + WM * j;
            wmma::load_matrix_sync(fb[j], mma_ptr<T>(b + (b_rows ? k * ldb + col : col * ldb + k)),
                                   ldb);
        }
#pragma unroll
        for (int i = 0; i < 2; ++i) {
#pragma unroll
            for (int j = 0; j < 2; ++j) {
                wmma::mma_sync(acc[i][j], fa[i], fb[j], acc[i][j]);
            }
        }
    }
}

/** (2) chunk states, one 64 x 64 (p, n) tile per block; grid (nc * ptiles * ntiles, heads, batch).
 */
template <typename T>
__global__ void __launch_bounds__(THREADS)
    chunk_state_mma_kernel(const ScanParams p, const SsdChunkGeom g) {
    __shared__ __align__(128) uint16_t s_x[TILE * LDH]; // scaled x, (step, p)
    __shared__ __align__(128) uint16_t s_b[TILE * LDH]; // B, (step, n)
    __shared__ __align__(128) float s_f[TILE * LDF];    // the finished (p, n) tile
    __shared__ float s_w[TILE];                         // exp(a_last - a_s) dt_s
    const SsdStateBlock blk(p, g);
    const int64_t h = blk.h, b = blk.b, c = blk.c, grp = blk.grp;
    const int64_t p0 = blk.p0, n0 = blk.n0, t0 = blk.t0, t1 = blk.t1;
    const int64_t P = p.ch2;
    const int64_t N = p.dstate;
    const uint16_t *x =
        static_cast<const uint16_t *>(p.u) + b * p.us[0] + h * p.us[1] + p0 * p.us[2];
    const uint16_t *B =
        static_cast<const uint16_t *>(p.B) + b * p.Bs[0] + grp * p.Bs[1] + n0 * p.Bs[2];
    const int64_t row = (b * p.ch1 + h) * p.seqlen;
    const float a_last = g.cum[row + t1 - 1];
    const int warp = threadIdx.x / 32;
    const int wr = warp / 2;
    const int wc = warp % 2;
    FragAcc acc[2][2];
    zero(acc);
    for (int64_t s0 = t0; s0 < t1; s0 += TILE) {
        const int ns = t1 - s0 < TILE ? static_cast<int>(t1 - s0) : TILE;
        __syncthreads(); // the previous steps' tiles are consumed
        for (int i = threadIdx.x; i < TILE; i += THREADS) {
            s_w[i] = i < ns ? expf(a_last - g.cum[row + s0 + i]) * g.dtv[row + s0 + i] : 0.0f;
        }
        __syncthreads();
        stage_tile<T>(s_x, LDH, x + s0 * p.us[3], p.us[3], p.us[2], ns, static_cast<int>(P - p0),
                      s_w);
        stage_tile<T>(s_b, LDH, B + s0 * p.Bs[3], p.Bs[3], p.Bs[2], ns, static_cast<int>(N - n0),
                      nullptr);
        __syncthreads();
        // S^T quarter: (p, s) is s_x read column-major, (s, n) is s_b row-major
        for (int k = 0; k < ns; k += WM) {
            FragA<T, wmma::col_major> fa[2];
            FragB<T, wmma::row_major> fb[2];
#pragma unroll
            for (int i = 0; i < 2; ++i) {
                wmma::load_matrix_sync(fa[i], mma_ptr<T>(s_x + k * LDH + 32 * wr + WM * i), LDH);
            }
#pragma unroll
            for (int j = 0; j < 2; ++j) {
                wmma::load_matrix_sync(fb[j], mma_ptr<T>(s_b + k * LDH + 32 * wc + WM * j), LDH);
            }
#pragma unroll
            for (int i = 0; i < 2; ++i) {
#pragma unroll
                for (int j = 0; j < 2; ++j) {
                    wmma::mma_sync(acc[i][j], fa[i], fb[j], acc[i][j]);
                }
            }
        }
    }
    store_quarter(s_f, acc, wr, wc);
    __syncthreads();
    float *out = g.state + (((b * p.ch1 + h) * g.nc + c) * P) * N;
    for (int i = threadIdx.x; i < TILE * TILE; i += THREADS) {
        const int r = i / TILE;
        const int cc = i % TILE;
        if (p0 + r < P && n0 + cc < N) {
            out[(p0 + r) * N + n0 + cc] = s_f[r * LDF + cc];
        }
    }
}

/** Dynamic shared memory of chunk_out_mma_kernel for a C tile of row pitch ldc. */
size_t out_smem_bytes(int ldc) {
    return static_cast<size_t>(TILE) * ldc * 2 + 2 * static_cast<size_t>(TILE_BYTES) +
           static_cast<size_t>(TILE) * LDF * sizeof(float) + 3 * TILE * sizeof(float);
}

/**
 * (4) outputs, one 64 x 64 (t, p) tile per block; grid (nc * ttiles * ptiles, heads, batch).
 * ldc: row pitch of the C tile, the state size rounded up to 64, plus 8.
 */
template <typename T>
__global__ void __launch_bounds__(THREADS)
    chunk_out_mma_kernel(const ScanParams p, const SsdChunkGeom g, const int ldc) {
    extern __shared__ __align__(128) unsigned char smem[];
    uint16_t *s_c = reinterpret_cast<uint16_t *>(smem); // C of the output steps, (t, n)
    uint16_t *s_k =
        s_c + TILE * ldc; // entering state (p, n), B (s, n), then the masked tile (t, s)
    uint16_t *s_x = s_k + TILE * LDH;                         // x of the source steps, (s, p)
    float *s_f = reinterpret_cast<float *>(s_x + TILE * LDH); // float32 products
    float *s_cum_t = s_f + TILE * LDF;
    float *s_cum_s = s_cum_t + TILE;
    float *s_dt_s = s_cum_s + TILE;
    const SsdOutBlock blk(p, g);
    const int64_t h = blk.h, b = blk.b, c = blk.c, grp = blk.grp;
    const int64_t p0 = blk.p0, cs = blk.cs, ce = blk.ce, tt0 = blk.tt0;
    if (tt0 >= ce) {
        return; // the whole block: this tile lies past a short last chunk
    }
    const int64_t P = p.ch2;
    const int64_t N = p.dstate;
    const int npad = ldc - 8;
    const int nt = ce - tt0 < TILE ? static_cast<int>(ce - tt0) : TILE;
    const int np = P - p0 < TILE ? static_cast<int>(P - p0) : TILE;
    const uint16_t *x = static_cast<const uint16_t *>(p.u) + b * p.us[0] + h * p.us[1];
    const uint16_t *B = static_cast<const uint16_t *>(p.B) + b * p.Bs[0] + grp * p.Bs[1];
    const uint16_t *C = static_cast<const uint16_t *>(p.C) + b * p.Cs[0] + grp * p.Cs[1];
    const int64_t row = (b * p.ch1 + h) * p.seqlen;
    const int warp = threadIdx.x / 32;
    const int wr = warp / 2;
    const int wc = warp % 2;
    for (int i = threadIdx.x; i < TILE; i += THREADS) {
        s_cum_t[i] = i < nt ? g.cum[row + tt0 + i] : 0.0f;
    }
    for (int n0 = 0; n0 < npad; n0 += TILE) {
        stage_tile<T>(s_c + n0, ldc, C + tt0 * p.Cs[3] + n0 * p.Cs[2], p.Cs[3], p.Cs[2], nt,
                      static_cast<int>(N - n0), nullptr);
    }
    FragAcc acc[2][2];
    zero(acc);
    // state entering the chunk (zero in the first chunk without initial states)
    if (c > 0 || p.init) {
        const float *prev = g.state + (((b * p.ch1 + h) * g.nc + c) * P + p0) * N;
        for (int n0 = 0; n0 < npad; n0 += TILE) {
            __syncthreads(); // the previous state tile is consumed
            // the entering state is rounded to the input dtype for the tensor cores (mamba_ssm
            // does the same); it stays float32 in the workspace and the final states
            for (int i = threadIdx.x; i < TILE * TILE; i += THREADS) {
                const int r = i / TILE;
                const int k = i % TILE;
                s_k[r * LDH + k] =
                    r < np && n0 + k < N ? Mma<T>::round(prev[r * N + n0 + k]) : uint16_t{0};
            }
            __syncthreads();
            // (t, n) is s_c row-major, (n, p) is s_k read column-major
            mma_quarter<T, wmma::col_major>(acc, s_c + n0, ldc, s_k, LDH, TILE, wr, wc);
        }
        // exp(a_t) scales the rows of the float32 product
        store_quarter(s_f, acc, wr, wc);
        __syncthreads();
        for (int i = threadIdx.x; i < TILE * TILE; i += THREADS) {
            s_f[(i / TILE) * LDF + i % TILE] *= expf(s_cum_t[i / TILE]);
        }
        __syncthreads();
#pragma unroll
        for (int i = 0; i < 2; ++i) {
#pragma unroll
            for (int j = 0; j < 2; ++j) {
                wmma::load_matrix_sync(acc[i][j], s_f + (32 * wr + WM * i) * LDF + 32 * wc + WM * j,
                                       LDF, wmma::mem_row_major);
            }
        }
    }
    // intra-chunk: source tiles up to and including the diagonal one
    for (int64_t s0 = cs; s0 <= tt0; s0 += TILE) {
        const bool diag = s0 == tt0;
        const int ns = ce - s0 < TILE ? static_cast<int>(ce - s0) : TILE;
        __syncthreads(); // the previous source tile (and the state term) is consumed
        for (int i = threadIdx.x; i < TILE; i += THREADS) {
            s_cum_s[i] = i < ns ? g.cum[row + s0 + i] : 0.0f;
            s_dt_s[i] = i < ns ? g.dtv[row + s0 + i] : 0.0f;
        }
        stage_tile<T>(s_x, LDH, x + p0 * p.us[2] + s0 * p.us[3], p.us[3], p.us[2], ns, np, nullptr);
        // C B^T in float32; on the diagonal tile the quarter above the diagonal is all masked
        const bool masked = diag && wc > wr;
        FragAcc gm[2][2];
        zero(gm);
        for (int n0 = 0; n0 < npad; n0 += TILE) {
            if (n0 > 0) {
                __syncthreads(); // the previous B tile is consumed
            }
            stage_tile<T>(s_k, LDH, B + s0 * p.Bs[3] + n0 * p.Bs[2], p.Bs[3], p.Bs[2], ns,
                          static_cast<int>(N - n0), nullptr);
            __syncthreads();
            if (!masked) {
                // (t, n) is s_c row-major, (n, s) is s_k read column-major
                mma_quarter<T, wmma::col_major>(gm, s_c + n0, ldc, s_k, LDH, TILE, wr, wc);
            }
        }
        if (!masked) {
            store_quarter(s_f, gm, wr, wc);
        }
        __syncthreads();
        // m[t, s] = (C_t . B_s) exp(a_t - a_s) dt_s for s <= t, rounded to the input dtype
        for (int i = threadIdx.x; i < TILE * TILE; i += THREADS) {
            const int r = i / TILE;
            const int q = i % TILE;
            const bool keep = (!diag || q <= r) && q < ns && r < nt;
            s_k[r * LDH + q] =
                keep ? Mma<T>::round(s_f[r * LDF + q] * expf(s_cum_t[r] - s_cum_s[q]) * s_dt_s[q])
                     : uint16_t{0};
        }
        __syncthreads();
        // (t, s) is s_k row-major, (s, p) is s_x row-major; on the diagonal, rows 32 wr .. 32 wr
        // + 31 need sources up to 32 wr + 31 only
        mma_quarter<T, wmma::row_major>(acc, s_k, LDH, s_x, LDH, diag ? 32 * wr + 32 : TILE, wr,
                                        wc);
    }
    // s_f was last read before the barrier above the final product
    store_quarter(s_f, acc, wr, wc);
    __syncthreads();
    // D skip, z gate, store
    const uint16_t *z =
        p.z ? static_cast<const uint16_t *>(p.z) + b * p.zs[0] + h * p.zs[1] : nullptr;
    uint16_t *out = static_cast<uint16_t *>(p.out) + b * p.os[0] + h * p.os[1];
    for (int i = threadIdx.x; i < TILE * TILE; i += THREADS) {
        const int r = i / TILE;
        const int cc = i % TILE;
        if (r < nt && cc < np) {
            const int64_t t = tt0 + r;
            const int64_t pp = p0 + cc;
            float y = s_f[r * LDF + cc];
            if (p.D) {
                y = fmaf(p.D[h * p.Ds[0] + pp * p.Ds[1]],
                         Mma<T>::widen(x[pp * p.us[2] + t * p.us[3]]), y);
            }
            if (z) {
                y *= ssd_silu(Mma<T>::widen(z[pp * p.zs[2] + t * p.zs[3]]));
            }
            out[pp * p.os[2] + t * p.os[3]] = Mma<T>::round(y);
        }
    }
}

/** Calls fn with a tag of the 16-bit storage dtype. */
template <typename Fn> void dispatch_16bit(int32_t dtype, Fn &&fn) {
    if (dtype == MOPS_BF16) {
        fn(bf16{});
    } else if (dtype == MOPS_F16) {
        fn(f16{});
    } else {
        throw Error(MOPS_ERR_INVALID_ARGUMENT,
                    "the tensor-core SSD takes float16 or bfloat16, not dtype code " +
                        std::to_string(dtype));
    }
}

} // namespace

void launch_ssd_chunk_states_mma(const ScanParams &p, const SsdChunkGeom &g, cudaStream_t stream) {
    const dim3 grid(static_cast<unsigned>(g.nc * g.ptiles * g.ntiles), static_cast<unsigned>(p.ch1),
                    static_cast<unsigned>(p.batch));
    dispatch_16bit(p.dtype, [&](auto tag) {
        chunk_state_mma_kernel<decltype(tag)><<<grid, THREADS, 0, stream>>>(p, g);
        MOPS_CUDA_CHECK_LAUNCH("ssd chunk_state_mma_kernel launch");
    });
}

void launch_ssd_chunk_outputs_mma(const ScanParams &p, const SsdChunkGeom &g, cudaStream_t stream) {
    const int ldc = g.ntiles * TILE + 8;
    const size_t smem = out_smem_bytes(ldc);
    const dim3 grid(static_cast<unsigned>(g.nc * g.ttiles * g.ptiles), static_cast<unsigned>(p.ch1),
                    static_cast<unsigned>(p.batch));
    dispatch_16bit(p.dtype, [&](auto tag) {
        using T = decltype(tag);
        MOPS_CUDA_CHECK(cudaFuncSetAttribute(chunk_out_mma_kernel<T>,
                                             cudaFuncAttributeMaxDynamicSharedMemorySize,
                                             static_cast<int>(smem)));
        chunk_out_mma_kernel<T><<<grid, THREADS, smem, stream>>>(p, g, ldc);
        MOPS_CUDA_CHECK_LAUNCH("ssd chunk_out_mma_kernel launch");
    });
}

} // namespace mops
