#!/usr/bin/env bash
# klab's xgboost plugin against Python's xgboost on the same matrix, in the same run: the universe
# experiment's training and validation windows (gathered by klab, written to a temporary folder),
# the same parameters and rounds, early stopping off, best of 2 each. Target: ratio <= 1.1.
# Usage: bash bench/run_xgboost_bench.sh [build dir] [klab SQLite file of the universe]
#   [experiment, default experiments/universe_xgboost_alpha158.yaml]   ROUNDS=200 NTHREAD=2
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$root/build}
db=${2:-$root/data/universe.db}
experiment=${3:-$root/experiments/universe_xgboost_alpha158.yaml}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)"
klab=$("$build/bin/xgboost_bench" --experiment "$experiment" --db "$db" --out "$work" \
       --rounds "${ROUNDS:-200}" --nthread "${NTHREAD:-2}" --repeat 2)
echo "$klab"
python=$(/usr/bin/python3 "$root/bench/xgboost_reference.py" "$work" --repeat 2)
echo "$python"
python3 - "$klab" "$python" <<'PY'
import re, sys
k = float(re.search(r"fit_seconds=([0-9.]+)", sys.argv[1]).group(1))
p = float(re.search(r"fit_seconds=([0-9.]+)", sys.argv[2]).group(1))
kr = float(re.search(r"val_rmse=([0-9.]+)", sys.argv[1]).group(1))
pr = float(re.search(r"val_rmse=([0-9.]+)", sys.argv[2]).group(1))
print(f"ratio klab / python: {k / p:.3f} (target <= 1.1: {'PASS' if k / p <= 1.1 else 'FAIL'}); "
      f"final validation RMSE klab {kr:.6f} python {pr:.6f}")
PY
