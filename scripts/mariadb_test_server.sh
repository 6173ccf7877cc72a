#!/usr/bin/env bash
# A throwaway MariaDB server for tests, on loopback, with its own datadir, socket and port.
#   mariadb_test_server.sh start DIR   -> DIR/port holds the TCP port; user quant / password
#                                         in DIR/password, database "market"
#   mariadb_test_server.sh stop DIR
# Installs mariadb-server if it is missing. No systemd needed.
set -euo pipefail
action=${1:?start|stop}
dir=${2:?state folder}
mkdir -p "$dir"
dir=$(cd "$dir" && pwd)
sock="$dir/mysqld.sock"
pidfile="$dir/mysqld.pid"

stop_server() {
  if [ -f "$pidfile" ]; then
    pid=$(cat "$pidfile")
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$pid" 2>/dev/null || true
    rm -f "$pidfile"
  fi
}

# Starts mariadbd on $dir/data and $port, and waits until it answers.
launch() {
  "$mariadbd" --no-defaults --datadir="$dir/data" --socket="$sock" --port="$port" \
    --bind-address=127.0.0.1 --user=root --pid-file="$pidfile" --skip-log-bin --skip-name-resolve \
    --character-set-server=utf8mb4 --collation-server=utf8mb4_general_ci \
    --innodb-buffer-pool-size=128M --innodb-flush-log-at-trx-commit=2 \
    >> "$dir/server.log" 2>&1 &
  for _ in $(seq 1 200); do
    mariadb-admin --no-defaults --socket="$sock" -uroot ping >/dev/null 2>&1 && break
    sleep 0.1
  done
  mariadb-admin --no-defaults --socket="$sock" -uroot ping >/dev/null 2>&1 \
    || { echo "mariadb_test_server: server did not start; its log:" >&2; tail -n 30 "$dir/server.log" >&2; exit 1; }
}
mariadbd=$(command -v mariadbd || echo /usr/sbin/mariadbd)

case "$action" in
  stop)
    stop_server
    exit 0
    ;;
  # For fault tests: kill the server (SIGKILL, as a crash), keep its data, and start it again on
  # the same port after SECONDS (restart DIR SECONDS), or only kill it (down DIR) / start it (up DIR).
  down|restart)
    [ -f "$pidfile" ] || { echo "mariadb_test_server: no server running in $dir" >&2; exit 1; }
    pid=$(cat "$pidfile")
    kill -9 "$pid" 2>/dev/null || true
    for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.05; done
    rm -f "$pidfile"
    echo "down $(date +%s.%N)" >> "$dir/faults.log"
    [ "$action" = down ] && exit 0
    sleep "${3:-1}"
    ;&
  up)
    if [ -f "$pidfile" ] && kill -0 "$(cat "$pidfile")" 2>/dev/null; then
      echo "mariadb_test_server: already running in $dir" >&2
      exit 0
    fi
    port=$(cat "$dir/port")
    launch
    echo "up $(date +%s.%N)" >> "$dir/faults.log"
    exit 0
    ;;
  start) ;;
  *) echo "usage: $0 start|stop|down|up DIR | restart DIR SECONDS" >&2; exit 2 ;;
esac

if ! command -v mariadbd >/dev/null 2>&1 && [ ! -x /usr/sbin/mariadbd ]; then
  echo "mariadb_test_server: installing mariadb-server" >&2
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq mariadb-server mariadb-client >/dev/null
fi
mariadbd=$(command -v mariadbd || echo /usr/sbin/mariadbd)
stop_server
rm -rf "$dir/data"
# --skip-name-resolve --force: a bare machine may have no /etc/hosts entry for its own name
# (install-db would otherwise stop at its resolveip check); accounts here use IP addresses.
mariadb-install-db --no-defaults --datadir="$dir/data" --user=root --skip-name-resolve --force \
  --auth-root-authentication-method=normal > "$dir/install.log" 2>&1 \
  || { cat "$dir/install.log" >&2; exit 1; }

# A free loopback port.
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
: > "$dir/server.log"
launch

password="klab-test-$(od -An -N6 -tx1 /dev/urandom | tr -d ' \n')"
mariadb --no-defaults --socket="$sock" -uroot <<SQL
CREATE DATABASE IF NOT EXISTS market DEFAULT CHARACTER SET utf8mb4;
CREATE USER 'quant'@'127.0.0.1' IDENTIFIED BY '$password';
CREATE USER 'quant'@'localhost' IDENTIFIED BY '$password';
GRANT ALL PRIVILEGES ON *.* TO 'quant'@'127.0.0.1';
GRANT ALL PRIVILEGES ON *.* TO 'quant'@'localhost';
FLUSH PRIVILEGES;
SQL
echo "$port" > "$dir/port"
echo "$password" > "$dir/password"
echo "mariadb_test_server: up on 127.0.0.1:$port (datadir $dir/data)"
