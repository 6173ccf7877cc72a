#!/usr/bin/env bash
# Scaling: synthetic universes of 500 ... 5,000 stocks x 20 years of weekdays (bench/synth_universe.py),
# each imported into a fresh SQLite file, then Alpha158 computed for every stock (2 threads) and a
# dataset built over all of them (alpha158_20, seq_length 20). Prints one table row per size:
# import (time; its memory stays bounded), re-import, features and dataset memory should grow
# linearly with rows (per-million-row columns).
# Usage: bash bench/run_scaling_bench.sh [build dir] [sizes...]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$root/build}
shift || true
sizes=${*:-500 1000 2000 5000}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
largest=$(echo $sizes | tr ' ' '\n' | sort -n | tail -n 1)
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)"
/usr/bin/python3 "$root/bench/synth_universe.py" "$work/all" "$largest" 20
echo "| stocks | rows | import s | import s / M rows | import peak RSS MiB | re-import s | Alpha158 s (2 threads) | s / M rows | dataset MiB (alpha158_20, seq 20) | MiB / M rows | materialised windows MiB | peak RSS MiB |"
echo "|---|---|---|---|---|---|---|---|---|---|---|---|"
# "seconds peak-RSS-MiB" of one command (its output discarded).
measure() {
  python3 -c 'import resource, subprocess, sys, time
start = time.time()
subprocess.run(sys.argv[1:], check=True, stdout=subprocess.DEVNULL)
print(time.time() - start, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024)' "$@"
}
for n in $sizes; do
  mkdir -p "$work/files_$n"
  ls "$work/all" | sort | head -n "$n" | while read -r f; do ln -s "$work/all/$f" "$work/files_$n/$f"; done
  import=$(measure "$build/bin/import_kline" --quiet --db "sqlite:$work/s$n.db" "$work/files_$n")
  again=$(measure "$build/bin/import_kline" --quiet --db "sqlite:$work/s$n.db" "$work/files_$n")
  features=$("$build/bin/alpha158_bench" --options "{\"path\": \"$work/s$n.db\"}" --threads 2 --repeat 1 | grep "threads=2")
  dataset=$("$build/bin/alpha158_bench" --options "{\"path\": \"$work/s$n.db\"}" --features alpha158_20 --threads 2 \
             --repeat 1 --dataset | grep "^dataset")
  python3 - "$n" "$import" "$again" "$features" "$dataset" <<'PY'
import re, sys
n, (imp, imp_rss), (again, _), features, dataset = (sys.argv[1], map(float, sys.argv[2].split()),
                                                     map(float, sys.argv[3].split()), sys.argv[4], sys.argv[5])
get = lambda text, key: float(re.search(rf"{key}=([0-9.e+]+)", text).group(1))
rows = get(features, "rows") / 1e6
feat = get(features, "seconds")
mib, mat, peak = get(dataset, "dataset_mib"), get(dataset, "materialised_windows_would_be_mib"), get(dataset, "peak_rss_mib")
print(f"| {n} | {rows:.2f} M | {imp:.1f} | {imp / rows:.2f} | {imp_rss:,.0f} | {again:.1f} | {feat:.2f} | {feat / rows:.2f} | {mib:,.0f} | {mib / rows:.0f} | {mat:,.0f} | {peak:,.0f} |")
PY
  rm -f "$work/s$n.db"
done
