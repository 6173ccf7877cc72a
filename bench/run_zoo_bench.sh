#!/usr/bin/env bash
# The model zoo's torch models beside their Python twins: one training epoch of the reference
# shape (4,992 windows of 60 x 45, batch 32, Adam, MSE) through each klab plugin and through the
# same module in Python PyTorch (tests/python/check_interop.py, built from the plugin's own
# config), 1 thread each (BLAS on 1), interleaved ROUNDS times, each keeping its best.
#   bash bench/run_zoo_bench.sh [build]      ROUNDS=2
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$root/build}
rounds=${ROUNDS:-2}
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)"
declare -A configs=(
  [alstm]='{"hidden_size": 64, "num_layers": 2, "dropout": 0.0}'
  [tcn]='{"channels": 32, "num_layers": 5, "kernel_size": 3, "dropout": 0.0}'
  [mlp]='{"input": "flatten", "seq_length": 60, "hidden_size": 256, "num_layers": 2}'
  [transformer]='{"d_model": 64, "nhead": 4, "num_layers": 2, "dim_feedforward": 128, "dropout": 0.0}'
)
lines=""
for _ in $(seq 1 "$rounds"); do
  for model in alstm tcn mlp transformer; do
    k=$("$build/bin/rnn_epoch_bench" --model "$model" --config "${configs[$model]}" --threads 1)
    echo "$k"; lines+="$k"$'\n'
    config=${k##* config=}
    p=$(OPENBLAS_NUM_THREADS=1 /usr/bin/python3 "$root/bench/rnn_epoch_reference.py" 1 1 twin "$config")
    echo "$p"; lines+="$p"$'\n'
  done
done
python3 - "$lines" <<'PY'
import re, sys
best = {}
for line in sys.argv[1].splitlines():
    m = re.match(r"epoch (klab|python) model=(\w+) .*?seconds=([0-9.]+)", line)
    if m:
        key = (m.group(1), m.group(2))
        best[key] = min(best.get(key, 1e30), float(m.group(3)))
for model in ("alstm", "tcn", "mlp", "transformer"):
    k, p = best.get(("klab", model)), best.get(("python", model))
    if k and p:
        print(f"{model:12s} klab {k:7.2f} s  python {p:7.2f} s  ratio {k / p:.2f}x")
PY
