#!/usr/bin/env bash
# Installs dependencies, builds with warnings as errors, and runs the whole test suite; then runs it
# again under AddressSanitizer + UBSan, built with clang (skip that pass with LLMNPU_SKIP_ASAN=1), then
# the aarch64 build and its tests under qemu-user (skip with LLMNPU_SKIP_AARCH64=1; docs/arm.md), then
# every libFuzzer harness for FUZZ_SECONDS (default 15) each (skip with LLMNPU_SKIP_FUZZ=1;
# docs/fuzzing.md), from the sanitizer build's tree.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
# The official openai npm client, pinned, for the server test (tests/server/openai_client.cjs).
if [ ! -f build/npm/node_modules/openai/package.json ]; then
  npm install --silent --no-audit --no-fund --prefix build/npm openai@4.95.0
fi
jobs=$(nproc)
start=$(date +%s)
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release -DLLMNPU_WERROR=ON >/dev/null
cmake --build build -j"$jobs"
ctest --test-dir build --output-on-failure -j"$jobs"
echo "release build + tests: $(( $(date +%s) - start )) s"
if [ "${LLMNPU_SKIP_ASAN:-0}" != "1" ]; then
  # clang, with the libFuzzer harnesses in the same tree: the fuzzing pass below reuses this build.
  bash scripts/install-deps.sh clang
  start=$(date +%s)
  CC=clang CXX=clang++ cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=RelWithDebInfo -DLLMNPU_WERROR=ON \
        -DLLMNPU_SANITIZE=ON -DLLMNPU_FUZZ=ON -DLLMNPU_BUILD_BENCH=OFF >/dev/null
  cmake --build build-asan -j"$jobs"
  # The kernel families' reruns of the quant and runtime suites (isa_*) run in the release pass only: under
  # the sanitizers they took 2 1/2 minutes, and the kernel suites' reruns still cover each family here.
  ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 \
    ctest --test-dir build-asan --output-on-failure -j"$jobs" -E '^isa_(avx2|scalar)\.(quant|runtime)$'
  echo "sanitizer build + tests: $(( $(date +%s) - start )) s"
fi
if [ "${LLMNPU_SKIP_AARCH64:-0}" != "1" ]; then
  bash scripts/test_aarch64.sh
fi
if [ "${LLMNPU_SKIP_FUZZ:-0}" != "1" ]; then
  fuzz_build=build-fuzz
  [ "${LLMNPU_SKIP_ASAN:-0}" != "1" ] && fuzz_build=build-asan
  FUZZ_BUILD=$fuzz_build FUZZ_SECONDS=${FUZZ_SECONDS:-15} bash scripts/fuzz.sh
fi
