#!/usr/bin/env bash
# The TopkDropout backtest (docs/EVALUATION.md) against a pandas reference written from that page
# alone (tests/python/backtest_reference.py): a small LSTM over the 5 sample stocks (top 2, drop
# 1) and, when ../shared/data/universe is there, a point-in-time universe of 40 real stocks with
# ST days, limit days, suspensions and a delisting (top 5 by total market cap, top 3 held). Every
# daily value, return, cost, benchmark and turnover must agree to 1e-6, and the summary in
# Qlib's convention. Usage: backtest_vs_pandas.sh <klab source dir> <klab build dir>
set -euo pipefail
source "$(dirname "$0")/common.sh"
run_and_check() {  # name db yaml-data-lines topk n_drop val_start test_start
  cat > "$work/$1.yaml" <<YAML
name: $1
data:
  source: sqlite
  options: {path: $2}
$3
  split: {val_start: $6, test_start: $7}
features: alpha158_20
target: {kind: next_return, horizon: 1, normalize: cs_rank}
model: {type: lstm, hidden_size: 8, num_layers: 1}
train: {seq_length: 5, epochs: 1, batch_size: 256, seed: 7}
evaluation: {backtest: {topk: $4, n_drop: $5, initial_cash: 10000000}}
output_dir: $work/out_$1
YAML
  "$build/bin/sweep" --quiet "$work/$1.yaml" > "$work/$1.log" 2>&1 || { cat "$work/$1.log"; exit 1; }
  local run
  run=$(ls -d "$work/out_$1"/lstm_*/)
  grep -q "backtest: TopkDropout" "$run/logs/training.log" || { echo "FAIL: no backtest line in training.log"; exit 1; }
  /usr/bin/python3 "$src/tests/python/backtest_reference.py" "$2" "$run"
  # The model-free 5-day reversal beside it: its daily IC from the database with pandas.
  /usr/bin/python3 - "$2" "$run" <<'PY'
import json, sqlite3, sys
import numpy as np
import pandas as pd
db, run = sys.argv[1:3]
with sqlite3.connect(db) as con:
    bars = pd.read_sql_query("SELECT symbol, trade_date, close * adj_factor AS c FROM stock_kline_data ORDER BY symbol, trade_date", con)
bars["rev"] = -(bars["c"] / bars.groupby("symbol")["c"].shift(5) - 1)
pred = pd.read_csv(f"{run}/results/predictions.csv.gz", dtype={"symbol": str})
m = pred.merge(bars, left_on=["symbol", "as_of"], right_on=["symbol", "trade_date"], how="left")
ic = m.groupby("date").apply(lambda g: g["rev"].corr(g["label"])).dropna()
rank_ic = m.groupby("date").apply(lambda g: g["rev"].rank().corr(g["label"].rank())).dropna()
got = json.load(open(f"{run}/results/eval_results.json"))["baseline_signal"]
assert got["name"] == "reversal_5d"
for key, ref in (("ic_mean", ic.mean()), ("rank_ic_mean", rank_ic.mean())):
    assert abs(got["cross_section"][key] - ref) < 1e-6, (key, got["cross_section"][key], ref)
assert got["cross_section"]["days"] == len(ic), (got["cross_section"]["days"], len(ic))
print(f"PASS reversal_5d: IC {ic.mean():.4f}, Rank IC {rank_ic.mean():.4f} over {len(ic)} days agree with pandas; "
      f"its backtest: {got['backtest']['excess_return_with_cost']['annualized_return']:.4f} a year")
PY
}
run_and_check sample "$work/kline.db" "  symbols: all" 2 1 2020-01-01 2021-01-01
universe="$src/../shared/data/universe"
if [ -d "$universe" ]; then
  mkdir -p "$work/files"
  for f in $(ls "$universe"/*.csv.gz | head -n 39) "$universe/sz000024.csv.gz"; do ln -sf "$f" "$work/files/"; done
  "$build/bin/import_kline" --quiet --db "sqlite:$work/u.db" "$work/files" > /dev/null
  run_and_check universe "$work/u.db" "  universe: {top: 10, by: total_market_cap, rebalance: monthly}
  start_date: 2013-01-01
  end_date: 2016-12-31" 3 1 2015-01-01 2015-07-01
else
  echo "NOTE: $universe not found; checked the sample only"
fi
