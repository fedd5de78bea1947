#!/usr/bin/env bash
# Prepares .gpu/ (ignored by git) for a run on the GPU machine, which has no JDK, no Maven and
# no network: a small Java runtime, the compiled classes and test classes of every module,
# their runtime dependencies (without pytorch-native-cpu: the GPU path must not need it) and
# the JUnit console launcher. DJL's tokenizers jar (18 MB) is left out unless
# MAMBADJL_GPU_EXCLUDE names other artifacts (for example MAMBADJL_GPU_EXCLUDE=none); in its
# place goes a copy stripped to the linux-x86_64 native library (5 MB), so that the command
# line's tests, which tokenize text, run there too. MAMBADJL_GPU_NO_JMH=1 leaves out what only
# JMH's runner needs (commons-math3, jopt-simple): the tests and GpuModelBenchmark run without it.
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
  -DexcludeArtifactIds="pytorch-native-cpu,pytorch-engine,pytorch-jni,${MAMBADJL_GPU_EXCLUDE:-tokenizers}${MAMBADJL_GPU_NO_JMH:+,commons-math3,jopt-simple}" \
  -DexcludeGroupIds=io.github.mambadjl -DoutputDirectory="$out/lib"
./mvnw -B -q -ntp dependency:copy -Dartifact=org.junit.platform:junit-platform-console-standalone:1.11.4 \
  -DoutputDirectory="$out/lib" -N
if [[ -z "${MAMBADJL_GPU_EXCLUDE:-}" ]]; then
  tok=$(find ~/.m2/repository/ai/djl/huggingface/tokenizers -name 'tokenizers-*.jar' ! -name '*sources*' | sort | tail -1)
  cp "$tok" "$out/lib/" && zip -q -d "$out/lib/$(basename "$tok")" 'native/lib/linux-aarch64/*' \
    'native/lib/win-x86_64/*' 'native/lib/osx-aarch64/*'
fi
# JNA's jar carries its dispatch library for some twenty platforms: keep linux-x86-64's (1.5 MB less).
for jna in "$out"/lib/jna-*.jar; do
  zip -q -d "$jna" $(unzip -Z1 "$jna" | grep -E '^com/sun/jna/[^/]+/.*(jnidispatch|\.dll$)' | grep -v '/linux-x86-64/')
done
for m in native-ops api engine-mamba model-zoo examples jmh; do
  for kind in classes test-classes; do
    if [[ -d "$m/target/$kind" ]]; then
      mkdir -p "$out/classes/$m"
      cp -r "$m/target/$kind" "$out/classes/$m/$kind"
    fi
  done
done
# MAMBADJL_GPU_ARCH (e.g. 90-real for the H100) replaces the CUDA library with one built for that
# architecture only (a third of the size of the default 80-real;90-real;90-virtual build), from a
# build folder of its own so that Maven's native build is left as it is.
if [[ -n "${MAMBADJL_GPU_ARCH:-}" ]]; then
  arch_build=native-ops/target/native-build-$MAMBADJL_GPU_ARCH
  cmake -S native-ops/src/main/native -B "$arch_build" -DCMAKE_BUILD_TYPE=Release -DMOPS_CUDA=ON \
    -DCMAKE_CUDA_ARCHITECTURES="$MAMBADJL_GPU_ARCH" --log-level=WARNING >/dev/null
  cmake --build "$arch_build" --parallel --target mambaops_cuda >/dev/null
  cp "$arch_build"/libmambaops_cuda.so "$out"/classes/native-ops/classes/linux-x86-64/
fi
# The native libraries travel without their symbol tables (the tree that travels is at most 64 MiB).
strip --strip-unneeded "$out"/classes/native-ops/classes/linux-x86-64/*.so 2>/dev/null || true
# The CUDA library (11 MB for one architecture) travels gzipped (2.5 MB); gpu-run.sh and
# gpu-bench.sh unpack it before they start Java.
cuda_lib="$out"/classes/native-ops/classes/linux-x86-64/libmambaops_cuda.so
[[ -f "$cuda_lib" ]] && gzip -f "$cuda_lib"
# The console launcher carries its own JUnit; the benchmarks run from the class path (jmh's
# classes hold the generated BenchmarkList), which keeps the carried tree under 64 MiB.
rm -f "$out"/lib/junit-jupiter*.jar "$out"/lib/junit-platform-commons*.jar \
  "$out"/lib/junit-platform-engine*.jar "$out"/lib/opentest4j*.jar "$out"/lib/apiguardian*.jar \
  "$out"/benchmarks.jar
# A small Java runtime for the GPU machine (jlink of this JDK; jdk.zipfs for DJL's reading of
# resources inside jars, java.net.http for the Hub client).
if [[ ! -f "$out/jre.tgz" ]]; then
  jdk=${JAVA_HOME:-$(dirname "$(dirname "$(readlink -f "$(command -v javac)")")")}
  tmp=$(mktemp -d)
  "$jdk/bin/jlink" --add-modules java.base,java.logging,java.management,java.naming,java.sql,java.xml,java.scripting,jdk.unsupported,jdk.management,jdk.zipfs,java.net.http \
    --strip-debug --no-header-files --no-man-pages --compress=2 --output "$tmp/jre"
  tar czf "$out/jre.tgz" -C "$tmp" jre
  rm -rf "$tmp"
fi
du -sh "$out"
