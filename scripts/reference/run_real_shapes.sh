#!/usr/bin/env bash
# On the GPU machine: for each real shape, writes the random-weight checkpoint and transformers'
# references (real_shapes.py), runs RealShapesTest on it through the Mamba engine, keeps the
# results and deletes the checkpoint (the disk does not hold all of them at once). The files go
# to MAMBADJL_REAL_DIR (default /dev/shm/real: memory, which holds Codestral-7B in float32).
# Usage: bash scripts/reference/run_real_shapes.sh NAME... (names: see real_shapes.py)
# Results: $OUT/realshapes.json (one object per model), $OUT/realshapes.log.
set -uo pipefail
cd "$(dirname "$0")/../.."
OUT=${OUT:-/tmp/out}
export PYTHONUNBUFFERED=1 PYTORCH_CUDA_ALLOC_CONF=expandable_segments:True
status=0
for name in "$@"; do
  work=${MAMBADJL_REAL_DIR:-/dev/shm/real}/$name
  rm -rf "$work" && mkdir -p "$work"
  echo "== $name: reference" | tee -a "$OUT/realshapes.log"
  python3 scripts/reference/real_shapes.py "$work" "$name" 2>&1 | grep -v "falling back\|Writing model" \
    | tee -a "$OUT/realshapes.log"
  echo "== $name: mamba-djl" | tee -a "$OUT/realshapes.log"
  OUT=/tmp/o-$name MAMBADJL_GPU_BENCH=0 MAMBADJL_GPU_TAGS=realshapes \
    MAMBADJL_JAVA_OPTS="-Dmambadjl.realshapes=$work" bash scripts/gpu-run.sh \
    > "/tmp/o-$name.log" 2>&1 || status=1
  grep -E "^$name |realShapes|Exception|expected|tests (successful|failed)" "/tmp/o-$name.log" \
    | head -40 | tee -a "$OUT/realshapes.log"
  { echo "\"$name\": "; cat "$work/java-results.json" 2>/dev/null || echo null; echo ","; } \
    >> "$OUT/realshapes.json"
  cat "$work/summary.json" >> "$OUT/realshapes-reference.json" 2>/dev/null
  rm -rf "$work"
done
exit "$status"
