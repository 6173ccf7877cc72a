#!/usr/bin/env bash
# tools/predict and tools/serve against a trained run: the CLI (single, batch, --best-by, bad
# input), and the HTTP service with a real HTTP client (Python's urllib): health, model,
# predictions equal to the CLI's, 4xx for bad requests, reload without restart.
# Usage: predict_serve.sh <klab source dir> <klab build dir>
set -uo pipefail
src=$1
build=$2
work=$(mktemp -d)
server_pid=""
cleanup() { [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT
fail() { echo "FAIL: $*"; exit 1; }
"$build/bin/import_kline" --quiet --db "sqlite:$work/kline.db" "$src/data/sample" > /dev/null
for model in "type: lstm, hidden_size: 8, num_layers: 1" "type: gru, hidden_size: 8, num_layers: 1"; do
  cat > "$work/exp.yaml" <<YAML
data: {source: sqlite, options: {path: $work/kline.db}, symbol: "600519", start_date: 2019-06-01}
features: basic
target: {kind: return}
model: {$model}
train: {seq_length: 10, epochs: 2, batch_size: 64, patience: 0}
output_dir: $work/out
YAML
  "$build/bin/sweep" --quiet "$work/exp.yaml" > /dev/null || fail "training"
done
lstm=$(ls "$work/out" | grep _lstm_)
gru=$(ls "$work/out" | grep _gru_)
p="$build/bin/predict --output-dir $work/out"

# CLI
$p --run "$lstm" --symbol 600519 --json > "$work/cli.json" || fail "predict"
$p --run "$lstm" --symbol 600519 --symbol sz000001 --json > "$work/batch.json" || fail "batch predict"
$p --best-by mae --symbol 600519 | grep -q "^run " || fail "--best-by"
$p --run "$lstm" --symbol 600519 --from 2021-12-01 --to 2021-12-31 --json > "$work/range.json" || fail "--from/--to"
out=$($p --run "$lstm" --symbol 688981 2>&1) && fail "unknown symbol must fail"
echo "$out" | grep -q "symbol 688981: no bars in SQLite" || fail "unknown symbol message: $out"
out=$($p --run "$lstm" --symbol 600519 --date 2019-06-20 2>&1) && fail "too little history must fail"
echo "$out" | grep -q "but the model needs 229 (219 warm-up + 10 seq_length)" || fail "short history message: $out"
cp -r "$work/out/$gru" "$work/out/needs_mlp"
python3 - "$work/out/needs_mlp" <<'PY'
import json, sys
p = sys.argv[1] + "/model/config.json"
c = json.load(open(p)); c["model_type"] = "tiny_mlp"; json.dump(c, open(p, "w"))
PY
out=$($p --run needs_mlp --symbol 600519 2>&1) && fail "missing plugin must fail"
echo "$out" | grep -q "run .* needs model plugin 'tiny_mlp'" || fail "missing plugin message: $out"
python3 - "$work/cli.json" "$work/batch.json" "$work/range.json" <<'PY' || exit 1
import json, sys
cli, batch, rng = (json.load(open(f)) for f in sys.argv[1:4])
p = cli["predictions"][0]
assert p["symbol"] == "600519" and p["as_of"] == "2022-01-14" and p["market_last_close"] == 1867.0, p
assert p["prices"] == "backward-adjusted" and abs(p["market_predicted_close"] - 1867.0 * (1 + p["predicted_return"])) < 1e-9, p
assert abs(p["predicted_return"] - (p["predicted_close"] / p["last_close"] - 1)) < 1e-12
assert [q["symbol"] for q in batch["predictions"]] == ["600519", "000001"]
assert len(rng["predictions"]) == 23 and rng["predictions"][0]["as_of"] == "2021-12-01", len(rng["predictions"])
print("PASS: predict CLI")
PY

# Service
"$build/bin/serve" --output-dir "$work/out" --run "$lstm" --port 0 --engines 3 > "$work/serve.log" 2>&1 &
server_pid=$!
for _ in $(seq 1 100); do grep -q "serving run" "$work/serve.log" && break; sleep 0.1; done
port=$(sed -n 's/.*http:\/\/127.0.0.1:\([0-9]*\).*/\1/p' "$work/serve.log")
[ -n "$port" ] || { cat "$work/serve.log"; fail "serve did not start"; }
# A second server on the same port is refused (no SO_REUSEPORT sharing); ports are validated.
msg=$("$build/bin/serve" --output-dir "$work/out" --run "$lstm" --port "$port" 2>&1) && fail "a second serve on port $port must fail"
echo "$msg" | grep -q "cannot listen on 127.0.0.1:$port: port in use" || fail "port in use message: $msg"
msg=$("$build/bin/serve" --output-dir "$work/out" --run "$lstm" --port 70000 2>&1) && fail "--port 70000 must fail"
echo "$msg" | grep -q -- "--port 70000: must be 0-65535" || fail "bad port message: $msg"
msg=$("$build/bin/serve" --output-dir "$work/out" --run "$lstm" --port 0 --engines 0 2>&1) && fail "--engines 0 must fail"
echo "$msg" | grep -q -- "--engines 0: must be 1-64" || fail "bad engines message: $msg"
# A run with corrupt weights, to reload into.
cp -r "$work/out/$lstm" "$work/out/corrupt_weights"
head -c 100 "$work/out/$lstm/model/pytorch_model.bin" > "$work/out/corrupt_weights/model/pytorch_model.bin"
mkdir -p "$work/out/not_a_run"
python3 - "$port" "$work/cli.json" "$lstm" "$gru" <<'PY' || exit 1
import json, sys, urllib.request, urllib.error
port, cli, lstm, gru = sys.argv[1], json.load(open(sys.argv[2])), sys.argv[3], sys.argv[4]
base = f"http://127.0.0.1:{port}"

def call(method, path, body=None, raw=None):
    data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
    req = urllib.request.Request(base + path, data=data, method=method, headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            return r.status, json.loads(r.read())
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read())

s, h = call("GET", "/health"); assert s == 200 and h == {"status": "ok", "run": lstm, "engines": 3, "busy": 0}, (s, h)
s, m = call("GET", "/model"); assert s == 200 and m["model_type"] == "lstm" and len(m["features"]) == 12, m
s, r = call("POST", "/predict", {"symbol": "600519"}); assert s == 200, r
assert r["predictions"][0] == cli["predictions"][0], (r, cli)
s, r = call("POST", "/predict", {"symbols": ["600519", "000001", "688981"], "date": "2021-12-31"}); assert s == 200, r
assert len(r["predictions"]) == 2 and r["errors"][0]["symbol"] == "688981", r
assert r["predictions"][0]["target_date"] == "2022-01-04" and not r["predictions"][0]["target_date_estimated"], r
s, r = call("POST", "/predict", {"symbol": "688981"}); assert s == 404 and "no bars" in r["error"], (s, r)
s, r = call("POST", "/predict", {"symbol": "600519", "date": "2019-06-20"}); assert s == 422 and "needs 229" in r["error"], (s, r)
s, r = call("POST", "/predict", raw=b"{\"symbol\": "); assert s == 400 and "malformed JSON" in r["error"], (s, r)
s, r = call("POST", "/predict", {"ticker": "600519"}); assert s == 400 and "unknown key 'ticker'" in r["error"], (s, r)
s, r = call("POST", "/predict", {"symbol": 600519}); assert s == 400, (s, r)
s, r = call("POST", "/predict", {}); assert s == 400, (s, r)
s, r = call("POST", "/reload", {"run": gru}); assert s == 200 and r == {"run": gru, "previous": lstm}, r
s, h = call("GET", "/health"); assert h["run"] == gru, h
s, r = call("POST", "/reload", {"run": "no_such_run"}); assert s == 409 and "still serving" in r["error"], (s, r)
s, h = call("GET", "/health"); assert h["run"] == gru, h
s, r = call("POST", "/reload", {}); assert s == 200 and r["run"] == lstm, r   # the --run selection again

# /reload takes only names of runs under the output folder, refuses unknown keys, and a broken
# run's error is one line.
for bad in ["/etc", "..", "../out", "/tmp", "not_a_run"]:
    s, r = call("POST", "/reload", {"run": bad})
    assert s == 409 and r["error"].endswith(f'no run named "{bad}" in the output folder'), (bad, s, r)
s, r = call("POST", "/reload", {"Run": gru}); assert s == 400 and "unknown key 'Run'" in r["error"], (s, r)
s, r = call("POST", "/reload", {"run": "corrupt_weights"})
assert s == 409 and "\n" not in r["error"] and "still serving" in r["error"], (s, r)
s, h = call("GET", "/health"); assert h["run"] == lstm, h
# Every error is JSON: unknown paths, wrong methods, bodies over the limit.
s, r = call("GET", "/nowhere"); assert s == 404 and "no such endpoint" in r["error"], (s, r)
s, r = call("GET", "/predict"); assert s == 405 and "use POST" in r["error"], (s, r)
s, r = call("POST", "/health", {}); assert s == 405 and "use GET" in r["error"], (s, r)
s, r = call("POST", "/predict", raw=b"{" + b" " * (2 << 20) + b"}"); assert s == 413 and "limit" in r["error"], (s, r)
# One strict date parser.
for bad in ["2021-13-45", "yesterday", "2021-02-30", "2021-1-5"]:
    s, r = call("POST", "/predict", {"symbol": "600519", "date": bad})
    assert s == 400 and "expected a date YYYY-MM-DD" in r["error"], (bad, s, r)
# Idle keep-alive connections do not starve the workers.
import http.client, time
idle = []
for _ in range(20):
    c = http.client.HTTPConnection("127.0.0.1", int(port), timeout=30)
    c.request("GET", "/health"); c.getresponse().read()
    idle.append(c)   # kept open, idle
started = time.monotonic()
s, h = call("GET", "/health")
waited = time.monotonic() - started
assert s == 200 and waited < 3.0, f"/health took {waited:.2f} s behind 20 idle connections"
for c in idle: c.close()

# Concurrent predictions (3 engines, 8 clients) answer exactly what one client is answered, and a
# /reload in the middle of them lets every request finish on the run it started with.
import threading
asks = [{"symbol": sym, **({"date": d} if d else {})} for sym in ("600519", "000001", "600036")
        for d in ("", "2021-12-31", "2021-06-01")]
expected = {}
for run in (lstm, gru):
    s, r = call("POST", "/reload", {"run": run}); assert s == 200, r
    for a in asks:
        s, r = call("POST", "/predict", a); assert s == 200, (a, r)
        expected[(run, json.dumps(a, sort_keys=True))] = r["predictions"]
problems = []
def client(k):
    for i in range(40):
        a = asks[(k + i) % len(asks)]
        s, r = call("POST", "/predict", a)
        if s != 200 or r["predictions"] != expected.get((r.get("run"), json.dumps(a, sort_keys=True))):
            problems.append((a, s, r))
threads = [threading.Thread(target=client, args=(k,)) for k in range(8)]
for t in threads: t.start()
time.sleep(0.2)
s, r = call("POST", "/reload", {"run": lstm}); assert s == 200 and r["previous"] == gru, r
for t in threads: t.join()
assert not problems, problems[:3]
s, h = call("GET", "/health"); assert h["run"] == lstm and h["busy"] == 0, h
print("PASS: HTTP service: health, model, predict (single, batch), 404, 405, 413, 422, 400s, reload, idle connections, "
      "8 concurrent clients on 3 engines with a reload among them")
PY
kill "$server_pid"; wait "$server_pid" 2>/dev/null; server_pid=""
grep -q "stopped" "$work/serve.log" || fail "serve did not stop cleanly"

# With a token, POST /reload needs it; predictions do not; batches are capped; the token is
# printed nowhere.
KLAB_SERVE_TOKEN=s3cret-token "$build/bin/serve" --output-dir "$work/out" --run "$lstm" --port 0 > "$work/serve2.log" 2>&1 &
server_pid=$!
for _ in $(seq 1 100); do grep -q "serving run" "$work/serve2.log" && break; sleep 0.1; done
port=$(sed -n 's/.*http:\/\/127.0.0.1:\([0-9]*\).*/\1/p' "$work/serve2.log")
[ -n "$port" ] || { cat "$work/serve2.log"; fail "serve with a token did not start"; }
python3 - "$port" "$lstm" <<'PY' || exit 1
import json, sys, urllib.request, urllib.error
port, lstm = sys.argv[1], sys.argv[2]
def call(method, path, body, headers={}):
    req = urllib.request.Request(f"http://127.0.0.1:{port}{path}", data=json.dumps(body).encode(), method=method,
                                 headers={"Content-Type": "application/json", **headers})
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            return r.status, json.loads(r.read())
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read())
s, r = call("POST", "/reload", {}); assert s == 401 and "token" in r["error"], (s, r)
s, r = call("POST", "/reload", {}, {"Authorization": "Bearer wrong"}); assert s == 401, (s, r)
s, r = call("POST", "/reload", {}, {"Authorization": "Bearer s3cret-token"}); assert s == 200 and r["run"] == lstm, (s, r)
s, r = call("POST", "/predict", {"symbol": "600519"}); assert s == 200, (s, r)
s, r = call("POST", "/predict", {"symbols": ["600519"] * 1001}); assert s == 400 and "at most 1000" in r["error"], (s, r)
print("PASS: the token guards /reload; batches over 1000 symbols are refused")
PY
kill "$server_pid"; wait "$server_pid" 2>/dev/null; server_pid=""
if grep -q "s3cret" "$work/serve2.log"; then fail "the token reached the log"; fi
msg=$("$build/bin/serve" --output-dir "$work/out" --run "$lstm" --port 0 --token-file "$work/missing" 2>&1) && fail "a missing token file must fail"
echo "$msg" | grep -q "cannot read a token" || fail "token file message: $msg"
