#!/usr/bin/env bash
# The research table of docs/RESEARCH.md: every model plugin on the universe experiments
# (experiments/universe_{model}_{alpha158,alpha360}.yaml), each run once per seed as a sweep,
# then mean ± std over the seeds of IC, ICIR, Rank IC, Rank ICIR and the backtest's annualized
# excess return, information ratio and max drawdown (after costs), beside Qlib's published
# figures (bench/qlib_published.csv) and the model-free 5-day reversal of the same runs.
#
# Usage: bash bench/run_research.sh [build dir] [universe folder | klab SQLite file] [out dir]
#   MODELS="lstm gru transformer alstm tcn mlp xgboost linear"  FEATURES="alpha158 alpha360"  SEEDS="1 2 3"  (environment)
#   WORKERS=1 (seeds run at once)  THREADS= (train.threads of each run; default the experiment's)
# A LibTorch network (not the fused LSTM/GRU) at train.threads 2 uses the second core only in
# element-wise loops: its GEMMs run in OpenBLAS on one thread, and perf found the transformer's
# second thread waiting 84 % of the time. On 2 cores, WORKERS=3 THREADS=1 trains three seeds at
# once at 2.6 minutes an epoch each (transformer, Alpha158; docs/RESEARCH.md).
# Each run takes 2 to 15 minutes on 2 cores; TCN on Alpha360 45 to 90 minutes a seed; the
# transformer's three seeds side by side (WORKERS=3 THREADS=1) 25 minutes on Alpha158 and about
# 1 h 40 on Alpha360.
# The runs stay in [out dir] (default out/research); each completed seed is filed in
# bench/research/{experiment}.json (committed: seeds measured in different sessions add up), and
# the rows of the experiments filed there are written into docs/RESEARCH.md between its
# research-table markers (the other rows kept), and printed.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$root/build}
data=${2:-$root/../shared/data/universe}
out=$(realpath -m "${3:-$root/out/research}")
models=${MODELS:-lstm gru transformer alstm tcn mlp xgboost linear}
feature_sets=${FEATURES:-alpha158 alpha360}
seeds=${SEEDS:-1 2 3}
workers=${WORKERS:-1}
threads=${THREADS:-}
mkdir -p "$out"
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)"
if [ -f "$data" ]; then db=$(realpath "$data"); else
  db=$out/universe.db
  [ -f "$db" ] || "$build/bin/import_kline" --quiet --db "sqlite:$db" "$data" | tail -n 1
fi
seed_list=$(echo "$seeds" | tr ' ' ',')
records=()
for features in $feature_sets; do
  for model in $models; do
    file=$root/experiments/universe_${model}_${features}.yaml
    [ -f "$file" ] || { echo "run_research: $file: no such experiment" >&2; exit 2; }
    trial=$out/${model}_${features}.yaml
    # The shipped experiment, on this database, repeated once per seed.
    python3 - "$file" "$trial" "$db" "$seed_list" "$workers" "$threads" <<'PY'
import re, sys
src, dst, db, seeds, workers, threads = sys.argv[1:]
text = open(src).read()
text = re.sub(r"options: \{path: [^}]*\}", "options: {path: %s}" % db, text, count=1)
if threads:
    text, n = re.subn(r"(?m)^  threads: \d+$", "  threads: %s" % threads, text)
    if n != 1:
        sys.exit("run_research: %s: no 'train.threads' line to set" % src)
# A fit-family model draws its randomness from its own seed (xgboost: model.seed), not train.seed.
# linear is deterministic: one run.
if "type: linear" in text:
    axis = "seeds: [%s]" % seeds.split(",")[0]
elif "type: xgboost" in text:
    axis = "grid: {model.seed: [%s]}" % seeds
else:
    axis = "seeds: [%s]" % seeds
text += "sweep:\n  %s\n  metric: {name: rank_ic, mode: max}\n  workers: %s\n" % (axis, workers)
open(dst, "w").write(text)
PY
    echo "== $model on $features, seeds $seeds"
    log=$out/${model}_${features}.log
    "$build/bin/sweep" "$trial" --output-dir "$out" --quiet | tee "$log"
    records+=("$(grep -o '[^ ]*/\.sweeps/[^ ]*' "$log" | head -n 1 || true)")
  done
done
python3 "$root/bench/research_table.py" --qlib "$root/bench/qlib_published.csv" --write "$root/docs/RESEARCH.md" "$out"
