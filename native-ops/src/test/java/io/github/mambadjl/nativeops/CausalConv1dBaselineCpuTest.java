package io.github.mambadjl.nativeops;

import io.github.mambadjl.nativeops.CpuKernels.InstructionSet;

/** The causal conv1d tests on the CPU paths of instruction set BASELINE. */
@CappedAt(InstructionSet.BASELINE)
class CausalConv1dBaselineCpuTest extends CausalConv1dCpuTest {}
