#!/usr/bin/env bash
# Configures (once) and builds klab into build/ (Release, Ninja, ccache when present).
# Usage: bash scripts/build.sh [extra cmake -D options]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${KLAB_BUILD_DIR:-$root/build}
# ccache: rewrite absolute paths under the checkout, so a fresh clone elsewhere (CI) still hits.
export CCACHE_BASEDIR=${CCACHE_BASEDIR:-$root}
# CI builds with warnings as errors (-Wall -Wextra -Werror); a user's build only shows them.
werror=()
if [ "${CI:-}" = "true" ]; then werror=(-DKLAB_WARNINGS_AS_ERRORS=ON); fi
if [ ! -f "$build/CMakeCache.txt" ]; then
  cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release "${werror[@]}" "$@"
elif [ ${#werror[@]} -gt 0 ]; then
  cmake "$build" "${werror[@]}" > /dev/null
fi
cmake --build "$build" -j "$(nproc)"
