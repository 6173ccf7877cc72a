#!/usr/bin/env bash
# Reference LSTM epoch: klab (lstm plugin, autograd) beside Python PyTorch, same run, same
# machine. Prints both, the ratio and samples per second. Usage: bash bench/run_lstm_bench.sh [build]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$root/build}
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs); OPENBLAS_CORETYPE=${OPENBLAS_CORETYPE:-unset}"
# Epoch times on a shared 2-core machine vary by +-15% from run to run: the two sides
# alternate, ROUNDS times, and each keeps its best epoch.
rounds=${ROUNDS:-3}
klab_lines="" python_lines=""
for _ in $(seq 1 "$rounds"); do
  k=$("$build/bin/lstm_epoch_bench" --epochs 1 --threads 1); echo "$k"; klab_lines+="$k"$'\n'
  p=$(OPENBLAS_NUM_THREADS=1 /usr/bin/python3 "$root/bench/lstm_epoch_reference.py" 1 1 lstm); echo "$p"; python_lines+="$p"$'\n'
done
python3 - "$klab_lines" "$python_lines" <<'PY'
import re, sys
best = [min(float(x) for x in re.findall(r"seconds=([0-9.e+-]+)", s)) for s in sys.argv[1:3]]
k, p = best
print(f"best epoch: klab {k:.2f} s ({4992 / k:.0f} samples/s), python {p:.2f} s ({4992 / p:.0f} samples/s)")
print(f"ratio klab/python = {k / p:.2f} (below 1 is faster)")
PY
