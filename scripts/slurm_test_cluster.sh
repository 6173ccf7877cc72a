#!/usr/bin/env bash
# A single-node Slurm cluster for tests, started without systemd, on this machine only.
#   slurm_test_cluster.sh start DIR   -> DIR/slurm.conf (export SLURM_CONF=DIR/slurm.conf)
#   slurm_test_cluster.sh stop DIR
# auth/none + cred/none (no munge key needed), proctrack/linuxproc, task/none, no accounting;
# addresses are 127.0.0.1, so the host name need not resolve (a bare machine may lack /etc/hosts).
# Installs slurmctld, slurmd and slurm-client if they are missing.
set -euo pipefail
action=${1:?start|stop}
dir=${2:?state folder}
mkdir -p "$dir"
dir=$(cd "$dir" && pwd)
export SLURM_CONF="$dir/slurm.conf"

stop_cluster() {
  for name in slurmd slurmctld; do
    if [ -f "$dir/$name.pid" ]; then
      pid=$(cat "$dir/$name.pid")
      kill "$pid" 2>/dev/null || true
      for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
      kill -9 "$pid" 2>/dev/null || true
      rm -f "$dir/$name.pid"
    fi
  done
}

case "$action" in
  stop) stop_cluster; exit 0 ;;
  start) ;;
  *) echo "usage: $0 start|stop DIR" >&2; exit 2 ;;
esac

if ! command -v slurmctld >/dev/null 2>&1 && [ ! -x /usr/sbin/slurmctld ]; then
  echo "slurm_test_cluster: installing slurmctld slurmd slurm-client" >&2
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq slurmctld slurmd slurm-client >/dev/null
fi
PATH=$PATH:/usr/sbin
stop_cluster
rm -rf "$dir/state" "$dir/spool"
mkdir -p "$dir/state" "$dir/spool"
host=$(hostname -s)
cpus=$(nproc)
memory=$(( $(free -m | awk '/^Mem:/{print $2}') * 8 / 10 ))
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
ctld_port=$(free_port)
d_port=$(free_port)
cat > "$SLURM_CONF" <<CONF
ClusterName=klabtest
SlurmctldHost=$host(127.0.0.1)
SlurmUser=root
SlurmdUser=root
SlurmctldPort=$ctld_port
SlurmdPort=$d_port
AuthType=auth/none
CredType=cred/none
StateSaveLocation=$dir/state
SlurmdSpoolDir=$dir/spool
SlurmctldPidFile=$dir/slurmctld.pid
SlurmdPidFile=$dir/slurmd.pid
SlurmctldLogFile=$dir/slurmctld.log
SlurmdLogFile=$dir/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
MailProg=/bin/true
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
ReturnToService=2
MinJobAge=3600
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
NodeName=$host NodeAddr=127.0.0.1 CPUs=$cpus RealMemory=$memory State=UNKNOWN
PartitionName=debug Nodes=ALL Default=YES MaxTime=INFINITE State=UP
CONF
# A daemon that refuses to start (no usable cgroup mount, a port taken) says why, never silently.
fail_start() {
  echo "slurm_test_cluster: $1 did not start (exit $2); its log:" >&2
  tail -n 30 "$dir/$1.log" >&2 2>/dev/null || echo "(no $dir/$1.log)" >&2
  exit 1
}
slurmctld -f "$SLURM_CONF" || fail_start slurmctld $?
slurmd -f "$SLURM_CONF" || fail_start slurmd $?
for _ in $(seq 1 150); do
  state=$(sinfo -h -o %t 2>/dev/null | head -n1 || true)
  [ "$state" = "idle" ] && break
  sleep 0.2
done
if [ "$(sinfo -h -o %t 2>/dev/null | head -n1)" != "idle" ]; then
  echo "slurm_test_cluster: the node did not become idle" >&2
  tail -n 20 "$dir/slurmctld.log" "$dir/slurmd.log" >&2 || true
  exit 1
fi
echo "slurm_test_cluster: up ($host, $cpus CPUs); export SLURM_CONF=$SLURM_CONF"
