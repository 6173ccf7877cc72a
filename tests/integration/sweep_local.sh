#!/usr/bin/env bash
# Local sweeps: parallel trial processes, a crashing plugin that fails only its own trials,
# --resume, Ctrl-C, bad axes refused before anything runs, and list_runs over the result.
# Usage: sweep_local.sh <klab source dir> <klab build dir>
set -uo pipefail
source "$(dirname "$0")/common.sh"
fail() { echo "FAIL: $*"; exit 1; }
base="data: {source: sqlite, options: {path: $work/kline.db}, symbol: \"600519\", start_date: 2019-06-01}
features: basic
target: {kind: return}
model: {type: lstm, hidden_size: 8, num_layers: 1}
train: {seq_length: 10, epochs: 2, batch_size: 64, checkpoint_interval: 1, patience: 0}
output_dir: $work/out"

# 1. A crashing model plugin fails its own trials; every other trial completes.
# In a sanitizer lane (scripts/sanitize.sh sets KLAB_SANITIZER_LANE) the plugin's deliberate null
# store is UndefinedBehaviorSanitizer's to catch: the trial reports it and exits 1 instead of
# dying of SIGSEGV (the lane does not count reports from tests/plugins/bad_plugins.cpp).
crash_error="crashed: signal 11"
if [ -n "${KLAB_SANITIZER_LANE:-}" ]; then crash_error="exited with code 1 without a result"; fi
cat > "$work/crash.yaml" <<YAML
name: crash
$base
sweep:
  grid:
    data.symbol: ["600519", "000001"]
    model: [{type: lstm, hidden_size: 8, num_layers: 1}, {type: crashing_model}]
  workers: 2
YAML
"$build/bin/sweep" --plugin-dir "$build/tests/plugins/crashes" "$work/crash.yaml" > "$work/crash.log" 2>&1
code=$?
cat "$work/crash.log"
[ "$code" = 1 ] || fail "a sweep with failed trials exits 1, got $code"
record=$(ls -d "$work"/out/.sweeps/crash_*/)
# The specification's way to list runs, walking out/*/: every folder there is a run.
python3 - "$work/out" <<'PY' || fail "a folder under out/ that is not a run"
import glob, json, os, sys
folders = glob.glob(sys.argv[1] + "/*/")
assert folders, "no runs"
for d in folders:
    meta = json.load(open(os.path.join(d, "metadata.json")))
    assert meta["status"] in ("completed", "failed"), meta
PY
python3 - "$record" "$crash_error" <<'PY' || exit 1
import glob, json, sys
st = [json.load(open(f)) for f in sorted(glob.glob(sys.argv[1] + "/trials/trial-*.status.json"))]
assert [s["status"] for s in st] == ["completed", "failed", "completed", "failed"], [s["status"] for s in st]
for s in st[1::2]:
    assert sys.argv[2] in s["error"], s["error"]
print("PASS: 2 crashed trials failed alone, 2 completed")
PY
grep -q "leaderboard by mae" "$work/crash.log" || fail "no leaderboard"
# --resume runs only the unfinished trials (they crash again).
"$build/bin/sweep" --plugin-dir "$build/tests/plugins/crashes" --resume "$record" > "$work/resume.log" 2>&1
grep -q "2 trial(s) of 4" "$work/resume.log" || { cat "$work/resume.log"; fail "resume did not skip completed trials"; }
if [ -n "${KLAB_SANITIZER_LANE:-}" ]; then
  caught=$(grep -l "bad_plugins.cpp:[0-9]*:[0-9]*: runtime error: store to null pointer" "$record"/logs/trial-*.log | wc -l)
  [ "$caught" -ge 2 ] || fail "the sanitizer reported $caught of the deliberate crashes in the trial logs"
  echo "PASS: the sanitizer caught the deliberate crashes"
fi

# 2. Bad axes are refused before anything runs.
cat > "$work/bad.yaml" <<YAML
name: bad
$base
sweep:
  grid:
    model.hiden_size: [8, 16]
YAML
out=$("$build/bin/sweep" "$work/bad.yaml" 2>&1) && fail "a bad axis must fail"
echo "$out" | grep -q "sweep trial 0 (model.hiden_size=8): model 'lstm': unknown hyperparameter 'hiden_size'" || fail "bad axis message: $out"
ls "$work"/out/.sweeps/bad_* > /dev/null 2>&1 && fail "a refused sweep left a record"
cat > "$work/bad2.yaml" <<YAML
name: bad2
$base
sweep:
  grid:
    train.learning_rate: []
YAML
out=$("$build/bin/sweep" "$work/bad2.yaml" 2>&1) && fail "an empty axis must fail"
echo "$out" | grep -q "bad2.yaml:10: sweep.grid.train.learning_rate: expected a non-empty list" || fail "empty axis message: $out"

# 3. Ctrl-C: running trials end, are marked interrupted, and --resume finishes them.
cat > "$work/slow.yaml" <<YAML
name: slow
$base
sweep:
  grid:
    data.symbol: ["600519", "000001", "601318"]
  seeds: [1, 2]
  workers: 2
YAML
sed -i 's/epochs: 2,/epochs: 400,/' "$work/slow.yaml"
checkpoints_before=$(ls -d "$work"/out/*/checkpoints/checkpoint-1 2>/dev/null | wc -l)
"$build/bin/sweep" "$work/slow.yaml" > "$work/slow.log" 2>&1 &
pid=$!
# Until both running trials have a checkpoint to resume from.
for _ in $(seq 1 600); do
  n=$(ls -d "$work"/out/*/checkpoints/checkpoint-1 2>/dev/null | wc -l)
  [ "$n" -ge $((checkpoints_before + 2)) ] && break
  sleep 0.1
done
kill -INT "$pid"
wait "$pid"
code=$?
[ "$code" = 130 ] || { cat "$work/slow.log"; fail "Ctrl-C exits 130, got $code"; }
record=$(ls -d "$work"/out/.sweeps/slow_*/)
python3 - "$record" <<'PY' || exit 1
import glob, json, os, sys
st = [json.load(open(f)) for f in sorted(glob.glob(sys.argv[1] + "/trials/trial-*.status.json"))]
interrupted = [s for s in st if s["status"] == "interrupted"]
assert len(interrupted) == 2, [s["status"] for s in st]
for s in interrupted:
    if "run_dir" in s:
        meta = json.load(open(os.path.join(s["run_dir"], "metadata.json")))
        assert meta["status"] == "failed" and "interrupted" in meta["error"], meta
assert all(s["status"] in ("pending", "interrupted") for s in st), [s["status"] for s in st]
print("PASS: Ctrl-C interrupted 2 running trials, started no more")
PY
# (shorten the remaining trials and the interrupted runs, so the test stays quick)
sed -i 's/"epochs": 400/"epochs": 2/' "$record/trials/"*.json
interrupted_runs=$(python3 -c 'import glob,json,sys; print(" ".join(s["run_dir"] for s in map(lambda f: json.load(open(f)), glob.glob(sys.argv[1] + "/trials/*.status.json")) if s["status"] == "interrupted" and "run_dir" in s))' "$record")
for r in $interrupted_runs; do
  python3 - "$r/experiment.json" <<'PY'
import json, sys
e = json.load(open(sys.argv[1])); e["train"]["epochs"] = 2; json.dump(e, open(sys.argv[1], "w"))
PY
done
"$build/bin/sweep" --resume "$record" > "$work/slow_resume.log" 2>&1 || { cat "$work/slow_resume.log"; fail "resume after Ctrl-C"; }
grep -q "6 completed, 0 failed" "$work/slow_resume.log" || { cat "$work/slow_resume.log"; fail "resume did not complete all"; }
# The interrupted trials continued their own runs from a checkpoint; no new run for them.
[ -n "$interrupted_runs" ] || fail "no interrupted trial had a run to resume"
for r in $interrupted_runs; do
  grep -q "Resuming from checkpoint-" "$r/logs/training.log" || fail "$r was not resumed from a checkpoint: $(tail -5 "$r/logs/training.log")"
  [ "$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["status"])' "$r/metadata.json")" = completed ] || fail "$r did not complete"
done
python3 - "$record" $interrupted_runs <<'PY' || fail "resume made new runs instead of continuing"
import glob, json, sys
st = [json.load(open(f)) for f in sorted(glob.glob(sys.argv[1] + "/trials/trial-*.status.json"))]
runs = [s["run_dir"] for s in st]
assert len(set(runs)) == 6 and all(s["status"] == "completed" for s in st), st
assert set(sys.argv[2:]) <= set(runs), (sys.argv[2:], runs)
print("PASS: --resume continued the interrupted trials' own runs from their checkpoints")
PY
grep -q "±" "$work/slow_resume.log" || fail "repeats over seeds must show mean±std"

# 4. list_runs over all of it, including a corrupt run.
lr="$build/bin/list_runs --output-dir $work/out"
mkdir -p "$work/out/corrupt_run" && echo "{oops" > "$work/out/corrupt_run/metadata.json"
$lr > "$work/list.txt" || fail "list_runs"
grep -q "unreadable" "$work/list.txt" || fail "corrupt run not listed"
$lr --json > "$work/list.json" || fail "list_runs --json"
python3 - "$work/list.json" <<'PY' || exit 1
import json, sys
runs = json.load(open(sys.argv[1]))
completed = [r for r in runs if r["status"] == "completed"]
assert len(completed) >= 8, len(completed)
assert any(r["status"] == "unreadable" for r in runs)
print(f"PASS: list_runs --json lists {len(runs)} runs")
PY
best=$($lr --filter status=completed --sort mae --json | python3 -c 'import json,sys; r=json.load(sys.stdin); assert all(r[i]["mae"] <= r[i+1]["mae"] for i in range(len(r)-1)); print(r[0]["name"])') || fail "--sort mae"
second=$($lr --filter status=completed --sort mae --json | python3 -c 'import json,sys; print(json.load(sys.stdin)[1]["name"])')
$lr --run "$best" | grep -q "evaluation" || fail "--run"
$lr --compare "$best" "$second" | grep -q "differs" || fail "--compare"
$lr --filter model=gru --json | python3 -c 'import json,sys; assert json.load(sys.stdin) == []' || fail "--filter model=gru"
# (the interrupted trials were resumed: what is left to prune is the corrupt run, which prune
# touches only when the selection names status=unreadable)
$lr --prune --older-than 0 --dry-run | grep -q "skip   corrupt_run: unreadable" || fail "prune must pass over an unreadable run"
$lr --prune --filter status=unreadable --dry-run | grep -q "would delete corrupt_run" || fail "prune --dry-run"
test -d "$work/out/corrupt_run" || fail "dry-run deleted"
$lr --prune --filter status=unreadable < /dev/null > /dev/null 2>&1 && fail "prune without --yes off a terminal must refuse"
$lr --prune --filter status=completed --keep-best 3 --sort mae --yes > /dev/null || fail "prune --keep-best"
[ "$($lr --filter status=completed --json | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))')" = 3 ] || fail "keep-best 3"
$lr --run "$best" > /dev/null || fail "the best run was pruned"
$lr --copy "$best" --to "$work/backup" > /dev/null && test -f "$work/backup/$best/metadata.json" || fail "--copy"
$lr --delete "$best" --yes > /dev/null && [ ! -d "$work/out/$best" ] || fail "--delete"
$lr --prune > /dev/null 2>&1 && fail "--prune without a selection must refuse"
echo "PASS: list_runs table, json, sort, filter, run, compare, prune, copy, delete"

# 5. One thread policy: workers x train.threads above the cores gives each trial its share,
#    and each run's training.log says what it got.
cores=$(nproc)
cat > "$work/threads.yaml" <<YAML
name: threads
$base
sweep:
  grid:
    train.seed: [1, 2]
  workers: 2
YAML
sed -i "s/patience: 0}/patience: 0, threads: $cores}/" "$work/threads.yaml"
"$build/bin/sweep" "$work/threads.yaml" > "$work/threads.log" 2>&1 || { cat "$work/threads.log"; fail "threads sweep"; }
share=$(( cores / 2 > 0 ? cores / 2 : 1 ))
grep -q "note: 2 worker(s) x train.threads $cores exceed the $cores core(s): each trial gets $share thread(s)" \
  "$work/threads.log" || { cat "$work/threads.log"; fail "no note about oversubscription"; }
n=0
for log in $(ls -d "$work"/out/600519_lstm_* | xargs -I{} sh -c 'ls {}/logs/training.log'); do
  if grep -q "threads: $share (train.threads $cores, $share core(s) given to this run; BLAS on 1)" "$log"; then n=$((n + 1)); fi
done
[ "$n" -ge 2 ] || fail "trial logs do not record $share thread(s) of $cores requested"
echo "PASS: 2 workers x $cores threads on $cores cores: each trial ran with $share"
