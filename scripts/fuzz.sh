#!/usr/bin/env bash
# Builds the libFuzzer harnesses with clang (build-fuzz/, ASan + UBSan) and runs each for FUZZ_SECONDS
# (default 60) on its committed seeds plus fresh mutations, FUZZ_JOBS harnesses at a time (default: the
# cores). Fails on any crash, leak, timeout, out-of-memory or sanitizer report; the input that did it is
# kept in build-fuzz/artifacts/<what>/. Long campaign: FUZZ_SECONDS=3600 scripts/fuzz.sh gguf prepared, or
# FUZZ_RUNS=1000000 (a number of executions per harness instead of a time budget).
# Usage: scripts/fuzz.sh [HARNESS...]   (default: every harness in fuzz/CMakeLists.txt)
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${FUZZ_SECONDS:-60}
jobs=${FUZZ_JOBS:-$(nproc)}
harnesses=("$@")
if [ ${#harnesses[@]} -eq 0 ]; then
  read -r -a harnesses <<<"$(sed -n '/set(LLMNPU_FUZZ_HARNESSES/,/)/p' fuzz/CMakeLists.txt | tr -d '()' |
                             sed 's/set//; s/LLMNPU_FUZZ_HARNESSES//' | tr '\n' ' ')"
fi
# clang and its libFuzzer runtime, plus what the engine builds with.
bash scripts/install-deps.sh
bash scripts/install-deps.sh clang
start=$(date +%s)
# FUZZ_BUILD names a build tree configured with LLMNPU_FUZZ to reuse (scripts/test.sh passes its sanitizer
# build); otherwise build-fuzz/ is configured here with the harnesses only.
build=${FUZZ_BUILD:-build-fuzz}
if ! grep -q '^LLMNPU_FUZZ:BOOL=ON' "$build/CMakeCache.txt" 2>/dev/null; then
  CC=clang CXX=clang++ cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DLLMNPU_FUZZ=ON \
        -DLLMNPU_BUILD_TESTS=OFF -DLLMNPU_BUILD_BENCH=OFF >/dev/null
fi
targets=()
for h in "${harnesses[@]}"; do targets+=(--target "fuzz_$h"); done
mkdir -p build-fuzz
cmake --build "$build" -j"$(nproc)" "${targets[@]}" >build-fuzz/build.log 2>&1 ||
  { tail -30 build-fuzz/build.log; exit 1; }
echo "fuzz build ($build): $(( $(date +%s) - start )) s"

run_one() {
  local what=$1 seconds=$2
  local work=build-fuzz/work/$what artifacts=build-fuzz/artifacts/$what log=build-fuzz/logs/$what.log
  mkdir -p "$work" "$artifacts" build-fuzz/logs
  local dict=fuzz/dict/json.dict
  case $what in
    gguf | gguf_vocab | prepared) dict=fuzz/dict/gguf.dict ;;
    jinja) dict=fuzz/dict/jinja.dict ;;
    llama2c* | tokenize) dict="" ;;
  esac
  local rc=0 seconds_used=$SECONDS
  local budget=-max_total_time="$seconds"
  [ -n "${FUZZ_RUNS:-}" ] && budget=-runs="$FUZZ_RUNS"
  ASAN_OPTIONS=detect_leaks=1:allocator_may_return_null=1 UBSAN_OPTIONS=print_stacktrace=1 \
    "$FUZZ_BUILD_DIR/fuzz/fuzz_$what" "$budget" -timeout=20 -rss_limit_mb=3072 \
    -malloc_limit_mb=2048 -print_final_stats=1 -artifact_prefix="$artifacts/" ${dict:+-dict=$dict} \
    "$work" "fuzz/corpus/$what" >"$log" 2>&1 || rc=$?
  local runs cov corpus
  runs=$(grep -o 'stat::number_of_executed_units: [0-9]*' "$log" | awk '{print $2}' | tail -1)
  cov=$(grep -oE 'cov: [0-9]+' "$log" | tail -1 | awk '{print $2}')
  corpus=$(find "$work" -type f | wc -l)
  if [ $rc -ne 0 ]; then
    echo "FAIL fuzz_$what (exit $rc) after ${runs:-?} runs; log: $log"
    grep -E 'ERROR|SUMMARY|==[0-9]+==|Test unit written' "$log" | head -8
    return 1
  fi
  echo "ok   fuzz_$what: ${runs:-?} runs in $((SECONDS - seconds_used)) s, coverage ${cov:-?} edges, corpus $corpus inputs"
}
export -f run_one
export FUZZ_BUILD_DIR=$build
status=0
printf '%s\n' "${harnesses[@]}" | xargs -P "$jobs" -I{} bash -c 'run_one "$@"' _ {} "$seconds" || status=1
echo "fuzzing: $(( $(date +%s) - start )) s in all"
exit $status
