package io.github.mambadjl.nativeops;

import io.github.mambadjl.nativeops.CpuKernels.InstructionSet;

/** The causal conv1d tests on the CPU paths of instruction set AVX2. */
@CappedAt(InstructionSet.AVX2)
class CausalConv1dAvx2CpuTest extends CausalConv1dCpuTest {}
