#!/usr/bin/env bash
# Server overhead: prefill and decode tokens/s of `llmnpu server` (/v1/completions, greedy) against
# `llmnpu run --json` on the same prompt and model. The measurements come in ABBA quads (a run, two
# requests, a run), so a VM that drifts within minutes (these do, by 10-20%) weighs on both sides of each
# quad alike; the ratio reported is the median of the quads' ratios. Each request and each run starts
# with its own word, so nothing comes from the server's KV cache. Every response is kept and parsed at
# the end: a parser started beside a request (python3 in a pipe, or pyenv's shell shim in front of it)
# takes CPU time from the prefill it is meant to time.
# Usage: scripts/server_overhead.sh MODEL PROMPT_FILE [N_PREDICT=64] [QUADS=6] [BUILD=build]
# FLAGS pass prefill/model flags to both sides; SERVER_ENV prefixes the server command.
set -euo pipefail
model=$1 prompt_file=$2 n=${3:-64} quads=${4:-6} build=${5:-build}
bin="$build/llmnpu"
log=$(mktemp)
results=$(mktemp -d)
${SERVER_ENV:-} "$bin" server -m "$model" --port 0 ${FLAGS:-} 2>"$log" &
server=$!
trap 'kill $server 2>/dev/null; rm -rf "$log" "$results"' EXIT
for _ in $(seq 600); do grep -q "listening on" "$log" && break; sleep 0.1; done
port=$(grep -o "127.0.0.1:[0-9]*" "$log" | cut -d: -f2)
prompt=$(cat "$prompt_file")
for i in $(seq $((2 * quads))); do
  python3 -c 'import json, sys; print(json.dumps({"prompt": sys.argv[1], "max_tokens": int(sys.argv[2]), "temperature": 0}))' \
    "Request$i. $prompt" "$n" >"$results/body.$i"
done
measure_run() {
  "$bin" run -m "$model" -p "Run$1. $prompt" -n "$n" --temp 0 ${FLAGS:-} --json >"$results/run.$1" 2>/dev/null
}
measure_request() {
  curl -s "http://127.0.0.1:$port/v1/completions" -d @"$results/body.$1" >"$results/server.$1"
}
for q in $(seq "$quads"); do
  measure_run $((2 * q - 1))
  measure_request $((2 * q - 1))
  measure_request $((2 * q))
  measure_run $((2 * q))
done
python3 - "$results" "$quads" <<'PY'
import json, statistics, sys
folder, quads = sys.argv[1], int(sys.argv[2])
def timings(name):
    with open(f"{folder}/{name}") as f:
        return json.load(f)["timings"]
for label, run_key, server_key in (("prefill", "prompt_tokens_per_second", "prompt_per_second"),
                                   ("decode", "generation_tokens_per_second", "predicted_per_second")):
    ratios = []
    for q in range(1, quads + 1):
        run = [timings(f"run.{i}")[run_key] for i in (2 * q - 1, 2 * q)]
        server = [timings(f"server.{i}")[server_key] for i in (2 * q - 1, 2 * q)]
        ratios.append(sum(server) / sum(run))
        print(f"{label} quad {q}: run {run[0]:.1f} {run[1]:.1f}, server {server[0]:.1f} {server[1]:.1f}, "
              f"server/run {ratios[-1]:.3f}")
    runs = [timings(f"run.{i}")[run_key] for i in range(1, 2 * quads + 1)]
    served = [timings(f"server.{i}")[server_key] for i in range(1, 2 * quads + 1)]
    print(f"{label}: run median {statistics.median(runs):.1f} tok/s, server median {statistics.median(served):.1f} "
          f"tok/s; server/run median of quads {statistics.median(ratios):.3f}")
PY
