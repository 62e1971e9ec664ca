#!/usr/bin/env bash
# Installs the Debian 12 packages llmnpu builds with (skips apt when they are all present).
# `install-deps.sh aarch64`: the aarch64 cross toolchain, arm64 -dev packages and qemu-user instead.
# `install-deps.sh clang`: clang and its sanitizer and libFuzzer runtimes (the sanitizer pass, fuzzing).
set -euo pipefail
SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
if [ "${1:-}" = "aarch64" ]; then
  packages=(g++-aarch64-linux-gnu qemu-user libpcre2-dev:arm64 libgtest-dev:arm64 cmake make pkg-config
            nlohmann-json3-dev libcli11-dev python3)
  dpkg --print-foreign-architectures | grep -qx arm64 || $SUDO dpkg --add-architecture arm64
elif [ "${1:-}" = "clang" ]; then
  packages=(clang libclang-rt-14-dev)
else
  packages=(g++ cmake make pkg-config git nlohmann-json3-dev libpcre2-dev libcli11-dev libgtest-dev
            libbenchmark-dev libdnnl-dev clang-format bzip2 python3
            libcpp-httplib-dev python3-jinja2)
  # Node.js and npm run the openai client test; a machine with its own Node.js keeps it.
  command -v npm >/dev/null 2>&1 || packages+=(nodejs npm)
fi
missing=()
for p in "${packages[@]}"; do
  dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}"
fi
