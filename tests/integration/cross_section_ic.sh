#!/usr/bin/env bash
# IC and Rank IC of a run over several symbols, recomputed with pandas from docs/EVALUATION.md
# alone (results/predictions.csv.gz in, results/ic.json and eval_results.json's cross_section
# out), to 1e-9.
# Usage: cross_section_ic.sh <klab source dir> <klab build dir>
set -euo pipefail
source "$(dirname "$0")/common.sh"
cat > "$work/panel.yaml" <<YAML
name: panel
data:
  source: sqlite
  options: {path: $work/kline.db}
  symbols: all
  start_date: 2018-01-01
  end_date: 2022-01-14
features: basic
target: {kind: return, horizon: 1}
model: {type: gru, hidden_size: 8, num_layers: 1}
train: {seq_length: 10, epochs: 2, batch_size: 64, seed: 3}
output_dir: $work/out
YAML
"$build/bin/sweep" --quiet "$work/panel.yaml" > "$work/sweep.log" 2>&1 || { cat "$work/sweep.log"; echo "FAIL: sweep"; exit 1; }
run=$(ls -d "$work"/out/gru_*/)
"$build/bin/list_runs" --output-dir "$work/out" --sort rank_ic --json > "$work/list.json"
/usr/bin/python3 - "$run" "$work/list.json" <<'PY'
import json, math, os, sys
import pandas as pd
run, listing = sys.argv[1], json.load(open(sys.argv[2]))
pred = pd.read_csv(os.path.join(run, "results", "predictions.csv.gz"), dtype={"symbol": str})
assert pred["symbol"].nunique() == 5, pred["symbol"].unique()
days, skipped = [], 0
for date, g in pred.groupby("date"):
    p, y = g["prediction"], g["label"]
    if len(g) < 2 or p.nunique() < 2 or y.nunique() < 2:
        skipped += 1
        continue
    ic = p.corr(y)                                            # Pearson
    rank_ic = p.rank(method="average").corr(y.rank(method="average"))  # Spearman, average ranks
    days.append({"date": date, "stocks": len(g), "ic": ic, "rank_ic": rank_ic})
got = json.load(open(os.path.join(run, "results", "ic.json")))
assert got["skipped_days"] == skipped, (got["skipped_days"], skipped)
assert len(got["days"]) == len(days) > 100, (len(got["days"]), len(days))
for g, e in zip(got["days"], days):
    assert g["date"] == e["date"] and g["stocks"] == e["stocks"], (g, e)
    assert abs(g["ic"] - e["ic"]) < 1e-9 and abs(g["rank_ic"] - e["rank_ic"]) < 1e-9, (g, e)
daily = pd.DataFrame(days)
cs = json.load(open(os.path.join(run, "results", "eval_results.json")))["cross_section"]
for name in ("ic", "rank_ic"):
    s = daily[name]
    assert abs(cs[name + "_mean"] - s.mean()) < 1e-9, name
    assert abs(cs[name + "_std"] - s.std()) < 1e-9, name         # ddof 1
    assert abs(cs[name + "ir"] - s.mean() / s.std()) < 1e-9, name
    assert abs(cs[name + "_positive_share"] - (s > 0).mean()) < 1e-12, name
assert cs["days"] == len(days)
daily["year"] = daily["date"].str[:4]
for year, g in daily.groupby("year"):
    b = cs["by_year"][year]
    assert b["days"] == len(g) and abs(b["rank_ic_mean"] - g["rank_ic"].mean()) < 1e-9, (year, b)
# list_runs shows and sorts by it.
runs = listing["runs"] if isinstance(listing, dict) else listing
row = [r for r in runs if r["name"] == os.path.basename(run.rstrip("/"))][0]
assert abs(row["rank_ic"] - cs["rank_ic_mean"]) < 1e-12 and abs(row["icir"] - cs["icir"]) < 1e-12, row
print(f"PASS: {len(days)} daily IC / Rank IC and their summaries equal the pandas reference "
      f"(IC {cs['ic_mean']:.4f}, Rank IC {cs['rank_ic_mean']:.4f}, ICIR {cs['icir']:.3f})")
PY
