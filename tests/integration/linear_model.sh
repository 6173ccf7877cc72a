#!/usr/bin/env bash
# The linear plugin (ridge in closed form, no torch): numpy solves the same ridge problem from
# docs/PLUGINS.md's formula on the run's training windows (dumped by tests/tools/dump_windows) and
# must find the saved coefficients (1e-6), and numpy's predictions from model/linear_model.json
# reproduce the run's test predictions. Usage: linear_model.sh <klab source dir> <klab build dir>
set -euo pipefail
source "$(dirname "$0")/common.sh"
fail() { echo "FAIL: $*"; exit 1; }
needed=$(readelf -d "$build/lib/klab/plugins/linear.so" | grep NEEDED || true)
echo "$needed" | grep -Eiq 'torch|c10' && fail "linear.so links torch: $needed"
for input in flatten last_row; do
  cat > "$work/lin.yaml" <<YAML
name: lin
data: {source: sqlite, options: {path: $work/kline.db}, symbol: "600036", start_date: 2017-01-01, end_date: 2022-01-14}
features: basic
target: {kind: return}
model: {type: linear, input: $input, lambda: 2.5}
train: {seq_length: 4}
output_dir: $work/out_$input
YAML
  "$build/bin/sweep" --quiet "$work/lin.yaml" > "$work/sweep.log" 2>&1 || { cat "$work/sweep.log"; fail "sweep"; }
  run=$(ls -d "$work"/out_$input/600036_linear_*/)
  "$build/tests/dump_windows" "$run" "$work/train.pt" train
  "$build/tests/dump_windows" "$run" "$work/test.pt" test
  /usr/bin/python3 - "$run" "$work/train.pt" "$work/test.pt" "$input" <<'PY'
import json, os, sys
import numpy as np
import torch
run, train_file, test_file, kind = sys.argv[1:5]
def design(d):
    x = d["inputs"].numpy().astype(np.float64)
    x = x.reshape(x.shape[0], -1) if kind == "flatten" else x[:, -1, :]
    return np.nan_to_num(x, nan=0.0)
train = torch.load(train_file)
x, y = design(train), train["labels"].numpy().astype(np.float32).astype(np.float64)
lam = 2.5
xm, ym = x.mean(axis=0), y.mean()
xc, yc = x - xm, y - ym
w = np.linalg.solve(xc.T @ xc + lam * np.eye(x.shape[1]), xc.T @ yc)
b = ym - xm @ w
saved = json.load(open(os.path.join(run, "model", "linear_model.json")))
coef = np.array(saved["coef"])
assert coef.shape == w.shape == ((48,) if kind == "flatten" else (12,)), (coef.shape, w.shape)
err = np.abs(coef - w).max() / np.abs(w).max()
assert err < 1e-6 and abs(saved["intercept"] - b) < 1e-6 * max(1, abs(b)), (err, saved["intercept"], b)
meta = json.load(open(os.path.join(run, "metadata.json")))
assert meta["model_path"].endswith("/model/linear_model.json"), meta["model_path"]
# numpy's predictions from the saved file are the run's test predictions.
test = torch.load(test_file)
out = design(test) @ coef + saved["intercept"]
scaler = json.load(open(os.path.join(run, "scaler.json")))
rows = json.load(open(os.path.join(run, "results", "predictions.json")))
ret = out * scaler["target_scale"] + scaler["target_center"]
worst = max(abs(r["last_close"] * (1 + v) - r["predicted"]) / r["predicted"] for v, r in zip(ret, rows))
assert len(rows) == len(out) > 100 and worst < 1e-6, (len(rows), len(out), worst)
print(f"PASS linear ({kind}): numpy's ridge solution agrees to {err:.1e}; {len(rows)} test predictions reproduced ({worst:.1e})")
PY
done
sed -e 's/lambda: 2.5/lambda: -1/' "$work/lin.yaml" > "$work/bad.yaml"
if "$build/bin/sweep" --quiet "$work/bad.yaml" > "$work/bad.log" 2>&1; then fail "lambda: -1 was accepted"; fi
grep -q "model 'linear': 'lambda' must be a number >= 0" "$work/bad.log" || { cat "$work/bad.log"; fail "no clear error"; }
echo "PASS: linear"
