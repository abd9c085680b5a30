#!/usr/bin/env bash
# A real one-node Slurm cluster on this machine, to try profiles/slurm against: munge, a MariaDB
# for slurmdbd (accounting, which the SLURM executor's status queries need), slurmdbd, slurmctld
# and slurmd, all under a state folder of their own. One link goes outside it while the cluster
# runs: /etc/slurm/slurm.conf, Slurm's default path, because the executor's job step drops
# SLURM_CONF from the environment of the `srun` it starts inside each job; the script does not
# start where that file exists (a machine with its own Slurm).
#
#   bash profiles/slurm/one-node-cluster.sh [COMMAND ...]
#
# It starts the daemons, waits until `sinfo` shows the node idle and `sacct` answers, prints
# "cluster ready", then runs COMMAND (default: an interactive bash) with SLURM_CONF exported,
# and on exit stops every daemon it started, by process id. Its exit status is COMMAND's. As root with apt reachable it installs Debian's packages when they are
# missing; otherwise it says what is missing and exits with 3.
#
# Environment:
#   SLURM_STATE_DIR  the state folder (configs, logs, Slurm's state); default: a new temporary one,
#                    removed on exit. One that is given is kept, with the daemons' logs and,
#                    in sacct.txt, the accounting of every job (ACCOUNTING_FIELDS). A folder
#                    that exists must be empty or one this script made.
#   SLURM_GPUS       GPUs the node declares (default: those nvidia-smi lists). On a machine with
#                    none, a positive number declares that many placeholder GPUs (a GRES without
#                    devices), so the profile's GPU requests are scheduled; jobs then find no
#                    CUDA device and run on the CPU (params.yaml's device: auto).
# docs/operations.md, "Running on a cluster", shows how the tests use it.
set -euo pipefail

PACKAGES=(munge mariadb-server slurmdbd slurmctld slurmd slurm-client)
DEFAULT_CONF=/etc/slurm/slurm.conf
COMMANDS=(munged mariadbd mariadb-install-db slurmdbd slurmctld slurmd sacctmgr sacct sinfo sbatch)
CLUSTER=intriguing
#: What the kept state folder's sacct.txt records of every job (sacct -P: fields split by |).
ACCOUNTING_FIELDS=JobID,Comment,State,ExitCode,AllocTRES,Timelimit,Elapsed
STARTED=()

say() { echo "one-node-cluster: $*" >&2; }
cannot() {
  say "cannot start: $*"
  exit 3
}

missing() {
  local name
  for name in "${COMMANDS[@]}"; do
    command -v "$name" >/dev/null 2>&1 || [ -x "/usr/sbin/$name" ] || echo "$name"
  done
}

install_packages() {
  [ -z "$(missing)" ] && return
  if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null 2>&1; then
    cannot "missing $(missing | tr '\n' ' ')and not root with apt-get to install ${PACKAGES[*]}"
  fi
  say "installing ${PACKAGES[*]}"
  # policy-rc.d keeps the packages from starting their own daemons.
  local policy=/usr/sbin/policy-rc.d created_policy=0
  if [ ! -e "$policy" ]; then
    printf '#!/bin/sh\nexit 101\n' >"$policy" && chmod +x "$policy" && created_policy=1
  fi
  DEBIAN_FRONTEND=noninteractive timeout 600 apt-get install -y -qq "${PACKAGES[@]}" >/dev/null \
    || { [ "$created_policy" = 0 ] || rm -f "$policy"; cannot "apt-get install ${PACKAGES[*]} failed"; }
  [ "$created_policy" = 0 ] || rm -f "$policy"
  [ -z "$(missing)" ] || cannot "still missing after the install: $(missing | tr '\n' ' ')"
}

stop_all() {
  local status=$? index pid
  if [ "${KEEP_STATE:-0}" = 1 ] && [ "${READY:-0}" = 1 ]; then
    timeout 30 sacct -a -X -P -o "$ACCOUNTING_FIELDS" >"$STATE/sacct.txt" 2>/dev/null || true
  fi
  for ((index = ${#STARTED[@]} - 1; index >= 0; index--)); do
    pid=${STARTED[index]}
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$pid" 2>/dev/null || true
  done
  if [ "${LINKED:-0}" = 1 ]; then rm -f "$DEFAULT_CONF"; fi
  if [ "${KEEP_STATE:-0}" = 0 ] && [ -n "${STATE:-}" ]; then rm -rf "$STATE"; fi
  if [ -n "${RUNTIME:-}" ]; then rm -rf "$RUNTIME"; fi
  exit "$status"
}

# start NAME COMMAND...: runs a daemon in the foreground of a background process and records it.
start() {
  local name=$1
  shift
  "$@" >>"$STATE/log/$name.out" 2>&1 &
  STARTED+=("$!")
}

# wait_for WHAT SECONDS CONDITION: polls the shell CONDITION until it holds; shows the logs if not.
wait_for() {
  local what=$1 seconds=$2 condition=$3 deadline=$((SECONDS + $2))
  while [ "$SECONDS" -lt "$deadline" ]; do
    if timeout 10 bash -c "$condition" >/dev/null 2>&1; then return 0; fi
    sleep 0.2
  done
  say "$what did not come up within ${seconds}s; logs in $STATE/log:"
  tail -n 20 "$STATE"/log/* >&2 || true
  exit 4
}

free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

[ "$(id -u)" = 0 ] || cannot "the daemons run as their own users: run it as root"
install_packages
if [ -e "$DEFAULT_CONF" ] || [ -L "$DEFAULT_CONF" ]; then
  cannot "$DEFAULT_CONF exists: this machine has a Slurm configuration of its own"
fi
PATH="$PATH:/usr/sbin"
trap stop_all EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

if [ -n "${SLURM_STATE_DIR:-}" ]; then
  STATE=$(realpath -m "$SLURM_STATE_DIR") KEEP_STATE=1
  if [ -n "$(ls -A "$STATE" 2>/dev/null)" ] && [ ! -e "$STATE/.one-node-cluster" ]; then
    KEEP_STATE=0 STATE=""
    cannot "SLURM_STATE_DIR=$SLURM_STATE_DIR holds files this script did not make"
  fi
  rm -rf "$STATE"
  mkdir -p "$STATE"
  touch "$STATE/.one-node-cluster"
else
  STATE=$(mktemp -d /tmp/one-node-cluster.XXXXXX)
fi
mkdir -p "$STATE"/{log,ctld,spool}
# munged and mariadbd run as their own users, so their folders go where those users can reach
# (the state folder may lie in a folder only root may enter); removed on exit.
RUNTIME=$(mktemp -d /tmp/one-node-cluster-daemons.XXXXXX)
chmod 755 "$RUNTIME"
mkdir -p "$RUNTIME"/{munge,mysql}
chown munge:munge "$RUNTIME/munge"
chown mysql:mysql "$RUNTIME/mysql"

NODE=$(hostname -s)
CPUS=$(nproc)
# Memory the node offers: all but 1 GiB for the system and the daemons.
MEMORY_MB=$(($(awk '/^MemTotal/ {print int($2 / 1024)}' /proc/meminfo) - 1024))
if [ -n "${SLURM_GPUS:-}" ]; then
  GPUS=$SLURM_GPUS
else
  GPUS=$( (nvidia-smi -L 2>/dev/null || true) | grep -c '^GPU' || true)
fi
DB_PORT=$(free_port)
DB_PASSWORD=$(head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n')
DBD_PORT=$(free_port)
CTLD_PORT=$(free_port)
SLURMD_PORT=$(free_port)
MUNGE_SOCKET="$RUNTIME/munge/munge.socket"
DB_SOCKET="$RUNTIME/mysql/mariadbd.sock"

say "state in $STATE: node $NODE with $CPUS CPUs, ${MEMORY_MB} MB, $GPUS GPU(s)"
start munged runuser -u munge -- munged --foreground --socket="$MUNGE_SOCKET" \
  --pid-file="$RUNTIME/munge/munged.pid" --seed-file="$RUNTIME/munge/munged.seed" \
  --log-file="$RUNTIME/munge/munged.log" --key-file=/etc/munge/munge.key
wait_for munged 20 "munge --socket='$MUNGE_SOCKET' -n"

mariadb-install-db --user=mysql --datadir="$RUNTIME/mysql" --skip-test-db \
  --auth-root-authentication-method=socket >>"$STATE/log/mariadb-install-db.out" 2>&1 \
  || { tail -n 20 "$STATE/log/mariadb-install-db.out" >&2; cannot "mariadb-install-db failed"; }
start mariadbd mariadbd --no-defaults --user=mysql --datadir="$RUNTIME/mysql" \
  --socket="$DB_SOCKET" --pid-file="$RUNTIME/mysql/mariadbd.pid" --port="$DB_PORT" \
  --bind-address=127.0.0.1 --skip-name-resolve
wait_for mariadbd 60 "mariadb --no-defaults --socket='$DB_SOCKET' -e 'SELECT 1'"
mariadb --no-defaults --socket="$DB_SOCKET" <<SQL
CREATE DATABASE slurm_acct_db;
CREATE USER 'slurm'@'127.0.0.1' IDENTIFIED BY '$DB_PASSWORD';
GRANT ALL ON slurm_acct_db.* TO 'slurm'@'127.0.0.1';
SQL

cat >"$STATE/slurm.conf" <<CONF
ClusterName=$CLUSTER
SlurmctldHost=$NODE(127.0.0.1)
SlurmUser=root
AuthType=auth/munge
AuthInfo=socket=$MUNGE_SOCKET
SlurmctldPort=$CTLD_PORT
SlurmdPort=$SLURMD_PORT
StateSaveLocation=$STATE/ctld
SlurmdSpoolDir=$STATE/spool
SlurmctldPidFile=$STATE/slurmctld.pid
SlurmdPidFile=$STATE/slurmd.pid
SlurmctldLogFile=$STATE/log/slurmctld.log
SlurmdLogFile=$STATE/log/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
MpiDefault=none
ReturnToService=2
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
DefMemPerCPU=$((MEMORY_MB / CPUS))
AccountingStorageType=accounting_storage/slurmdbd
AccountingStorageHost=127.0.0.1
AccountingStoragePort=$DBD_PORT
# For slurmdbd, the munge socket its connections authenticate with.
AccountingStoragePass=$MUNGE_SOCKET
AccountingStorageTRES=gres/gpu
# Keeps each job's --comment (the SLURM executor writes the rule and wildcards there).
AccountingStoreFlags=job_comment
JobAcctGatherType=jobacct_gather/linux
JobCompType=jobcomp/none
GresTypes=gpu
NodeName=$NODE NodeAddr=127.0.0.1 CPUs=$CPUS RealMemory=$MEMORY_MB $([ "$GPUS" -gt 0 ] && echo "Gres=gpu:$GPUS") State=UNKNOWN
PartitionName=local Nodes=$NODE Default=YES MaxTime=INFINITE State=UP
CONF
# Real GPUs are the /dev/nvidia<i> devices; placeholders are character devices like /dev/null.
: >"$STATE/gres.conf"
if [ "$GPUS" -gt 0 ]; then
  if nvidia-smi -L >/dev/null 2>&1; then
    GPU_FILES="/dev/nvidia[0-$((GPUS - 1))]"
  else
    mkdir -p "$STATE/gpu"
    for ((index = 0; index < GPUS; index++)); do mknod "$STATE/gpu/placeholder$index" c 1 3; done
    GPU_FILES="$STATE/gpu/placeholder[0-$((GPUS - 1))]"
  fi
  echo "NodeName=$NODE Name=gpu File=$GPU_FILES" >"$STATE/gres.conf"
fi
cat >"$STATE/slurmdbd.conf" <<CONF
AuthType=auth/munge
AuthInfo=socket=$MUNGE_SOCKET
DbdAddr=127.0.0.1
DbdHost=$NODE
DbdPort=$DBD_PORT
SlurmUser=root
LogFile=$STATE/log/slurmdbd.log
PidFile=$STATE/slurmdbd.pid
StorageType=accounting_storage/mysql
StorageHost=127.0.0.1
StoragePort=$DB_PORT
StorageUser=slurm
StoragePass=$DB_PASSWORD
StorageLoc=slurm_acct_db
CONF
chmod 600 "$STATE/slurmdbd.conf"
export SLURM_CONF="$STATE/slurm.conf"
mkdir -p "$(dirname "$DEFAULT_CONF")"
ln -s "$SLURM_CONF" "$DEFAULT_CONF"
LINKED=1

start slurmdbd slurmdbd -D
# Polled with sacctmgr, not a raw connect to its port (which it logs as an error).
wait_for slurmdbd 60 "sacctmgr -n list cluster"
sacctmgr -i add cluster "$CLUSTER" >/dev/null
start slurmctld slurmctld -D -i
wait_for slurmctld 60 "scontrol ping | grep -q UP"
start slurmd slurmd -D
wait_for "the node (idle in sinfo)" 60 "[ \"\$(sinfo -h -n $NODE -o %T)\" = idle ]"
wait_for sacct 60 "sacct -n -a -X"
say "cluster ready: $CPUS CPUs, ${MEMORY_MB} MB, $GPUS GPU(s), SLURM_CONF=$SLURM_CONF"
READY=1
echo "cluster ready SLURM_CONF=$SLURM_CONF"

[ $# -gt 0 ] || set -- bash
set +e
"$@"
exit $?
