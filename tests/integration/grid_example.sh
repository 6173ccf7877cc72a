#!/usr/bin/env bash
# experiments/grid.yaml as shipped (3 real symbols x lstm, gru, transformer), pointed at a
# fresh copy of the sample database: every trial completes, the leaderboard is printed, and
# list_runs shows every run.
# Usage: grid_example.sh <klab source dir> <klab build dir>
set -euo pipefail
source "$(dirname "$0")/common.sh"
sed -e "s|data/sample/kline.db|$work/kline.db|" -e "s|^output_dir: out|output_dir: $work/out|" \
  "$src/experiments/grid.yaml" > "$work/grid.yaml"
"$build/bin/sweep" "$work/grid.yaml" | tee "$work/sweep.log"
grep -q "leaderboard by mape (lower is better): 9 completed, 0 failed" "$work/sweep.log"
"$build/bin/list_runs" --output-dir "$work/out" | tee "$work/list.log"
grep -q "^9 run(s)" "$work/list.log"
for model in lstm gru transformer; do
  [ "$(grep -c "_${model}_" "$work/list.log")" = 3 ] || { echo "FAIL: expected 3 $model runs"; exit 1; }
done
