#!/usr/bin/env bash
# Python interoperability: train tiny lstm, gru, transformer, alstm, tcn and mlp runs, then Debian's
# python3-torch loads their weights strictly and reproduces their test predictions.
# Usage: python_interop.sh <klab source dir> <klab build dir>
set -euo pipefail
source "$(dirname "$0")/common.sh"
for model in "type: lstm, hidden_size: 16, num_layers: 2, dropout: 0.1" \
             "type: gru, hidden_size: 16, num_layers: 1, bidirectional: true" \
             "type: transformer, d_model: 16, nhead: 2, num_layers: 2, dim_feedforward: 32, positional_encoding: learned" \
             "type: transformer, d_model: 16, nhead: 4, num_layers: 1, dim_feedforward: 32, pooling: mean" \
             "type: alstm, hidden_size: 16, num_layers: 2, dropout: 0.1" \
             "type: alstm, hidden_size: 8, num_layers: 1, rnn_type: lstm, impl: autograd" \
             "type: tcn, channels: 8, num_layers: 3, kernel_size: 3, dropout: 0.1" \
             "type: mlp, hidden_size: 16, num_layers: 2, dropout: 0.1" \
             "type: mlp, input: flatten, seq_length: 15, hidden_size: 8, batch_norm: false"; do
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

# A run over several symbols writes its predictions compactly; pandas reads them in one call and
# the file agrees with eval_results.json's return metrics, computed here from the docs' formulas.
cat > "$work/multi.yaml" <<YAML
name: multi
data: {source: sqlite, options: {path: $work/kline.db}, symbols: ["600519", "000001", "601318"], start_date: 2019-01-01}
features: basic
target: {kind: return}
model: {type: gru, hidden_size: 8, num_layers: 1}
train: {seq_length: 10, epochs: 2, batch_size: 64, patience: 0}
output_dir: $work/multi_out
YAML
"$build/bin/sweep" --quiet "$work/multi.yaml" > /dev/null
run=$(ls -d "$work"/multi_out/*/)
/usr/bin/python3 - "$run" <<'PY'
import json, sys
import numpy as np
import pandas as pd
run = sys.argv[1]
df = pd.read_csv(run + "/results/predictions.csv.gz", dtype={"symbol": str})
assert list(df.columns) == ["date", "symbol", "prediction", "label", "last_close", "as_of"], df.columns
assert (df.as_of < df.date).all(), "the signal day precedes the day predicted"
assert sorted(df.symbol.unique()) == ["000001", "600519", "601318"], df.symbol.unique()
ev = json.load(open(run + "/results/eval_results.json"))
assert ev["metrics_on"] == "returns" and ev["test_samples"] == len(df), (ev["metrics_on"], ev["test_samples"], len(df))
assert df.label.abs().max() < 0.11 and df.prediction.abs().max() < 1, "returns, not prices"
mae = (df.prediction - df.label).abs().mean()
assert abs(ev["mae"] - mae) < 1e-8, (ev["mae"], mae)
assert abs(ev["baseline"]["mae"] - df.label.abs().mean()) < 1e-8
per = df.groupby("symbol").apply(lambda g: (g.prediction - g.label).abs().mean()).mean()
assert abs(ev["per_symbol_average"]["mae"] - per) < 1e-8, (ev["per_symbol_average"], per)
print(f"PASS: pandas reads a multi-symbol run's predictions ({len(df)} rows); return metrics agree")
PY
