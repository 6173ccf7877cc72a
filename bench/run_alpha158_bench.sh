#!/usr/bin/env bash
# Alpha158 at market scale: the whole universe folder imported into SQLite, then klab computing
# Alpha158 for every stock on 1 and 2 threads (loading timed apart) and the memory of a dataset
# over all of them (Alpha158, seq_length 20), beside the pandas/numpy reference of the tests
# computing the same features in the same run. Prints the ratio.
# Usage: bash bench/run_alpha158_bench.sh [build dir] [universe folder | klab SQLite file]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$root/build}
data=${2:-$root/../shared/data/universe}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)"
if [ -f "$data" ]; then db=$data; else
  db=$work/u.db
  "$build/bin/import_kline" --quiet --db "sqlite:$db" "$data" | tail -n 1
fi
klab=$("$build/bin/alpha158_bench" --options "{\"path\": \"$db\"}" --threads 2 --repeat 3 --dataset)
echo "$klab"
pandas=$(/usr/bin/python3 "$root/bench/alpha158_pandas.py" "$db")
echo "$pandas"
python3 - "$klab" "$pandas" <<'PY'
import re, sys
klab, pandas = sys.argv[1], sys.argv[2]
def secs(text, threads):
    return float(re.search(rf"threads={threads} .*?seconds=([0-9.]+)", text).group(1))
ref = secs(pandas, 1)
for t in (1, 2):
    print(f"ratio pandas / klab on {t} thread(s): {ref / secs(klab, t):.1f}x")
PY
