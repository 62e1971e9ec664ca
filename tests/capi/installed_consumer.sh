#!/usr/bin/env bash
# Installs the build into a temporary prefix, then builds examples/c_consumer against the installed
# package twice (CMake find_package, and pkg-config with a plain cc) and runs them on a tiny model.
# Usage: installed_consumer.sh BUILD_DIR SOURCE_DIR
set -euo pipefail
build=$1 src=$2
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cmake --install "$build" --prefix "$work/prefix" >/dev/null
"$work/prefix/bin/llmnpu" synth --shape tiny --layers 2 --seed 4 -o "$work/tiny.gguf" >/dev/null
calib="$src/data/calibration.txt"
cmake -S "$src/examples/c_consumer" -B "$work/consumer" -DCMAKE_PREFIX_PATH="$work/prefix" >/dev/null
cmake --build "$work/consumer" >/dev/null
LD_LIBRARY_PATH="$work/prefix/lib" "$work/consumer/c_consumer" "$work/tiny.gguf" "$calib" "$work/a.w8a8.gguf"
"$work/consumer/c_consumer_static" "$work/tiny.gguf" "$calib" "$work/b.w8a8.gguf" | tail -1
PKG_CONFIG_PATH="$work/prefix/lib/pkgconfig" cc -std=c11 -Wall -Wextra -Werror "$src/examples/c_consumer/main.c" \
  $(PKG_CONFIG_PATH="$work/prefix/lib/pkgconfig" pkg-config --cflags --libs llmnpu) -o "$work/pkgconfig_consumer"
LD_LIBRARY_PATH="$work/prefix/lib" "$work/pkgconfig_consumer" "$work/tiny.gguf" "$calib" "$work/c.w8a8.gguf" | tail -1
