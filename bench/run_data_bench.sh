#!/usr/bin/env bash
# Data benchmark: load + featurize all 20 real symbols from SQLite and from MariaDB with klab,
# beside pandas doing the same from the same SQLite file; the memory of a dataset over all 20
# symbols with seq_length 60. Usage: bash bench/run_data_bench.sh [build dir] [data dir]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$root/build}
data=${2:-$root/../shared/data/ashare-daily}
work=$(mktemp -d)
trap 'bash "$root/scripts/mariadb_test_server.sh" stop "$work/mariadb" >/dev/null 2>&1 || true; rm -rf "$work"' EXIT

echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs); OPENBLAS_CORETYPE=${OPENBLAS_CORETYPE:-unset}"
"$build/bin/import_kline" --quiet --db "sqlite:$work/kline.db" "$data" | tail -n 1
bash "$root/scripts/mariadb_test_server.sh" start "$work/mariadb" >/dev/null
port=$(cat "$work/mariadb/port")
export KLAB_BENCH_DB_PASSWORD=$(cat "$work/mariadb/password")
"$build/bin/import_kline" --quiet --password-env KLAB_BENCH_DB_PASSWORD \
  --db "mysql://quant@127.0.0.1:$port/market" "$data" | tail -n 1

sqlite_line=$("$build/bin/data_bench" --source sqlite --options "{\"path\": \"$work/kline.db\"}" --dataset)
mysql_line=$("$build/bin/data_bench" --source mysql --options "{\"port\": $port, \"user\": \"quant\", \"password_env\": \"KLAB_BENCH_DB_PASSWORD\"}")
pandas_line=$(/usr/bin/python3 "$root/bench/pandas_featurize.py" "$work/kline.db" 3)
echo "$sqlite_line"
echo "$mysql_line"
echo "$pandas_line"
secs() { echo "$1" | head -n1 | sed -E 's/.*seconds=([0-9.e+-]+).*/\1/'; }
python3 - "$(secs "$sqlite_line")" "$(secs "$mysql_line")" "$(secs "$pandas_line")" <<'PY'
import sys
sqlite, mysql, pandas = map(float, sys.argv[1:4])
print(f"ratio pandas/klab-sqlite = {pandas / sqlite:.1f}x   pandas/klab-mariadb = {pandas / mysql:.1f}x")
PY
