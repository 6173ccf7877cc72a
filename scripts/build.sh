#!/usr/bin/env bash
# Configures (once) and builds klab into build/ (Release, Ninja, ccache when present).
# Usage: bash scripts/build.sh [extra cmake -D options]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${KLAB_BUILD_DIR:-$root/build}
# ccache: rewrite absolute paths under the checkout, so a fresh clone elsewhere (CI) still hits.
export CCACHE_BASEDIR=${CCACHE_BASEDIR:-$root}
if [ ! -f "$build/CMakeCache.txt" ]; then
  cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release "$@"
fi
cmake --build "$build" -j "$(nproc)"
