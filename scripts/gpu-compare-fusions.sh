#!/usr/bin/env bash
# One device call (about 330 s) that checks the decoding step's fused GEMV forms and measures them
# against the separate kernels (round 7 of issue 8): the GPU tests of the fused forms, then the
# model harness for Codestral, mamba-2.8b and mamba2-2.7b with the fused forms (and Nsight Compute
# of Codestral's decoding step), then again for Codestral and mamba-2.8b with them switched off
# (MAMBADJL_GEMV_CONV=0 MAMBADJL_GEMV_GATED=0). Results in $OUT/gpu-tests.log, $OUT/on and
# $OUT/off. Prepare with MAMBADJL_GPU_ARCH=90-real bash scripts/gpu-prepare.sh, carry [".gpu"].
set -u
O=$OUT
OUT=$O MAMBADJL_GPU_TESTS='.*(FusedConvStepGpu|FusedGemvGpu|FusedGemmGpu|RecordedDecodeGpu|BlocksOnDeviceGolden)Test' MAMBADJL_GPU_BENCH=0 timeout 170 bash scripts/gpu-run.sh >/dev/null 2>&1; echo "tests exit $?"
rm -rf $O/junit
grep -E "tests (successful|failed)" $O/gpu-tests.log; grep -E "✘" $O/gpu-tests.log | head -8
mkdir -p $O/on $O/off
OUT=$O/on MAMBADJL_NCU_MODELS=codestral-7b MAMBADJL_NCU_CACHE=none MAMBADJL_BENCH_ARGS="--models codestral-7b,mamba-2.8b,mamba2-2.7b" timeout 200 bash scripts/gpu-bench.sh > $O/on/bench.log 2>&1
grep -E "^(copy|decode|prefill)|^ncu" $O/on/bench.log
OUT=$O/off MAMBADJL_GEMV_CONV=0 MAMBADJL_GEMV_GATED=0 MAMBADJL_NCU=0 MAMBADJL_BENCH_ARGS="--models codestral-7b,mamba-2.8b" timeout 120 bash scripts/gpu-bench.sh > $O/off/bench.log 2>&1
grep -E "^(copy|decode|prefill)" $O/off/bench.log
rm -f $O/on/gpu-model.log $O/off/gpu-model.log
