// The single-pass Mamba-1 sequence scan (selective_scan_blocked.cu), one of the forms that
// run_scan_cuda chooses from.
#pragma once

#include <cuda_runtime.h>

#include "scan_params.hpp"

namespace mops {

/**
 * Whether the single-pass scan serves p: a Mamba-1 sequence (one channel per c1, one decay per
 * state, more than one step) of at most 16 states, unless MAMBADJL_SCAN_SINGLE_PASS=0 is in the
 * environment (read once).
 */
bool blocked_scan_serves(const ScanParams &p);

/** Queues the single-pass scan of p (blocked_scan_serves(p) must hold) on a stream. */
void run_blocked_scan(const ScanParams &p, cudaStream_t stream);

} // namespace mops
