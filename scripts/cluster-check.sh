#!/usr/bin/env bash
# The cluster check: a one-node SLURM started here, and tests/test_cluster.py (marker cluster) run
# under it: `srun --mpi=pmi2` gives one MPI world; a profile shaped like `hpc` runs `humam simulate`
# through its launcher `srun -n {processes}` with the same spikes as under mpiexec, and the memory
# estimate per rank against the measured peaks; the batch script of `humam plan --batch-script`,
# submitted with `sbatch --wait`, runs one simulation, and two at once in one allocation; ranks that
# MPI does not join into one world fail the run and the job. Extra arguments go to pytest; its
# summary shows what each test printed (world sizes, spike counts, exit codes, memory). About 4 min
# on 2 busy cores. Needs root (it installs Debian's slurmctld, slurmd, slurm-client and munge with
# apt-get if they are missing); elsewhere it says why in one line and exits 0, running nothing.
# Run it in the environment of scripts/setup-env.sh (NEST with MPI, mpi4py, mpiexec on PATH).
#
# All state (munge key, socket and pid, slurm.conf, spool, state, logs, pytest's folders) lives in
# one temporary folder; on any exit (success, failure, Ctrl-C, TERM) the jobs are cancelled, pytest
# and every daemon started here are stopped by their pids, and the folder is removed. Set
# HUMAM_CLUSTER_KEEP=1 to keep the folder (logs) after a failure.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"

skip() { echo "cluster check skipped: $*"; exit 0; }
[ "$(id -u)" = 0 ] || skip "needs root (it runs its own munged, slurmctld and slurmd)"
packages=(slurmctld slurmd slurm-client munge)
missing=()
for p in "${packages[@]}"; do dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing+=("$p"); done
if [ ${#missing[@]} -gt 0 ]; then
    command -v apt-get >/dev/null || skip "no apt-get to install ${missing[*]}"
    echo "cluster check: installing ${missing[*]}"
    # every package before any daemon starts (a library installed under a running slurmd made srun hang)
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null \
        || { apt-get update -qq >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
             --no-install-recommends "${missing[@]}" >/dev/null; } \
        || skip "apt-get could not install ${missing[*]}"
fi
for exe in munged slurmctld slurmd srun sbatch scontrol; do
    command -v "$exe" >/dev/null || skip "no $exe after installing ${packages[*]}"
done

state="$(mktemp -d /tmp/humam-cluster.XXXXXX)"
pids=()
stop() {
    local rc=$?
    trap - EXIT INT TERM
    if [ -n "${tests_pid:-}" ] && kill -0 "$tests_pid" 2>/dev/null; then
        kill -TERM -- "-$tests_pid" 2>/dev/null || true
        for _ in $(seq 50); do kill -0 "$tests_pid" 2>/dev/null || break; sleep 0.1; done
        kill -KILL -- "-$tests_pid" 2>/dev/null || true
    fi
    # scancel first so no job step outlives its slurmd, then the daemons, newest first
    if [ -f "$state/slurm.conf" ] && [ ${#pids[@]} -ge 3 ]; then
        export SLURM_CONF="$state/slurm.conf"
        timeout 5 scancel --user=root >/dev/null 2>&1 || true
        for _ in $(seq 50); do [ -z "$(timeout 2 squeue -h 2>/dev/null)" ] && break; sleep 0.2; done
    fi
    for ((i = ${#pids[@]} - 1; i >= 0; i--)); do kill "${pids[i]}" 2>/dev/null || true; done
    for pid in "${pids[@]}"; do
        for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
        kill -9 "$pid" 2>/dev/null || true
    done
    if [ "${HUMAM_CLUSTER_KEEP:-0}" = 1 ] && [ "$rc" != 0 ]; then
        echo "cluster check: state and logs kept in $state"
    else
        rm -rf "$state"
    fi
    exit "$rc"
}
trap stop EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

node="$(hostname -s)"
memory_mib=$(( $(awk '/^MemTotal:/ {print $2}' /proc/meminfo) / 1024 ))
cpus=4  # more than this machine's cores (config_overrides, OverSubscribe): 4 tasks fit on 2 cores
read -r ctld_port slurmd_port < <(python3 - <<'EOF'
import socket
ports = []
sockets = [socket.socket() for _ in range(2)]
for s in sockets:
    s.bind(("127.0.0.1", 0))
    ports.append(s.getsockname()[1])
print(*ports)
EOF
)
mkdir -p "$state"/{munge,spool,ctld,log}
chmod 700 "$state/munge"
dd if=/dev/urandom of="$state/munge/munge.key" bs=1024 count=1 status=none
chmod 400 "$state/munge/munge.key"
socket="$state/munge/munge.socket"

cat >"$state/slurm.conf" <<EOF
ClusterName=humamcheck
SlurmctldHost=$node
SlurmctldPort=$ctld_port
SlurmdPort=$slurmd_port
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$socket
StateSaveLocation=$state/ctld
SlurmdSpoolDir=$state/spool
SlurmctldPidFile=$state/slurmctld.pid
SlurmdPidFile=$state/slurmd.pid
SlurmctldLogFile=$state/log/slurmctld.log
SlurmdLogFile=$state/log/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
SchedulerType=sched/builtin
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
MpiDefault=none  # as on many sites: without --mpi=pmi2 (or SLURM_MPI_TYPE) every rank is a world of its own
SlurmdParameters=config_overrides
ReturnToService=2
MailProg=/bin/true
KillWait=5
NodeName=$node NodeAddr=127.0.0.1 CPUs=$cpus RealMemory=$memory_mib State=UNKNOWN
PartitionName=check Nodes=$node Default=YES MaxTime=INFINITE State=UP OverSubscribe=YES
EOF
export SLURM_CONF="$state/slurm.conf"

munged -F -f --socket="$socket" --key-file="$state/munge/munge.key" --pid-file="$state/munge/munged.pid" \
    --log-file="$state/log/munged.log" --seed-file="$state/munge/munged.seed" >"$state/log/munged.out" 2>&1 &
pids+=($!)
for _ in $(seq 50); do [ -S "$socket" ] && break; sleep 0.1; done
[ -S "$socket" ] || { echo "cluster check: munged did not start (log: $state/log/munged.log)" >&2; exit 1; }
slurmctld -D -f "$SLURM_CONF" >"$state/log/slurmctld.out" 2>&1 &
pids+=($!)
slurmd -D -N "$node" -f "$SLURM_CONF" >"$state/log/slurmd.out" 2>&1 &
pids+=($!)
up=0
for _ in $(seq 100); do
    if sinfo -h -N -o "%T" 2>/dev/null | grep -Eq "^(idle|mixed|allocated)"; then up=1; break; fi
    sleep 0.2
done
if [ "$up" != 1 ]; then
    echo "cluster check: the one-node SLURM did not come up; last lines of its logs:" >&2
    tail -n 5 "$state"/log/*.log >&2 || true
    exit 1
fi
echo "cluster check: SLURM $(sinfo -V | cut -d' ' -f2) up on node $node ($cpus CPUs), state in $state"

cd "$root"
export HUMAM_CLUSTER=1
# pytest in a process group of its own, waited for, so that a TERM to this script is handled at
# once (bash runs traps only between commands) and stop() can end pytest with all it started
setsid python -m pytest -m cluster tests/test_cluster.py -p no:cacheprovider -rfEsP --basetemp="$state/pytest" "$@" &
tests_pid=$!
wait "$tests_pid"
