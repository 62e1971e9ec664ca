#!/usr/bin/env bash
# Rewrites fuzz/corpus/ from the engine's writers: BUILD is a normal build folder (with llmnpu and
# make_seed_corpus). The prepared seeds come from `llmnpu prepare` on the micro models of each family.
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
shared=${LLMNPU_SHARED_DIR:-../shared}
models=$(mktemp -d)
trap 'rm -rf "$models"' EXIT
rm -rf fuzz/corpus
"$build/fuzz/make_seed_corpus" fuzz/corpus "$shared" "$models"
head -c 4000 "$shared/testdata/eval/wikitext-2-raw/wiki.test.lf.raw" >"$models/calib.txt"
mkdir -p fuzz/corpus/prepared
for family in llama qwen2 gemma2 phi2; do
  "$build/llmnpu" prepare -m "$models/$family.gguf" --calib "$models/calib.txt" --calib-tokens 256 \
    --calib-window 64 -o "fuzz/corpus/prepared/$family.gguf" >/dev/null
done
# Chat templates: the published ones the tests render, and one snippet per Jinja feature.
mkdir -p fuzz/corpus/jinja
for f in tests/data/chat_templates/*.jinja; do cp "$f" "fuzz/corpus/jinja/$(basename "$f" .jinja)"; done
python3 - <<'PY'
import hashlib, json
for e in json.load(open("tests/data/jinja_features/snippets.json")):
    t = e["t"].encode()
    open("fuzz/corpus/jinja/snippet-" + hashlib.sha1(t).hexdigest()[:10], "wb").write(t)
PY
du -sh fuzz/corpus/*
