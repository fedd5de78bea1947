// The chunked (state-space-duality) form of the Mamba-2 SSD on the GPU; see ssd_chunked.cu.
#pragma once

#include <cuda_runtime.h>

#include "scan_params.hpp"

namespace mops {

/**
 * Queues the SSD of ScanParams (Mamba-2 layout: one decay per head) in chunks of chunk_size steps:
 * per chunk the cumulative decay, the intra-chunk matrix product, the chunk states, a pass over
 * the chunks carrying the state, and the outputs from the state entering each chunk.
 */
void run_ssd_chunked_cuda(const ScanParams &p, int64_t chunk_size, cudaStream_t stream);

} // namespace mops
