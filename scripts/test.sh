#!/usr/bin/env bash
# Builds klab and runs the whole test suite: GoogleTest and the integration tests through CTest,
# then the sanitizer lanes (scripts/sanitize.sh: a subset again under AddressSanitizer +
# UndefinedBehaviorSanitizer, and under ThreadSanitizer, each in a build of its own).
# Usage: bash scripts/test.sh [extra ctest arguments]
#   With extra ctest arguments (-R ..., a subset) or KLAB_SANITIZERS=0, the lanes are skipped.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${KLAB_BUILD_DIR:-$root/build}
bash "$root/scripts/build.sh"
cd "$build"
ctest --output-on-failure -j "$(nproc)" "$@"
if [ $# -eq 0 ] && [ "${KLAB_SANITIZERS:-1}" != 0 ]; then
  bash "$root/scripts/sanitize.sh" address
  bash "$root/scripts/sanitize.sh" thread
fi
