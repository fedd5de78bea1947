package io.github.mambadjl.nativeops;

import io.github.mambadjl.nativeops.CpuKernels.InstructionSet;

/** The RMSNorm tests on the CPU paths of instruction set AVX2. */
@CappedAt(InstructionSet.AVX2)
class RmsNormAvx2CpuTest extends RmsNormCpuTest {}
