#!/usr/bin/env bash
# Installs dependencies, builds llmnpu, synthesizes a small model (no download is possible) and runs it.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build -j"$(nproc)"
mkdir -p out
./build/llmnpu synth --shape tiny --outliers --seed 1 -o out/tiny.gguf
./build/llmnpu run -m out/tiny.gguf -p "Once upon a time" -n 32 --seed 1
