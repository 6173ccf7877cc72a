#!/usr/bin/env bash
# Import at scale: the whole universe folder (1,056 gzip CSV files, 2.59 M rows, read as
# archives) into SQLite and into MariaDB, then the same import again (which must change
# nothing), with rows/s; beside references measured in the same run:
#   - a plain Python csv + sqlite3.executemany loop over the same archives (one transaction per
#     file; it validates nothing, derives no adjustment factors and merges with nothing stored);
#   - the MariaDB server's own floor: the same rows loaded by its own client from a SQL file of
#     1,000-row INSERTs, by one LOAD DATA LOCAL INFILE into a non-empty table, and by two at once
#     (every other symbol each: klab's two writers).
# Checks the targets of docs/BENCHMARKS.md (SQLite first import <= 8 s, re-import <= 4 s,
# MariaDB >= 200,000 rows/s) and prints PASS / MISS for each.
# Usage: bash bench/run_import_bench.sh [build dir] [universe folder]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$root/build}
data=${2:-$root/../shared/data/universe}
work=$(mktemp -d)
trap 'bash "$root/scripts/mariadb_test_server.sh" stop "$work/mariadb" >/dev/null 2>&1 || true; rm -rf "$work"' EXIT
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)," \
  "family $(grep -m1 'cpu family' /proc/cpuinfo | cut -d: -f2 | xargs) model $(grep -m1 '^model\s' /proc/cpuinfo | cut -d: -f2 | xargs); $(date -u +%F)"
results=$work/results.txt
timed() {  # key label command...: prints "label: S s, N rows/s (summary line)", records key S rows
  local key=$1 label=$2; shift 2
  local start end line
  start=$(date +%s.%N)
  line=$("$@" | tail -n 1)
  end=$(date +%s.%N)
  python3 - "$key" "$label" "$start" "$end" "$line" "$results" <<'PY'
import re, sys
key, label, start, end, line, results = sys.argv[1], sys.argv[2], float(sys.argv[3]), float(sys.argv[4]), sys.argv[5], sys.argv[6]
read = int(re.search(r"read (\d+)", line).group(1))
seconds = end - start
print(f"{label}: {seconds:.2f} s, {read / seconds:,.0f} rows/s  ({line.split(': ', 1)[1]})")
open(results, "a").write(f"{key} {seconds} {read}\n")
PY
}

# The reference: plain Python, csv module + sqlite3.executemany, klab's table layout.
/usr/bin/python3 - "$data" "$work/python.db" "$results" <<'PY'
import csv, glob, gzip, os, sqlite3, sys, time
data, db, results = sys.argv[1:]
start = time.time()
con = sqlite3.connect(db)
con.execute("CREATE TABLE stock_kline_data (symbol VARCHAR(6) NOT NULL, trade_date DATE NOT NULL,"
            " open DOUBLE NOT NULL, high DOUBLE NOT NULL, low DOUBLE NOT NULL, close DOUBLE NOT NULL,"
            " pre_close DOUBLE, volume DOUBLE, amount DOUBLE, adj_factor DOUBLE, float_market_cap DOUBLE,"
            " total_market_cap DOUBLE, st DOUBLE, PRIMARY KEY (symbol, trade_date))")
rows = 0
for path in sorted(glob.glob(os.path.join(data, "*.csv.gz"))):
    with gzip.open(path, "rt", encoding="utf-8", newline="") as f:
        f.readline()  # the banner
        reader = csv.reader(f)
        next(reader)  # the header
        batch = [(r[0][2:], r[2], float(r[3]), float(r[4]), float(r[5]), float(r[6]), float(r[7]),
                  float(r[8]), float(r[9]), 1.0, float(r[10]) if r[10] else None,
                  float(r[11]) if r[11] else None, 1.0 if "ST" in r[1] else 0.0) for r in reader]
    con.executemany("INSERT INTO stock_kline_data VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)", batch)
    con.commit()
    rows += len(batch)
seconds = time.time() - start
print(f"reference, Python csv + sqlite3.executemany -> SQLite: {seconds:.2f} s, {rows / seconds:,.0f} rows/s ({rows} rows)")
open(results, "a").write(f"python {seconds} {rows}\n")
PY

timed sqlite_first "klab -> SQLite, first import" "$build/bin/import_kline" --quiet --db "sqlite:$work/u.db" "$data"
timed sqlite_again "klab -> SQLite, again (no change)" "$build/bin/import_kline" --quiet --db "sqlite:$work/u.db" "$data"
bash "$root/scripts/mariadb_test_server.sh" start "$work/mariadb" >/dev/null
port=$(cat "$work/mariadb/port")
export KLAB_BENCH_DB_PASSWORD=$(cat "$work/mariadb/password")
timed mariadb_first "klab -> MariaDB, first import" "$build/bin/import_kline" --quiet --password-env KLAB_BENCH_DB_PASSWORD \
  --db "mysql://quant@127.0.0.1:$port/market" "$data"
timed mariadb_again "klab -> MariaDB, again (no change)" "$build/bin/import_kline" --quiet --password-env KLAB_BENCH_DB_PASSWORD \
  --db "mysql://quant@127.0.0.1:$port/market" "$data"

# The server's floor: the same rows (read back from klab's SQLite file) loaded by MariaDB's own
# client, as 1,000-row INSERTs and as one LOAD DATA into a table that is not empty (an empty
# table takes a bulk path no incremental import can use).
/usr/bin/python3 - "$work/u.db" "$work/rows.csv" "$work/rows.sql" <<'PY'
import sqlite3, sys
db, csv_path, sql_path = sys.argv[1:]
halves = [open(csv_path + ".0", "w"), open(csv_path + ".1", "w")]  # every other symbol, for two clients at once
cols = "symbol,trade_date,open,high,low,close,pre_close,volume,amount,adj_factor,float_market_cap,total_market_cap,st"
rows = sqlite3.connect(db).execute(f"SELECT {cols} FROM stock_kline_data ORDER BY rowid").fetchall()
def lit(v):
    return "NULL" if v is None else repr(float(v))
with open(csv_path, "w") as f:
    for r in rows:
        line = ",".join([r[0], r[1]] + ["\\N" if v is None else repr(float(v)) for v in r[2:]]) + "\n"
        f.write(line)
        halves[int(r[0]) % 2].write(line)
with open(sql_path, "w") as f:
    for i in range(0, len(rows), 1000):
        f.write(f"INSERT INTO k ({cols}) VALUES " + ",".join(
            "('%s','%s',%s)" % (r[0], r[1], ",".join(lit(v) for v in r[2:])) for r in rows[i:i + 1000]) + ";\n")
        if i // 1000 % 200 == 199:
            f.write("COMMIT;\n")
    f.write("COMMIT;\n")
PY
client() { mariadb --no-defaults -uroot --socket="$work/mariadb/mysqld.sock" --local-infile=1 "$@"; }
rows=$(wc -l < "$work/rows.csv")
server_load() {  # key label command...: loads the rows into a fresh one-row table floor.k
  local key=$1 label=$2 start end
  client -e "DROP DATABASE IF EXISTS floor; CREATE DATABASE floor; CREATE TABLE floor.k LIKE market.stock_kline_data;
    INSERT INTO floor.k (symbol, trade_date, open, high, low, close) VALUES ('999999', '2000-01-04', 1, 1, 1, 1);"
  start=$(date +%s.%N)
  shift 2
  "$@"
  end=$(date +%s.%N)
  python3 -c "import sys; s=float(sys.argv[2])-float(sys.argv[1]); print(f'{sys.argv[3]}: {s:.2f} s, {int(sys.argv[4])/s:,.0f} rows/s'); open(sys.argv[5],'a').write(f'{sys.argv[6]} {s} {sys.argv[4]}\n')" \
    "$start" "$end" "$label" "$rows" "$results" "$key"
}
server_load floor_insert "MariaDB's own client, 1,000-row INSERTs from a file" \
  sh -c "mariadb --no-defaults -uroot --socket='$work/mariadb/mysqld.sock' --init-command='SET autocommit=0' floor < '$work/rows.sql'"
load_file() { client -e "LOAD DATA LOCAL INFILE '$1' INTO TABLE floor.k FIELDS TERMINATED BY ','
    (symbol,trade_date,open,high,low,close,pre_close,volume,amount,adj_factor,float_market_cap,total_market_cap,st)"; }
server_load floor_load "MariaDB's own client, one LOAD DATA LOCAL INFILE" load_file "$work/rows.csv"
two_loads() { load_file "$work/rows.csv.0" & load_file "$work/rows.csv.1"; wait; }
server_load floor_load2 "MariaDB's own client, two LOAD DATA LOCAL INFILE at once (every other symbol each)" two_loads

python3 - "$results" <<'PY'
import sys
r = {k: (float(s), int(n)) for k, s, n in (line.split() for line in open(sys.argv[1]))}
def check(ok, text):
    print(("PASS  " if ok else "MISS  ") + text)
print()
print(f"SQLite first import vs the Python reference: {r['sqlite_first'][0] / r['python'][0]:.2f}x its time")
check(r["sqlite_first"][0] <= 8.0, f"universe into SQLite <= 8 s: {r['sqlite_first'][0]:.2f} s")
check(r["sqlite_again"][0] <= 4.0, f"re-import of unchanged data <= 4 s: {r['sqlite_again'][0]:.2f} s")
rate = r["mariadb_first"][1] / r["mariadb_first"][0]
check(rate >= 200000, f"MariaDB >= 200,000 rows/s: {rate:,.0f} rows/s "
      f"(the server alone: {r['floor_insert'][1] / r['floor_insert'][0]:,.0f} rows/s by INSERT, "
      f"{r['floor_load'][1] / r['floor_load'][0]:,.0f} by one LOAD DATA, "
      f"{r['floor_load2'][1] / r['floor_load2'][0]:,.0f} by two at once)")
PY
