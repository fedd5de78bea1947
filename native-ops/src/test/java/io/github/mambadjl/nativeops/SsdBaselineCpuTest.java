package io.github.mambadjl.nativeops;

import io.github.mambadjl.nativeops.CpuKernels.InstructionSet;

/** The SSD tests on the CPU paths of instruction set BASELINE. */
@CappedAt(InstructionSet.BASELINE)
class SsdBaselineCpuTest extends SsdCpuTest {}
