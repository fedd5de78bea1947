package io.github.mambadjl.nativeops;

import io.github.mambadjl.nativeops.CpuKernels.InstructionSet;

/** The engine-op tests on the CPU paths of instruction set AVX2. */
@CappedAt(InstructionSet.AVX2)
class CpuTensorOpsAvx2Test extends CpuTensorOpsTest {}
