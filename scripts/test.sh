#!/usr/bin/env bash
# Builds klab and runs the whole test suite (GoogleTest through CTest, plus integration tests).
# Usage: bash scripts/test.sh [extra ctest arguments]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${KLAB_BUILD_DIR:-$root/build}
bash "$root/scripts/build.sh"
cd "$build"
ctest --output-on-failure -j "$(nproc)" "$@"
