#!/usr/bin/env bash
# The aarch64 build against the x86-64 build on the tiny synth shape (with planted outliers):
#   - float model: every scored token's log-probability from `perplexity` (within 1e-3);
#   - `prepare` on each: the same prepared model (perplexity of the two files within 1e-3 relative), and
#     the x86-prepared file's int8 path scored by both builds (within 1e-3);
#   - `run` greedy and `bench` finish on the aarch64 build.
# LLMNPU_X86 and LLMNPU_ARM give the two command lines (the second through qemu-aarch64).
set -euo pipefail
x86=${LLMNPU_X86:?} arm=${LLMNPU_ARM:?}
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
text=data/calibration.txt
$x86 synth --shape tiny --layers 2 --outliers --seed 5 -o "$dir/tiny.gguf" >/dev/null 2>&1
$x86 perplexity -m "$dir/tiny.gguf" -f "$text" --json > "$dir/x86.float.json" 2>/dev/null
$arm perplexity -m "$dir/tiny.gguf" -f "$text" --json > "$dir/arm.float.json" 2>/dev/null
prepare_flags="--calib $text --calib-tokens 256 --recipe default --prune 0"
$x86 prepare -m "$dir/tiny.gguf" $prepare_flags -o "$dir/x86.w8a8.gguf" >/dev/null 2>&1
$arm prepare -m "$dir/tiny.gguf" $prepare_flags -o "$dir/arm.w8a8.gguf" >/dev/null 2>&1
for who in x86 arm; do
  for file in x86 arm; do
    cmd=$x86; [ "$who" = arm ] && cmd=$arm
    $cmd perplexity -m "$dir/$file.w8a8.gguf" -f "$text" --json > "$dir/$who.on-$file.json" 2>/dev/null
  done
done
$arm run -m "$dir/x86.w8a8.gguf" -p "The lighthouse" -n 8 --temp 0 --json > "$dir/arm.run.json" 2>/dev/null
$x86 run -m "$dir/x86.w8a8.gguf" -p "The lighthouse" -n 8 --temp 0 --json > "$dir/x86.run.json" 2>/dev/null
$arm bench -m "$dir/x86.w8a8.gguf" -p 16 -n 2 -r 1 -o json > "$dir/arm.bench.json" 2>/dev/null
python3 - "$dir" <<'PY'
import json, sys
d = sys.argv[1]
load = lambda name: json.load(open(f"{d}/{name}.json"))
def logprobs(j):
    for key in ("token_logprobs", "logprobs", "tokens"):
        if key in j and j[key] and isinstance(j[key][0], (int, float, dict)):
            v = j[key]
            return [x["logprob"] if isinstance(x, dict) else x for x in v]
    raise SystemExit(f"no per-token log-probabilities in {sorted(j)}")
def same(a, b, what, tol=1e-3):
    la, lb = logprobs(a), logprobs(b)
    assert len(la) == len(lb) and la, (what, len(la), len(lb))
    worst = max(abs(x - y) for x, y in zip(la, lb))
    print(f"{what}: {len(la)} tokens, largest log-probability difference {worst:.2e}")
    assert worst <= tol, what
same(load("x86.float"), load("arm.float"), "float model, x86 vs aarch64")
same(load("x86.on-x86"), load("arm.on-x86"), "x86-prepared W8A8 model, x86 vs aarch64")
px, pa = load("x86.on-x86")["perplexity"], load("x86.on-arm")["perplexity"]
print(f"prepared on x86 / on aarch64 (both scored on x86): perplexity {px:.6f} / {pa:.6f}")
assert abs(px - pa) <= 1e-3 * px, "prepare differs between the builds"
rx, ra = load("x86.run"), load("arm.run")
print(f"greedy ids x86 {rx['generated_ids']} aarch64 {ra['generated_ids']}")
bench = load("arm.bench")
assert bench["results"], "bench gave no rows"
print(f"bench on aarch64: {len(bench['results'])} rows, int8 kernel {bench['machine']['int8_gemm_kernel']}")
PY
