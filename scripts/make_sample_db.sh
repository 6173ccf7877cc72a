#!/usr/bin/env bash
# Builds data/sample/kline.db (SQLite, klab's schema) from the committed sample CSV files, and
# data/sample/universe.db from data/universe_sample/.
# Idempotent: a second run imports nothing new.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${KLAB_BUILD_DIR:-$root/build}
"$build/bin/import_kline" --quiet --db "sqlite:$root/data/sample/kline.db" "$root/data/sample"
# The 80-stock universe slice of experiments/quickstart_universe.yaml (gzip archives, read as they are).
"$build/bin/import_kline" --quiet --db "sqlite:$root/data/sample/universe.db" "$root/data/universe_sample"
