#!/usr/bin/env bash
# Panel labels against pandas (docs/DATA.md, "Labels for panels"): Qlib's label (buy at the next
# close, sell at the one after) for every window of the 5 sample stocks, its per-date
# cross-sectional normalisation (cs_rank, cs_zscore) over the windows of each date, and a small
# LSTM run end to end (alpha158_20, next_return, cs_rank, fill_nan) whose predictions file holds
# the same realised labels and whose IC is computed. Usage: panel_labels.sh <src> <build>
set -euo pipefail
source "$(dirname "$0")/common.sh"
experiment() {  # normalize
  cat <<YAML
name: panel_$1
data:
  source: sqlite
  options: {path: $work/kline.db}
  symbols: all
  split: {val_start: 2020-01-01, test_start: 2021-01-01}
  scaler: robust
  fill_nan: true
features: alpha158_20
target: {kind: next_return, horizon: 1, normalize: $1}
model: {type: lstm, hidden_size: 8, num_layers: 1}
train: {seq_length: 10, epochs: 1, batch_size: 256, batch_by_date: true, seed: 1, threads: 2}
output_dir: $work/out
YAML
}
for how in cs_rank cs_zscore; do
  experiment "$how" > "$work/$how.yaml"
  "$build/tests/dump_labels" "$work/$how.yaml" "$work/$how.csv"
done
/usr/bin/python3 - "$work/kline.db" "$work/cs_rank.csv" "$work/cs_zscore.csv" <<'PY'
import sqlite3, sys
import numpy as np
import pandas as pd
db, rank_csv, z_csv = sys.argv[1:4]
with sqlite3.connect(db) as con:
    bars = pd.read_sql_query("SELECT symbol, trade_date, close, adj_factor FROM stock_kline_data ORDER BY symbol, trade_date", con)
bars["close"] = bars["close"] * bars["adj_factor"]  # backward adjustment
rows = []
for symbol, g in bars.groupby("symbol"):
    c = g["close"].to_numpy()
    d = g["trade_date"].to_numpy()
    label = pd.Series(c).shift(-2) / pd.Series(c).shift(-1) - 1   # close_{t+2} / close_{t+1} - 1
    rows.append(pd.DataFrame({"symbol": symbol, "as_of": d, "ref_label": label.to_numpy(),
                              "ref_target_date": pd.Series(d).shift(-2).to_numpy()}))
ref = pd.concat(rows)
for path, how in ((rank_csv, "cs_rank"), (z_csv, "cs_zscore")):
    got = pd.read_csv(path, dtype={"symbol": str})
    m = got.merge(ref, on=["symbol", "as_of"], how="left")
    assert len(m) == len(got) and m["ref_label"].notna().all(), "a window without a pandas label"
    assert (m["target_date"] == m["ref_target_date"]).all(), "target dates differ"
    err = np.abs(m["raw_target"] - m["ref_label"]).max()
    assert err < 1e-12, f"next_return differs from pandas by {err}"
    # Per date over that date's windows (all splits): the documented formulas.
    g = m.groupby("as_of")["raw_target"]
    if how == "cs_rank":
        expect = (g.rank(pct=True) - 0.5) * 3.46
    else:
        expect = (m["raw_target"] - g.transform("mean")) / g.transform("std")
    err = np.abs(m["train_target"] - expect).max()
    assert err < 1e-9, f"{how} differs from pandas by {err}"
    assert not expect.isna().any(), "an undefined label was kept"
    print(f"PASS {how}: {len(m)} windows on {m['as_of'].nunique()} dates, labels and {how} agree with pandas "
          f"(next_return within 1e-12, normalised within {err:.1e})")
PY
# End to end: the predictions file's labels are the same next_return; IC is computed.
"$build/bin/sweep" --quiet "$work/cs_rank.yaml" > "$work/run.log" 2>&1 || { cat "$work/run.log"; exit 1; }
run=$(ls -d "$work"/out/lstm_*/)
grep -q "normalised per date by cs_rank" "$run/logs/training.log" || { echo "FAIL: no normalisation line in training.log"; exit 1; }
grep -q "data.fill_nan: " "$run/logs/training.log" || { echo "FAIL: no fill_nan line"; exit 1; }
/usr/bin/python3 - "$work/kline.db" "$run" <<'PY'
import json, sqlite3, sys
import numpy as np
import pandas as pd
db, run = sys.argv[1:3]
with sqlite3.connect(db) as con:
    bars = pd.read_sql_query("SELECT symbol, trade_date, close, adj_factor FROM stock_kline_data ORDER BY symbol, trade_date", con)
bars["close"] = bars["close"] * bars["adj_factor"]
bars["realised"] = bars.groupby("symbol")["close"].transform(lambda c: c / c.shift(1) - 1)  # sell day over buy day
pred = pd.read_csv(f"{run}/results/predictions.csv.gz", dtype={"symbol": str})
m = pred.merge(bars, left_on=["symbol", "date"], right_on=["symbol", "trade_date"], how="left")
err = (np.abs(m["label"] - m["realised"]) / np.abs(m["realised"]).clip(lower=1e-8)).max()
assert err < 1e-7, f"the predictions' labels are not close_(t+2)/close_(t+1)-1: {err}"
ev = json.load(open(f"{run}/results/eval_results.json"))
cs = ev["cross_section"]
assert cs["days"] > 200 and cs["ic_mean"] is not None, cs
assert ev["metrics_on"] == "scores" and "IC" in ev["note"], ev.get("metrics_on")
cfg = json.load(open(f"{run}/experiment.json"))
assert cfg["target"] == {"kind": "next_return", "horizon": 1, "normalize": "cs_rank"}, cfg["target"]
assert cfg["data"]["fill_nan"] is True
print(f"PASS end to end: {len(pred)} test predictions with next_return labels; IC {cs['ic_mean']:.4f} "
      f"Rank IC {cs['rank_ic_mean']:.4f} over {cs['days']} days")
PY
