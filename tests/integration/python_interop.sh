#!/usr/bin/env bash
# Python interoperability: train tiny lstm, gru and transformer runs, then Debian's
# python3-torch loads their weights strictly and reproduces their test predictions.
# Usage: python_interop.sh <klab source dir> <klab build dir>
set -euo pipefail
source "$(dirname "$0")/common.sh"
for model in "type: lstm, hidden_size: 16, num_layers: 2, dropout: 0.1" \
             "type: gru, hidden_size: 16, num_layers: 1, bidirectional: true" \
             "type: transformer, d_model: 16, nhead: 2, num_layers: 2, dim_feedforward: 32, positional_encoding: learned" \
             "type: transformer, d_model: 16, nhead: 4, num_layers: 1, dim_feedforward: 32, pooling: mean"; do
  target=close
  case "$model" in *gru*) target=return ;; esac
  cat > "$work/exp.yaml" <<YAML
name: interop
data: {source: sqlite, options: {path: $work/kline.db}, symbol: "601318", start_date: 2019-01-01}
features: basic
target: {kind: $target}
model: {$model}
train: {seq_length: 15, epochs: 3, batch_size: 64, checkpoint_interval: 1, patience: 0}
output_dir: $work/out
YAML
  rm -rf "$work/out"
  "$build/bin/sweep" --quiet "$work/exp.yaml" > /dev/null
  run=$(ls -d "$work"/out/*/)
  "$build/tests/dump_windows" "$run" "$work/windows.pt"
  /usr/bin/python3 "$src/tests/python/check_interop.py" "$run" "$work/windows.pt"
done
