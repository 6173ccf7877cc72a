#!/usr/bin/env bash
# Nothing a command did not create is destroyed, and bad input is refused with one clear line:
# the defects of issue #17, each reproduced as a user would meet it.
# Usage: no_data_loss.sh <klab source dir> <klab build dir>
set -uo pipefail
src=$1
build=$2
work=$(mktemp -d)
pids=()
cleanup() { for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null; done; rm -rf "$work"; }
trap cleanup EXIT
fail() { echo "FAIL: $*"; exit 1; }
pass() { echo "PASS: $*"; }
bin=$build/bin
py=/usr/bin/python3
"$bin/import_kline" --quiet --db "sqlite:$work/kline.db" "$src/data/sample" > /dev/null || fail "import"
out=$work/out

experiment() {  # experiment FILE SYMBOL EPOCHS [extra lines]
  cat > "$1" <<YAML
data: {source: sqlite, options: {path: $work/kline.db}, symbol: "$2", start_date: 2019-01-01}
features: basic
target: {kind: return}
model: {type: lstm, hidden_size: 4, num_layers: 1}
train: {seq_length: 10, epochs: $3, batch_size: 64, patience: 0, checkpoint_interval: 1}
output_dir: $out
${4:-}
YAML
}
status_of() { $py -c 'import json,sys; print(json.load(open(sys.argv[1]))["status"])' "$1/metadata.json" 2>/dev/null; }

# --- a finished run, and a run still training in the background ------------------------------
experiment "$work/quick.yaml" 600519 2
"$bin/sweep" --quiet "$work/quick.yaml" > /dev/null || fail "training a quick run"
finished=$(ls "$out")
experiment "$work/long.yaml" 000001 100000
"$bin/sweep" --quiet "$work/long.yaml" > "$work/long.log" 2>&1 &
trainer=$!
pids+=("$trainer")
running=""
for _ in $(seq 1 600); do
  running=$(ls "$out" | grep 000001_lstm_ || true)
  [ -n "$running" ] && [ "$(status_of "$out/$running")" = training ] && break
  sleep 0.1
done
[ "$(status_of "$out/$running")" = training ] || fail "the background run never reached training"
mkdir -p "$out/notes" "$out/backups/old"
echo "my notes" > "$out/notes/ideas.txt"

# 1. prune and delete touch only runs, never one being written
$bin/list_runs --output-dir "$out" --prune --older-than 0 --yes > "$work/prune.txt" 2>&1 || fail "prune: $(cat "$work/prune.txt")"
test -f "$out/notes/ideas.txt" && test -d "$out/backups/old" || fail "prune deleted folders that are not runs"
test -d "$out/$running" || fail "prune deleted a run that is training"
kill -0 "$trainer" 2>/dev/null || fail "the training process died during prune"
test ! -d "$out/$finished" || fail "prune kept the finished run it selected"
grep -q "skip   $running: being written by pid $trainer" "$work/prune.txt" || fail "prune did not say it skipped the live run: $(cat "$work/prune.txt")"
grep -q "skip   notes/: not a run" "$work/prune.txt" || fail "prune did not say it skipped notes/"
msg=$($bin/list_runs --output-dir "$out" --delete "$running" --yes 2>&1) && fail "deleting a live run must fail"
echo "$msg" | grep -q "is being written by pid $trainer" || fail "delete message: $msg"
$bin/list_runs --output-dir "$out" --delete notes --yes > /dev/null 2>&1 && fail "--delete of a folder that is not a run"
test -f "$out/notes/ideas.txt" || fail "--delete removed notes/"
pass "prune and delete touch only runs, never a live one"

# 2. a second writer is refused; kill -9 shows as interrupted, and the stale lock is taken over
cp "$out/$running/logs/metrics.json" "$work/metrics.before"
msg=$($bin/sweep --quiet --output-dir "$out" --resume "$running" 2>&1) && fail "a second writer must be refused"
echo "$msg" | grep -q "run $running is being written by pid $trainer on host" || fail "second writer message: $msg"
$py - "$out/$running/metadata.json" <<'PY' || fail "status history after the refused resume"
import json, sys
m = json.load(open(sys.argv[1]))
assert [h["status"] for h in m["status_history"]] == ["initialized", "preparing", "training"], m["status_history"]
assert "Resume requested" not in open(sys.argv[1].replace("metadata.json", "logs/training.log")).read()
PY
$bin/list_runs --output-dir "$out" --json > "$work/live.json" || fail "list_runs"
$py -c 'import json,sys; r=json.load(open(sys.argv[1]))[0]; assert r["status"]=="training" and "pid" in r["owner"], r' "$work/live.json" || fail "live run listing"
kill -9 "$trainer"
wait "$trainer" 2>/dev/null
$bin/list_runs --output-dir "$out" > "$work/after_kill.txt" || fail "list_runs after kill"
grep "$running" "$work/after_kill.txt" | grep -q " interrupted " || fail "a killed run must show as interrupted: $(cat "$work/after_kill.txt")"
grep -q "sweep --resume $running" "$work/after_kill.txt" || fail "the interrupted run should say how to resume"
test -f "$out/$running/.lock" || fail "the killed process left no lock file (the test expects a stale one)"
$bin/list_runs --output-dir "$out" --delete "$running" --yes > /dev/null || fail "a stale lock must not block deleting"
test ! -d "$out/$running" || fail "the interrupted run was not deleted"
pass "one writer per run; kill -9 shows interrupted; stale locks are taken over"

# 3. importing never mixes adjustment kinds, never blanks a name
db_rows() { sqlite3 "$work/kline.db" "SELECT trade_date, close, adj_factor FROM stock_kline_data WHERE symbol='600519' ORDER BY trade_date" | md5sum; }
db_info() { sqlite3 "$work/kline.db" "SELECT name, price_adjustment FROM stock_basic_info WHERE symbol='600519'"; }
before_rows=$(db_rows); before_info=$(db_info)
printf '日期,股票代码,开盘,收盘,最高,最低,成交量,成交额\n2021-06-01,600519,2200.0,2250.0,2260.0,2190.0,30000,6700000000\n' > "$work/one_row_akshare.csv"
msg=$($bin/import_kline --db "sqlite:$work/kline.db" --symbol 600519 "$work/one_row_akshare.csv" 2>&1) && fail "mixing adjustment kinds must fail"
echo "$msg" | grep -q "symbol 600519: the database holds raw prices with pre_close, this file has forward-adjusted prices" || fail "import message: $msg"
[ "$(db_rows)" = "$before_rows" ] && [ "$(db_info)" = "$before_info" ] || fail "the refused import changed the database"
printf 'ts_code,trade_date,open,high,low,close,pre_close,vol,amount\n600519.SH,20220118,1900,1910,1880,1890,1867,20000,3800000\n' > "$work/tushare_no_name.csv"
$bin/import_kline --quiet --db "sqlite:$work/kline.db" "$work/tushare_no_name.csv" > /dev/null || fail "tushare import"
[ "$(db_info)" = "$before_info" ] || fail "importing a file without names blanked the name: $(db_info)"
pass "import refuses mixed adjustment kinds and keeps names"

# 4. no overwriting: featurize --out, list_runs --copy into itself
"$bin/sweep" --quiet "$work/quick.yaml" > /dev/null || fail "training again"
run=$(ls "$out" | grep 600519_lstm_ | head -n1)
db_sum=$(md5sum < "$work/kline.db")
msg=$($bin/featurize --options "{\"path\": \"$work/kline.db\"}" --symbol 600519 --out "$work/kline.db" 2>&1) && fail "featurize over its database"
echo "$msg" | grep -q "already exists" || fail "featurize message: $msg"
[ "$(md5sum < "$work/kline.db")" = "$db_sum" ] || fail "featurize changed the database"
echo keep > "$work/mine.csv"
$bin/featurize --options "{\"path\": \"$work/kline.db\"}" --symbol 600519 --out "$work/mine.csv" > /dev/null 2>&1 && fail "featurize over a file"
[ "$(cat "$work/mine.csv")" = keep ] || fail "featurize overwrote a user's file"
$bin/featurize --options "{\"path\": \"$work/kline.db\"}" --symbol 600519 --out "$work/f.csv" > /dev/null || fail "featurize to a new file"
head -c 5 "$work/f.csv" | grep -q date || fail "featurize output"
msg=$($bin/featurize --options "{\"path\": \"$work/kline.db\"}" --symbol 600519 --start yesterday 2>&1) && fail "--start yesterday"
echo "$msg" | grep -q -- '--start: expected a date YYYY-MM-DD, got "yesterday"' || fail "featurize date message: $msg"
size_before=$(du -s "$out/$run" | cut -f1)
msg=$($bin/list_runs --output-dir "$out" --copy "$run" --to "$out/$run" 2>&1) && fail "copy into itself"
echo "$msg" | grep -q "is inside run $run" || fail "copy message: $msg"
[ "$(du -s "$out/$run" | cut -f1)" = "$size_before" ] || fail "the refused copy wrote into the run"
$bin/list_runs --output-dir "$out" --copy "$run" --to "$work/backups" > /dev/null || fail "copy"
test -f "$work/backups/$run/metadata.json" && test ! -e "$work/backups/$run/.lock" || fail "the copy"
pass "no overwriting by featurize or copy"

# 5. one metadata.json with wrong types hides nothing and crashes nothing
for bad in '"status": 5' '"status": null' '"created_at": 7' '"stock_symbol": [1]'; do
  name=bad_$(echo "$bad" | tr -dc 'a-z0-9')
  cp -r "$out/$run" "$out/$name"
  $py - "$out/$name/metadata.json" "$bad" "$name" <<'PY'
import json, sys
m = json.load(open(sys.argv[1])); m.update(json.loads("{" + sys.argv[2] + "}")); m["run_name"] = sys.argv[3]
json.dump(m, open(sys.argv[1], "w"))
PY
done
cp -r "$out/$run" "$out/bad_mae"
sed -i 's/"mae": [0-9.e+-]*/"mae": 1e400/' "$out/bad_mae/results/eval_results.json"
$bin/list_runs --output-dir "$out" > "$work/list.txt" 2>&1 || fail "list_runs with wrong types: $(cat "$work/list.txt")"
for name in bad_status5 bad_statusnull bad_createdat7 bad_stocksymbol1 bad_mae "$run"; do
  grep -q "^$name" "$work/list.txt" || fail "$name not listed: $(cat "$work/list.txt")"
done
grep -q 'metadata.json: status is 5, not a string' "$work/list.txt" || fail "the wrong type is not named"
$bin/predict --output-dir "$out" --best-by mae --symbol 600519 > "$work/best.txt" 2>&1 || fail "predict --best-by with bad runs: $(cat "$work/best.txt")"
$bin/list_runs --output-dir "$out" --prune --filter status=failed --yes > /dev/null 2>&1 || fail "prune with bad runs"
pass "wrong types are listed as problems, never a crash"

# 6. absurd prices fail the run; nothing completed wins --best-by
$py - "$src/data/sample/sh600519.csv" "$work/absurd/sh600519.csv" <<'PY'
import csv, os, sys
os.makedirs(os.path.dirname(sys.argv[2]), exist_ok=True)
lines = open(sys.argv[1], encoding="utf-8").read().splitlines()
out = [lines[0], lines[1]]
for row in csv.reader(lines[2:]):
    for i in (3, 4, 5, 6, 7):
        row[i] = repr(float(row[i]) * 1e288)
    out.append(",".join(row))
open(sys.argv[2], "w", encoding="utf-8").write("\n".join(out) + "\n")
PY
"$bin/import_kline" --quiet --db "sqlite:$work/absurd.db" "$work/absurd" > /dev/null || fail "importing absurd prices"
sed "s|$work/kline.db|$work/absurd.db|" "$work/quick.yaml" > "$work/absurd.yaml"
runs_before=$(ls "$out" | wc -l)
msg=$("$bin/sweep" --quiet "$work/absurd.yaml" 2>&1) && fail "absurd prices must fail the run"
echo "$msg" | grep -q "no finite scale" || fail "absurd prices message: $msg"
[ "$(ls "$out" | wc -l)" = "$runs_before" ] || fail "a run on absurd prices was left in $out"
pass "non-finite scaler fails the run"

# 7. choosing runs: --best-by uses runs of the symbol, scale-free, and says so
experiment "$work/cheap.yaml" 000001 2
"$bin/sweep" --quiet "$work/cheap.yaml" > /dev/null || fail "training 000001"
$bin/predict --output-dir "$out" --best-by mae --symbol 600519 --json > "$work/best.json" 2> "$work/best.err" || fail "best-by: $(cat "$work/best.err")"
$py -c 'import json,sys; r=json.load(open(sys.argv[1])); assert r["run"].startswith("600519_") or r["run"].startswith("bad_"), r["run"]' "$work/best.json" || fail "--best-by picked a run of another symbol"
grep -q "ranked by mae_vs_baseline" "$work/best.err" || fail "--best-by does not say it ranks scale-free: $(cat "$work/best.err")"
grep -q "not trained on the symbol" "$work/best.err" || fail "--best-by does not say what it left out"
grep -q "test windows" "$work/best.err" || fail "--best-by does not report the test-set size"
pass "--best-by compares runs of the symbol on a scale-free metric"

# 8. dates: one strict parser for every tool
p="$bin/predict --output-dir $out --run $run --symbol 600519"
for args in "--from 2021-12-31 --to 2021-12-01" "--from garbage" "--date 2021-02-30" "--date yesterday" \
            "--date 2021-12-01 --from 2021-11-01" "--to 2021-12-01"; do
  msg=$($p $args 2>&1) && fail "predict $args must fail"
  [ -n "$msg" ] || fail "predict $args failed silently"
done
$p --date 2021-12-31 > /dev/null || fail "a valid --date"
pass "bad dates are refused"

# 9. the data path: predict from another folder, and from a copied checkout
mkdir -p "$work/checkout/data"
cp "$work/kline.db" "$work/checkout/data/kline.db"
cat > "$work/checkout/rel.yaml" <<YAML
data: {source: sqlite, options: {path: data/kline.db}, symbol: "600519", start_date: 2019-01-01}
features: basic
target: {kind: return}
model: {type: lstm, hidden_size: 4, num_layers: 1}
train: {seq_length: 10, epochs: 1, batch_size: 64, patience: 0}
output_dir: out
YAML
(cd "$work/checkout" && "$bin/sweep" --quiet rel.yaml > /dev/null) || fail "training with a relative path"
relrun=$(ls "$work/checkout/out")
$py - "$work/checkout/out/$relrun/experiment.json" "$work/checkout" <<'PY' || fail "experiment.json paths"
import json, sys
d = json.load(open(sys.argv[1]))["data"]
assert d["options"]["path"] == sys.argv[2] + "/data/kline.db" and d["path_as_given"] == "data/kline.db", d
PY
(cd / && "$bin/predict" --output-dir "$work/checkout/out" --run "$relrun" --symbol 600519 > /dev/null) || fail "predict from another folder"
mv "$work/checkout" "$work/moved"
(cd "$work/moved" && "$bin/predict" --run "$relrun" --symbol 600519 > /dev/null) || fail "predict from a moved checkout"
msg=$(cd / && "$bin/predict" --output-dir "$work/moved/out" --run "$relrun" --symbol 600519 2>&1) && fail "a missing database must fail"
echo "$msg" | grep -q "is not there; give the data with --source and --options" || fail "missing data message: $msg"
(cd / && "$bin/predict" --output-dir "$work/moved/out" --run "$relrun" --symbol 600519 --source sqlite \
   --options "{\"path\": \"$work/moved/data/kline.db\"}" > /dev/null) || fail "--source/--options override"
pass "data paths resolve once and travel"

# 10. YAML errors name the line; no sweep prefix without a sweep; a misspelt section is unknown
printf 'data: {source: sqlite, options: {path: %s}, symbol: "600519"}\nmodel: {type: lstm}\ntrain:\n  epochs: 1\n  learning_rte: 0.1\n' "$work/kline.db" > "$work/typo.yaml"
msg=$("$bin/sweep" "$work/typo.yaml" 2>&1) && fail "a typo must fail"
echo "$msg" | grep -q "typo.yaml:5: train.learning_rte: unknown key" || fail "YAML line message: $msg"
echo "$msg" | grep -q "sweep trial" && fail "a plain experiment's error mentions a sweep trial: $msg"
printf 'data: {source: sqlite, options: {path: %s}, symbol: "600519"}\nmodle: {type: lstm}\n' "$work/kline.db" > "$work/modle.yaml"
msg=$("$bin/sweep" "$work/modle.yaml" 2>&1) && fail "modle: must fail"
echo "$msg" | grep -q "modle.yaml:2: modle: unknown key" || fail "misspelt section message: $msg"
pass "YAML errors name file, line and key"

# 11. list_runs flags
$bin/list_runs --output-dir "$work/nowhere" > /dev/null 2>&1 && fail "a missing --output-dir must fail"
for flag in "--limit -1" "--prune --keep-best -2" "--prune --older-than -5"; do
  $bin/list_runs --output-dir "$out" $flag --yes > /dev/null 2>&1 && fail "list_runs $flag must be refused"
done
a=$(ls "$out" | grep 600519_lstm_ | head -n1); b=$(ls "$out" | grep 000001_lstm_ | head -n1)
$bin/list_runs --output-dir "$out" --compare "$a" "$b" > "$work/compare.txt" || fail "compare"
grep -q "experiment.train.checkpoint_interval" "$work/compare.txt" || fail "--compare cuts key names"
head -n1 "$work/list.txt" | grep -q "MAPE%" || fail "no MAPE column"
pass "list_runs validates its flags"
echo "no_data_loss: all passed"
