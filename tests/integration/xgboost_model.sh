#!/usr/bin/env bash
# The xgboost plugin (plugins/models/xgboost, libxgboost's C API, no torch): trained by `sweep`
# on flattened windows, early-stopped on the validation set, saved as XGBoost's JSON model in
# model/; Python's xgboost loads that file and reproduces every test prediction (1e-6); `predict`
# serves it through PredictionEngine; its hyperparameters are validated and sweepable.
# Usage: xgboost_model.sh <klab source dir> <klab build dir>
set -euo pipefail
source "$(dirname "$0")/common.sh"
fail() { echo "FAIL: $*"; exit 1; }
needed=$(readelf -d "$build/lib/klab/plugins/xgboost.so" | grep NEEDED || true)
echo "$needed" | grep -q xgboost || fail "xgboost.so does not link libxgboost: $needed"
echo "$needed" | grep -Eiq 'torch|c10' && fail "xgboost.so links torch: $needed"
cat > "$work/xgb.yaml" <<YAML
name: xgb
data: {source: sqlite, options: {path: $work/kline.db}, symbol: "601318", start_date: 2017-01-01, end_date: 2022-01-14}
features: basic
target: {kind: close}
model: {type: xgboost, input: flatten, max_depth: 3, eta: 0.1, num_round: 400, early_stopping_rounds: 10,
        subsample: 0.8, colsample: 0.9, seed: 7, nthread: 1}
train: {seq_length: 5}
output_dir: $work/out
YAML
"$build/bin/sweep" --quiet "$work/xgb.yaml" > "$work/sweep.log" 2>&1 || { cat "$work/sweep.log"; fail "sweep"; }
run=$(ls -d "$work"/out/601318_xgboost_*/)
"$build/tests/dump_windows" "$run" "$work/windows.pt"
"$build/bin/predict" --output-dir "$work/out" --run "$(basename "$run")" --symbol 601318 --date 2021-12-30 --json \
  > "$work/predict.json" || fail "predict from the xgboost run"
/usr/bin/python3 - "$run" "$work/windows.pt" "$work/predict.json" <<'PY'
import json, os, sys
import numpy as np
import torch
import xgboost
run, windows, served = sys.argv[1], sys.argv[2], json.load(open(sys.argv[3]))["predictions"][0]
meta = json.load(open(os.path.join(run, "metadata.json")))
assert meta["status"] == "completed" and meta["model_path"].endswith("/model/xgboost_model.json"), meta
assert not os.path.exists(os.path.join(run, "model", "pytorch_model.bin"))
for f in ("config.json", "training_args.json", "klab_experiment.json", "klab_scaler.json"):
    assert os.path.exists(os.path.join(run, "model", f)), f
config = json.load(open(os.path.join(run, "model", "config.json")))
assert config["model_type"] == "xgboost" and config["input"] == "flatten" and config["max_depth"] == 3, config
metrics = json.load(open(os.path.join(run, "logs", "metrics.json")))
m = metrics[0]
assert len(metrics) == 1 and m["epoch"] == 1 and m["columns"] == 5 * 12, m
# Early stopping: the validation RMSE of the kept round is the best of the curve, and the rounds
# after it (early_stopping_rounds of them) did not beat it.
curve = m["val_rmse_by_round"]
assert m["rounds"] < 400 and m["rounds"] == m["best_round"] + 10, (m["rounds"], m["best_round"])
assert min(curve) == curve[m["best_round"] - 1] == m["best_val_rmse"], m
booster = xgboost.Booster(model_file=os.path.join(run, "model", "xgboost_model.json"))
assert booster.num_boosted_rounds() == m["best_round"], (booster.num_boosted_rounds(), m["best_round"])
x = torch.load(windows)["inputs"].numpy()
flat = x.reshape(x.shape[0], -1)
out = booster.predict(xgboost.DMatrix(flat, missing=np.nan)).astype(np.float64)
scaler = json.load(open(os.path.join(run, "scaler.json")))
rows = json.load(open(os.path.join(run, "results", "predictions.json")))
assert len(rows) == len(out) > 100, (len(rows), len(out))
price = out * scaler["target_scale"] + scaler["target_center"]
worst = max(abs(p - r["predicted"]) / abs(r["predicted"]) for p, r in zip(price, rows))
assert worst < 1e-6, worst
# PredictionEngine (the predict tool) loads the booster through the plugin and predicts the same.
row = next(r for r in rows if r["date"] == served["target_date"])
assert abs(served["predicted_close"] - row["predicted"]) / row["predicted"] < 1e-6, (served, row)
print(f"PASS: Python's xgboost reproduces {len(rows)} test predictions (worst relative difference {worst:.1e}); "
      f"{m['best_round']} of {m['rounds']} rounds kept; predict agrees")
PY
# Hyperparameters: validated with one clear error, and sweepable.
sed -e 's/eta: 0.1/eta: 2/' "$work/xgb.yaml" > "$work/bad.yaml"
if "$build/bin/sweep" --quiet "$work/bad.yaml" > "$work/bad.log" 2>&1; then fail "eta: 2 was accepted"; fi
grep -q "model 'xgboost': 'eta' must be in" "$work/bad.log" || { cat "$work/bad.log"; fail "no clear error for eta"; }
sed -e 's/max_depth: 3/max_dept: 3/' "$work/xgb.yaml" > "$work/bad.yaml"
if "$build/bin/sweep" --quiet "$work/bad.yaml" > "$work/bad.log" 2>&1; then fail "max_dept was accepted"; fi
grep -q "max_dept" "$work/bad.log" || { cat "$work/bad.log"; fail "the misspelt key is not named"; }
printf 'sweep:\n  grid:\n    model.max_depth: [2, 4]\n  workers: 2\n' >> "$work/xgb.yaml"
"$build/bin/sweep" "$work/xgb.yaml" --output-dir "$work/grid" > "$work/grid.log" 2>&1 || { cat "$work/grid.log"; fail "grid"; }
grep -q "2 completed, 0 failed" "$work/grid.log" || { cat "$work/grid.log"; fail "the grid did not complete"; }
echo "PASS: xgboost"
