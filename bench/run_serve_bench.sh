#!/usr/bin/env bash
# Prediction service benchmark: trains the reference-size quickstart model on the sample data,
# serves it on a loopback port and measures latency, throughput against the number of engines
# (predictions at once), the history cache against recomputing, and a bounded load test.
# Usage: bash bench/run_serve_bench.sh [build dir]   (LOAD=100000 requests in the load test)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$root/build}
load=${LOAD:-100000}
work=$(mktemp -d)
pid=""
trap '[ -n "$pid" ] && kill $pid 2>/dev/null; rm -rf "$work"' EXIT
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)"
"$build/bin/import_kline" --quiet --db "sqlite:$work/kline.db" "$root/data/sample" > /dev/null
sed -e "s|data/sample/kline.db|$work/kline.db|" -e "s|^output_dir: out|output_dir: $work/out|" -e "s/epochs: 30/epochs: 2/" \
  "$root/experiments/quickstart.yaml" > "$work/exp.yaml"
"$build/bin/sweep" --quiet "$work/exp.yaml" > /dev/null
run=$(ls "$work/out")
symbols=600519,000001,600036,601318,000858
echo "model: the quickstart LSTM (hidden 64, 2 layers, seq 60, 45 features), run $run; symbols $symbols in turn"

# serve with the given options in the background; sets pid and port.
start() {
  "$build/bin/serve" --output-dir "$work/out" --run "$run" --port 0 "$@" > "$work/serve.log" 2>&1 &
  pid=$!
  for _ in $(seq 1 100); do grep -q "serving run" "$work/serve.log" && break; sleep 0.1; done
  port=$(sed -n 's/.*http:\/\/127.0.0.1:\([0-9]*\).*/\1/p' "$work/serve.log")
  [ -n "$port" ] || { cat "$work/serve.log" >&2; exit 1; }
}
stop() { kill "$pid"; wait "$pid" 2>/dev/null || true; pid=""; }

for options in "--engines 1" "--engines 2" "--engines 2 --cache-mb 0"; do
  echo "== serve $options"
  start $options
  "$build/bin/serve_bench" --port "$port" --symbols "$symbols" --requests 1000 --threads 1,2,4
  stop
done

echo "== serve (defaults), $load predictions"
start
"$build/bin/serve_bench" --port "$port" --symbols "$symbols" --requests 1000 --threads 4 --load "$load" --pid "$pid"
# The same kept-alive connection from Python's standard library (what requests.Session uses).
python3 - "$port" <<'PY'
import http.client, sys, time
c = http.client.HTTPConnection("127.0.0.1", int(sys.argv[1]))
for path, body in (("/health", None), ("/predict", b'{"symbol": "600519"}')):
    ms = []
    for i in range(1010):
        t0 = time.perf_counter()
        c.request("POST" if body else "GET", path, body=body, headers={"Content-Type": "application/json"})
        r = c.getresponse(); r.read()
        assert r.status == 200, r.status
        if i >= 10:
            ms.append((time.perf_counter() - t0) * 1000)
    ms.sort()
    print(f"python http.client keep-alive {path}: p50 {ms[500]:.3f} ms, p99 {ms[990]:.3f} ms")
PY
stop
