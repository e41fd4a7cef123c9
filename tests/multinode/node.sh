#!/usr/bin/env bash
# tests/multinode/node.sh NAME OWNER_PID DIR KIND -- the first process of one simulated host (KIND
# host) or of the switch (KIND switch). cluster.sh starts it through `unshare --net --uts --mount
# --propagation private`, so it runs in a network, UTS and mount namespace of its own; it makes
# them a host and then holds them until the test (OWNER_PID) is gone.
#
# A host gets: its hostname; its own /dev/shm and /tmp (empty tmpfs, as on a real node, so that
# Open MPI's session directories and shared-memory segments of different hosts never meet and
# vanish with the host); the test directory DIR visible at the same path even when it lies under
# /tmp; DIR/hosts bind-mounted over /etc/hosts (names of all hosts; the machine's /etc/hosts is
# never written); a loopback interface. Its eth0 (one end of a veth pair whose other end is on the
# switch's bridge) is moved in and addressed by cluster.sh. Every mount is private to the host's
# mount namespace and disappears with it.
#
# When the test ends without tearing the cluster down (killed with SIGKILL, say), this process
# kills every process of its host and exits, and the namespaces go with it.
set -u
name=$1 owner=$2 dir=$3 kind=$4
self=$BASHPID

hostname "$name" || exit 1
if [ "$kind" = host ]; then
    cd "$dir" || exit 1
    mount -t tmpfs -o mode=1777 tmpfs /dev/shm || exit 1
    mount -t tmpfs -o mode=1777 tmpfs /tmp || exit 1
    # DIR may be under the /tmp just covered: bind the directory we are in (still the old one,
    # "." is resolved from the working directory, not by path) back at its path.
    mkdir -p "$dir" && mount --no-canonicalize --bind . "$dir" || exit 1
    mount --bind "$dir/hosts" /etc/hosts || exit 1
fi
ip link set lo up || exit 1
cd / || exit 1
echo "$self" >"$dir/run/$name.ready"

# Every process in this host's namespaces but this one (and the subshell listing them).
others() {
    local me p ns
    me=$(readlink /proc/$self/ns/uts)
    for p in /proc/[0-9]*; do
        p=${p#/proc/}
        [ "$p" = "$self" ] || [ "$p" = "$BASHPID" ] && continue
        ns=$(readlink "/proc/$p/ns/uts" 2>/dev/null) || continue
        [ "$ns" = "$me" ] && echo "$p"
    done
}
while kill -0 "$owner" 2>/dev/null; do sleep 1; done
for _ in 1 2 3 4 5; do
    pids=$(others)
    [ -z "$pids" ] && break
    # shellcheck disable=SC2086
    kill -9 $pids 2>/dev/null
    sleep 0.2
done
exit 0
