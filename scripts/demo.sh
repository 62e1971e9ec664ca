#!/usr/bin/env bash
# Installs dependencies, builds llmnpu, and runs its main job on a built-in default: no model can be
# downloaded here, so it synthesizes a small model with LLM-like activation outliers, prepares it as
# W8A8 with shadow outlier execution (calibrating on a bundled text), and generates from it with chunked
# prefill on the accelerator role (integer kernels on CPU cores) and the host role.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build -j"$(nproc)"
mkdir -p out
./build/llmnpu synth --shape tiny --outliers --seed 1 -o out/tiny.gguf
./build/llmnpu prepare -m out/tiny.gguf --calib data/calibration.txt --calib-tokens 2048 -o out/tiny.w8a8.gguf
./build/llmnpu run -m out/tiny.w8a8.gguf -p "Once upon a time" -n 32 --seed 1 --chunk 4 --topology hetero
./build/llmnpu eval --ref out/tiny.gguf out/tiny.w8a8.gguf -f data/calibration.txt --ablations
