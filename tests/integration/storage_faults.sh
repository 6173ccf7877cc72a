#!/usr/bin/env bash
# out/ on a small full filesystem and on a read-only one (tmpfs mounts; needs root): one clear
# error naming the file, nothing already written lost, no half-written file left, and a run that
# failed for want of space resumes to the result of an uninterrupted run once there is room.
set -euo pipefail
source "$(dirname "$0")/common.sh"
fail() { echo "FAIL: $*" >&2; exit 1; }
fs=$work/fs
mkdir -p "$fs"
if ! mount -t tmpfs -o size=3m tmpfs "$fs" 2> "$work/mount.err"; then
  echo "SKIP: cannot mount a tmpfs (needs root): $(cat "$work/mount.err")"
  exit 77
fi
trap 'umount "$fs" 2>/dev/null || umount -l "$fs"; rm -rf "$work"' EXIT
cat > "$work/tiny.yaml" <<YAML
name: tiny
data: {source: sqlite, options: {path: $work/kline.db}, symbol: "600519", start_date: 2019-01-01}
features: basic
model: {type: lstm, hidden_size: 32, num_layers: 2}
train: {seq_length: 10, epochs: 6, batch_size: 64, checkpoint_interval: 1, seed: 3}
output_dir: $fs/out
YAML
"$build/bin/sweep" --quiet "$work/tiny.yaml" > /dev/null
first=$(ls "$fs/out")
(cd "$fs/out/$first" && find . -type f | sort | xargs md5sum) > "$work/first.md5"
[ "$(du -sk "$fs/out/$first" | cut -f1)" -gt 1000 ] || fail "a run should take over 1 MB here"

# Full: leave ~700 KB, less than a run needs.
avail=$(df --output=avail -B1 "$fs" | tail -n 1)
head -c $((avail - 700 * 1024)) /dev/zero > "$fs/filler" || true
if "$build/bin/sweep" --quiet "$work/tiny.yaml" > "$work/full.out" 2> "$work/full.err"; then fail "a run on a full disk must fail"; fi
[ "$(wc -l < "$work/full.err")" = 1 ] || fail "one line of error expected: $(cat "$work/full.err")"
grep -q "No space left on device" "$work/full.err" || fail "full disk message: $(cat "$work/full.err")"
second=$(ls "$fs/out" | grep -v "^$first$")
python3 - "$fs/out/$second/metadata.json" <<'PY' || fail "the failed run's metadata"
import json, sys
m = json.load(open(sys.argv[1]))
assert m["status"] == "failed" and "No space left on device" in m["error"], m
PY
leftovers=$(find "$fs/out" -name '.*tmp*')
[ -z "$leftovers" ] || fail "half-written files left: $leftovers"
(cd "$fs/out/$first" && md5sum -c --quiet "$work/first.md5") || fail "the completed run changed"
"$build/bin/list_runs" --output-dir "$fs/out" > "$work/list.txt" || fail "list_runs on a full disk"
grep -q "$first .*completed" "$work/list.txt" && grep -q "$second .*failed" "$work/list.txt" || fail "$(cat "$work/list.txt")"
echo "PASS: full disk: one error ($(cat "$work/full.err")), the completed run intact, nothing half-written"

# Room again: the failed run resumes to the uninterrupted run's result.
rm "$fs/filler"
"$build/bin/sweep" --quiet --resume "$second" --output-dir "$fs/out" > /dev/null || fail "resume after the disk was freed"
for f in model/pytorch_model.bin results/predictions.json; do
  cmp -s "$fs/out/$first/$f" "$fs/out/$second/$f" || fail "$f differs from the uninterrupted run's"
done
echo "PASS: resumed once there was room: weights and predictions equal the uninterrupted run's"

# Read-only: nothing can start, nothing is touched, reading still works.
(cd "$fs/out" && find . -type f | sort | xargs md5sum) > "$work/all.md5"
mount -o remount,ro "$fs"
if "$build/bin/sweep" --quiet "$work/tiny.yaml" > /dev/null 2> "$work/ro.err"; then fail "a run on a read-only out/ must fail"; fi
grep -q "cannot create the run folder: Read-only file system" "$work/ro.err" || fail "read-only message: $(cat "$work/ro.err")"
if "$build/bin/sweep" --quiet --resume "$second" --output-dir "$fs/out" > /dev/null 2> "$work/ro2.err"; then fail "resume on a read-only out/ must fail"; fi
grep -q "Read-only file system" "$work/ro2.err" || fail "read-only resume message: $(cat "$work/ro2.err")"
"$build/bin/list_runs" --output-dir "$fs/out" > /dev/null || fail "list_runs on a read-only out/"
"$build/bin/report" --output-dir "$fs/out" --run "$first" -o "$work/page.html" > /dev/null || fail "report from a read-only out/"
(cd "$fs/out" && md5sum -c --quiet "$work/all.md5") || fail "a read-only out/ changed"
echo "PASS: read-only out/: $(cat "$work/ro.err"); list_runs and report still read it"
