#!/usr/bin/env bash
# Runs on the GPU machine (see scripts/gpu-prepare.sh): unpacks the Java runtime, runs every
# JUnit test tagged `gpu` except `realshapes` (MAMBADJL_GPU_TAGS: another JUnit tag expression;
# MAMBADJL_GPU_TESTS selects classes by a regex; MAMBADJL_JAVA_OPTS adds JVM options), then
# the GPU benchmarks (MAMBADJL_JMH_ARGS, default `Gpu`; MAMBADJL_GPU_BENCH=0 skips them).
# Results go to $OUT (the device tool brings them back). MAMBADJL_GPU_DIR names the carried
# folder that gpu-prepare.sh filled (default .gpu).
set -uo pipefail
cd "$(dirname "$0")/.."
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
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader
cp=""
for d in "$GPU_DIR"/classes/*/classes "$GPU_DIR"/classes/*/test-classes; do cp="$cp:$d"; done
for j in "$GPU_DIR"/lib/*.jar; do cp="$cp:$j"; done
cp=${cp#:}
# The tests run on the JVM's own class path (not the launcher's --class-path), so that a test
# that starts another JVM (the command line's) hands it the same class path.
"$JAVA" -Dai.djl.offline=true -Dmambadjl.fixtures="$PWD/fixtures/golden" ${MAMBADJL_JAVA_OPTS:-} \
  -cp "$cp" org.junit.platform.console.ConsoleLauncher execute --scan-class-path --include-engine=junit-jupiter --include-tag "${MAMBADJL_GPU_TAGS:-gpu & !realshapes}" \
  --include-classname "${MAMBADJL_GPU_TESTS:-.*}" \
  --details=tree --disable-banner --reports-dir "$OUT/junit" 2>&1 | tee "$OUT/gpu-tests.log"
status=${PIPESTATUS[0]}
if [[ "${MAMBADJL_GPU_BENCH:-1}" == 1 ]]; then
  "$JAVA" -cp "$cp" org.openjdk.jmh.Main -rf json -rff "$OUT/jmh-gpu.json" ${MAMBADJL_JMH_ARGS:-Gpu} \
    2>&1 | tee "$OUT/jmh-gpu.log"
fi
exit "$status"
