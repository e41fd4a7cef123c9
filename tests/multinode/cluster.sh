# shellcheck shell=bash
# tests/multinode/cluster.sh -- a cluster of simulated hosts on this machine, made of Linux
# namespaces (sourced by tests/multinode/run.sh). Needs root, unshare, nsenter and ip.
#
#   mn_cluster_up DIR NAME...   a switch and one host per NAME (nodeA, nodeB, ...); DIR (the
#                               test's directory, seen at the same path on every host, as a shared
#                               file system would be) gets the hosts file, the hosts' PIDs (which
#                               the launch agent reads) and logs; non-zero with a message on failure
#   mn_on NAME CMD...           runs CMD on host NAME (in its network, UTS and mount namespaces)
#   mn_host_pids NAME           every process on host NAME, one PID a line
#   mn_host_kill NAME           kills every process on host NAME (the host is lost: its namespaces
#                               and its end of the network go too)
#   mn_host_up NAME             brings a lost host back (same name and address, fresh /tmp)
#   mn_cluster_down             kills every process of every host and the switch; returns
#                               non-zero when anything is left
#   mn_mpi_env                  exports the Open MPI settings that launch across the hosts
#
# How it is built. Each host is a process (node.sh) started by `unshare --net --uts --mount
# --propagation private`: its own network stack, hostname and mounts (own /tmp and /dev/shm, the
# cluster's hosts file over /etc/hosts). A fifth process holds the switch: a network namespace
# with a Linux bridge. Each host's eth0 is one end of a veth pair whose other end is a port of the
# bridge. Addresses (MN_SUBNET.0/24) exist only inside these namespaces: the machine's own network
# namespace gets no interface, address or route, so nothing can be routed off the machine, and
# when the processes are gone the kernel removes the namespaces, the veth pairs and the bridge.
# A host is "entered" with nsenter (mn_on, and Open MPI's launch agent rsh-agent instead of ssh).
# Processes are found by their namespace (/proc/PID/ns/uts), which is how a host is killed.

MN_DIR=
MN_SUBNET=${MN_SUBNET:-10.250.0}
MN_HOSTS=()
MN_HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

# _mn_pid NAME: the PID holding NAME's namespaces.
_mn_pid() { cat "$MN_DIR/run/$1.pid" 2>/dev/null; }

# _mn_ns_pids NSID: every process whose UTS namespace is NSID (uts:[N]).
_mn_ns_pids() {
    local p ns
    [ -n "$1" ] || return 0
    for p in /proc/[0-9]*; do
        ns=$(readlink "$p/ns/uts" 2>/dev/null) || continue
        [ "$ns" = "$1" ] && echo "${p#/proc/}"
    done
}

# _mn_start NAME KIND: starts NAME's first process and waits until it is ready.
_mn_start() {
    local name=$1 kind=$2 pid i
    rm -f "$MN_DIR/run/$name.ready"
    # setsid: its own session, away from the test's terminal and process group.
    setsid unshare --net --uts --mount --propagation private \
        bash "$MN_HERE/node.sh" "$name" "$$" "$MN_DIR" "$kind" \
        </dev/null >>"$MN_DIR/log/$name.log" 2>&1 &
    disown $!
    for ((i = 0; i < 100; i++)); do
        pid=$(cat "$MN_DIR/run/$name.ready" 2>/dev/null)
        if [ -n "$pid" ]; then
            echo "$pid" >"$MN_DIR/run/$name.pid"
            readlink "/proc/$pid/ns/uts" >"$MN_DIR/run/$name.uts"
            return 0
        fi
        sleep 0.05
    done
    echo "cluster: $name did not come up: $(tail -n 5 "$MN_DIR/log/$name.log")"
    return 1
}

# _mn_wire NAME INDEX: the veth pair from the switch to NAME, NAME's address MN_SUBNET.INDEX.
_mn_wire() {
    local name=$1 idx=$2 sw pid
    sw=$(_mn_pid switch)
    pid=$(_mn_pid "$name")
    nsenter --target "$sw" --net ip link add "p-$name" type veth peer name eth0 netns "$pid" &&
        nsenter --target "$sw" --net ip link set "p-$name" master br0 up &&
        nsenter --target "$pid" --net ip addr add "$MN_SUBNET.$idx/24" dev eth0 &&
        nsenter --target "$pid" --net ip link set eth0 up
}

_mn_index() {
    local i
    for i in "${!MN_HOSTS[@]}"; do [ "${MN_HOSTS[$i]}" = "$1" ] && echo $((i + 1)); done
}

mn_host_up() {
    local name=$1 pid
    pid=$(_mn_pid "$name")
    if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
        echo "cluster: $name is up already (pid $pid)"
        return 1
    fi
    _mn_start "$name" host || return 1
    _mn_wire "$name" "$(_mn_index "$name")" || { echo "cluster: cannot wire $name to the switch"; return 1; }
}

mn_cluster_up() {
    MN_DIR=$1
    shift
    MN_HOSTS=("$@")
    mkdir -p "$MN_DIR/run" "$MN_DIR/log" || return 1
    {
        echo "127.0.0.1 localhost"
        local i
        for i in "${!MN_HOSTS[@]}"; do echo "$MN_SUBNET.$((i + 1)) ${MN_HOSTS[$i]}"; done
    } >"$MN_DIR/hosts"
    _mn_start switch switch || return 1
    nsenter --target "$(_mn_pid switch)" --net sh -c 'ip link add br0 type bridge && ip link set br0 up' ||
        { echo "cluster: cannot create the bridge"; return 1; }
    local h
    for h in "${MN_HOSTS[@]}"; do mn_host_up "$h" || return 1; done
}

mn_on() {
    local pid
    pid=$(_mn_pid "$1") || return 255
    shift
    nsenter --target "$pid" --net --uts --mount --wd="$PWD" -- "$@"
}

mn_host_pids() { _mn_ns_pids "$(cat "$MN_DIR/run/$1.uts" 2>/dev/null)"; }

# Kills the holder first (it would otherwise take the host down itself a second later), then
# everything else, until nothing is left (the processes fork no more once killed).
mn_host_kill() {
    local name=$1 i pids
    kill -9 "$(_mn_pid "$name")" 2>/dev/null
    for ((i = 0; i < 50; i++)); do
        pids=$(mn_host_pids "$name")
        [ -z "$pids" ] && return 0
        # shellcheck disable=SC2086
        kill -9 $pids 2>/dev/null
        sleep 0.1
    done
    echo "cluster: processes left on $name: $(mn_host_pids "$name" | tr '\n' ' ')"
    return 1
}

mn_cluster_down() {
    [ -n "$MN_DIR" ] && [ -d "$MN_DIR/run" ] || return 0
    local h rc=0
    for h in "${MN_HOSTS[@]}" switch; do
        [ -f "$MN_DIR/run/$h.uts" ] || continue
        mn_host_kill "$h" || rc=1
    done
    return $rc
}

# Open MPI across the hosts: the launch agent instead of ssh, daemons started directly by mpirun
# (no tree spawn: the agent exists only where mpirun runs), TCP only on the cluster's subnet.
mn_mpi_env() {
    export PF_MN_DIR=$MN_DIR
    export OMPI_MCA_plm_rsh_agent=$MN_HERE/rsh-agent
    export OMPI_MCA_plm_rsh_no_tree_spawn=1
    export OMPI_MCA_oob_tcp_if_include=$MN_SUBNET.0/24
    export OMPI_MCA_btl_tcp_if_include=$MN_SUBNET.0/24
}
