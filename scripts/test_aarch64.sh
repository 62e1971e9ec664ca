#!/usr/bin/env bash
# The aarch64 build and its tests under qemu-user (docs/arm.md): cross-compiles with Debian's
# g++-aarch64-linux-gnu (warnings as errors), runs the whole test suite under `qemu-aarch64 -cpu max`, the
# kernel and core suites again on a CPU model without i8mm (cortex-a76) and one without the dot product
# (cortex-a72), then `run`, `perplexity`, `prepare` and `bench` end to end on the tiny synth shape against
# the x86-64 build's numbers (build/, made by scripts/test.sh first). No timings: qemu emulates.
# The executables are linked statically (LLMNPU_STATIC): qemu-user 7.2 hangs dynamically linked threaded
# aarch64 programs in ld.so; the static build has no `llmnpu server` (Debian ships cpp-httplib shared only).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh aarch64
jobs=$(nproc)
start=$(date +%s)
cmake -S . -B build-aarch64 -DCMAKE_TOOLCHAIN_FILE=cmake/toolchains/aarch64-linux-gnu.cmake \
      -DCMAKE_BUILD_TYPE=Release -DLLMNPU_WERROR=ON -DLLMNPU_BUILD_BENCH=OFF -DLLMNPU_SERVER=OFF \
      -DLLMNPU_STATIC=ON >/dev/null
cmake --build build-aarch64 -j"$jobs"
echo "aarch64 cross build: $(( $(date +%s) - start )) s"

# The whole suite through ctest (the toolchain file names qemu-aarch64 as the emulator), one test case
# per process on every core, on a CPU model with every feature: the kernel tests run each kernel family
# it has (SMMLA, SDOT, widening NEON, scalar) against the scalar reference. The LLMNPU_ISA reruns of whole
# suites (isa_*) are left to Arm machines: under emulation they would double the job.
start=$(date +%s)
export QEMU_CPU=max
ctest --test-dir build-aarch64 --output-on-failure -j"$jobs" -E '^isa_'
# The core and kernel suites again on a CPU model without i8mm (cortex-a76: SDOT) and one without the
# dot product (cortex-a72: the widening kernel), and with the scalar family forced.
for cpu in cortex-a76 cortex-a72; do
  for s in core kernels; do
    QEMU_CPU=$cpu qemu-aarch64 build-aarch64/tests/test_$s --gtest_brief=1
  done
done
LLMNPU_ISA=scalar qemu-aarch64 build-aarch64/tests/test_kernels --gtest_brief=1
echo "aarch64 tests under qemu: $(( $(date +%s) - start )) s"

start=$(date +%s)
LLMNPU_X86=build/llmnpu LLMNPU_ARM="qemu-aarch64 build-aarch64/llmnpu" bash scripts/compare_aarch64.sh
echo "aarch64 end to end under qemu: $(( $(date +%s) - start )) s"
