#!/usr/bin/env bash
# The quickstart's universe run (experiments/quickstart_universe.yaml) on the shipped
# data/universe_sample, shortened to 2 epochs: it must end with IC / Rank IC, the backtest's
# excess return after costs beside the benchmark, and the model-free reversal, on screen and in
# eval_results.json. Usage: quickstart_universe.sh <klab source dir> <klab build dir>
set -euo pipefail
src=$1
build=$2
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
"$build/bin/import_kline" --quiet --db "sqlite:$work/universe.db" "$src/data/universe_sample" | tail -n 1
sed -e "s#options: {path: data/sample/universe.db}#options: {path: $work/universe.db}#" -e "s#^output_dir: out#output_dir: $work/out#" \
    -e "s#  epochs: 8#  epochs: 2#" "$src/experiments/quickstart_universe.yaml" > "$work/q.yaml"
grep -q "$work/universe.db" "$work/q.yaml" && grep -q "epochs: 2" "$work/q.yaml" || { echo "FAIL: the experiment changed shape"; exit 1; }
"$build/bin/sweep" "$work/q.yaml" > "$work/out.txt" 2>&1 || { cat "$work/out.txt"; exit 1; }
cat "$work/out.txt" | tail -n 5
for line in "ranking over" "backtest TopkDropout" "model-free reversal_5d"; do
  grep -q "$line" "$work/out.txt" || { echo "FAIL: no '$line' line"; exit 1; }
done
/usr/bin/python3 - "$work/out" <<'PY'
import glob, json, sys
ev = json.load(open(glob.glob(sys.argv[1] + "/lstm_*/results/eval_results.json")[0]))
assert ev["cross_section"]["days"] > 200, ev["cross_section"]["days"]
bt = ev["backtest"]
assert bt["days"] > 200 and bt["excess_return_with_cost"]["annualized_return"] is not None
assert bt["excess_return_without_cost"]["annualized_return"] > bt["excess_return_with_cost"]["annualized_return"]
assert ev["baseline_signal"]["name"] == "reversal_5d" and "backtest" in ev["baseline_signal"]
print("PASS: the quickstart's universe run reports IC, the backtest and the reversal baseline")
PY
