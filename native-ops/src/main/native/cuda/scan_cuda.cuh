// The scan recurrence on the GPU, shared by selective_scan.cu and ssd.cu.
#pragma once

#include <cuda_runtime.h>

#include "scan_params.hpp"

namespace mops {

/**
 * Queues the recurrence of ScanParams on a stream (see selective_scan.cu): single steps take the
 * one-step kernel; where scan_rows_leave_gpu_idle, Mamba-1 sequences of at most 16 states take
 * the single-pass scan of selective_scan_blocked.cu (unless MAMBADJL_SCAN_SINGLE_PASS=0) and other
 * sequences longer than one chunk (128 steps or more) the time-parallel (chunked) form; the rest
 * the sequential walk.
 */
void run_scan_cuda(const ScanParams &p, cudaStream_t stream);

/**
 * Whether the sequential walk leaves most of the current GPU idle: its (batch, channel) rows times
 * the lanes serving each (1 to 32 by dstate) below a quarter of the multiprocessors' resident
 * threads, where the walk is latency-bound and a form parallel over time wins. The one occupancy
 * rule of the scan family, for the SSD's choice of its chunked form too.
 */
bool scan_rows_leave_gpu_idle(const ScanParams &p);

} // namespace mops
