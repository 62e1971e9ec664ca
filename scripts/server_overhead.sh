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
run_rates=() server_rates=()
measure_run() {
  run_rates+=("$("$bin" run -m "$model" -p "Run $1. $prompt" -n "$n" --temp 0 ${FLAGS:-} --json 2>/dev/null | python3 -c '
import json, sys; t = json.load(sys.stdin)["timings"]
print(t["prompt_tokens_per_second"], t["generation_tokens_per_second"])')")
}
for r in $(seq "$reps"); do measure_run "$r"; done
for r in $(seq "$reps"); do
  body=$(python3 -c 'import json, sys; print(json.dumps({"prompt": sys.argv[1], "max_tokens": int(sys.argv[2]), "temperature": 0}))' "Run $r. $prompt" "$n")
  server_rates+=("$(curl -s "http://127.0.0.1:$port/v1/completions" -d "$body" | python3 -c '
import json, sys; t = json.load(sys.stdin)["timings"]
print(t["prompt_per_second"], t["predicted_per_second"])')")
done
for r in $(seq "$reps"); do measure_run "$((r + reps))"; done
python3 - "${run_rates[@]}" -- "${server_rates[@]}" <<'PY'
import statistics, sys
args = sys.argv[1:]
split = args.index("--")
def medians(rows):
    pairs = [tuple(map(float, r.split())) for r in rows]
    return statistics.median(p for p, _ in pairs), statistics.median(d for _, d in pairs)
run, server = medians(args[:split]), medians(args[split + 1:])
print(f"run:    prefill {run[0]:.1f} tok/s, decode {run[1]:.2f} tok/s (median of {split})")
print(f"server: prefill {server[0]:.1f} tok/s, decode {server[1]:.2f} tok/s (median of {len(args) - split - 1})")
print(f"server/run: prefill {server[0] / run[0]:.3f}, decode {server[1] / run[1]:.3f}")
PY
