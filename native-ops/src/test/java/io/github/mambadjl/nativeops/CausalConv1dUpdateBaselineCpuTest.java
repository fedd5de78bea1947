package io.github.mambadjl.nativeops;

import io.github.mambadjl.nativeops.CpuKernels.InstructionSet;

/** The conv1d update tests on the CPU paths of instruction set BASELINE. */
@CappedAt(InstructionSet.BASELINE)
class CausalConv1dUpdateBaselineCpuTest extends CausalConv1dUpdateCpuTest {}
