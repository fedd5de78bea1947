// The products of the chunked Mamba-2 SSD on tensor cores, for float16 and bfloat16 inputs: the
// chunk states (launch (2) of ssd_chunked.cu) and the outputs (launch (4)); launches (1) and (3)
// and the workspace are those of ssd_chunked.cu. Both compute one 64 x 64 tile per block of 4
// warps from 16-bit operands, accumulating in float32:
//
//   (2) S_c[p, n] = sum_s (exp(a_last - a_s) dt_s x[s, p]) B[s, n]: the scaled x is formed in
//       float32 and rounded to the input dtype (mamba_ssm rounds the scaled B the same way); the
//       chunk states stay float32, as does the pass over the chunks. Every warp computes a
//       32 x 32 quarter as 2 x 2 WMMA 16 x 16 x 16 products of tiles staged in shared memory.
//   (4) y[t, p] = exp(a_t) (C h_{c-1}^T)[t, p] + sum over 64-step source tiles up to the diagonal
//       of (C B^T o decay mask . dt)[t, s] x[s, p]: the entering state is rounded to the input
//       dtype for its product, and exp(a_t) scales the float32 product row by row; the C B^T
//       tile is accumulated in float32, masked (s <= t on the diagonal tile), multiplied by
//       exp(a_t - a_s) dt_s in float32 and rounded to the input dtype before it multiplies x,
//       all as mamba_ssm does; the D skip and the z gate (silu) act in float32 on the final sum.
//
// The outputs use mma.sync m16n8k16 directly (as FlashAttention-2 does) so that accumulators stay
// in registers with a known layout: warp w owns the output rows 16 w .. 16 w + 15 of the tile and
// all 64 channels, so the causal mask is row-local. Per source tile a warp forms its 16 x 64 slice
// of C B^T in 8 m16n8 float32 accumulators; each thread knows the rows and sources of its
// accumulator elements, applies the mask and the exp(a_t - a_s) dt_s factor in registers, and
// packs adjacent pairs into 16 bits: the accumulators of two adjacent 8-source tiles are then
// exactly the A fragment of the m16n8k16 product with x over those 16 sources, so the masked
// tile never goes through shared memory. On the diagonal tile warp w skips the sources past its
// last row. Fragments come from shared memory through ldmatrix (x read transposed). The C tile
// stays resident for the entering-state product and every source tile; B, x and the per-step
// decays and dt of source tile j + 1 (after the diagonal tile: z) are copied with 16-byte
// cp.async into the second of two buffers while tile j computes, so a block waits on global
// memory only for C, the first source tile and the entering state (float32 in the workspace,
// converted on its way into shared memory, into the second B buffer, which is free until the
// first source tile computes). The output tile goes through shared memory once, rounded, so that
// rows are stored as 16-byte vectors.
//
// Any head dimension and state size (up to 256) and any chunk size tile: rows and columns past
// the sizes are staged as zeros. Rows of contiguous elements that start 16-byte aligned with a
// row stride of a multiple of 8 elements load as 16-byte vectors (cp.async for the outputs'
// operands, zero-filling the piece past the row's end); other strides load element by element.
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

// ---- the output kernel: raw m16n8k16 products with register-resident accumulators ----

constexpr int LDX = TILE + 8; // row pitch of the 16-bit x, z and output tiles

__device__ __forceinline__ uint32_t smem_addr(const void *ptr) {
    return static_cast<uint32_t>(__cvta_generic_to_shared(ptr));
}

/** Copies bytes (0 to 16) from src to the 16 bytes at dst asynchronously, zero-filling the rest. */
__device__ __forceinline__ void cp_async16(uint32_t dst, const void *src, int bytes) {
    asm volatile("cp.async.cg.shared.global [%0], [%1], 16, %2;\n" ::"r"(dst), "l"(src), "r"(bytes)
                 : "memory");
}

/** Copies bytes (0 or 4) from src to the 4 bytes at dst asynchronously, zero-filling the rest. */
__device__ __forceinline__ void cp_async4(uint32_t dst, const void *src, int bytes) {
    asm volatile("cp.async.ca.shared.global [%0], [%1], 4, %2;\n" ::"r"(dst), "l"(src), "r"(bytes)
                 : "memory");
}

__device__ __forceinline__ void cp_async_commit() {
    asm volatile("cp.async.commit_group;\n" ::: "memory");
}

/** Waits until at most pending of this thread's committed copy groups are still in flight. */
template <int pending> __device__ __forceinline__ void cp_async_wait() {
    asm volatile("cp.async.wait_group %0;\n" ::"n"(pending) : "memory");
}

/** Four 8 x 8 matrices of 16-bit values; lanes 8i .. 8i + 7 give the row addresses of matrix i. */
__device__ __forceinline__ void ldsm_x4(uint32_t (&r)[4], uint32_t addr) {
    asm volatile("ldmatrix.sync.aligned.m8n8.x4.shared.b16 {%0, %1, %2, %3}, [%4];\n"
                 : "=r"(r[0]), "=r"(r[1]), "=r"(r[2]), "=r"(r[3])
                 : "r"(addr));
}

/** As ldsm_x4, each matrix transposed. */
__device__ __forceinline__ void ldsm_x4_trans(uint32_t (&r)[4], uint32_t addr) {
    asm volatile("ldmatrix.sync.aligned.m8n8.x4.trans.shared.b16 {%0, %1, %2, %3}, [%4];\n"
                 : "=r"(r[0]), "=r"(r[1]), "=r"(r[2]), "=r"(r[3])
                 : "r"(addr));
}

/** d += a b for one m16n8k16 product of 16-bit operands, accumulated in float32. */
template <typename T>
__device__ __forceinline__ void mma16816(float (&d)[4], const uint32_t (&a)[4], uint32_t b0,
                                         uint32_t b1) {
    if constexpr (std::is_same<T, bf16>::value) {
        asm volatile("mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {%0, %1, %2, %3}, "
                     "{%4, %5, %6, %7}, {%8, %9}, {%0, %1, %2, %3};\n"
                     : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3])
                     : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b0), "r"(b1));
    } else {
        asm volatile("mma.sync.aligned.m16n8k16.row.col.f32.f16.f16.f32 {%0, %1, %2, %3}, "
                     "{%4, %5, %6, %7}, {%8, %9}, {%0, %1, %2, %3};\n"
                     : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3])
                     : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b0), "r"(b1));
    }
}

/** Rounds lo and hi to 16 bits (to nearest) and packs them, lo in the low half. */
template <typename T> __device__ __forceinline__ uint32_t pack2(float lo, float hi) {
    return static_cast<uint32_t>(Mma<T>::round(lo)) |
           (static_cast<uint32_t>(Mma<T>::round(hi)) << 16);
}

/**
 * Stages a 64 x width tile of 16-bit values (width a multiple of 8) into shared memory (row r at
 * dst + r * ld): element (r, c) = src[r * rs + c * cs] for r < nrows and c < ncols, zero
 * elsewhere. Rows of contiguous elements from a 16-byte aligned start and a row stride of a
 * multiple of 8 elements are copied asynchronously in 16-byte pieces (cp.async, zero-filling the
 * piece past ncols and whole pieces past the tile; the caller commits and waits); other layouts
 * load element by element, consecutive threads along the smaller stride.
 */
__device__ void stage_async(uint16_t *dst, int ld, int width, const uint16_t *src, int64_t rs,
                            int64_t cs, int nrows, int ncols) {
    if (cs == 1 && rs % 8 == 0 && (reinterpret_cast<uintptr_t>(src) & 15u) == 0) {
        const int per_row = width / 8;
        for (int i = threadIdx.x; i < TILE * per_row; i += THREADS) {
            const int r = i / per_row;
            const int c = (i % per_row) * 8;
            const int left = r < nrows ? ncols - c : 0;
            const int bytes = left >= 8 ? 16 : (left > 0 ? 2 * left : 0);
            cp_async16(smem_addr(dst + r * ld + c), bytes > 0 ? src + r * rs + c : src, bytes);
        }
        return;
    }
    const bool rows_fast = rs < cs;
    for (int i = threadIdx.x; i < TILE * width; i += THREADS) {
        const int r = rows_fast ? i % TILE : i / width;
        const int c = rows_fast ? i / TILE : i % width;
        dst[r * ld + c] = r < nrows && c < ncols ? src[r * rs + c * cs] : uint16_t{0};
    }
}

/**
 * Stores the first nrows x ncols of a 64 x 64 tile of 16-bit values in shared memory (row pitch
 * LDX) to dst[r * rs + c * cs]: 16-byte vectors where the rows are contiguous and 16-byte
 * aligned, element by element otherwise (and for the last piece of a row shorter than 8).
 */
__device__ void store_tile(uint16_t *dst, int64_t rs, int64_t cs, const uint16_t *src, int nrows,
                           int ncols) {
    if (cs == 1 && rs % 8 == 0 && (reinterpret_cast<uintptr_t>(dst) & 15u) == 0) {
        constexpr int PER_ROW = TILE / 8;
        for (int i = threadIdx.x; i < TILE * PER_ROW; i += THREADS) {
            const int r = i / PER_ROW;
            const int c = (i % PER_ROW) * 8;
            if (r >= nrows || c >= ncols) {
                continue;
            }
            if (c + 8 <= ncols) {
                *reinterpret_cast<uint4 *>(dst + r * rs + c) =
                    *reinterpret_cast<const uint4 *>(src + r * LDX + c);
            } else {
                for (int e = c; e < ncols; ++e) {
                    dst[r * rs + e] = src[r * LDX + e];
                }
            }
        }
        return;
    }
    const bool rows_fast = rs < cs;
    for (int i = threadIdx.x; i < TILE * TILE; i += THREADS) {
        const int r = rows_fast ? i % TILE : i / TILE;
        const int c = rows_fast ? i / TILE : i % TILE;
        if (r < nrows && c < ncols) {
            dst[r * rs + c * cs] = src[r * LDX + c];
        }
    }
}

/** Dynamic shared memory of chunk_out_mma_kernel for C and B tiles of row pitch ldc. */
size_t out_smem_bytes(int ldc) {
    return 3 * static_cast<size_t>(TILE) * ldc * 2 + 2 * static_cast<size_t>(TILE) * LDX * 2 +
           4 * TILE * sizeof(float);
}

/**
 * (4) outputs, one 64 x 64 (t, p) tile per block; grid (nc * ttiles * ptiles, heads, batch).
 * ldc: row pitch of the C and B tiles, the state size rounded up to 64, plus 8. Warp w owns the
 * output rows 16 w .. 16 w + 15 and all 64 channels: 8 m16n8 accumulators of 4 floats per thread
 * (thread lane: rows 16 w + lane / 4 (+ 8), channels 8 j + 2 (lane % 4) (+ 1)).
 */
template <typename T>
__global__ void __launch_bounds__(THREADS)
    chunk_out_mma_kernel(const ScanParams p, const SsdChunkGeom g, const int ldc) {
    extern __shared__ __align__(128) unsigned char smem[];
    const int ctile = TILE * ldc;
    uint16_t *s_c = reinterpret_cast<uint16_t *>(smem); // C of the output steps (t, n); at the
                                                        // end the output tile (t, p)
    uint16_t *s_b = s_c + ctile;     // B of the source steps (s, n), two buffers; the second holds
                                     // the entering state (p, n) before the first source tile
    uint16_t *s_x = s_b + 2 * ctile; // x of the source steps (s, p), two buffers; the one after
                                     // the diagonal tile's takes z
    float *s_cs = reinterpret_cast<float *>(s_x + 2 * TILE * LDX); // a_s per buffer
    float *s_dt = s_cs + 2 * TILE;                                 // dt_s per buffer
    const SsdOutBlock blk(p, g);
    const int64_t h = blk.h, b = blk.b, c = blk.c, grp = blk.grp;
    const int64_t p0 = blk.p0, cs = blk.cs, ce = blk.ce, tt0 = blk.tt0;
    if (tt0 >= ce) {
        return; // the whole block: this tile lies past a short last chunk
    }
    const int64_t P = p.ch2;
    const int64_t N = p.dstate;
    const int npad = ldc - 8;
    const int kn = static_cast<int>((N + 15) / 16); // 16-state steps of the products over n
    const int nt = ce - tt0 < TILE ? static_cast<int>(ce - tt0) : TILE;
    const int np = P - p0 < TILE ? static_cast<int>(P - p0) : TILE;
    const int nsrc = static_cast<int>((tt0 - cs) / TILE) + 1; // source tiles, the last diagonal
    const uint16_t *x = static_cast<const uint16_t *>(p.u) + b * p.us[0] + h * p.us[1];
    const uint16_t *B = static_cast<const uint16_t *>(p.B) + b * p.Bs[0] + grp * p.Bs[1];
    const uint16_t *C = static_cast<const uint16_t *>(p.C) + b * p.Cs[0] + grp * p.Cs[1];
    const int64_t row = (b * p.ch1 + h) * p.seqlen;
    const int lane = threadIdx.x % 32;
    const int warp = threadIdx.x / 32;
    const int r0 = 16 * warp + lane / 4; // this thread's output rows r0 and r0 + 8
    const int q0 = 2 * (lane % 4);       // and columns q0, q0 + 1 of each 8-column tile
    const bool active = 16 * warp < nt;  // the warp has rows inside the chunk
    const float at0 = r0 < nt ? g.cum[row + tt0 + r0] : 0.0f;
    const float at1 = r0 + 8 < nt ? g.cum[row + tt0 + r0 + 8] : 0.0f;
    // ldmatrix row addresses of this lane: A fragments (16 rows x 16 k) of a row-major tile;
    // pairs of B fragments (16 k x 2 x 8 columns) of a tile stored (column, k), and of one stored
    // (k, column) read transposed
    const int a_row = 16 * warp + lane % 16;
    const int a_col = 8 * (lane / 16);
    const int b_row = lane % 8 + 8 * (lane / 16);
    const int b_col = 8 * (lane / 8 % 2);
    const int v_row = lane % 8 + 8 * (lane / 8 % 2);
    const int v_col = 8 * (lane / 16);
    const uint32_t c_addr = smem_addr(s_c + a_row * ldc + a_col);

    // queues the loads of source tile j (B, x and the per-step decay and dt) into buffer j % 2
    auto stage_source = [&](int j) {
        const int64_t s0 = cs + static_cast<int64_t>(j) * TILE;
        const int ns = ce - s0 < TILE ? static_cast<int>(ce - s0) : TILE;
        const int buf = j % 2;
        for (int i = threadIdx.x; i < 2 * TILE; i += THREADS) {
            const int k = i % TILE;
            const float *src = (i < TILE ? g.cum : g.dtv) + row + s0;
            cp_async4(smem_addr((i < TILE ? s_cs : s_dt) + buf * TILE + k), src + (k < ns ? k : 0),
                      k < ns ? 4 : 0);
        }
        stage_async(s_b + buf * ctile, ldc, npad, B + s0 * p.Bs[3], p.Bs[3], p.Bs[2], ns,
                    static_cast<int>(N));
        stage_async(s_x + buf * TILE * LDX, LDX, TILE, x + p0 * p.us[2] + s0 * p.us[3], p.us[3],
                    p.us[2], ns, np);
    };
    stage_async(s_c, ldc, npad, C + tt0 * p.Cs[3], p.Cs[3], p.Cs[2], nt, static_cast<int>(N));
    cp_async_commit();
    stage_source(0);
    cp_async_commit();

    float acc[8][4] = {}; // y (t, p)
    const bool entering = c > 0 || p.init;
    if (entering) {
        // the entering state (zero in the first chunk without initial states), rounded to the
        // input dtype for the tensor cores (mamba_ssm does the same); it stays float32 in the
        // workspace and the final states
        const float *prev = g.state + (((b * p.ch1 + h) * g.nc + c) * P + p0) * N;
        uint16_t *s_h = s_b + ctile;
        const int quads = npad / 4;
        const bool vec = N % 4 == 0 && (reinterpret_cast<uintptr_t>(prev) & 15u) == 0;
        // 8 loads of 4 states per thread in flight before their conversions
        constexpr int BATCH = 8;
        for (int i0 = 0; i0 < TILE * quads; i0 += BATCH * THREADS) {
            float v[BATCH][4];
#pragma unroll
            for (int u = 0; u < BATCH; ++u) {
                const int i = i0 + u * THREADS + threadIdx.x;
                const int r = i / quads;
                const int k = (i % quads) * 4;
                if (r < np && vec && k < N) {
                    const float4 f = *reinterpret_cast<const float4 *>(prev + r * N + k);
                    v[u][0] = f.x, v[u][1] = f.y, v[u][2] = f.z, v[u][3] = f.w;
                } else {
#pragma unroll
                    for (int e = 0; e < 4; ++e) {
                        v[u][e] = r < np && k + e < N ? prev[r * N + k + e] : 0.0f;
                    }
                }
            }
#pragma unroll
            for (int u = 0; u < BATCH; ++u) {
                const int i = i0 + u * THREADS + threadIdx.x;
                if (i < TILE * quads) {
                    const int r = i / quads;
                    const int k = (i % quads) * 4;
                    *reinterpret_cast<uint2 *>(s_h + r * ldc + k) =
                        make_uint2(pack2<T>(v[u][0], v[u][1]), pack2<T>(v[u][2], v[u][3]));
                }
            }
        }
    }
    cp_async_wait<1>(); // C has landed (the first source tile may be in flight)
    __syncthreads();
    if (entering && active) {
        // C h^T: (t, n) row-major times (n, p), the state stored (p, n)
        const uint32_t h_addr = smem_addr(s_b + ctile + b_row * ldc + b_col);
        for (int ks = 0; ks < kn; ++ks) {
            uint32_t a[4];
            ldsm_x4(a, c_addr + ks * 32);
#pragma unroll
            for (int jj = 0; jj < 4; ++jj) {
                uint32_t f[4];
                ldsm_x4(f, h_addr + (16 * jj * ldc + 16 * ks) * 2);
                mma16816<T>(acc[2 * jj], a, f[0], f[1]);
                mma16816<T>(acc[2 * jj + 1], a, f[2], f[3]);
            }
        }
        // exp(a_t) scales the rows of the float32 product
        const float e0 = expf(at0);
        const float e1 = expf(at1);
#pragma unroll
        for (int j = 0; j < 8; ++j) {
            acc[j][0] *= e0, acc[j][1] *= e0, acc[j][2] *= e1, acc[j][3] *= e1;
        }
    }

    // intra-chunk: source tiles up to and including the diagonal one; the loads of tile j + 1
    // (or of z after the diagonal tile) run while tile j computes
    for (int j = 0; j < nsrc; ++j) {
        const int buf = j % 2;
        __syncthreads(); // buffer (j + 1) % 2 (tile j - 1, or the entering state) is consumed
        if (j + 1 < nsrc) {
            stage_source(j + 1);
        } else if (p.z) {
            const uint16_t *z = static_cast<const uint16_t *>(p.z) + b * p.zs[0] + h * p.zs[1];
            stage_async(s_x + (1 - buf) * TILE * LDX, LDX, TILE, z + p0 * p.zs[2] + tt0 * p.zs[3],
                        p.zs[3], p.zs[2], nt, np);
        }
        cp_async_commit();
        cp_async_wait<1>(); // this thread's copies of tile j have landed
        __syncthreads();    // and everyone's
        if (!active) {
            continue;
        }
        const bool diag = j == nsrc - 1;
        const int64_t s0 = cs + static_cast<int64_t>(j) * TILE;
        const int ns = ce - s0 < TILE ? static_cast<int>(ce - s0) : TILE;
        // 16-source pairs with entries this warp keeps: s < ns, and s <= t on the diagonal
        int last = (ns - 1) / 16;
        if (diag && warp < last) {
            last = warp;
        }
        // C B^T in float32, 16 rows x 64 sources per warp
        float m[8][4] = {};
        const uint32_t bk_addr = smem_addr(s_b + buf * ctile + b_row * ldc + b_col);
        for (int ks = 0; ks < kn; ++ks) {
            uint32_t a[4];
            ldsm_x4(a, c_addr + ks * 32);
#pragma unroll
            for (int jj = 0; jj < 4; ++jj) {
                if (jj <= last) {
                    uint32_t f[4];
                    ldsm_x4(f, bk_addr + (16 * jj * ldc + 16 * ks) * 2);
                    mma16816<T>(m[2 * jj], a, f[0], f[1]);
                    mma16816<T>(m[2 * jj + 1], a, f[2], f[3]);
                }
            }
        }
        // m[t, s] = (C_t . B_s) exp(a_t - a_s) dt_s for s <= t, in registers; each pair of
        // adjacent 8-source accumulators, rounded to the input dtype, is the A fragment of the
        // product with x over those 16 sources
        const uint32_t x_addr = smem_addr(s_x + buf * TILE * LDX + v_row * LDX + v_col);
        const float *cum_s = s_cs + buf * TILE;
        const float *dt_s = s_dt + buf * TILE;
#pragma unroll
        for (int kk = 0; kk < 4; ++kk) {
            if (kk > last) {
                continue;
            }
            uint32_t a[4];
#pragma unroll
            for (int half = 0; half < 2; ++half) {
                const int j8 = 2 * kk + half;
                const int q = 8 * j8 + q0;
                const float2 as = *reinterpret_cast<const float2 *>(cum_s + q);
                const float2 ds = *reinterpret_cast<const float2 *>(dt_s + q);
                const bool lo_in = q < ns;
                const bool hi_in = q + 1 < ns;
                const bool k00 = lo_in && (!diag || q <= r0);
                const bool k01 = hi_in && (!diag || q + 1 <= r0);
                const bool k10 = lo_in && (!diag || q <= r0 + 8);
                const bool k11 = hi_in && (!diag || q + 1 <= r0 + 8);
                const float v00 = k00 ? m[j8][0] * expf(at0 - as.x) * ds.x : 0.0f;
                const float v01 = k01 ? m[j8][1] * expf(at0 - as.y) * ds.y : 0.0f;
                const float v10 = k10 ? m[j8][2] * expf(at1 - as.x) * ds.x : 0.0f;
                const float v11 = k11 ? m[j8][3] * expf(at1 - as.y) * ds.y : 0.0f;
                // the A fragment: a0 row r0, a1 row r0 + 8 of sources 16 kk + q0 (+ 1); a2, a3
                // the same rows 8 sources on
                a[2 * half] = pack2<T>(v00, v01);
                a[2 * half + 1] = pack2<T>(v10, v11);
            }
#pragma unroll
            for (int jj = 0; jj < 4; ++jj) {
                uint32_t f[4];
                ldsm_x4_trans(f, x_addr + (16 * kk * LDX + 16 * jj) * 2);
                mma16816<T>(acc[2 * jj], a, f[0], f[1]);
                mma16816<T>(acc[2 * jj + 1], a, f[2], f[3]);
            }
        }
    }
    cp_async_wait<0>(); // z
    __syncthreads();    // and every warp is past its last product (s_c is free)

    // D skip (x of the output steps is the diagonal tile's), z gate, rounded into s_c
    const int xbuf = (nsrc - 1) % 2;
    const uint16_t *s_xt = s_x + xbuf * TILE * LDX;
    const uint16_t *s_z = s_x + (1 - xbuf) * TILE * LDX;
    uint16_t *s_y = s_c;
#pragma unroll
    for (int j = 0; j < 8; ++j) {
        const int q = 8 * j + q0;
        float d0 = 0.0f;
        float d1 = 0.0f;
        if (p.D) {
            d0 = q < np ? p.D[h * p.Ds[0] + (p0 + q) * p.Ds[1]] : 0.0f;
            d1 = q + 1 < np ? p.D[h * p.Ds[0] + (p0 + q + 1) * p.Ds[1]] : 0.0f;
        }
#pragma unroll
        for (int half = 0; half < 2; ++half) {
            const int r = r0 + 8 * half;
            float y0 = acc[j][2 * half];
            float y1 = acc[j][2 * half + 1];
            const uint32_t xv = *reinterpret_cast<const uint32_t *>(s_xt + r * LDX + q);
            if (p.D) {
                y0 = fmaf(d0, Mma<T>::widen(static_cast<uint16_t>(xv & 0xFFFFu)), y0);
                y1 = fmaf(d1, Mma<T>::widen(static_cast<uint16_t>(xv >> 16)), y1);
            }
            if (p.z) {
                const uint32_t zv = *reinterpret_cast<const uint32_t *>(s_z + r * LDX + q);
                y0 *= ssd_silu(Mma<T>::widen(static_cast<uint16_t>(zv & 0xFFFFu)));
                y1 *= ssd_silu(Mma<T>::widen(static_cast<uint16_t>(zv >> 16)));
            }
            *reinterpret_cast<uint32_t *>(s_y + r * LDX + q) = pack2<T>(y0, y1);
        }
    }
    __syncthreads();
    uint16_t *out = static_cast<uint16_t *>(p.out) + b * p.os[0] + h * p.os[1];
    store_tile(out + p0 * p.os[2] + tt0 * p.os[3], p.os[3], p.os[2], s_y, nt, np);
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
