#!/usr/bin/env bash
# Prepares .gpu/ (ignored by git) for a run on the GPU machine, which has no JDK, no Maven and
# no network: a small Java runtime, the compiled classes and test classes of every module,
# their runtime dependencies (without pytorch-native-cpu: the GPU path must not need it) and
# the JUnit console launcher. DJL's tokenizers jar (18 MB) is left out unless
# MAMBADJL_GPU_EXCLUDE names other artifacts (for example MAMBADJL_GPU_EXCLUDE=none).
# Then call the device tool with carry [".gpu"] and the command
#   bash scripts/gpu-run.sh
#
# Usage: scripts/gpu-prepare.sh [OUT_DIR]   (default .gpu, in the repository of the current
# directory). The device tool sends the session's own checkout, not a second git worktree: from
# a worktree, write into an ignored folder of that checkout, for example
#   bash scripts/gpu-prepare.sh /work/main/.gpu-mine
# then run with carry [".gpu-mine"] and MAMBADJL_GPU_DIR=.gpu-mine bash scripts/gpu-run.sh
set -euo pipefail
cd "$(git rev-parse --show-toplevel 2>/dev/null || echo "$(dirname "$0")/..")"
out=${1:-.gpu}
mkdir -p "$out" && out=$(cd "$out" && pwd)
rm -rf "$out/classes" "$out/lib"
mkdir -p "$out/classes" "$out/lib"
./mvnw -B -q -ntp package -DskipTests -Dnative.cuda=ON -Dspotless.check.skip=true
./mvnw -B -q -ntp dependency:copy-dependencies -DincludeScope=test \
  -DexcludeArtifactIds="pytorch-native-cpu,pytorch-engine,pytorch-jni,${MAMBADJL_GPU_EXCLUDE:-tokenizers}" \
  -DexcludeGroupIds=io.github.mambadjl -DoutputDirectory="$out/lib"
./mvnw -B -q -ntp dependency:copy -Dartifact=org.junit.platform:junit-platform-console-standalone:1.11.4 \
  -DoutputDirectory="$out/lib" -N
for m in native-ops api engine-mamba model-zoo examples jmh; do
  for kind in classes test-classes; do
    if [[ -d "$m/target/$kind" ]]; then
      mkdir -p "$out/classes/$m"
      cp -r "$m/target/$kind" "$out/classes/$m/$kind"
    fi
  done
done
# The console launcher carries its own JUnit; the benchmarks run from the class path (jmh's
# classes hold the generated BenchmarkList), which keeps the carried tree under 64 MiB.
rm -f "$out"/lib/junit-jupiter*.jar "$out"/lib/junit-platform-commons*.jar \
  "$out"/lib/junit-platform-engine*.jar "$out"/lib/opentest4j*.jar "$out"/lib/apiguardian*.jar \
  "$out"/benchmarks.jar
if [[ ! -f "$out/jre.tgz" ]]; then
  if [[ -x ../shared/device/make-jre.sh ]]; then
    ../shared/device/make-jre.sh "$out"
  else
    echo "gpu-prepare: $out/jre.tgz missing; build one with jlink (see ../shared/device/make-jre.sh)" >&2
    exit 1
  fi
fi
du -sh "$out"
