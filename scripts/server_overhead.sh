#!/usr/bin/env bash
# Server overhead: prefill and decode tokens/s of `llmnpu server` (/v1/completions, greedy) against
# `llmnpu run --json` on the same prompt and model; prints the medians and the ratios. The runs bracket the
# server's requests (REPS runs, REPS requests back to back, REPS runs) rather than alternate with them: a
# `run` loading the model between two requests makes these VMs reclaim the idle server's pages, and the
# next request would measure page faults, not the server. Each request starts with a different number so
# it shares no cached prefix.
# Usage: scripts/server_overhead.sh MODEL PROMPT_FILE [N_PREDICT=64] [REPS=5] [BUILD=build]
set -euo pipefail
model=$1 prompt_file=$2 n=${3:-64} reps=${4:-5} build=${5:-build}
bin="$build/llmnpu"
log=$(mktemp)
${SERVER_ENV:-} "$bin" server -m "$model" --port 0 ${FLAGS:-} 2>"$log" &
server=$!
trap 'kill $server 2>/dev/null; rm -f "$log"' EXIT
for _ in $(seq 600); do grep -q "listening on" "$log" && break; sleep 0.1; done
port=$(grep -o "127.0.0.1:[0-9]*" "$log" | cut -d: -f2)
prompt=$(cat "$prompt_file")
# Every response is kept and parsed at the end: a parser started beside a request (python3 in a pipe, or
# pyenv's shell shim in front of it) takes CPU time from the prefill it is meant to time.
results=$(mktemp -d)
trap 'kill $server 2>/dev/null; rm -rf "$log" "$results"' EXIT
measure_run() {
  "$bin" run -m "$model" -p "Run $1. $prompt" -n "$n" --temp 0 ${FLAGS:-} --json >"$results/run.$1" 2>/dev/null
}
bodies=()
for r in $(seq "$reps"); do
  bodies+=("$(python3 -c 'import json, sys; print(json.dumps({"prompt": sys.argv[1], "max_tokens": int(sys.argv[2]), "temperature": 0}))' "Run $r. $prompt" "$n")")
done
for r in $(seq "$reps"); do measure_run "$r"; done
for r in $(seq "$reps"); do
  curl -s "http://127.0.0.1:$port/v1/completions" -d "${bodies[$((r - 1))]}" >"$results/server.$r"
done
for r in $(seq "$reps"); do measure_run "$((r + reps))"; done
python3 - "$results" "$reps" <<'PY'
import json, statistics, sys
folder, reps = sys.argv[1], int(sys.argv[2])
def load(name):
    with open(f"{folder}/{name}") as f:
        return json.load(f)["timings"]
run = [load(f"run.{r}") for r in range(1, 2 * reps + 1)]
server = [load(f"server.{r}") for r in range(1, reps + 1)]
run_rates = (statistics.median(t["prompt_tokens_per_second"] for t in run),
             statistics.median(t["generation_tokens_per_second"] for t in run))
server_rates = (statistics.median(t["prompt_per_second"] for t in server),
                statistics.median(t["predicted_per_second"] for t in server))
print(f"run:    prefill {run_rates[0]:.1f} tok/s, decode {run_rates[1]:.2f} tok/s (median of {len(run)})")
print(f"server: prefill {server_rates[0]:.1f} tok/s, decode {server_rates[1]:.2f} tok/s (median of {len(server)})")
print("run prefill:    " + " ".join(f"{t['prompt_tokens_per_second']:.0f}" for t in run))
print("server prefill: " + " ".join(f"{t['prompt_per_second']:.0f}" for t in server))
print("run decode:     " + " ".join(f"{t['generation_tokens_per_second']:.1f}" for t in run))
print("server decode:  " + " ".join(f"{t['predicted_per_second']:.1f}" for t in server))
print(f"server/run: prefill {server_rates[0] / run_rates[0]:.3f}, decode {server_rates[1] / run_rates[1]:.3f}")
PY
