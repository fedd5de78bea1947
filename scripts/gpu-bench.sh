#!/usr/bin/env bash
# Runs GpuModelBenchmark (issue 8) on the GPU machine from a folder that scripts/gpu-prepare.sh
# filled (MAMBADJL_GPU_DIR, default .gpu), then, where Nsight Compute is installed, one decoding
# step of each model at 2 layers under ncu (kernel names and device times, one CSV per model).
# Results go to $OUT: gpu-model.json (the figures), gpu-model.log, ncu-<model>.csv.
# MAMBADJL_NCU_CACHE=none keeps the caches warm between kernels (ncu flushes them by default).
# MAMBADJL_NCU_MODELS picks the models of the decoding-step profiles (set and empty: none);
# MAMBADJL_NCU_PREFILL_MODELS (none by default) adds the kernels of an 8192-token prefill at 2
# layers (ncu-prefill-<model>.csv; MAMBADJL_NCU_PREFILL_TIMEOUT seconds each, default 120).
# The device tool sends the session's checkout, not a worktree: copy this script into the carried
# folder and call it from there, e.g. bash .gpu-bench/gpu-bench.sh with MAMBADJL_GPU_DIR=.gpu-bench.
set -uo pipefail
OUT=${OUT:-/tmp/out}
GPU_DIR=${MAMBADJL_GPU_DIR:-.gpu}
mkdir -p "$OUT" /tmp/rt
tar xzf "$GPU_DIR"/jre.tgz -C /tmp/rt
lib="$GPU_DIR"/classes/native-ops/classes/linux-x86-64/libmambaops_cuda.so
if [[ -f "$lib.gz" ]]; then
  gunzip -f "$lib.gz"
fi
JAVA=/tmp/rt/jre/bin/java
export LD_LIBRARY_PATH=/usr/local/cuda-13.0/targets/x86_64-linux/lib:${LD_LIBRARY_PATH:-}
nvidia-smi --query-gpu=name,memory.total,driver_version,clocks.sm,clocks.max.sm,clocks.mem \
  --format=csv,noheader
echo "nsys: $(command -v nsys || echo none); ncu: $(command -v ncu || echo none)"
cp=""
for d in "$GPU_DIR"/classes/*/classes; do cp="$cp:$d"; done
for j in "$GPU_DIR"/lib/*.jar; do cp="$cp:$j"; done
cp=${cp#:}
MAIN=io.github.mambadjl.jmh.GpuModelBenchmark
timeout "${MAMBADJL_BENCH_TIMEOUT:-300}" "$JAVA" -Xmx8g -Dai.djl.offline=true -cp "$cp" $MAIN \
  --out "$OUT/gpu-model.json" ${MAMBADJL_BENCH_ARGS:-} 2>&1 | tee "$OUT/gpu-model.log"
status=${PIPESTATUS[0]}
if command -v ncu >/dev/null && [[ "${MAMBADJL_NCU:-1}" == 1 ]]; then
  for m in ${MAMBADJL_NCU_MODELS-mamba2-2.7b mamba-2.8b codestral-7b bamba-9b}; do
    timeout 50 ncu --profile-from-start off --clock-control none --cache-control "${MAMBADJL_NCU_CACHE:-all}" \
      --metrics gpu__time_duration.sum \
      --csv --page raw --log-file "$OUT/ncu-$m.csv" \
      "$JAVA" -Xmx4g -Dai.djl.offline=true -cp "$cp" $MAIN --profile --models "$m" \
      --out "/tmp/profile-$m.json" >"/tmp/profile-$m.log" 2>&1
    echo "ncu $m: exit $?, $(grep -c '^"' "$OUT/ncu-$m.csv" 2>/dev/null) csv lines"
  done
  for m in ${MAMBADJL_NCU_PREFILL_MODELS:-}; do
    timeout "${MAMBADJL_NCU_PREFILL_TIMEOUT:-120}" ncu --profile-from-start off --clock-control none --cache-control "${MAMBADJL_NCU_CACHE:-all}" \
      --metrics gpu__time_duration.sum \
      --csv --page raw --log-file "$OUT/ncu-prefill-$m.csv" \
      "$JAVA" -Xmx4g -Dai.djl.offline=true -cp "$cp" $MAIN --profile --prefill --models "$m" \
      --out "/tmp/profile-prefill-$m.json" >"/tmp/profile-prefill-$m.log" 2>&1
    echo "ncu prefill $m: exit $?, $(grep -c '^"' "$OUT/ncu-prefill-$m.csv" 2>/dev/null) csv lines"
  done
fi
exit "$status"
