// The scan recurrence on the GPU, shared by selective_scan.cu and ssd.cu.
#pragma once

#include <cuda_runtime.h>

#include "scan_params.hpp"

namespace mops {

/**
 * Queues the recurrence of ScanParams on a stream (see selective_scan.cu): the time-parallel
 * (chunked) form where scan_rows_leave_gpu_idle and the sequence spans several chunks, else the
 * sequential walk.
 */
void run_scan_cuda(const ScanParams &p, cudaStream_t stream);

/**
 * Whether the sequential walk leaves most of the current GPU idle: its (batch, channel) rows times
 * the lanes serving each (1 to 32 by dstate) below a quarter of the multiprocessors' resident
 * threads, where the walk is latency-bound and a form parallel over time wins.
 */
bool scan_rows_leave_gpu_idle(const ScanParams &p);

} // namespace mops
