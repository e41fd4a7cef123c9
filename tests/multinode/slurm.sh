# shellcheck shell=bash
# tests/multinode/slurm.sh -- a Slurm cluster on the simulated hosts of cluster.sh (sourced by
# tests/multinode/run.sh after cluster.sh): munged and slurmctld on the first host, one slurmd on
# every host, each daemon in its host's namespaces, so that slurmd registers under the host's own
# name and address and starts job steps there. Everything lives in DIR/slurm and DIR/munge;
# clients are run on a host (mn_on nodeA sbatch ...) with SLURM_CONF pointing at DIR/slurm.
#
#   mn_slurm_start DIR CPUS   start the daemons (non-zero with a message when one does not come up)
#   mn_slurm_stop             stop them by PID (the cluster's teardown kills whatever is left)
#   mn_slurm_logs             the daemons' logs, for failures

MN_SLURM_PIDS=()   # "host:pid"

# _mn_wait_file FILE SECONDS [HOST]: until FILE (on HOST when given) exists and is not empty.
_mn_wait_file() {
    local i
    for ((i = 0; i < $2 * 10; i++)); do
        if [ -n "${3:-}" ]; then mn_on "$3" test -s "$1" && return 0; else [ -s "$1" ] && return 0; fi
        sleep 0.1
    done
    return 1
}

mn_slurm_start() {
    local dir=$1 cpus=$2 here i h
    here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
    mkdir -p "$dir/munge" "$dir/slurm/state" || return 1
    chmod 711 "$dir/munge"
    chown munge:munge "$dir/munge"
    runuser -u munge -- mungekey --create --keyfile="$dir/munge/munge.key" >/dev/null ||
        { echo "slurm: mungekey failed"; return 1; }
    chmod 0400 "$dir/munge/munge.key"
    # One munged serves every host: its socket is a path in the shared directory.
    mn_on "${MN_HOSTS[0]}" runuser -u munge -- /usr/sbin/munged --key-file="$dir/munge/munge.key" \
        --socket="$dir/munge/munge.socket" --pid-file="$dir/munge/munged.pid" \
        --log-file="$dir/munge/munged.log" --seed-file="$dir/munge/munged.seed" ||
        { echo "slurm: munged failed to start"; return 1; }
    _mn_wait_file "$dir/munge/munged.pid" 10 || { echo "slurm: munged wrote no pid file"; return 1; }
    MN_SLURM_PIDS+=("${MN_HOSTS[0]}:$(cat "$dir/munge/munged.pid")")

    : >"$dir/slurm/plugstack.conf"
    {
        sed -e "s|@DIR@|$dir|g" -e "s|@CTLD@|${MN_HOSTS[0]}($MN_SUBNET.1)|" "$here/slurm.conf.in" | grep -v '^@NODES@$' |
            grep -v '^PartitionName='
        for i in "${!MN_HOSTS[@]}"; do
            echo "NodeName=${MN_HOSTS[$i]} NodeAddr=$MN_SUBNET.$((i + 1)) CPUs=$cpus State=UNKNOWN"
        done
        echo "PartitionName=test Nodes=$(IFS=,; echo "${MN_HOSTS[*]}") Default=YES MaxTime=INFINITE State=UP"
    } >"$dir/slurm/slurm.conf"
    export SLURM_CONF=$dir/slurm/slurm.conf

    mn_on "${MN_HOSTS[0]}" slurmctld -f "$SLURM_CONF" || { echo "slurm: slurmctld failed to start"; return 1; }
    _mn_wait_file "$dir/slurm/slurmctld.pid" 10 || { echo "slurm: slurmctld wrote no pid file"; return 1; }
    MN_SLURM_PIDS+=("${MN_HOSTS[0]}:$(cat "$dir/slurm/slurmctld.pid")")
    for h in "${MN_HOSTS[@]}"; do
        mn_on "$h" mkdir -p /tmp/slurmd-spool
        mn_on "$h" slurmd -f "$SLURM_CONF" || { echo "slurm: slurmd on $h failed to start"; return 1; }
        _mn_wait_file /tmp/slurmd.pid 10 "$h" || { echo "slurm: slurmd on $h wrote no pid file"; return 1; }
        MN_SLURM_PIDS+=("$h:$(mn_on "$h" cat /tmp/slurmd.pid)")
    done
    # Every node registers within a few seconds.
    local want state
    want="idle ${#MN_HOSTS[@]}"
    for ((i = 0; i < 300; i++)); do
        state=$(mn_on "${MN_HOSTS[0]}" sinfo -h -o '%t %D' 2>/dev/null)
        [ "$state" = "$want" ] && return 0
        sleep 0.1
    done
    echo "slurm: nodes not idle after 30 s: '$state'"
    return 1
}

# Stops the daemons in reverse order, each by its PID, waiting up to 10 s for each.
mn_slurm_stop() {
    local i entry pid t
    for ((i = ${#MN_SLURM_PIDS[@]} - 1; i >= 0; i--)); do
        entry=${MN_SLURM_PIDS[$i]}
        pid=${entry#*:}
        kill "$pid" 2>/dev/null || continue
        for ((t = 0; t < 100; t++)); do
            kill -0 "$pid" 2>/dev/null || break
            sleep 0.1
        done
    done
    MN_SLURM_PIDS=()
}

mn_slurm_logs() {
    local f
    for f in "$MN_DIR"/munge/munged.log "$MN_DIR"/slurm/*.log "$MN_DIR"/slurm/jobcomp.txt; do
        [ -f "$f" ] || continue
        echo "----- $f (last 30 lines)"
        tail -n 30 "$f"
    done
}
