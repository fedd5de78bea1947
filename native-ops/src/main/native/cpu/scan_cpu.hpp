// The CPU scan recurrence shared by selective_scan.cpp and ssd.cpp.
#pragma once

#include "scan_params.hpp"

namespace mops {

/** Runs the recurrence of ScanParams on the CPU (OpenMP over batch x outer channels). */
void run_scan_cpu(const ScanParams &p);

} // namespace mops
