package io.github.mambadjl.nativeops;

import io.github.mambadjl.nativeops.CpuKernels.InstructionSet;

/** The engine-op tests on the CPU paths of instruction set BASELINE. */
@CappedAt(InstructionSet.BASELINE)
class CpuTensorOpsBaselineTest extends CpuTensorOpsTest {}
