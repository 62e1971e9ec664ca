#!/usr/bin/env python3
"""Time to first token of a conversation's second turn, served from the KV cache of the first, against the
same request on a fresh server (nothing cached). Greedy, 16-token replies, REPS sittings.

Usage: scripts/turn_ttft.py MODEL TEXT_FILE [REPS=3] [BUILD=build]
Turn 1 asks for a summary of TEXT_FILE; turn 2 adds the reply and a short question."""
import json
import re
import subprocess
import sys
import urllib.request

model, text = sys.argv[1], open(sys.argv[2], encoding="utf-8").read()
reps = int(sys.argv[3]) if len(sys.argv) > 3 else 3
binary = (sys.argv[4] if len(sys.argv) > 4 else "build") + "/llmnpu"


def start_server():
    server = subprocess.Popen([binary, "server", "-m", model, "--port", "0"], stderr=subprocess.PIPE, text=True)
    for line in server.stderr:
        found = re.search(r"listening on http://127\.0\.0\.1:(\d+)", line)
        if found:
            return server, int(found.group(1))
    raise SystemExit("the server did not start")


def chat(port, messages):
    body = json.dumps({"messages": messages, "max_tokens": 16, "temperature": 0}).encode()
    request = urllib.request.Request(f"http://127.0.0.1:{port}/v1/chat/completions", body,
                                     {"Content-Type": "application/json"})
    with urllib.request.urlopen(request) as response:
        reply = json.load(response)
    return reply["choices"][0]["message"]["content"], reply["timings"]


print("turn-2 prompt | from cache | prefilled | TTFT turn 2 (ms) | TTFT fresh server (ms) | ratio")
for rep in range(reps):
    turn1 = [{"role": "system", "content": f"Session {rep}. You are a concise assistant."},
             {"role": "user", "content": "Summarize this text:\n" + text}]
    server, port = start_server()
    reply, _ = chat(port, turn1)
    turn2 = turn1 + [{"role": "assistant", "content": reply},
                     {"role": "user", "content": "Now name the poet it is about, in one word."}]
    _, cached = chat(port, turn2)
    server.terminate()
    server.wait()
    server, port = start_server()
    _, fresh = chat(port, turn2)
    server.terminate()
    server.wait()
    total = cached["cache_n"] + cached["prompt_n"]
    print(f"{total} | {cached['cache_n']} | {cached['prompt_n']} | {cached['time_to_first_token_ms']:.1f} | "
          f"{fresh['time_to_first_token_ms']:.1f} | {fresh['time_to_first_token_ms'] / cached['time_to_first_token_ms']:.1f}x")
