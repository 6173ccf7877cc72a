#!/usr/bin/env bash
# bench/research_table.py, the research table's generator, on a real sweep: two seeds of the
# quickstart's universe run (1 epoch) are filed in an archive and become one row (mean ± std of
# the runs' own results/eval_results.json); a later "session" adds a third seed and measures seed 1
# again (seed 2 stays as archived); rows of experiments the archive does not hold are kept as
# written; a record made with another experiment is refused and the archive left as it was.
# Usage: research_table.sh <klab source dir> <klab build dir>
set -euo pipefail
sample=universe_sample
source "$(dirname "$0")/common.sh"
sed -e "s#options: {path: data/sample/universe.db}#options: {path: $work/universe.db}#" \
    -e "s#  epochs: 8#  epochs: 1#" "$src/experiments/quickstart_universe.yaml" > "$work/q.yaml"
printf 'sweep:\n  seeds: [1, 2]\n  metric: {name: rank_ic, mode: max}\n  workers: 1\n' >> "$work/q.yaml"
grep -q "$work/universe.db" "$work/q.yaml" && grep -q "epochs: 1" "$work/q.yaml" || { echo "FAIL: the experiment changed shape"; exit 1; }
"$build/bin/sweep" "$work/q.yaml" --output-dir "$work/out1" --quiet > "$work/sweep.txt" 2>&1 || { cat "$work/sweep.txt"; exit 1; }
cat > "$work/doc.md" <<'MD'
# page
<!-- research-table:begin -->
| model | features | seeds | IC | ICIR | Rank IC | Rank ICIR | Ann. excess | IR | Max DD |
|---|---|---|---|---|---|---|---|---|---|
| klab gru | alpha360 | 1, 2, 3 | 0.0324±0.0050 | 0.2190±0.0362 | 0.0408±0.0048 | 0.2839±0.0367 | 0.0843±0.0132 | 1.1695±0.1668 | -0.0782±0.0212 |
| 5-day reversal, same days | alpha360 | – | 0.0104 | 0.0575 | 0.0246 | 0.1336 | -0.0115 | -0.1234 | -0.2052 |
| Qlib gru (published, CSI300) | Alpha360 | 20 | 0.0493 | 0.3772 | 0.0584 | 0.4638 | 0.0720 | 0.9730 | -0.0821 |
<!-- research-table:end -->
after
MD
table="python3 $src/bench/research_table.py --qlib $src/bench/qlib_published.csv --archive $work/archive"
$table "$work/out1" --write "$work/doc.md" > /dev/null
cp "$work/doc.md" "$work/doc_first.md"
# A later session: the same record with seed 2 renamed 3 (and its figures changed), seed 1 measured
# again with other figures.
cp -r "$work/out1" "$work/out2"
/usr/bin/python3 - "$work/out2" <<'PY'
import glob, json, sys
record = glob.glob(sys.argv[1] + "/.sweeps/*/trials")[0]
t = json.load(open(record + "/trial-0001.json")); t["train"]["seed"] = 3
json.dump(t, open(record + "/trial-0001.json", "w"))
for i, ic in ((0, 0.5), (1, 0.25)):
    s = json.load(open(record + "/trial-%04d.status.json" % i)); s["eval"]["cross_section"]["ic_mean"] = ic
    json.dump(s, open(record + "/trial-%04d.status.json" % i, "w"))
PY
$table "$work/out2" --write "$work/doc.md" > /dev/null
# Another experiment under the same name (2 epochs): refused, nothing written.
cp -r "$work/out1" "$work/out3"
/usr/bin/python3 - "$work/out3" <<'PY'
import glob, json, sys
for f in glob.glob(sys.argv[1] + "/.sweeps/*/trials/trial-000?.json"):
    t = json.load(open(f)); assert t["train"]["epochs"] == 1, f; t["train"]["epochs"] = 2
    json.dump(t, open(f, "w"))
PY
cp "$work/archive/quickstart_universe.json" "$work/archived.json"; cp "$work/doc.md" "$work/doc_before.md"
if $table "$work/out3" --write "$work/doc.md" > /dev/null 2> "$work/refused.txt"; then
  echo "FAIL: an archive of another experiment was mixed"; exit 1
fi
cat "$work/refused.txt"
grep -q "quickstart_universe.json" "$work/refused.txt" && grep -q "train.epochs" "$work/refused.txt" || { echo "FAIL: the error names neither the archive nor the key"; exit 1; }
cmp -s "$work/archive/quickstart_universe.json" "$work/archived.json" && cmp -s "$work/doc.md" "$work/doc_before.md" || { echo "FAIL: a refused read changed the archive or the page"; exit 1; }
$table > "$work/archive_only.md"
/usr/bin/python3 - "$work" <<'PY'
import glob, json, statistics, sys
work = sys.argv[1]
# Each run's own files, by the seed its config.json records.
by_seed = {}
for run in glob.glob(work + "/out1/lstm_*/"):
    by_seed[json.load(open(run + "config.json"))["experiment"]["train"]["seed"]] = json.load(open(run + "results/eval_results.json"))
assert sorted(by_seed) == [1, 2], sorted(by_seed)
ev = [by_seed[1], by_seed[2]]
def row(doc):
    text = open(doc).read().split("<!-- research-table:begin -->")[1].split("<!-- research-table:end -->")[0]
    lines = text.strip().splitlines()
    return lines, {l.split("|")[1].strip() + "/" + l.split("|")[2].strip(): [c.strip() for c in l.strip().strip("|").split("|")]
                   for l in lines if l.startswith("| klab ")}
def pm(values):
    return "%.4f±%.4f" % (statistics.mean(values), statistics.stdev(values))
# First read: seeds 1 and 2, each column the mean ± sample std of the two runs' own files.
lines, rows = row(work + "/doc_first.md")
r = rows["klab lstm/alpha158_20"]
assert r[2] == "1, 2", r
cs = [e["cross_section"] for e in ev]; bt = [e["backtest"]["excess_return_with_cost"] for e in ev]
assert r[3] == pm([c["ic_mean"] for c in cs]) and r[5] == pm([c["rank_ic_mean"] for c in cs]), r
assert r[6] == pm([c["rank_icir"] for c in cs]) and r[7] == pm([b["annualized_return"] for b in bt]), r
assert r[9] == pm([b["max_drawdown"] for b in bt]), r
base = ev[0]["baseline_signal"]
rev = [l for l in lines if l.startswith("| 5-day reversal") and "alpha158_20" in l][0]
assert ("%.4f" % base["cross_section"]["rank_ic_mean"]) in rev, rev
qlib = [l for l in lines if l.startswith("| Qlib lstm")]
assert qlib and "0.0435" in qlib[0], qlib
# The row written by hand for gru/alpha360 is kept, after the alpha158 rows.
gru = [i for i, l in enumerate(lines) if l.startswith("| klab gru | alpha360")]
lstm = [i for i, l in enumerate(lines) if l.startswith("| klab lstm | alpha158_20")]
assert gru and lstm and lstm[0] < gru[0] and "0.0324±0.0050" in lines[gru[0]], lines
assert lines[gru[0] + 1].startswith("| 5-day reversal, same days | alpha360 | – | 0.0104"), lines
# Second read: seeds 1, 2, 3; seed 1's IC the new 0.5, seed 2's the archived one, seed 3's 0.25.
archive = json.load(open(work + "/archive/quickstart_universe.json"))
assert [x["seed"] for x in archive["runs"]] == [1, 2, 3], archive["runs"]
ic = [x["eval"]["cross_section"]["ic_mean"] for x in archive["runs"]]
assert ic[0] == 0.5 and ic[2] == 0.25 and ic[1] == cs[1]["ic_mean"], ic
lines2, rows2 = row(work + "/doc.md")
assert rows2["klab lstm/alpha158_20"][2] == "1, 2, 3" and rows2["klab lstm/alpha158_20"][3] == pm(ic), rows2
assert rows2["klab gru/alpha360"] == rows["klab gru/alpha360"]
assert open(work + "/doc.md").read().endswith("after\n")
# The archive alone gives the same row.
only = [l for l in open(work + "/archive_only.md").read().splitlines() if l.startswith("| klab lstm")]
assert only == [l for l in lines2 if l.startswith("| klab lstm")], only
print("PASS: two seeds, then a third and a re-measured one, become one row; the other rows stay; another experiment is refused")
PY
