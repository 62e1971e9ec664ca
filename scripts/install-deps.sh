#!/usr/bin/env bash
# Installs the Debian 12 packages llmnpu builds with (skips apt when they are all present).
set -euo pipefail
packages=(g++ cmake make pkg-config git nlohmann-json3-dev libpcre2-dev libcli11-dev libgtest-dev
          libbenchmark-dev libdnnl-dev clang-format bzip2 python3
          libcpp-httplib-dev python3-jinja2)
# Node.js and npm run the openai client test; a machine with its own Node.js keeps it.
command -v npm >/dev/null 2>&1 || packages+=(nodejs npm)
missing=()
for p in "${packages[@]}"; do
  dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}"
fi
