#!/usr/bin/env bash
# serve over MariaDB while the database is killed and started again: predictions go on through a
# short outage (the mysql source reconnects with bounded retries), a long outage is one clear
# error within the bound, and the service answers again once the server is back, without /reload.
# Needs the MariaDB fixture (KLAB_TEST_MARIADB_DIR).
set -euo pipefail
source "$(dirname "$0")/common.sh"
fail() { echo "FAIL: $*" >&2; [ -f "$work/serve.log" ] && tail -n 20 "$work/serve.log" >&2; exit 1; }
db_dir=${KLAB_TEST_MARIADB_DIR:?the MariaDB fixture}
server() { bash "$src/scripts/mariadb_test_server.sh" "$@" >> "$db_dir/faults.out" 2>&1; }
port=$(cat "$db_dir/port")
export KLAB_DB_PASSWORD
KLAB_DB_PASSWORD=$(cat "$db_dir/password")
"$build/bin/import_kline" --quiet --db "mysql://quant@127.0.0.1:$port/market_serve" "$src/data/sample" > /dev/null
cat > "$work/exp.yaml" <<YAML
name: served
data:
  source: mysql
  options: {host: 127.0.0.1, port: $port, user: quant, database: market_serve, password_env: KLAB_DB_PASSWORD, retries: 6}
  symbol: "600519"
  start_date: 2019-01-01
features: basic
model: {type: lstm, hidden_size: 8, num_layers: 1}
train: {seq_length: 10, epochs: 1, batch_size: 64}
output_dir: $work/out
YAML
"$build/bin/sweep" --quiet "$work/exp.yaml" > /dev/null
run=$(ls "$work/out")
"$build/bin/serve" --output-dir "$work/out" --run "$run" --port 0 > "$work/serve.log" 2>&1 &
server_pid=$!
# Whatever happens, the fixture's database is left running for the tests after this one.
trap 'kill $server_pid 2>/dev/null; server up "$db_dir"; rm -rf "$work"' EXIT
for _ in $(seq 1 100); do grep -q "serving run" "$work/serve.log" && break; sleep 0.1; done
http=$(sed -n 's/.*http:\/\/127.0.0.1:\([0-9]*\).*/\1/p' "$work/serve.log")
[ -n "$http" ] || fail "serve did not start"

# predict: "STATUS SECONDS first line of the answer"
predict() {  # [request body]
  local body='{"symbol": "600519"}'
  [ $# -gt 0 ] && body=$1
  python3 - "$http" "$body" <<'PY'
import json, sys, time, urllib.request, urllib.error
req = urllib.request.Request(f"http://127.0.0.1:{sys.argv[1]}/predict", data=sys.argv[2].encode(),
                             headers={"Content-Type": "application/json"})
t0 = time.monotonic()
try:
    with urllib.request.urlopen(req, timeout=60) as r:
        status, body = r.status, json.loads(r.read())
except urllib.error.HTTPError as e:
    status, body = e.code, json.loads(e.read())
print(status, round(time.monotonic() - t0, 2), body.get("error", body.get("predictions", [{}])[0].get("as_of")))
PY
}
read -r status _ as_of < <(predict)
[ "$status" = 200 ] || fail "first prediction: $status"

# A short outage while requests go on: every answer is a 200.
server restart "$db_dir" 2 &
restarter=$!
for i in $(seq 1 30); do
  read -r status seconds answer < <(predict)
  [ "$status" = 200 ] && [ "$answer" = "$as_of" ] || fail "request $i during a 2 s outage: $status $answer"
  sleep 0.2
done
wait $restarter || fail "the database did not restart"
grep -q down "$db_dir/faults.log" || fail "the database was not killed"
echo "PASS: 30 predictions through a 2 s database outage"

# A long outage: one clear error within the bound (retries 6: 0.25 + 0.5 + 1 + 2 + 4 + 4 s of waits).
server down "$db_dir"
read -r status seconds answer < <(predict)
[ "$status" = 503 ] || fail "with the database down: HTTP $status ($answer)"
echo "$answer" | grep -q "mysql://quant@127.0.0.1:$port/market_serve: lost the connection to the server and 6 reconnection attempts over 11.75 s failed" \
  || fail "error with the database down: $answer"
echo "$answer" | grep -q "$KLAB_DB_PASSWORD" && fail "the password leaked: $answer"
python3 -c "import sys; sys.exit(0 if float(sys.argv[1]) < 20 else 1)" "$seconds" || fail "the error took $seconds s"
c=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$http/health") && [ "$c" = 200 ] || fail "/health with the database down: $c"
echo "PASS: database down: HTTP 503 after $seconds s: $answer"
# A batch: one 503 within one bound, not one wait per symbol (three would take > 35 s).
read -r status seconds answer < <(predict '{"symbols": ["600519", "600519", "600519"]}')
[ "$status" = 503 ] || fail "a batch with the database down: HTTP $status ($answer)"
echo "$answer" | grep -q "reconnection attempts over 11.75 s failed" || fail "a batch with the database down: $answer"
python3 -c "import sys; sys.exit(0 if float(sys.argv[1]) < 20 else 1)" "$seconds" || fail "the batch's error took $seconds s"
echo "PASS: database down: a batch of three answers 503 after $seconds s"

# Back: the service answers again without /reload.
server up "$db_dir"
read -r status _ answer < <(predict)
[ "$status" = 200 ] && [ "$answer" = "$as_of" ] || fail "after the database came back: $status $answer"
grep -q "reloaded" "$work/serve.log" && fail "the service was reloaded"
echo "PASS: the service recovered by itself once the database was back"
