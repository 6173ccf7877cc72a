#!/usr/bin/env bash
# A point-in-time universe on real data: 40 stocks of ../shared/data/universe (gzip archives,
# imported as they are, one of them delisted in 2015), `data.universe: {top: 10, by:
# total_market_cap, rebalance: monthly}`, trained with the test model without torch (fast). The
# run's universe.json must equal a pandas reference computed from the CSV files by the rule in
# docs/DATA.md, and every test prediction must come from a stock that was a member on its last
# input day. Skips (77) without ../shared/data/universe.
# Usage: universe_point_in_time.sh <klab source dir> <klab build dir>
set -euo pipefail
src=$1
build=$2
universe="$src/../shared/data/universe"
[ -d "$universe" ] || { echo "SKIP: $universe not found"; exit 77; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/files"
# 39 of the first files in name order, and 招商地产 (sz000024, delisted 2015-12-07).
for f in $(ls "$universe"/*.csv.gz | head -n 39) "$universe/sz000024.csv.gz"; do ln -sf "$f" "$work/files/"; done
"$build/bin/import_kline" --quiet --db "sqlite:$work/u.db" "$work/files" | tail -n 1
cat > "$work/universe.yaml" <<YAML
name: universe_test
data:
  source: sqlite
  options: {path: $work/u.db}
  universe: {top: 10, by: total_market_cap, rebalance: monthly}
  start_date: 2014-01-01
  end_date: 2016-12-31
features: basic
target: {kind: return, horizon: 1}
model: {type: mean_model}
train: {seq_length: 5}
output_dir: $work/out
YAML
KLAB_PLUGIN_PATH="$build/tests/plugins/mean_model" "$build/bin/sweep" --quiet "$work/universe.yaml" > "$work/sweep.log" 2>&1 \
  || { cat "$work/sweep.log"; echo "FAIL: sweep"; exit 1; }
run=$(ls -d "$work"/out/mean_model_*/)
/usr/bin/python3 - "$work/files" "$run" <<'PY'
import bisect, glob, gzip, json, os, sys
import pandas as pd
files, run = sys.argv[1], sys.argv[2]
start, end, top = "2014-01-01", "2016-12-31", 10
frames = {}
for path in sorted(glob.glob(os.path.join(files, "*.csv.gz"))):
    df = pd.read_csv(path, skiprows=1, dtype={"股票代码": str})
    df = df[(df["交易日期"] >= start) & (df["交易日期"] <= end)]
    frames[os.path.basename(path)[2:8]] = df.set_index("交易日期")["总市值"]
calendar = sorted(set(d for s in frames.values() for d in s.index))
# The rule of docs/DATA.md: the last trading day of every month that a later month follows.
rebalances = [d for d, n in zip(calendar, calendar[1:]) if d[:7] != n[:7]]
expected = []
for day in rebalances:
    caps = [(s[day], code) for code, s in frames.items() if day in s.index and s[day] == s[day] and s[day] > 0]
    caps.sort(key=lambda x: (-x[0], x[1]))
    expected.append({"date": day, "members": sorted(code for _, code in caps[:top])})
got = json.load(open(os.path.join(run, "universe.json")))
assert got["rule"] == {"top": 10, "by": "total_market_cap", "rebalance": "monthly"}, got["rule"]
assert len(got["rebalances"]) == len(expected), (len(got["rebalances"]), len(expected))
for g, e in zip(got["rebalances"], expected):
    assert g == e, (g, e)
# The delisted stock leaves on its last day and is never chosen after it.
last_024 = frames["000024"].index.max()
assert last_024 == "2015-12-07", last_024
for r in got["rebalances"]:
    if r["date"] > last_024:
        assert "000024" not in r["members"], r
# Every test prediction's stock was a member at the last rebalance on or before its last input day.
pred = pd.read_csv(os.path.join(run, "results", "predictions.csv.gz"), dtype={"symbol": str})
assert len(pred) > 100, len(pred)
dates = [r["date"] for r in got["rebalances"]]
for row in pred.itertuples():
    days = frames[row.symbol].index
    as_of = days[days.get_loc(row.date) - 1]  # the day before the target, in the stock's own rows
    k = bisect.bisect_right(dates, as_of) - 1
    assert k >= 0 and row.symbol in got["rebalances"][k]["members"], (row.symbol, row.date, as_of)
meta = json.load(open(os.path.join(run, "metadata.json")))
assert meta["status"] == "completed", meta["status"]
log = open(os.path.join(run, "logs", "training.log"), encoding="utf-8").read()
assert "universe: top 10 by total_market_cap, rebalanced monthly" in log, log[:2000]
print(f"PASS: {len(expected)} monthly rebalances equal the pandas reference; {len(pred)} test predictions, "
      "each from a member on its last input day; the delisted stock drops out")
PY
