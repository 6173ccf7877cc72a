#!/usr/bin/env bash
# Sweep scaling: the same 8 small trials with 1 worker, then with 2, on this machine.
# Prints both wall times and the speed-up (goal: >= 1.7x on 2 cores).
# Usage: bash bench/run_sweep_bench.sh [build dir]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$root/build}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)"
"$build/bin/import_kline" --quiet --db "sqlite:$work/kline.db" "$root/data/sample" > /dev/null
cat > "$work/bench.yaml" <<YAML
name: bench
data: {source: sqlite, options: {path: $work/kline.db}, symbol: "600519", start_date: 2017-01-01}
target: {kind: return}
model: {type: lstm, hidden_size: 32, num_layers: 1}
train: {seq_length: 30, epochs: 6, batch_size: 64, checkpoint_interval: 6, patience: 0, threads: 1}
sweep:
  grid:
    data.symbol: ["600519", "000001", "601318", "600036"]
  seeds: [1, 2]
output_dir: $work/out
YAML
t() {
  local start end
  start=$(date +%s.%N)
  "$build/bin/sweep" --quiet --workers "$1" "$work/bench.yaml" > /dev/null
  end=$(date +%s.%N)
  python3 -c "print($end - $start)"
}
one=$(t 1)
two=$(t 2)
python3 - "$one" "$two" <<'PY'
import sys
one, two = map(float, sys.argv[1:3])
print(f"8 trials: 1 worker {one:.1f} s, 2 workers {two:.1f} s, speed-up {one / two:.2f}x (goal >= 1.7x)")
PY
