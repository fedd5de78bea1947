// The scan recurrence on the GPU, shared by selective_scan.cu and ssd.cu.
#pragma once

#include <cuda_runtime.h>

#include "scan_params.hpp"

namespace mops {

/** Queues the recurrence of ScanParams on a stream (see selective_scan.cu). */
void run_scan_cuda(const ScanParams &p, cudaStream_t stream);

} // namespace mops
