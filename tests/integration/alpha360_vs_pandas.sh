#!/usr/bin/env bash
# Alpha360 (docs/DATA.md): every test window of two sample stocks as the model sees it, with
# `features: alpha360`, seq_length 60 and no scaler, against Qlib's definition computed with
# pandas from the database (Ref($close, i)/$close ... Ref($volume, i)/($volume + 1e-12)); then a
# small LSTM run on Alpha360 (robust scaler) whose test predictions PredictionEngine reproduces
# through `predict --date` (the same window transform on both paths).
# Usage: alpha360_vs_pandas.sh <klab source dir> <klab build dir>
set -euo pipefail
source "$(dirname "$0")/common.sh"
cat > "$work/a360.yaml" <<YAML
name: a360
data:
  source: sqlite
  options: {path: $work/kline.db}
  symbols: [600519, 000001]
  split: {val_start: 2020-06-01, test_start: 2021-06-01}
  scaler: SCALER
features: alpha360
target: {kind: return, horizon: 1}
model: {type: lstm, hidden_size: 8, num_layers: 1}
train: {seq_length: 60, epochs: 1, batch_size: 128, seed: 3}
output_dir: $work/out
YAML
sed 's/SCALER/none/' "$work/a360.yaml" > "$work/none.yaml"
"$build/tests/dump_labels" "$work/none.yaml" "$work/labels.csv" "$work/inputs.csv" > /dev/null
/usr/bin/python3 - "$work/kline.db" "$work/inputs.csv" <<'PY'
import sqlite3, sys
import numpy as np
import pandas as pd
db, inputs = sys.argv[1:3]
with sqlite3.connect(db) as con:
    bars = pd.read_sql_query("SELECT symbol, trade_date, open, high, low, close, volume, amount, adj_factor "
                             "FROM stock_kline_data ORDER BY symbol, trade_date", con)
for col in ("open", "high", "low", "close"):
    bars[col] = bars[col] * bars["adj_factor"]
bars["volume"] = bars["volume"] / bars["adj_factor"]
bars["vwap"] = bars["amount"] / bars["volume"]
rows = np.loadtxt(inputs, delimiter=",", dtype=str, ndmin=2)
worst, checked = 0.0, 0
for as_of, symbol, *values in rows:
    g = bars[bars["symbol"] == symbol].reset_index(drop=True)
    t = int(np.flatnonzero(g["trade_date"].to_numpy() == as_of)[0])
    got = np.array(values, dtype=float).reshape(60, 6)
    expect = np.empty((60, 6))
    for k in range(60):                      # row k of the window = Ref(x, 59 - k)
        r = t - (59 - k)
        for j, field in enumerate(("close", "open", "high", "low", "vwap")):
            expect[k, j] = g[field][r] / g["close"][t]
        expect[k, 5] = g["volume"][r] / (g["volume"][t] + 1e-12)
    rel = np.abs(got - expect) / np.abs(expect)
    worst = max(worst, rel.max())
    checked += 1
assert checked > 300, checked
assert worst < 1e-6, f"Alpha360 differs from Qlib's formula: relative {worst}"
print(f"PASS Alpha360: {checked} test windows (60 x 6) agree with pandas, worst relative {worst:.1e}")
PY
sed 's/SCALER/robust/' "$work/a360.yaml" > "$work/robust.yaml"
"$build/bin/sweep" --quiet "$work/robust.yaml" > "$work/run.log" 2>&1 || { cat "$work/run.log"; exit 1; }
run=$(ls -d "$work"/out/lstm_*/)
grep -q '"window_divisor"' "$run/scaler.json" || { echo "FAIL: scaler.json has no window_divisor"; exit 1; }
# The engine, as of three test dates, gives the run's own test predictions.
/usr/bin/python3 - "$run" "$build/bin/predict" <<'PY'
import gzip, json, subprocess, sys
import pandas as pd
run, predict = sys.argv[1:3]
pred = pd.read_csv(f"{run}/results/predictions.csv.gz", dtype={"symbol": str})
# The as-of day is the trading day before the target date in the file: ask the engine for it.
for _, row in pred.iloc[[0, len(pred) // 2, len(pred) - 1]].iterrows():
    out = subprocess.run([predict, "--run", run, "--symbol", row["symbol"], "--from", "2021-01-01", "--json"],
                         capture_output=True, text=True, check=True)
    got = {p["target_date"]: p["predicted_return"] for p in json.loads(out.stdout)["predictions"]}
    assert row["date"] in got, (row["date"], sorted(got)[:3])
    assert abs(got[row["date"]] - row["prediction"]) <= 1e-7 * max(1.0, abs(row["prediction"])) * 10, (got[row["date"]], row["prediction"])
print(f"PASS engine: predict --from reproduces the run's Alpha360 test predictions")
PY
