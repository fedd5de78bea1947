package io.github.mambadjl.nativeops;

import io.github.mambadjl.nativeops.CpuKernels.InstructionSet;

/** The conv1d update tests on the CPU paths of instruction set AVX2. */
@CappedAt(InstructionSet.AVX2)
class CausalConv1dUpdateAvx2CpuTest extends CausalConv1dUpdateCpuTest {}
