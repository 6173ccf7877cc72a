#!/usr/bin/env bash
# Import at scale: the whole universe folder (1,056 gzip CSV files, 2.59 M rows, read as
# archives) into SQLite and into MariaDB, then the same import again (which must change
# nothing), with rows/s; beside a reference measured in the same run: pandas reading the same
# archives and writing them to SQLite with DataFrame.to_sql.
# Usage: bash bench/run_import_bench.sh [build dir] [universe folder]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$root/build}
data=${2:-$root/../shared/data/universe}
work=$(mktemp -d)
trap 'bash "$root/scripts/mariadb_test_server.sh" stop "$work/mariadb" >/dev/null 2>&1 || true; rm -rf "$work"' EXIT
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)"
timed() {  # label command...: prints "label: S s, N rows/s (summary line)"
  local label=$1; shift
  local start end line
  start=$(date +%s.%N)
  line=$("$@" | tail -n 1)
  end=$(date +%s.%N)
  python3 - "$label" "$start" "$end" "$line" <<'PY'
import re, sys
label, start, end, line = sys.argv[1], float(sys.argv[2]), float(sys.argv[3]), sys.argv[4]
read = int(re.search(r"read (\d+)", line).group(1))
print(f"{label}: {end - start:.1f} s, {read / (end - start):,.0f} rows/s  ({line.split(': ', 1)[1]})")
PY
}
timed "klab -> SQLite, first import" "$build/bin/import_kline" --quiet --db "sqlite:$work/u.db" "$data"
timed "klab -> SQLite, again (no change)" "$build/bin/import_kline" --quiet --db "sqlite:$work/u.db" "$data"
bash "$root/scripts/mariadb_test_server.sh" start "$work/mariadb" >/dev/null
port=$(cat "$work/mariadb/port")
export KLAB_BENCH_DB_PASSWORD=$(cat "$work/mariadb/password")
timed "klab -> MariaDB, first import" "$build/bin/import_kline" --quiet --password-env KLAB_BENCH_DB_PASSWORD \
  --db "mysql://quant@127.0.0.1:$port/market" "$data"
timed "klab -> MariaDB, again (no change)" "$build/bin/import_kline" --quiet --password-env KLAB_BENCH_DB_PASSWORD \
  --db "mysql://quant@127.0.0.1:$port/market" "$data"
/usr/bin/python3 - "$data" "$work/pandas.db" <<'PY'
import glob, os, sqlite3, sys, time
import pandas as pd
data, db = sys.argv[1], sys.argv[2]
start = time.time()
con = sqlite3.connect(db)
rows = 0
for path in sorted(glob.glob(os.path.join(data, "*.csv.gz"))):
    frame = pd.read_csv(path, skiprows=1, encoding="utf-8")
    rows += len(frame)
    frame.to_sql("stock_kline_data", con, if_exists="append", index=False)
con.commit()
seconds = time.time() - start
print(f"reference, pandas read_csv + to_sql -> SQLite: {seconds:.1f} s, {rows / seconds:,.0f} rows/s ({rows} rows)")
PY
