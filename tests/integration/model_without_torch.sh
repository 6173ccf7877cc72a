#!/usr/bin/env bash
# A model that is not a torch module runs end to end: tests/plugins/mean_model.cpp (the mean of
# the training labels, built with klab::sdk alone) is trained by `sweep`, evaluated, written in
# the out/ standard and served by `predict`, exactly as lstm is, and its library needs no torch.
# Usage: model_without_torch.sh <klab source dir> <klab build dir>
set -euo pipefail
source "$(dirname "$0")/common.sh"
fail() { echo "FAIL: $*"; exit 1; }
plugin_dir="$build/tests/plugins/mean_model"
needed=$(readelf -d "$plugin_dir/mean_model.so" | grep NEEDED || true)
echo "$needed" | grep -Eiq 'torch|c10' && fail "mean_model.so links torch: $needed"
export KLAB_PLUGIN_PATH="$plugin_dir"
"$build/bin/list_plugins" --check --json > "$work/list.json"
python3 - "$work/list.json" <<'PY'
import json, sys
plugins = {p["name"]: p for p in json.load(open(sys.argv[1]))["plugins"]}
mean = plugins["mean_model"]
assert mean["check"].startswith("ok:") and "no torch" in mean["check"], mean
assert mean.get("torch_version", "") == "", mean
PY
cat > "$work/mean.yaml" <<YAML
name: mean
data:
  source: sqlite
  options: {path: $work/kline.db}
  symbol: "600519"
  start_date: 2018-01-01
  end_date: 2022-01-14
features: basic
target: {kind: return, horizon: 1}
model: {type: mean_model, shrink: 0.5}
train: {seq_length: 10}
output_dir: $work/out
YAML
"$build/bin/sweep" --quiet "$work/mean.yaml" > "$work/sweep.log" 2>&1 || { cat "$work/sweep.log"; fail "sweep"; }
run=$(ls -d "$work"/out/600519_mean_model_*/)
"$build/bin/predict" --output-dir "$work/out" --run "$(basename "$run")" --symbol 600519 --date 2021-12-30 --json > "$work/predict.json" \
  || fail "predict from the mean_model run"
python3 - "$run" "$work/predict.json" <<'PY'
import json, os, sys
run, predicted = sys.argv[1], json.load(open(sys.argv[2]))["predictions"][0]
meta = json.load(open(os.path.join(run, "metadata.json")))
assert meta["status"] == "completed", meta["status"]
assert meta["model_path"].endswith("/model/mean_model.json"), meta["model_path"]
saved = json.load(open(os.path.join(run, "model", "mean_model.json")))
config = json.load(open(os.path.join(run, "model", "config.json")))
assert config["model_type"] == "mean_model" and config["shrink"] == 0.5 and config["seq_length"] == 10, config
assert not os.path.exists(os.path.join(run, "model", "pytorch_model.bin"))
metrics = json.load(open(os.path.join(run, "logs", "metrics.json")))
assert len(metrics) == 1 and metrics[0]["epoch"] == 1, metrics
assert metrics[0]["train_loss"] >= 0 and metrics[0]["val_loss"] >= 0 and "mean" in metrics[0], metrics
args = json.load(open(os.path.join(run, "model", "training_args.json")))
assert args["total_epochs_trained"] == 1 and args["best_epoch"] == 1, args
rows = json.load(open(os.path.join(run, "results", "predictions.json")))
assert len(rows) > 50, len(rows)
# One number for every window: the predicted return is the same on every test day.
returns = [r["predicted"] / r["last_close"] - 1 for r in rows]
assert max(returns) - min(returns) < 1e-6, (min(returns), max(returns))
evaluation = json.load(open(os.path.join(run, "results", "eval_results.json")))
assert evaluation["mae"] > 0 and evaluation["test_samples"] == len(rows), evaluation
# PredictionEngine loads the model through its own load() and predicts the same return.
assert abs(predicted["predicted_return"] - returns[0]) < 1e-6, (predicted, returns[0])
log = open(os.path.join(run, "logs", "training.log"), encoding="utf-8").read()
for line in ("开始加载数据", "开始特征工程", "创建模型", "开始训练", "开始评估", "评估完成"):
    assert line in log, line
print("PASS: mean_model (no torch) trained, evaluated, saved (%s) and served like any model: return %.6f"
      % (os.path.basename(meta["model_path"]), returns[0]))
PY
