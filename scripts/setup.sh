#!/usr/bin/env bash
# Installs every Debian 12 package klab needs to build, run and test. Non-interactive and
# idempotent: when everything is already installed it only checks and returns.
# Usage: bash scripts/setup.sh        (as root, or with sudo available)
set -euo pipefail

packages=(
  # toolchain
  g++ make cmake ninja-build ccache pkg-config git ca-certificates procps
  # LibTorch (CPU), a fast BLAS for it, and BLAS's headers for the fused RNN kernels
  libtorch-dev libopenblas0-pthread libblas-dev
  # framework libraries
  libboost-dev libboost-program-options-dev libyaml-cpp-dev nlohmann-json3-dev libspdlog-dev
  libfmt-dev libcpp-httplib-dev
  # data sources
  libsqlite3-dev sqlite3 zlib1g-dev libmysqlcppconn-dev mariadb-server mariadb-client
  # gradient-boosted trees (the xgboost model plugin)
  libxgboost-dev
  # tests and benchmarks
  libgtest-dev libgmock-dev libbenchmark-dev python3 python3-torch python3-pandas python3-xgboost
  # cluster scheduler for sweeps
  slurmctld slurmd slurm-client munge
  # the report pages' tests: a real headless browser, and a CJK font so 贵州茅台 renders
  chromium fonts-wqy-microhei
  # fuzzing (scripts/fuzz.sh): clang with libFuzzer and the sanitizers
  clang libclang-rt-14-dev
)
# The report pages bundle their chart library from the npm registry (web/package-lock.json):
# Debian's Node.js and npm unless the machine has its own.
if ! command -v npm > /dev/null; then packages+=(nodejs npm); fi

missing=()
for p in "${packages[@]}"; do
  status=$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null || true)
  [ "$status" = "installed" ] || missing+=("$p")
done

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi

if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${#missing[@]} Debian packages: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
else
  echo "setup: all ${#packages[@]} Debian packages already installed"
fi

# LibTorch calls BLAS through libblas.so.3: make OpenBLAS (pthread) the provider, not the
# reference BLAS, which is ~8x slower for LSTM training.
openblas=$(update-alternatives --list libblas.so.3-x86_64-linux-gnu 2>/dev/null | grep openblas-pthread | head -n1 || true)
if [ -n "$openblas" ]; then
  $SUDO update-alternatives --set libblas.so.3-x86_64-linux-gnu "$openblas" >/dev/null
fi
# The chart library (ECharts) and the browser driver of the page tests (puppeteer-core), at the
# versions web/package-lock.json pins; fetched again only when the lockfile changed.
root=$(cd "$(dirname "$0")/.." && pwd)
if ! cmp -s "$root/web/package-lock.json" "$root/web/node_modules/.klab-lock"; then
  echo "setup: npm ci in web/ (ECharts for the report pages, puppeteer-core for their tests)"
  (cd "$root/web" && npm ci --no-audit --no-fund --loglevel=error)
  cp "$root/web/package-lock.json" "$root/web/node_modules/.klab-lock"
fi
echo "setup: done"
