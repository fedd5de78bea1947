package io.github.mambadjl.nativeops;

import io.github.mambadjl.nativeops.CpuKernels.InstructionSet;

/** The selective scan tests on the CPU paths of instruction set AVX2. */
@CappedAt(InstructionSet.AVX2)
class SelectiveScanAvx2CpuTest extends SelectiveScanCpuTest {}
