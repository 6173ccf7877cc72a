#!/usr/bin/env bash
# The report pages (serve and report) in a real browser: Debian's headless Chromium opens the
# runs index, a one-stock run, a universe run, a sweep, a comparison, a broken run and a run while
# it trains, against `serve` started here on loopback; tests/browser/pages_test.js asserts no
# console errors, each chart's number of points (expected counts computed below from the run's
# files with Python, not by klab), sorting and filtering, Chinese names, hostile names kept as
# text, and curves growing without a reload. Then the HTTP layer's confinement (../, absolute and
# encoded paths) and `report`'s offline files. Screenshots: <build>/tests/artefacts/report_pages/.
# Usage: report_pages.sh <klab source dir> <klab build dir>
set -uo pipefail
src=$1
build=$2
work=$(mktemp -d)
server_pid=""
live_pid=""
cleanup() {
  [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null
  [ -n "$live_pid" ] && kill "$live_pid" 2>/dev/null
  wait 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT
fail() { echo "FAIL: $*"; exit 1; }
chromium=$(command -v chromium || command -v chromium-browser) || fail "no chromium (scripts/setup.sh installs Debian's)"
[ -d "$src/web/node_modules/puppeteer-core" ] || fail "no web/node_modules/puppeteer-core: run npm ci --prefix web (scripts/setup.sh does)"
artefacts=$build/tests/artefacts/report_pages
mkdir -p "$artefacts"
rm -f "$artefacts"/*.png

"$build/bin/import_kline" --quiet --db "sqlite:$work/kline.db" "$src/data/sample" > /dev/null || fail "import sample"
"$build/bin/import_kline" --quiet --db "sqlite:$work/universe.db" "$src/data/universe_sample" > /dev/null || fail "import universe"
out=$work/out
# A one-stock run, a universe run (2 epochs of the quickstart's) and a sweep of two points.
cat > "$work/one.yaml" <<YAML
data: {source: sqlite, options: {path: $work/kline.db}, symbol: "600519", start_date: 2019-01-01}
features: basic
target: {kind: close}
model: {type: lstm, hidden_size: 8, num_layers: 1}
train: {seq_length: 10, epochs: 3, batch_size: 64, patience: 0, threads: 1}
output_dir: $out
YAML
"$build/bin/sweep" --quiet "$work/one.yaml" > /dev/null || fail "one-stock run"
sed -e "s#options: {path: data/sample/universe.db}#options: {path: $work/universe.db}#" -e "s#^output_dir: out#output_dir: $out#" \
    -e "s#  epochs: 8#  epochs: 2#" "$src/experiments/quickstart_universe.yaml" > "$work/universe.yaml"
"$build/bin/sweep" --quiet "$work/universe.yaml" > /dev/null || fail "universe run"
cat > "$work/grid.yaml" <<YAML
name: pages_grid
data: {source: sqlite, options: {path: $work/kline.db}, symbol: "000001", start_date: 2019-01-01}
features: basic
target: {kind: return}
model: {type: gru, hidden_size: 8, num_layers: 1}
train: {seq_length: 10, epochs: 2, batch_size: 64, patience: 0, threads: 1}
output_dir: $out
sweep:
  grid: {model.hidden_size: [4, 8], train.learning_rate: [0.001, 0.01]}
  metric: mape
  workers: 2
YAML
"$build/bin/sweep" --quiet "$work/grid.yaml" > /dev/null || fail "sweep"
one=$(ls "$out" | grep '^600519_lstm_' | head -n 1)
uni=$(ls "$out" | grep '^lstm_' | head -n 1)
record=$(ls "$out/.sweeps" | head -n 1)
[ -n "$one" ] && [ -n "$uni" ] && [ -n "$record" ] || fail "runs missing: '$one' '$uni' '$record'"
# A broken run (its results and loss log are not JSON), a folder that is no run, and a run whose
# name and stock name are markup.
cp -r "$out/$one" "$out/broken_run"
echo '{"mae": 1.0,' > "$out/broken_run/results/eval_results.json"
echo 'not json' > "$out/broken_run/logs/metrics.json"
mkdir -p "$out/not_a_run"
hostile='x<img src=x onerror=alert(1)>'
cp -r "$out/$one" "$out/$hostile"
/usr/bin/python3 - "$out/$hostile/metadata.json" <<'PY'
import json, sys
m = json.load(open(sys.argv[1]))
m["stock_names"] = {"600519": "<script>alert(2)</script>"}
json.dump(m, open(sys.argv[1], "w"), ensure_ascii=False)
PY

"$build/bin/serve" --output-dir "$out" --port 0 > "$work/serve.log" 2>&1 &
server_pid=$!
port=""
for _ in $(seq 1 100); do
  port=$(grep -o 'http://127.0.0.1:[0-9]*' "$work/serve.log" | head -n 1 | sed 's/.*://')
  [ -n "$port" ] && break
  sleep 0.1
done
[ -n "$port" ] || { cat "$work/serve.log"; fail "serve did not start"; }
base=http://127.0.0.1:$port

# --- the HTTP layer: read-only, confined to the output folder, JSON errors for /api -----------
code() { curl -s --path-as-is -o "$work/body" -w '%{http_code}' "$@"; }
for p in "/runs/..%2F..%2Fetc%2Fpasswd" "/runs/../../etc/passwd" "/runs/%2Fetc%2Fpasswd" "/runs/.." "/runs/%2E%2E" \
         "/api/runs/..%2Fnot_a_run" "/api/runs/%2Ftmp" "/sweeps/..%2F..%2F" "/api/sweeps/.." "/runs/not_a_run" \
         "/api/runs/$(printf %s "$hostile" | sed 's/</%3C/g; s/>/%3E/g; s/ /%20/g')"; do
  c=$(code "$base$p")
  [ "$c" = 404 ] || fail "GET $p: HTTP $c, expected 404"
  grep -q "root:" "$work/body" && fail "GET $p leaked a file outside the output folder"
done
c=$(code "$base/api/compare?runs=$one") && [ "$c" = 400 ] || fail "compare of one run: HTTP $c"
c=$(code -X POST "$base/runs/$one") && [ "$c" -ge 400 ] || fail "POST to a page: HTTP $c"
c=$(code -X DELETE "$base/api/runs/$one") && [ "$c" -ge 400 ] || fail "DELETE: HTTP $c"
[ -d "$out/$one" ] || fail "a request removed a run"
c=$(code "$base/runs/$one") && [ "$c" = 200 ] || fail "run page: HTTP $c"
grep -q "Content-Security-Policy" <(curl -s -D - -o /dev/null "$base/runs/$one") || fail "pages carry no Content-Security-Policy"
grep -q '<script src=\|<link rel="stylesheet" href=\|https\?://[a-z]*\.\(cdn\|jsdelivr\|unpkg\)' "$work/body" && fail "a page loads something from the network"
# The prediction endpoints are unchanged: without a run loaded they say so (503); /health answers.
c=$(code -X POST -d '{"symbol": "600519"}' "$base/predict") && [ "$c" = 503 ] || fail "/predict without a run: HTTP $c"
grep -q "no run loaded" "$work/body" || fail "/predict without a run: $(cat "$work/body")"
c=$(code "$base/health") && [ "$c" = 200 ] || fail "/health: HTTP $c"
before=$(cd "$out" && find . -type f -newer "$work/serve.log" | wc -l)

# --- expectations from the files (independent of klab's code) -------------------------------
/usr/bin/python3 - "$out" "$one" "$uni" "$record" "$base" "$src" "$chromium" "$artefacts" "$hostile" > "$work/spec.json" <<'PY' || fail "expectations"
import csv, gzip, json, os, sys
out, one, uni, record, base, src, chromium, artefacts, hostile = sys.argv[1:]
def epochs(run):
    return sum(1 for e in json.load(open(f"{out}/{run}/logs/metrics.json")) if "epoch" in e)
def predictions(run):
    return json.load(open(f"{out}/{run}/results/predictions.json"))
with gzip.open(f"{out}/{uni}/results/predictions.csv.gz", "rt") as f:
    rows = list(csv.DictReader(f))
by_symbol = {}
for r in rows:
    by_symbol[r["symbol"]] = by_symbol.get(r["symbol"], 0) + 1
symbols = sorted(by_symbol)
ic_days = len(json.load(open(f"{out}/{uni}/results/ic.json"))["days"])
bt_days = len(json.load(open(f"{out}/{uni}/results/backtest.json"))["daily"])
runs = [d for d in os.listdir(out) if os.path.isfile(f"{out}/{d}/metadata.json")]
mape = {}
for d in runs:
    # From results/eval_results.json, or when that is unreadable from metadata.json's eval_metrics
    # (docs/OUTPUT_STANDARD.md: both carry the test metrics).
    try:
        v = json.load(open(f"{out}/{d}/results/eval_results.json")).get("mape")
    except (OSError, ValueError):
        v = json.load(open(f"{out}/{d}/metadata.json")).get("eval_metrics", {}).get("mape")
    if isinstance(v, (int, float)):
        mape[d] = v
completed = sum(1 for d in runs if json.load(open(f"{out}/{d}/metadata.json")).get("status") == "completed")
sweep = json.load(open(f"{out}/.sweeps/{record}/sweep.json"))
trials = len(sweep["trials"])
names = json.load(open(f"{out}/{one}/metadata.json")).get("stock_names", {})
assert names.get("600519") == "贵州茅台", names
spec = {
  "web_modules": f"{src}/web/node_modules", "chromium": chromium, "artefacts": artefacts, "base": base,
  "index": {"runs": len(runs), "sweeps": 1, "mape": mape, "completed": completed,
            "filter_text": "贵州茅台", "filter_count": sum(1 for d in runs if d.startswith("600519_") or d == "broken_run"),
            "texts": ["600519 贵州茅台", hostile, "<script>alert(2)</script>"]},
  "pages": [
    {"url": f"{base}/runs/{one}", "shot": "run-one-stock",
     "charts": {"chart-loss": epochs(one), "chart-price": len(predictions(one)), "chart-return": len(predictions(one))},
     "texts": ["贵州茅台", "persistence", "MAE", "logs/training.log", "a one-stock run has no cross-section"]},
    {"url": f"{base}/runs/{uni}", "shot": "run-universe",
     "charts": {"chart-loss": epochs(uni), "chart-return": by_symbol[symbols[0]], "chart-ic": ic_days, "chart-equity": bt_days},
     "texts": ["Rank IC", "reversal_5d", "excess return a year, after costs"],
     "symbol": {"code": symbols[1], "points": by_symbol[symbols[1]]}},
    {"url": f"{base}/sweeps/{record}", "shot": "sweep",
     "charts": {"chart-axis-0": trials, "chart-axis-1": trials, "chart-parallel": trials},
     "texts": ["model.hidden_size", "train.learning_rate", "mape"]},
    {"url": f"{base}/compare?runs={one},broken_run,{uni}", "shot": "compare",
     "charts": {"chart-compare-loss": max(epochs(one), epochs(uni)), "chart-compare-ic": ic_days},
     "texts": ["Rank IC", one, uni]},
    {"url": f"{base}/runs/broken_run", "shot": "run-broken",
     "charts": {}, "texts": ["Problems reading this run", "results/eval_results.json", "logs/metrics.json"]},
    {"url": f"{base}/runs/no_such_run", "shot": "missing", "status": 404, "text": "no run named"},
  ],
}
print(json.dumps(spec, ensure_ascii=False))
PY

# --- a run while it trains: its page must grow without a reload -------------------------------
cat > "$work/live.yaml" <<YAML
data: {source: sqlite, options: {path: $work/kline.db}, symbol: "600036", start_date: 2016-01-01}
features: basic
target: {kind: close}
model: {type: lstm, hidden_size: 32, num_layers: 2}
train: {seq_length: 40, epochs: 5000, batch_size: 16, patience: 0, checkpoint_interval: 100000, threads: 1}
output_dir: $out
YAML
"$build/bin/sweep" --quiet "$work/live.yaml" > "$work/live.log" 2>&1 &
live_pid=$!
live=""
for _ in $(seq 1 600); do
  live=$(ls "$out" | grep '^600036_lstm_' | head -n 1)
  if [ -n "$live" ] && [ -f "$out/$live/logs/metrics.json" ] && \
     /usr/bin/python3 -c "import json,sys; sys.exit(0 if len(json.load(open(sys.argv[1]))) >= 1 else 1)" "$out/$live/logs/metrics.json" 2>/dev/null; then
    break
  fi
  sleep 0.1
done
[ -n "$live" ] || fail "the live run did not start: $(cat "$work/live.log")"
/usr/bin/python3 - "$work/spec.json" "$base/runs/$live" <<'PY'
import json, sys
spec = json.load(open(sys.argv[1]))
spec["live"] = {"url": sys.argv[2], "timeout_ms": 60000}
spec["index"]["runs"] += 1  # the live run is listed too (training)
json.dump(spec, open(sys.argv[1], "w"), ensure_ascii=False)
PY
node "$src/tests/browser/pages_test.js" "$work/spec.json" || fail "the pages in Chromium (screenshots in $artefacts)"
kill -INT "$live_pid" 2>/dev/null; wait "$live_pid" 2>/dev/null; live_pid=""
# Serving wrote nothing under the output folder (the live run and the sweep aside).
after=$(cd "$out" && find . -type f -newer "$work/serve.log" -not -path "./$live/*" | wc -l)
[ "$after" = "$before" ] || fail "serving pages wrote files under out/: $(cd "$out" && find . -type f -newer "$work/serve.log" -not -path "./$live/*")"
echo "PASS: served pages"

# --- report: offline files --------------------------------------------------------------------
"$build/bin/report" --output-dir "$out" --site "$work/site" > "$work/report.log" || fail "report --site: $(cat "$work/report.log")"
[ -f "$work/site/index.html" ] && [ -f "$work/site/runs/$uni.html" ] && [ -f "$work/site/sweeps/$record.html" ] || fail "report --site: pages missing"
"$build/bin/report" --output-dir "$out" --site "$work/site" > /dev/null || fail "report --site again into its own folder"
mkdir -p "$work/mine" && echo keep > "$work/mine/notes.txt"
msg=$("$build/bin/report" --output-dir "$out" --site "$work/mine" 2>&1) && fail "report --site into a folder it did not make"
echo "$msg" | grep -q "not made by .report --site." || fail "report --site message: $msg"
[ "$(cat "$work/mine/notes.txt")" = keep ] || fail "report touched a file it did not write"
"$build/bin/report" --output-dir "$out" --run "$one" -o "$work/one.html" > /dev/null || fail "report --run"
msg=$("$build/bin/report" --output-dir "$out" --run "$one" -o "$work/one.html" 2>&1) && fail "report overwrote -o without --force"
echo "$msg" | grep -q "exists; pass --force" || fail "report -o message: $msg"
msg=$("$build/bin/report" --output-dir "$out" --run ../etc -o "$work/x.html" 2>&1) && fail "report --run ../etc"
echo "$msg" | grep -q 'no run named' || fail "report --run ../etc message: $msg"
grep -q 'src="http\|href="http' "$work/site/runs/$uni.html" && fail "an exported page links to the network"
/usr/bin/python3 - "$work/spec.json" "$work/site" "$uni" <<'PY'
import json, sys
spec = json.load(open(sys.argv[1]))
site, uni = sys.argv[2], sys.argv[3]
run = [p for p in spec["pages"] if p["shot"] == "run-universe"][0]
spec.pop("index"); spec.pop("live")
spec["base"] = "file://"
spec["pages"] = [{"url": f"file://{site}/runs/{uni}.html", "shot": "exported-run-universe", "charts": run["charts"], "texts": run["texts"]},
                 {"url": f"file://{site}/index.html", "shot": "exported-index", "charts": {}, "texts": ["600519 贵州茅台"]}]
json.dump(spec, open(sys.argv[1], "w"), ensure_ascii=False)
PY
node "$src/tests/browser/pages_test.js" "$work/spec.json" || fail "exported pages offline"
echo "PASS: report pages (served and exported), tested in Chromium"
