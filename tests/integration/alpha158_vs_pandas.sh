#!/usr/bin/env bash
# Alpha158 from klab (tools/featurize --features alpha158) against an independent pandas/numpy
# implementation written from docs/DATA.md (tests/python/alpha158_reference.py), on real symbols:
# two of the committed sample (ex-rights days every year) and, when ../shared/data/universe is
# there, five stocks with long suspensions (up to 1,435 days) and runs of up to 8 equal closes
# (constant windows: a deviation of exactly 0, an undefined R² and correlation).
# Usage: alpha158_vs_pandas.sh <klab source dir> <klab build dir>
set -euo pipefail
source "$(dirname "$0")/common.sh"
check() {  # db symbol
  "$build/bin/featurize" --options "{\"path\": \"$1\"}" --symbol "$2" --features alpha158 --out "$work/$2.csv"
  /usr/bin/python3 "$src/tests/python/alpha158_reference.py" "$1" "$2" "$work/$2.csv"
}
for symbol in 600519 000001; do check "$work/kline.db" "$symbol"; done
universe="$src/../shared/data/universe"
if [ -d "$universe" ]; then
  mkdir -p "$work/files"
  for s in sz002670 sh601258 sz000981 sz000681 sz300156; do ln -s "$universe/$s.csv.gz" "$work/files/"; done
  "$build/bin/import_kline" --quiet --db "sqlite:$work/u.db" "$work/files" > /dev/null
  for symbol in 002670 601258 000981 000681 300156; do check "$work/u.db" "$symbol"; done
else
  echo "NOTE: $universe not found; checked the committed sample only"
fi
