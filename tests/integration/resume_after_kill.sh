#!/usr/bin/env bash
# kill -9 in the middle of training, then `sweep --resume`: no corrupt JSON at any point, the
# resumed run continues from the newest complete checkpoint and ends with exactly the metrics
# of a run that was never interrupted.
# Usage: resume_after_kill.sh <klab source dir> <klab build dir>
set -euo pipefail
source "$(dirname "$0")/common.sh"
cat > "$work/exp.yaml" <<YAML
name: resume
data: {source: sqlite, options: {path: $work/kline.db}, symbol: "600036", start_date: 2017-01-01}
model: {type: lstm, hidden_size: 32, num_layers: 2, dropout: 0.2}
train: {seq_length: 30, epochs: 8, batch_size: 32, checkpoint_interval: 2, patience: 0, seed: 11}
YAML

"$build/bin/sweep" --quiet --output-dir "$work/full" "$work/exp.yaml" > /dev/null
full=$(ls -d "$work"/full/*/)

"$build/bin/sweep" --quiet --output-dir "$work/cut" "$work/exp.yaml" > /dev/null 2>&1 &
pid=$!
# Wait until checkpoint-4 is complete, then kill during epoch 5 or 6.
for _ in $(seq 1 600); do
  if ls "$work"/cut/*/checkpoints/checkpoint-4/metrics.json > /dev/null 2>&1; then break; fi
  sleep 0.05
done
kill -9 "$pid"
wait "$pid" 2>/dev/null || true
cut=$(ls -d "$work"/cut/*/)
test -f "$cut/checkpoints/checkpoint-4/pytorch_model.bin" || { echo "FAIL: no checkpoint-4 before the kill"; exit 1; }
status=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["status"])' "$cut/metadata.json")
[ "$status" = "training" ] || { echo "FAIL: killed run has status $status"; exit 1; }
# Every JSON file that exists parses.
find "$cut" -name '*.json' -print0 | xargs -0 -n1 python3 -c 'import json,sys; json.load(open(sys.argv[1]))'
[ ! -e "$cut/results/eval_results.json" ] || { echo "FAIL: killed run has results"; exit 1; }

# Storage faults: the newest checkpoint's weights (checkpoint-4, or -6 when the kill came late on
# a busy machine) are cut to half their size in a copy of the killed run, and have one byte
# flipped in the run itself. Each resume must notice (truncation breaks the file, the flip only
# its checksum), say so, and fall back to the checkpoint before it.
checkpoints=$(ls -d "$cut"/checkpoints/checkpoint-* | sed 's/.*checkpoint-//' | sort -n | tail -n 2)
previous=$(echo "$checkpoints" | head -n 1)
newest=$(echo "$checkpoints" | tail -n 1)
[ "$previous" != "$newest" ] || { echo "FAIL: fewer than two checkpoints before the kill"; exit 1; }
cp -a "$work/cut" "$work/cut2"
cut2=$(ls -d "$work"/cut2/*/)
weights="$cut2/checkpoints/checkpoint-$newest/pytorch_model.bin"
truncate -s $(( $(stat -c %s "$weights") / 2 )) "$weights"
python3 - "$cut/checkpoints/checkpoint-$newest/pytorch_model.bin" <<'PY'
import sys
path = sys.argv[1]
data = bytearray(open(path, "rb").read())
data[len(data) * 3 // 4] ^= 0x10        # inside the tensors' bytes: the pickle still loads
open(path, "wb").write(bytes(data))
PY
"$build/bin/sweep" --quiet --output-dir "$work/cut2" --resume "$(basename "$cut2")" > "$work/resume2.log"
"$build/bin/sweep" --quiet --output-dir "$work/cut" --resume "$(basename "$cut")" > "$work/resume.log"
for run in "$cut" "$cut2"; do
  grep -q "warning: checkpoint-$newest is unusable" "$run/logs/training.log" || { echo "FAIL: no fallback warning in $run"; exit 1; }
  grep -q "Resuming from checkpoint-$previous (epoch $previous)" "$run/logs/training.log" \
    || { echo "FAIL: $run did not resume from checkpoint-$previous"; exit 1; }
done
grep -q "checksum mismatch" "$cut/logs/training.log" || { echo "FAIL: the flipped byte was not caught by the checksum"; exit 1; }
python3 - "$full" "$cut2" <<'PY'
import json, sys
a = json.load(open(sys.argv[1] + "/results/eval_results.json"))
b = json.load(open(sys.argv[2] + "/results/eval_results.json"))
assert all(a[k] == b[k] for k in ("mae", "rmse", "test_samples")), (a["mae"], b["mae"])
print("PASS: a truncated checkpoint is skipped for the one before it; the result is the uninterrupted run's")
PY
python3 - "$full" "$cut" <<'PY'
import json, sys
full, cut = sys.argv[1], sys.argv[2]
a = json.load(open(full + "/results/eval_results.json"))
b = json.load(open(cut + "/results/eval_results.json"))
for k in ("mae", "rmse", "mape", "r2", "direction_accuracy", "test_samples"):
    assert a[k] == b[k], (k, a[k], b[k])
meta = json.load(open(cut + "/metadata.json"))
assert meta["status"] == "completed", meta["status"]
history = [h["status"] for h in meta["status_history"]]
assert history[-1] == "completed" and history.count("training") == 2, history
log = json.load(open(cut + "/logs/metrics.json"))
assert [e["epoch"] for e in log] == list(range(1, 9)), [e["epoch"] for e in log]
print(f"PASS: killed during training, resumed, final mae {b['mae']:.6f} == uninterrupted {a['mae']:.6f}")
PY
grep -q "Resuming from checkpoint-" "$cut/logs/training.log" || { echo "FAIL: no resume in training.log"; exit 1; }
