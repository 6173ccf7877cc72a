#!/usr/bin/env bash
# Walk-forward (evaluation.rolling) on the shipped universe sample: 2 seeds x 2 half-year segments
# run as 4 trials on 2 local workers; each segment is a complete run in the out/ standard that
# trained and validated only before its test start; each seed's combined record holds exactly the
# segments' test predictions, and its IC and equity curve are recomputed from docs/EVALUATION.md
# alone (pandas, tests/python/backtest_reference.py). Usage: walk_forward.sh <src> <build>
set -euo pipefail
sample=universe_sample
source "$(dirname "$0")/common.sh"
cat > "$work/wf.yaml" <<YAML
name: wf
data:
  source: sqlite
  options: {path: $work/universe.db}
  universe: {top: 20, by: total_market_cap, rebalance: monthly}
  start_date: 2016-01-01
  end_date: 2021-12-31
  split: {val_start: 2020-01-01, test_start: 2021-01-01}
  scaler: robust
  fill_nan: true
features: alpha158_20
target: {kind: next_return, horizon: 1, normalize: cs_rank}
model: {type: gru, hidden_size: 8, num_layers: 1}
train: {seq_length: 10, epochs: 2, batch_size: 256, patience: 0, threads: 1}
evaluation:
  backtest: {topk: 5, n_drop: 1}
  rolling: {train_years: 3, valid_years: 1, test_months: 6, warmup_months: 4}
sweep:
  seeds: [1, 2]
  workers: 2
output_dir: $work/out
YAML
"$build/bin/sweep" "$work/wf.yaml" > "$work/sweep.log" 2>&1 || { cat "$work/sweep.log"; echo "FAIL: sweep"; exit 1; }
cat "$work/sweep.log"
grep -q "leaderboard by rank_ic (higher is better), out of sample over every walk-forward segment" "$work/sweep.log"
record=$(ls -d "$work"/out/.sweeps/wf_*/)
"$build/bin/list_runs" --output-dir "$work/out" --sweep "$record" > "$work/list.txt"
grep -q "4 run(s)" "$work/list.txt" || { cat "$work/list.txt"; echo "FAIL: list_runs --sweep"; exit 1; }
/usr/bin/python3 - "$record" <<'PY'
import glob, json, os, sys
import pandas as pd
record = sys.argv[1]
sweep = json.load(open(record + "/sweep.json"))
assert sweep["walk_forward"] and sweep["rolling"]["test_months"] == 6, sweep.get("rolling")
trials = sweep["trials"]
assert len(trials) == 4, len(trials)
want = [("2021-01-01", "2021-06-30"), ("2021-07-01", "2021-12-31")]
groups = {}
for t in trials:
    s = json.load(open(f"{record}/trials/trial-{t['index']:04d}.status.json"))
    assert s["status"] == "completed", s
    seg = t["segment"]
    assert (seg["test_start"], seg["test_end"]) == want[seg["index"]], seg
    run = s["run_dir"]
    # A complete run of the out/ standard, of its segment's dates only.
    for f in ("metadata.json", "config.json", "experiment.json", "scaler.json", "logs/training.log",
              "results/eval_results.json", "results/predictions.csv.gz", "results/ic.json", "results/backtest.json"):
        assert os.path.exists(os.path.join(run, f)), (run, f)
    assert json.load(open(run + "/metadata.json"))["status"] == "completed"
    exp = json.load(open(run + "/experiment.json"))
    assert "rolling" not in exp["evaluation"], exp["evaluation"]
    assert exp["data"]["split"] == {"val_start": seg["val_start"], "test_start": seg["test_start"]}, exp["data"]
    assert exp["data"]["end_date"] == seg["test_end"] and exp["data"]["start_date"] == seg["data_start"]
    # No look-ahead: validation is the year before the test start, training the 3 years before.
    assert seg["val_start"] == str(int(seg["test_start"][:4]) - 1) + seg["test_start"][4:], seg
    assert seg["train_start"] == str(int(seg["test_start"][:4]) - 4) + seg["test_start"][4:], seg
    log = open(run + "/logs/training.log").read()
    assert f"val from {seg['val_start']}" in log or "val from " + seg["val_start"][:7] in log, log[-2000:]
    p = pd.read_csv(run + "/results/predictions.csv.gz", dtype={"symbol": str})
    assert p["date"].min() >= seg["test_start"] and p["date"].max() <= seg["test_end"], (p["date"].min(), p["date"].max())
    assert (p["as_of"] < p["date"]).all()
    groups.setdefault(t["group"], []).append((seg["index"], p))

for g, parts in groups.items():
    wf = f"{record}/walk_forward/wf-{g:04d}"
    status = json.load(open(wf + "/status.json"))
    assert status["status"] == "completed", status
    # Exactly the segments' test predictions, in (date, symbol) order, none twice.
    expected = pd.concat([p for _, p in sorted(parts, key=lambda x: x[0])]).sort_values(["date", "symbol"], kind="stable")
    got = pd.read_csv(wf + "/results/predictions.csv.gz", dtype={"symbol": str})
    assert len(got) == len(expected) and not got.duplicated(["date", "symbol"]).any()
    pd.testing.assert_frame_equal(got.reset_index(drop=True), expected.reset_index(drop=True))
    # IC / Rank IC per day from docs/EVALUATION.md.
    days = []
    for date, d in got.groupby("date"):
        if len(d) < 2 or d["prediction"].nunique() < 2 or d["label"].nunique() < 2:
            continue
        days.append((d["prediction"].corr(d["label"]),
                     d["prediction"].rank(method="average").corr(d["label"].rank(method="average"))))
    ic = pd.DataFrame(days, columns=["ic", "rank_ic"])
    ev = json.load(open(wf + "/results/eval_results.json"))
    cs = ev["cross_section"]
    assert cs["days"] == len(ic) > 200, (cs["days"], len(ic))
    assert abs(cs["ic_mean"] - ic["ic"].mean()) < 1e-9 and abs(cs["rank_icir"] - ic["rank_ic"].mean() / ic["rank_ic"].std()) < 1e-9
    assert ev["walk_forward"]["segments"] == 2 and len(json.load(open(wf + "/segments.json"))) == 2
    assert ev["backtest"]["days"] > 200 and ev["baseline_signal"]["name"] == "reversal_5d"
    assert status["eval"]["cross_section"]["rank_ic_mean"] == cs["rank_ic_mean"]
# The leaderboard: the mean and std over the two seeds' combined Rank IC.
vals = [json.load(open(f"{record}/walk_forward/wf-{g:04d}/status.json"))["eval"]["cross_section"]["rank_ic_mean"] for g in sorted(groups)]
board = pd.read_csv(record + "/leaderboard.csv")
assert len(board) == 1 and abs(board["rank_ic_mean"][0] - sum(vals) / 2) < 1e-9, (board, vals)
assert abs(board["rank_ic_std"][0] - pd.Series(vals).std()) < 1e-9
print("PASS: 2 seeds x 2 segments, each a complete run; combined records match their segments and the references")
PY
for wf in "$record"/walk_forward/wf-*/; do
  /usr/bin/python3 "$src/tests/python/backtest_reference.py" "$work/universe.db" "$wf"
done
# A second collect neither recombines nor changes the record.
before=$(md5sum "$record"/walk_forward/wf-0000/results/eval_results.json)
"$build/bin/sweep" --collect "$record" > /dev/null
[ "$(md5sum "$record"/walk_forward/wf-0000/results/eval_results.json)" = "$before" ] || { echo "FAIL: collect rewrote the record"; exit 1; }
echo "PASS: walk-forward"
