#!/usr/bin/env bash
# A 4-trial sweep on a real single-node Slurm cluster (slurmctld + slurmd started here):
# sweep writes an sbatch array, submits it, waits, and collects 4 completed runs.
# Usage: sweep_slurm.sh <klab source dir> <klab build dir>
set -euo pipefail
src=$1
build=$2
work=$(mktemp -d)
cleanup() { bash "$src/scripts/slurm_test_cluster.sh" stop "$work/slurm" > /dev/null 2>&1 || true; rm -rf "$work"; }
trap cleanup EXIT
bash "$src/scripts/slurm_test_cluster.sh" start "$work/slurm"
export SLURM_CONF="$work/slurm/slurm.conf"
"$build/bin/import_kline" --quiet --db "sqlite:$work/kline.db" "$src/data/sample" > /dev/null
cat > "$work/grid.yaml" <<YAML
name: slurm_grid
data: {source: sqlite, options: {path: $work/kline.db}, symbol: "600519", start_date: 2019-06-01}
features: basic
target: {kind: return}
model: {type: lstm, hidden_size: 8, num_layers: 1}
train: {seq_length: 10, epochs: 2, batch_size: 64, checkpoint_interval: 1, patience: 0}
sweep:
  grid:
    data.symbol: ["600519", "000001"]
    model.type: [lstm, gru]
  executor: slurm
  slurm: {cpus_per_task: 1, time_limit: "00:10:00", max_concurrent: 2}
output_dir: $work/out
YAML
cd "$work"
"$build/bin/sweep" "$work/grid.yaml" | tee "$work/sweep.log"
record=$(ls -d "$work"/out/.sweeps/slurm_grid_*/)
grep -q "submitted Slurm array job" "$work/sweep.log"
grep -q "#SBATCH --array=0,1,2,3%2" "$record/slurm/sweep.sbatch"
grep -q "leaderboard by mae" "$work/sweep.log"
job=$(cat "$record/slurm/job_id")
python3 - "$record" <<'PY'
import glob, json, sys
record = sys.argv[1]
statuses = [json.load(open(f)) for f in sorted(glob.glob(record + "/trials/trial-*.status.json"))]
assert len(statuses) == 4, len(statuses)
for s in statuses:
    assert s["status"] == "completed", s
    meta = json.load(open(s["run_dir"] + "/metadata.json"))
    assert meta["status"] == "completed", meta["status"]
rows = open(record + "/leaderboard.csv").read().strip().splitlines()
assert len(rows) == 5, rows
print("PASS: 4 trials ran as Slurm array tasks on", {s["host"] for s in statuses})
PY
listed=$("$build/bin/list_runs" --output-dir "$work/out" --sweep "$record")
echo "$listed" | tail -n 1 | grep -q "4 run(s)" || { echo "FAIL: list_runs --sweep:"; echo "$listed"; exit 1; }
# The scheduler itself knew the job: every array task COMPLETED. A task passes through
# COMPLETING after its last step (slurmctld's epilog, slow on a loaded machine): wait for that.
states=""
for _ in $(seq 1 60); do
  states=$(scontrol show job "$job" | grep -o "JobState=[A-Z_]*" | sort -u | tr '\n' ' ')
  case "$states" in *COMPLETING*|*RUNNING*|*PENDING*|"") sleep 1 ;; *) break ;; esac
done
[ "$states" = "JobState=COMPLETED " ] || { echo "FAIL: Slurm says $states for job $job"; scontrol show job "$job"; exit 1; }

# Walk-forward segments are trials like any other: two half-year segments as a Slurm array, then
# their combined out-of-sample record.
cat > "$work/wf.yaml" <<YAML
name: slurm_wf
data: {source: sqlite, options: {path: $work/kline.db}, symbols: all, start_date: 2017-01-01, end_date: 2021-12-31,
       split: {val_start: 2020-01-01, test_start: 2021-01-01}}
features: basic
target: {kind: next_return, normalize: cs_rank}
model: {type: gru, hidden_size: 8, num_layers: 1}
train: {seq_length: 10, epochs: 2, batch_size: 64, patience: 0}
evaluation:
  backtest: {topk: 2, n_drop: 1}
  rolling: {train_years: 2, valid_years: 1, test_months: 6}
sweep:
  executor: slurm
  slurm: {cpus_per_task: 1, time_limit: "00:10:00"}
output_dir: $work/out
YAML
"$build/bin/sweep" "$work/wf.yaml" | tee "$work/wf.log"
wf_record=$(ls -d "$work"/out/.sweeps/slurm_wf_*/)
grep -q "#SBATCH --array=0,1" "$wf_record/slurm/sweep.sbatch"
grep -q "wf-0000: 2 segments" "$work/wf.log"
python3 - "$wf_record" <<'PY'
import json, sys
record = sys.argv[1]
status = json.load(open(record + "/walk_forward/wf-0000/status.json"))
assert status["status"] == "completed" and status["trials"] == [0, 1], status
for i in (0, 1):
    s = json.load(open(f"{record}/trials/trial-{i:04d}.status.json"))
    assert s["status"] == "completed" and s.get("host"), s
print("PASS: walk-forward segments ran as Slurm array tasks and were combined,", status["eval"]["cross_section"]["days"], "days")
PY
