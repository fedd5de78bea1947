#!/usr/bin/env bash
# One device call that does a GPU session's measuring (issue 8), in about 350 s of the call's 600:
# every JUnit test tagged `gpu` (scripts/gpu-run.sh), the kernel benchmarks of MAMBADJL_JMH_ARGS
# (default: the copy floor, the scans, the SSD and sampling), then the model harness
# (scripts/gpu-bench.sh) with Nsight Compute of the prefills of MAMBADJL_NCU_PREFILL_MODELS
# (default codestral-7b) and of the decoding steps of MAMBADJL_NCU_MODELS (default none).
# At most 8 files come back in $OUT: gpu-tests.log, jmh-gpu.json/.log, bench.log,
# gpu-model.json/.log and ncu.tgz (the Nsight Compute CSVs). Prepare with
#   MAMBADJL_GPU_ARCH=90-real bash scripts/gpu-prepare.sh
# then call the device tool with carry [".gpu"] and the command `bash scripts/gpu-session.sh`.
# The other variables of gpu-run.sh and gpu-bench.sh pass through (MAMBADJL_GPU_TESTS,
# MAMBADJL_BENCH_ARGS, MAMBADJL_CUDA_PDL, ...).
set -uo pipefail
cd "$(dirname "$0")/.."
export OUT=${OUT:-/tmp/out}
mkdir -p "$OUT"
MAMBADJL_JMH_ARGS=${MAMBADJL_JMH_ARGS:-'GpuKernelBenchmark.(copyFloor|selectiveScan|ssd|sampleTokens) -f 1 -wi 2 -i 3 -w 1 -r 1'} \
  timeout "${MAMBADJL_SESSION_TESTS_TIMEOUT:-300}" bash scripts/gpu-run.sh >/dev/null 2>&1
tests=$?
rm -rf "$OUT/junit"
MAMBADJL_NCU_MODELS=${MAMBADJL_NCU_MODELS-} \
  MAMBADJL_NCU_PREFILL_MODELS=${MAMBADJL_NCU_PREFILL_MODELS-codestral-7b} \
  MAMBADJL_NCU_CACHE=${MAMBADJL_NCU_CACHE:-none} \
  MAMBADJL_NCU_PREFILL_TIMEOUT=${MAMBADJL_NCU_PREFILL_TIMEOUT:-80} \
  MAMBADJL_BENCH_TIMEOUT=${MAMBADJL_BENCH_TIMEOUT:-200} \
  bash scripts/gpu-bench.sh >"$OUT/bench.log" 2>&1
bench=$?
# the device tool brings back at most 8 files: the Nsight Compute CSVs travel as one archive
if compgen -G "$OUT/ncu-*.csv" >/dev/null; then
  (cd "$OUT" && tar czf ncu.tgz ncu-*.csv && rm -f ncu-*.csv)
fi
echo "tests: exit $tests; harness: exit $bench"
grep -E "tests (found|successful|failed)" "$OUT/gpu-tests.log"
grep -E "✘" "$OUT/gpu-tests.log" | head -20
grep -E "^(GpuKernelBenchmark\.|Benchmark )" "$OUT/jmh-gpu.log"
grep -E "^(copy|decode|prefill)" "$OUT/gpu-model.log"
grep -E "^ncu" "$OUT/bench.log"
exit $((tests != 0 ? tests : bench))
