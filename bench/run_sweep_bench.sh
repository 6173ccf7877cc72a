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
model: {type: lstm, hidden_size: 64, num_layers: 2}
train: {seq_length: 30, epochs: 60, batch_size: 64, checkpoint_interval: 20, patience: 0, threads: 1}
sweep:
  grid:
    data.symbol: ["600519", "000001", "601318", "600036"]
  seeds: [1, 2]
output_dir: $work/out
YAML
t() {
  local start end
  start=$(date +%s.%N)
  "$build/bin/sweep" --quiet --workers "$1" "$work/bench.yaml" > "$work/last.log" \
    || { cat "$work/last.log" >&2; echo "bench: a trial failed" >&2; exit 1; }
  end=$(date +%s.%N)
  python3 -c "print($end - $start)"
}
# Wall times on this shared VM drift by +-20 %: alternate, twice, and keep the best of each.
ones=() twos=()
for _ in 1 2; do
  ones+=("$(t 1)")
  twos+=("$(t 2)")
  echo "round: 1 worker ${ones[-1]} s, 2 workers ${twos[-1]} s"
done
python3 - "${ones[*]}" "${twos[*]}" <<'PY'
import sys
one = min(map(float, sys.argv[1].split()))
two = min(map(float, sys.argv[2].split()))
print(f"8 trials, best of 2: 1 worker {one:.1f} s, 2 workers {two:.1f} s, speed-up {one / two:.2f}x (goal >= 1.7x)")
PY
