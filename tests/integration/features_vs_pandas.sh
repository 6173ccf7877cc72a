#!/usr/bin/env bash
# klab's default features against an independent pandas implementation, on real symbols.
# Usage: features_vs_pandas.sh <klab source dir> <klab build dir>
set -euo pipefail
source "$(dirname "$0")/common.sh"
for symbol in 600519 000001 601318; do
  "$build/bin/featurize" --options "{\"path\": \"$work/kline.db\"}" --symbol "$symbol" --out "$work/$symbol.csv"
  /usr/bin/python3 "$src/tests/python/features_reference.py" "$work/kline.db" "$symbol" "$work/$symbol.csv"
done
# forward adjustment, when asked for, too
"$build/bin/featurize" --options "{\"path\": \"$work/kline.db\"}" --symbol 600519 --adjust forward --out "$work/fwd.csv"
/usr/bin/python3 "$src/tests/python/features_reference.py" "$work/kline.db" 600519 "$work/fwd.csv" 1000-01-01 9999-12-31 forward
