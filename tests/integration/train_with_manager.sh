#!/usr/bin/env bash
# examples/train_with_manager produces a valid run: completed, every standard file present,
# weights that Python's torch.load reads.
set -euo pipefail
source "$(dirname "$0")/common.sh"
"$build/bin/train_with_manager" "$work/kline.db" "$work/out" > "$work/log"
run=$(ls -d "$work"/out/000001_lstm_*/)
for f in config.json metadata.json model/pytorch_model.bin model/config.json model/training_args.json \
         checkpoints/checkpoint-5/pytorch_model.bin checkpoints/checkpoint-5/metrics.json \
         checkpoints/best/pytorch_model.bin logs/training.log logs/metrics.json results/eval_results.json; do
  test -s "$run/$f" || { echo "FAIL: $f missing"; exit 1; }
done
/usr/bin/python3 - "$run" <<'PY'
import json, sys, torch
run = sys.argv[1]
meta = json.load(open(run + "/metadata.json"))
assert meta["status"] == "completed" and meta["model_saved"] and meta["evaluation_completed"], meta
assert [h["status"] for h in meta["status_history"]] == ["initialized", "preparing", "training", "completed"]
state = torch.load(run + "/model/pytorch_model.bin")
assert "lstm.weight_ih_l0" in state and "fc.weight" in state, list(state)
assert len(json.load(open(run + "/logs/metrics.json"))) == 5
print("PASS: train_with_manager wrote a complete run:", meta["run_name"])
PY
# The run predicts: the example saves experiment.json beside scaler.json.
"$build/bin/predict" --output-dir "$work/out" --run "$(basename "$run")" --symbol 000001 --json > "$work/predict.json"
/usr/bin/python3 -c 'import json,sys; p=json.load(open(sys.argv[1]))["predictions"][0]; assert p["symbol"]=="000001" and p["predicted_close"]>0, p' "$work/predict.json"
# The pipeline also travels in model/; a run with neither copy says what prediction needs.
test -s "$run/model/klab_experiment.json" && test -s "$run/model/klab_scaler.json" || { echo "FAIL: model/ lacks the pipeline"; exit 1; }
rm "$run/experiment.json" "$run/model/klab_experiment.json"
if msg=$("$build/bin/predict" --output-dir "$work/out" --run "$(basename "$run")" --symbol 000001 2>&1); then
  echo "FAIL: predict without experiment.json must fail"; exit 1
fi
echo "$msg" | grep -q "has no experiment.json: prediction needs the pipeline" || { echo "FAIL: message: $msg"; exit 1; }
echo "PASS: a TrainingManager run of your own predicts"
# save_checkpoint(model, opt, epoch, metrics) kept best/ at the lowest val_loss by itself.
/usr/bin/python3 - "$run" <<'PY'
import json, sys
run = sys.argv[1]
epochs = [e for e in json.load(open(run + "/logs/metrics.json"))]
best = min(epochs, key=lambda e: e["val_loss"])
saved = json.load(open(run + "/checkpoints/best/metrics.json"))
assert saved["epoch"] == best["epoch"] and abs(saved["val_loss"] - best["val_loss"]) < 1e-12, (saved, best)
meta = json.load(open(run + "/metadata.json"))
assert meta["model_path"] == "out/" + meta["run_name"] + "/model/pytorch_model.bin", meta["model_path"]
print("PASS: best/ follows val_loss; model_path is relative")
PY
