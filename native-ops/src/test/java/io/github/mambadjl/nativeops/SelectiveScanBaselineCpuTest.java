package io.github.mambadjl.nativeops;

import io.github.mambadjl.nativeops.CpuKernels.InstructionSet;

/** The selective scan tests on the CPU paths of instruction set BASELINE. */
@CappedAt(InstructionSet.BASELINE)
class SelectiveScanBaselineCpuTest extends SelectiveScanCpuTest {}
