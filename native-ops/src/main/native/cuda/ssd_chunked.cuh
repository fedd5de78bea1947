// The chunked (state-space-duality) form of the Mamba-2 SSD on the GPU: the launches shared by
// both kinds of products are in ssd_chunked.cu (dt transform and cumulative decay, the pass over
// the chunks, and the float32 CUDA-core products); ssd_chunked_mma.cu has the tensor-core
// products for float16 and bfloat16 inputs.
#pragma once

#include <cuda_runtime.h>

#include "scan_params.hpp"

namespace mops {

/** Steps, head channels or states per side of the 64 x 64 tiles of the chunked kernels. */
constexpr int SSD_TILE = 64;

/** Chunk geometry and workspace shared by the launches of the chunked SSD. */
struct SsdChunkGeom {
    int64_t q = 1;          // chunk size
    int64_t nc = 1;         // chunks per sequence
    int ttiles = 1;         // 64-step tiles per chunk
    int ptiles = 1;         // 64-channel tiles per head
    int ntiles = 1;         // 64-state tiles
    float *dtv = nullptr;   // [batch, heads, seqlen] transformed dt
    float *cum = nullptr;   // [batch, heads, seqlen] cumulative dt * A inside each chunk
    float *state = nullptr; // [batch, heads, nc, P, N] chunk states, then entering states
};

/** The (p, n) tile of a block of launch (2); grid (nc * ptiles * ntiles, heads, batch). */
struct SsdStateBlock {
    int64_t b, h, grp, c, p0, n0, t0, t1; // chunk steps [t0, t1)
    __device__ __forceinline__ SsdStateBlock(const ScanParams &p, const SsdChunkGeom &g)
        : b(blockIdx.z), h(blockIdx.y), grp(h / (p.ch1 / p.ngroups)),
          c(blockIdx.x / (g.ntiles * g.ptiles)),
          p0(static_cast<int64_t>((blockIdx.x / g.ntiles) % g.ptiles) * SSD_TILE),
          n0(static_cast<int64_t>(blockIdx.x % g.ntiles) * SSD_TILE), t0(c * g.q),
          t1(t0 + g.q < p.seqlen ? t0 + g.q : p.seqlen) {}
};

/**
 * The (t, p) tile of a block of launch (4); grid (nc * ttiles * ptiles, heads, batch): steps from
 * tt0 of the chunk [cs, ce) (none where tt0 >= ce, past a short last chunk).
 */
struct SsdOutBlock {
    int64_t b, h, grp, c, p0, cs, ce, tt0;
    __device__ __forceinline__ SsdOutBlock(const ScanParams &p, const SsdChunkGeom &g)
        : b(blockIdx.z), h(blockIdx.y), grp(h / (p.ch1 / p.ngroups)),
          c(blockIdx.x / (g.ptiles * g.ttiles)),
          p0(static_cast<int64_t>(blockIdx.x % g.ptiles) * SSD_TILE), cs(c * g.q),
          ce(cs + g.q < p.seqlen ? cs + g.q : p.seqlen),
          tt0(cs + static_cast<int64_t>((blockIdx.x / g.ptiles) % g.ttiles) * SSD_TILE) {}
};

/** silu(v) in float32, as the chunked kernels gate their outputs. */
__device__ __forceinline__ float ssd_silu(float v) {
    return v / (1.0f + expf(-v));
}

/**
 * Queues the SSD of ScanParams (Mamba-2 layout: one decay per head) in chunks of chunk_size steps:
 * per chunk the cumulative decay, the intra-chunk matrix product, the chunk states, a pass over
 * the chunks carrying the state, and the outputs from the state entering each chunk. float16 and
 * bfloat16 inputs take the tensor-core products, float32 inputs the float32 CUDA-core ones.
 */
void run_ssd_chunked_cuda(const ScanParams &p, int64_t chunk_size, cudaStream_t stream);

/** Launch (2) on tensor cores: the chunk states of 16-bit inputs into g.state. */
void launch_ssd_chunk_states_mma(const ScanParams &p, const SsdChunkGeom &g, cudaStream_t stream);

/** Launch (4) on tensor cores: the outputs of 16-bit inputs from the entering states in g.state. */
void launch_ssd_chunk_outputs_mma(const ScanParams &p, const SsdChunkGeom &g, cudaStream_t stream);

} // namespace mops
