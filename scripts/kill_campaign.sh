#!/usr/bin/env bash
# Kill anywhere: SIGKILL a training run at many moments — at crash points inside every run-file
# write, checkpoint write and the final model save (KLAB_CRASH_AT, runs/files.h), and at random
# times — then resume it (and, one time in four, kill the resume too), and compare the final
# weights, predictions and metrics with an uninterrupted run's. After every kill: every visible
# JSON file parses, nothing half-written is visible under a final name, and a run that says
# `completed` has all its files. Then the same for a sweep killed mid-way and resumed, and for one
# whose trials are killed after their runs completed, before the trials recorded it.
#
# Usage: bash scripts/kill_campaign.sh [build dir] [kills] [seed]   (defaults: build, 20, 1)
# Prints one line per kill and a summary; exits 1 on the first broken promise.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=$(realpath "${1:-$root/build}")
kills=${2:-20}
seed=${3:-1}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
RANDOM=$seed
fail() { echo "FAIL: $*" >&2; exit 1; }
"$build/bin/import_kline" --quiet --db "sqlite:$work/kline.db" "$root/data/sample" > /dev/null
cat > "$work/exp.yaml" <<YAML
name: kill
data: {source: sqlite, options: {path: $work/kline.db}, symbol: "600036", start_date: 2018-01-01}
features: basic
model: {type: lstm, hidden_size: 16, num_layers: 2, dropout: 0.1}
train: {seq_length: 20, epochs: 6, batch_size: 64, checkpoint_interval: 1, patience: 0, seed: 5}
YAML

# Promises that hold after any kill, for every run folder under $1.
check_after_kill() {
  python3 - "$1" <<'PY'
import json, os, sys
if not os.path.isdir(sys.argv[1]):
    sys.exit(0)   # cut before the output folder existed
for run in sorted(os.listdir(sys.argv[1])):
    d = os.path.join(sys.argv[1], run)
    if run.startswith(".") or not os.path.isdir(d):
        continue
    for base, dirs, files in os.walk(d):
        dirs[:] = [x for x in dirs if not x.startswith(".")]      # staging folders: hidden
        for f in files:
            if f.endswith(".json") and not f.startswith("."):   # temporary files: hidden
                try:
                    json.load(open(os.path.join(base, f)))
                except Exception as e:
                    sys.exit(f"{os.path.join(base, f)}: not valid JSON after the kill: {e}")
        for f in files:
            if f == "pytorch_model.bin" and os.path.getsize(os.path.join(base, f)) == 0:
                sys.exit(f"{os.path.join(base, f)}: empty weights visible")
    meta = os.path.join(d, "metadata.json")
    if os.path.exists(meta) and json.load(open(meta)).get("status") == "completed":
        for f in ("model/pytorch_model.bin", "model/config.json", "results/eval_results.json",
                  "results/predictions.json", "config.json", "scaler.json"):
            if not os.path.exists(os.path.join(d, f)):
                sys.exit(f"{d}: status completed without {f}")
PY
}

# What must equal the uninterrupted run: weights, predictions, metrics.
fingerprint() {
  python3 - "$1" <<'PY'
import hashlib, json, sys
d = sys.argv[1]
h = lambda p: hashlib.sha256(open(f"{d}/{p}", "rb").read()).hexdigest()[:16]
e = json.load(open(f"{d}/results/eval_results.json"))
m = json.load(open(f"{d}/metadata.json"))
print(h("model/pytorch_model.bin"), h("results/predictions.json"),
      json.dumps({k: e[k] for k in ("mae", "rmse", "mape", "r2", "direction_accuracy", "test_samples")}, sort_keys=True),
      m["status"], m.get("best_epoch"))
PY
}

# The uninterrupted run, tracing every crash point it passes.
KLAB_CRASH_TRACE=$work/trace.txt "$build/bin/sweep" --quiet --output-dir "$work/ref" "$work/exp.yaml" > /dev/null
ref_run=$(ls "$work/ref")
reference=$(fingerprint "$work/ref/$ref_run")
start=$(date +%s.%N)
"$build/bin/sweep" --quiet --output-dir "$work/timing" "$work/exp.yaml" > /dev/null
seconds=$(python3 -c "import sys, time; print(round(time.time() - float(sys.argv[1]), 2))" "$start")
mapfile -t points < "$work/trace.txt"
echo "reference run: $seconds s, ${#points[@]} crash points passed ($(cut -d' ' -f1 "$work/trace.txt" | sort | uniq -c | awk '{printf "%s %s, ", $2, $1}')); fingerprint $reference"

# Runs the experiment (or resumes RUN) in out dir $1 with crash point $2 ("" none) or a kill after
# $3 seconds ("" none). Returns 0 when it ended by itself.
attempt() {
  local out=$1 point=$2 delay=$3 resume=${4:-}
  local args=(--quiet --output-dir "$out")
  if [ -n "$resume" ]; then args+=(--resume "$resume"); else args+=("$work/exp.yaml"); fi
  if [ -n "$point" ]; then
    # (in a subshell of its own: bash's "Killed" notice goes to the log, not the terminal)
    (KLAB_CRASH_AT=$point exec "$build/bin/sweep" "${args[@]}") > "$work/attempt.log" 2>&1 && return 0
    return 1
  fi
  [ -n "$delay" ] || { "$build/bin/sweep" "${args[@]}" > "$work/attempt.log" 2>&1; return; }
  "$build/bin/sweep" "${args[@]}" > "$work/attempt.log" 2>&1 &
  local pid=$!
  sleep "$delay"
  if kill -9 "$pid" 2>/dev/null; then wait "$pid" 2>/dev/null || true; return 1; fi
  wait "$pid"
}

# A random cut: "point:N" from the trace, or a time.
random_cut() {
  if [ $((RANDOM % 3)) -lt 2 ]; then
    local line=${points[$((RANDOM % ${#points[@]}))]}
    echo "point ${line% *}:${line#* }"
  else
    python3 -c "import random, sys; random.seed(int(sys.argv[2])); print('time', round(random.uniform(0.2, float(sys.argv[1])), 2))" \
      "$seconds" "$RANDOM"
  fi
}

# The first three cuts are the final model save, the last checkpoint write (best/ of the last
# epoch, right after its checkpoint-6: the cut that once left best/ an epoch behind) and a random
# checkpoint exchange; the rest random.
count_of() { grep -c "^$1 " "$work/trace.txt"; }
forced=("point model-saved:1" "point checkpoint-written:$(count_of checkpoint-written)"
        "point checkpoint-exchanged:$((RANDOM % $(count_of checkpoint-exchanged) + 1))")
killed=0 fresh=0 double=0
for k in $(seq 1 "$kills"); do
  out=$work/cut$k
  if [ "$k" -le 3 ]; then read -r kind where <<< "${forced[$((k - 1))]}"; else read -r kind where < <(random_cut); fi
  if [ "$kind" = point ]; then attempt "$out" "$where" "" && ended=1 || ended=0
  else attempt "$out" "" "$where" && ended=1 || ended=0; fi
  [ "$ended" = 1 ] && note="it finished before the cut" || { note="killed"; killed=$((killed + 1)); }
  check_after_kill "$out" || fail "kill $k ($kind $where): $(tail -n 3 "$work/attempt.log")"
  run=$(ls "$out" 2>/dev/null | head -n 1 || true)
  if [ -z "$run" ] || [ ! -f "$out/$run/metadata.json" ]; then
    # Cut before the run existed (no metadata.json: not a run, list_runs ignores the folder): start again.
    note="$note before the run existed; started again"
    fresh=$((fresh + 1))
    rm -rf "$out"
    attempt "$out" "" "" || fail "kill $k: a fresh run after the cut failed: $(tail -n 3 "$work/attempt.log")"
    run=$(ls "$out")
  else
    if [ $((RANDOM % 4)) = 0 ] && [ "$ended" = 0 ]; then
      read -r kind2 where2 < <(random_cut)
      if [ "$kind2" = point ]; then attempt "$out" "$where2" "" "$run" || true; else attempt "$out" "" "$where2" "$run" || true; fi
      check_after_kill "$out" || fail "kill $k, second cut ($kind2 $where2) during the resume"
      note="$note, resume cut too ($kind2 $where2)"
      double=$((double + 1))
    fi
    status=$(python3 -c "import json, sys; print(json.load(open(sys.argv[1])).get('status'))" "$out/$run/metadata.json")
    if [ ! -f "$out/$run/experiment.json" ] && [ "$status" != completed ]; then
      # Cut before the run saved its experiment: resume says so, records the run as failed, and
      # the experiment is run again.
      if attempt "$out" "" "" "$run"; then fail "kill $k: resume of a run without experiment.json must fail"; fi
      grep -q "interrupted before its experiment was saved" "$work/attempt.log" || fail "kill $k: $(cat "$work/attempt.log")"
      [ "$(python3 -c "import json, sys; print(json.load(open(sys.argv[1]))['status'])" "$out/$run/metadata.json")" = failed ] \
        || fail "kill $k: the cut run is not recorded as failed"
      attempt "$out" "" "" || fail "kill $k: running again failed: $(tail -n 3 "$work/attempt.log")"
      run=$(ls -t "$out" | head -n 1)
      note="$note before its experiment was saved; resume refused clearly, run again"
      fresh=$((fresh + 1))
    elif [ "$status" = completed ]; then
      [ "$ended" = 1 ] || note="$note after it had completed"   # nothing to resume (sweep --resume refuses)
    else
      attempt "$out" "" "" "$run" || fail "kill $k ($kind $where): resume failed: $(tail -n 3 "$work/attempt.log")"
    fi
  fi
  got=$(fingerprint "$out/$run")
  [ "$got" = "$reference" ] || fail "kill $k ($kind $where): after resuming, $got != uninterrupted $reference"
  echo "cut $k: $kind $where: $note; the result equals the uninterrupted run's"
  rm -rf "$out"
done
echo "PASS: $kills cuts of a run ($killed killed, $double resumes cut again, $fresh before the run or its experiment existed): every result equals the uninterrupted run's"

# A sweep (three seeds, one after the other) killed mid-way, its trial processes too, then resumed.
cat "$work/exp.yaml" > "$work/sweep.yaml"
echo "sweep: {seeds: [1, 2, 3], metric: {name: mae, mode: min}, workers: 1}" >> "$work/sweep.yaml"
KLAB_CRASH_TRACE=$work/sweep_trace.txt "$build/bin/sweep" --quiet --output-dir "$work/sref" "$work/sweep.yaml" > /dev/null
leaderboard() { python3 -c "
import csv, glob, json, sys
rec = glob.glob(sys.argv[1] + '/.sweeps/*/sweep.json')[0]
rows = list(csv.DictReader(open(rec.replace('sweep.json', 'leaderboard.csv'))))
print(json.dumps([(r['mae_mean'], r['mae_std'], r['completed'], r['failed']) for r in rows]))" "$1"; }
sweep_ref=$(leaderboard "$work/sref")
sweep_resume() {   # resumes the sweep whose record is under $1
  local record
  record=$(basename "$(dirname "$(ls "$1"/.sweeps/*/sweep.json)")")
  "$build/bin/sweep" --quiet --output-dir "$1" --resume "$record" > "$work/sweep_resume.log" 2>&1
}

# Every trial killed at its process's last file write: its run has completed (metadata.json says
# so), the trial's own status not yet. The resume collects the three runs as they are.
last_write=$(awk '$1 == "file-written" && $2 > n {n = $2} END {print n}' "$work/sweep_trace.txt")
KLAB_CRASH_AT=file-written:$last_write "$build/bin/sweep" --quiet --output-dir "$work/sdone" "$work/sweep.yaml" \
  > "$work/sweep.log" 2>&1 && fail "a sweep whose trials were all killed exited 0"
check_after_kill "$work/sdone" || fail "sweep cut after its runs completed"
runs_before=$(ls "$work/sdone" | sort | tr '\n' ' ')
[ "$(grep -l '"status": "completed"' "$work"/sdone/*/metadata.json | wc -l)" = 3 ] \
  || fail "sweep cut at file-written:$last_write: expected three completed runs: $runs_before"
sweep_resume "$work/sdone" || fail "sweep cut after its runs completed: resume failed: $(tail -n 3 "$work/sweep_resume.log")"
[ "$(leaderboard "$work/sdone")" = "$sweep_ref" ] || fail "sweep cut after its runs completed: $(leaderboard "$work/sdone") != $sweep_ref"
[ "$(ls "$work/sdone" | sort | tr '\n' ' ')" = "$runs_before" ] || fail "the resume trained runs again: $(ls "$work/sdone")"
python3 - "$work/sdone" <<'PY' || fail "sweep cut after its runs completed: the collected trials do not name their runs"
import csv, glob, json, os, sys
out = sys.argv[1]
for f in sorted(glob.glob(out + "/.sweeps/*/trials/trial-*.status.json")):
    s = json.load(open(f))
    assert s["status"] == "completed" and os.path.isdir(os.path.join(out, s.get("run_name", "?"))), (f, s.get("run_name"))
best = list(csv.DictReader(open(glob.glob(out + "/.sweeps/*/leaderboard.csv")[0])))[0]["best_run"]
assert os.path.isdir(os.path.join(out, best)), "leaderboard best_run: %r" % best
PY
echo "sweep kill after each trial's run completed (file-written:$last_write of each trial): the resume collected the three runs, none trained again"
for k in 1 2 3; do
  out=$work/scut$k
  delay=$(python3 -c "import random; random.seed($k * 7 + $seed); print(round(random.uniform(1.0, 3 * float('$seconds')), 2))")
  setsid "$build/bin/sweep" --quiet --output-dir "$out" "$work/sweep.yaml" > "$work/sweep.log" 2>&1 &
  pid=$!
  sleep "$delay"
  kill -9 -- "-$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  check_after_kill "$out" || fail "sweep cut $k"
  if ls "$out"/.sweeps/*/sweep.json > /dev/null 2>&1; then
    sweep_resume "$out" || fail "sweep cut $k: resume failed: $(tail -n 3 "$work/sweep_resume.log")"
  else
    rm -rf "$out"   # cut before its record existed: started again
    "$build/bin/sweep" --quiet --output-dir "$out" "$work/sweep.yaml" > /dev/null
  fi
  got=$(leaderboard "$out")
  [ "$got" = "$sweep_ref" ] || fail "sweep cut $k after ${delay} s: $got != uninterrupted $sweep_ref"
  echo "sweep kill $k after $delay s (the sweep and its trials): resumed to the uninterrupted leaderboard"
done
echo "PASS: a sweep killed after its runs completed and 3 times mid-way resumes to the uninterrupted sweep's leaderboard"
