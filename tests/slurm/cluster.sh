# tests/slurm/cluster.sh -- start and stop a single-node Slurm cluster (munged, slurmctld, slurmd)
# that lives entirely in one temporary directory (sourced by tests/slurm/run.sh). Nothing under
# /etc, /run or /var is read or written: munged gets its own key, socket, pid, log and seed files,
# and every Slurm command reads the generated slurm.conf through SLURM_CONF.
#
#   cluster_start DIR   start the daemons with state in DIR (created, must be empty); returns
#                       non-zero with a message when a daemon does not come up
#   cluster_stop        stop every daemon cluster_start started, by the PID it recorded
#   cluster_logs        print the daemons' logs (for failures)

CLUSTER_DIR=
CLUSTER_PIDS=()   # "name:pid" of every daemon started, for cluster_stop

# Installs the daemons when they are missing (root + apt-get only). Never removes anything: Open
# MPI's PMIx needs the munge library.
cluster_install() {
    local need=()
    command -v slurmctld >/dev/null 2>&1 || need+=(slurmctld)
    command -v slurmd >/dev/null 2>&1 || need+=(slurmd)
    command -v sbatch >/dev/null 2>&1 || need+=(slurm-client)
    command -v munged >/dev/null 2>&1 || need+=(munge)
    [ ${#need[@]} -eq 0 ] && return 0
    if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null 2>&1; then
        echo "cluster: missing ${need[*]} and cannot install them (needs root and apt-get)"
        return 1
    fi
    echo "cluster: installing ${need[*]}"
    local log
    log=$(mktemp)
    export DEBIAN_FRONTEND=noninteractive
    # --no-install-recommends: the slurm-wlm metapackage would bring about 20 plugin packages.
    # The package lists may be missing on a fresh machine: update once and retry.
    if ! apt-get install -y -q --no-install-recommends slurmctld slurmd slurm-client munge >"$log" 2>&1; then
        if ! { apt-get update -q && apt-get install -y -q --no-install-recommends \
            slurmctld slurmd slurm-client munge; } >"$log" 2>&1; then
            tail -n 20 "$log"
            rm -f "$log"
            return 1
        fi
    fi
    rm -f "$log"
}

# _cluster_wait_file FILE SECONDS: waits until FILE exists and is not empty.
_cluster_wait_file() {
    local i
    for ((i = 0; i < $2 * 10; i++)); do
        [ -s "$1" ] && return 0
        sleep 0.1
    done
    return 1
}

# _cluster_record NAME PIDFILE: remembers the daemon's PID for cluster_stop.
_cluster_record() {
    local pid
    pid=$(cat "$2" 2>/dev/null) || return 1
    [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null || return 1
    CLUSTER_PIDS+=("$1:$pid")
}

cluster_start() {
    local dir=$1 here host cpus
    here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
    CLUSTER_DIR=$dir
    # slurmd finds its NodeName from the short host name.
    host=$(uname -n)
    host=${host%%.*}
    cpus=$(nproc)
    mkdir -p "$dir/munge" "$dir/state" "$dir/spool"
    # munged refuses group- or world-writable directories on the way to its files.
    chmod 755 "$dir"
    # Clients (slurmctld, slurmd, sbatch) must reach the socket: execute for all, read for none.
    chmod 711 "$dir/munge"
    chown munge:munge "$dir/munge"
    runuser -u munge -- mungekey --create --keyfile="$dir/munge/munge.key" >/dev/null || {
        echo "cluster: mungekey failed"; return 1; }
    chmod 0400 "$dir/munge/munge.key"
    runuser -u munge -- /usr/sbin/munged --key-file="$dir/munge/munge.key" \
        --socket="$dir/munge/munge.socket" --pid-file="$dir/munge/munged.pid" \
        --log-file="$dir/munge/munged.log" --seed-file="$dir/munge/munged.seed" || {
        echo "cluster: munged failed to start"; return 1; }
    _cluster_wait_file "$dir/munge/munged.pid" 10 || { echo "cluster: munged wrote no pid file"; return 1; }
    _cluster_record munged "$dir/munge/munged.pid" || {
        echo "cluster: munged is not running"; return 1; }

    : >"$dir/plugstack.conf"
    sed -e "s|@TMP@|$dir|g" -e "s|@HOST@|$host|g" -e "s|@CPUS@|$cpus|g" \
        -e "s|@CTLD_PORT@|${PF_SLURMCTLD_PORT:-6817}|g" -e "s|@SLURMD_PORT@|${PF_SLURMD_PORT:-6818}|g" \
        "$here/slurm.conf.in" >"$dir/slurm.conf"
    export SLURM_CONF="$dir/slurm.conf"

    slurmctld -f "$SLURM_CONF" || { echo "cluster: slurmctld failed to start"; return 1; }
    _cluster_wait_file "$dir/slurmctld.pid" 10 || { echo "cluster: slurmctld wrote no pid file"; return 1; }
    _cluster_record slurmctld "$dir/slurmctld.pid" || {
        echo "cluster: slurmctld is not running"; return 1; }
    slurmd -f "$SLURM_CONF" || { echo "cluster: slurmd failed to start"; return 1; }
    _cluster_wait_file "$dir/slurmd.pid" 10 || { echo "cluster: slurmd wrote no pid file"; return 1; }
    _cluster_record slurmd "$dir/slurmd.pid" || {
        echo "cluster: slurmd is not running"; return 1; }

    # The node registers within a second or two.
    local i state
    for ((i = 0; i < 300; i++)); do
        state=$(sinfo -h -n "$host" -o %t 2>/dev/null)
        case "$state" in idle*) return 0 ;; esac
        sleep 0.1
    done
    echo "cluster: node $host not idle after 30 s (state '${state}')"
    return 1
}

# Stops the daemons in reverse order of starting, each by its PID; waits up to 10 s for each,
# then kills it.
cluster_stop() {
    local i entry name pid t
    for ((i = ${#CLUSTER_PIDS[@]} - 1; i >= 0; i--)); do
        entry=${CLUSTER_PIDS[$i]}
        name=${entry%%:*}
        pid=${entry#*:}
        kill "$pid" 2>/dev/null || continue
        for ((t = 0; t < 100; t++)); do
            kill -0 "$pid" 2>/dev/null || break
            sleep 0.1
        done
        kill -0 "$pid" 2>/dev/null && { echo "cluster: $name ($pid) still running, killing it"; kill -9 "$pid" 2>/dev/null; }
    done
    CLUSTER_PIDS=()
}

cluster_logs() {
    local f
    for f in "$CLUSTER_DIR/munge/munged.log" "$CLUSTER_DIR/slurmctld.log" "$CLUSTER_DIR/slurmd.log"; do
        [ -f "$f" ] || continue
        echo "----- $f (last 60 lines)"
        tail -n 60 "$f"
    done
}
