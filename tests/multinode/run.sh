#!/usr/bin/env bash
# tests/multinode/run.sh -- `make test-multinode`: poisonfarm on three simulated hosts of this
# machine (tests/multinode/cluster.sh: Linux namespaces, a bridge, Open MPI launched across them
# through rsh-agent instead of ssh). Prints one cmocka-style line per check, the figures it
# measured, and ends with "N passed, N failed[, N skipped]"; exits non-zero on failure.
#
# What it checks (docs/multinode.md explains each):
#   - jobs/smoke.cfg on 3 hosts x 2 ranks gives bit-identical results to -np 1;
#   - the transport between hosts is TCP (shared memory alone cannot reach across hosts, and the
#     ranks hold TCP connections to the other hosts' addresses);
#   - one shared copy of the dataset per host (the ranks' PSS, from /proc/PID/smaps_rollup);
#   - losing a whole host mid-run (every process of it killed once K configurations are done)
#     leaves a file that resumes, on the 3 hosts or on 1, to the results of an uninterrupted run;
#   - Slurm with one slurmd per simulated host: sbatch -N 3 of slurm/multinode.sbatch, with srun
#     --mpi=pmix and node-local copies of the data, and with mpirun inside the allocation, gives
#     the same results as -np 1;
#   - nothing of the cluster is left afterwards (processes, namespaces, interfaces, mounts).
#
# Skips (exit 0) when not root or when this machine cannot create namespaces, except with
# CI=true, where those conditions fail. Installs iproute2, and Slurm and munge for the Slurm part,
# with apt-get when missing. Takes about two minutes on 2 cores. Environment: BIN (default ./poisonfarm), POISONFARM_DATA (default
# ./data), PF_MN_TIMEOUT (seconds for one run, default 240).
# shellcheck disable=SC2317  # functions run from traps
set -u
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# lib.sh: ROOT, BIN (absolute), DATA_DIR, TMP (its EXIT trap is replaced below), pf_metrics,
# pf_count_done; its pass/fail/skip are replaced by counting ones.
# shellcheck source=tests/lib.sh
source "$HERE/../lib.sh"
cd "$ROOT" || exit 1
TIMEOUT=${PF_MN_TIMEOUT:-240}
HOSTS=(nodeA nodeB nodeC)
SMOKE_JOB=$ROOT/jobs/smoke.cfg

# shellcheck source=tests/suite.sh
source "$HERE/../suite.sh"
info() { echo "    $*"; }
# Not possible here: a skip with the reason, or under CI a failure.
cannot() {
    if [ "${CI:-}" = true ]; then
        fail multinode_cluster "$1 (CI=true: the multi-node suite must run)"
        rm -rf "$TMP"
        summary
        exit 1
    fi
    skip multinode_cluster "$1"
    rm -rf "$TMP"
    summary
    exit 0
}

# ---- can this machine do it? -------------------------------------------------------------------

[ "$(id -u)" = 0 ] || cannot "needs root (creates network, UTS and mount namespaces)"
if ! command -v ip >/dev/null 2>&1 && command -v apt-get >/dev/null 2>&1; then
    echo "multinode: installing iproute2"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends iproute2 >/dev/null 2>&1 ||
        { apt-get update -q >/dev/null 2>&1 &&
            DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends iproute2 >/dev/null 2>&1; }
fi
for c in ip ss unshare nsenter setsid mpirun h5dump; do
    command -v "$c" >/dev/null 2>&1 || cannot "$c is missing (packages iproute2, util-linux, openmpi-bin, hdf5-tools)"
done
if ! out=$(unshare --net --uts --mount --propagation private sh -c 'hostname pf-probe && ip link add pf-br type bridge' 2>&1); then
    cannot "this machine cannot create network, UTS and mount namespaces with a bridge: $out"
fi
[ -x "$BIN" ] || { fail multinode_binary "$BIN not found or not executable (run make first)"; summary; exit 1; }
if [ ! -f "$DATA_DIR/mnist/t10k-labels-idx1-ubyte" ]; then
    if [ "${CI:-}" = true ]; then
        fail multinode_data "no uncompressed MNIST in $DATA_DIR (run make data)"; summary; exit 1
    fi
    skip multinode_data "no uncompressed MNIST in $DATA_DIR (run make data)"; summary; exit 0
fi

# ---- the cluster -------------------------------------------------------------------------------

# shellcheck source=tests/multinode/cluster.sh
source "$HERE/cluster.sh"
# The test's files: results, logs and the cluster's state. Visible at this path on every host.
chmod 755 "$TMP"
# A private copy of the binary: a rebuild in the checkout while the runs go must not change it.
cp "$BIN" "$TMP/poisonfarm" && BIN=$TMP/poisonfarm

# What the machine looks like before, to show that the cluster leaves nothing behind.
links_before=$(ip -o link show | awk -F': ' '{ print $2 }' | sort | tr '\n' ' ')
mounts_before=$(awk '{ print $5 }' /proc/self/mountinfo | sort | md5sum)
etc_hosts_before=$(md5sum </etc/hosts)

FINISHED=0
finish() {
    [ "$FINISHED" = 1 ] && return
    FINISHED=1
    local left=0 h f
    [ "$(type -t mn_slurm_stop)" = function ] && mn_slurm_stop
    if ! mn_cluster_down >"$TMP/down.log" 2>&1; then left=1; fi
    for h in "${HOSTS[@]}" switch; do
        f=$MN_DIR/run/$h.uts
        [ -f "$f" ] && [ -n "$(_mn_ns_pids "$(cat "$f")")" ] && left=1
    done
    local links_after mounts_after
    links_after=$(ip -o link show | awk -F': ' '{ print $2 }' | sort | tr '\n' ' ')
    mounts_after=$(awk '{ print $5 }' /proc/self/mountinfo | sort | md5sum)
    if [ "$left" = 0 ] && [ "$links_after" = "$links_before" ] && [ "$mounts_after" = "$mounts_before" ] &&
        [ "$(md5sum </etc/hosts)" = "$etc_hosts_before" ]; then
        pass cluster_cleanup_leaves_nothing
    else
        fail cluster_cleanup_leaves_nothing "processes left: $left; interfaces before: $links_before; after: $links_after" \
            "$(cat "$TMP/down.log")"
    fi
    if [ "$failed" -gt 0 ]; then
        for f in "$MN_DIR"/log/*.log "$TMP"/slurm-*.out; do
            [ -s "$f" ] && { echo "----- $f"; tail -n 20 "$f"; }
        done
        [ "$(type -t mn_slurm_logs)" = function ] && mn_slurm_logs
    fi
    rm -rf "$TMP"
    summary
}
trap 'finish; if [ "$failed" -gt 0 ]; then exit 1; fi' EXIT
trap 'fail interrupted "stopped by a signal"; exit 1' INT TERM HUP PIPE

if mn_cluster_up "$TMP" "${HOSTS[@]}" >"$TMP/up.log" 2>&1; then
    why=
    for h in "${HOSTS[@]}"; do
        [ "$(mn_on "$h" hostname)" = "$h" ] || why="$why $h: hostname '$(mn_on "$h" hostname)';"
        for o in "${HOSTS[@]}"; do
            mn_on "$h" getent hosts "$o" | grep -q "^$MN_SUBNET\." || why="$why $h cannot resolve $o;"
        done
    done
    [ "$(ip -o link show | awk -F': ' '{ print $2 }' | sort | tr '\n' ' ')" = "$links_before" ] ||
        why="$why the machine's own network namespace gained an interface;"
    if [ -z "$why" ]; then
        pass cluster_up
        for h in "${HOSTS[@]}"; do
            info "$h: $(mn_on "$h" ip -o -4 addr show dev eth0 | awk '{ print $4 }') on the bridge, /tmp and /dev/shm its own"
        done
    else
        fail cluster_up "$why"
        exit 1
    fi
else
    fail cluster_up "$(cat "$TMP/up.log")"
    exit 1
fi

# mpirun on nodeA (the first host), daemons on the others through the launch agent; TCP only on
# the cluster's subnet. Arguments: --host LIST and the rest of the mpirun command line (-q there
# hides Open MPI's own messages, which some checks want to see).
mn_mpirun() {
    mn_on nodeA env POISONFARM_DATA="$DATA_DIR" PF_MN_DIR="$MN_DIR" \
        mpirun --mca plm_rsh_agent "$HERE/rsh-agent" --mca plm_rsh_no_tree_spawn 1 \
        --mca oob_tcp_if_include "$MN_SUBNET.0/24" --mca btl_tcp_if_include "$MN_SUBNET.0/24" "$@"
}
ALL=nodeA:2,nodeB:2,nodeC:2

# The ranks (poisonfarm processes) on host $1, one PID a line.
ranks_on() {
    local p
    for p in $(mn_host_pids "$1"); do
        [ "$(readlink "/proc/$p/exe" 2>/dev/null)" = "$BIN" ] && echo "$p"
    done
}

same_metrics() { # name, file, reference file, what
    pf_metrics "$2" >"$TMP/got.m"
    pf_metrics "$3" >"$TMP/ref.m"
    if [ -s "$TMP/ref.m" ] && [ "$(pf_count_done "$2")" -gt 0 ] && cmp -s "$TMP/ref.m" "$TMP/got.m"; then
        pass "$1"
        info "$(grep -c . "$TMP/ref.m") lines of h5dump -m %.17g (/results metrics, /history, /confusion) identical"
    else
        fail "$1" "$4: metrics of $2 differ from $3" "$(diff "$TMP/ref.m" "$TMP/got.m" | head -n 10)"
    fi
}

# The first line of what mpirun said about a lost host.
mpirun_said() {
    grep -m1 -iE 'lost communication|daemon|unexpectedly|terminated' "$1" | sed 's/^ *//'
}

# A compound dataset as "name=value" fields, one row a line (tests/slurm/h5table.awk; h5dump's
# default width, which starts every row with its index).
table() { h5dump -d "$2" "$1" 2>/dev/null | awk -f "$ROOT/tests/slurm/h5table.awk"; }
# /ranks as "run rank host" lines.
ranks_table() { table "$1" /ranks | sed -e 's/[a-z_]*=//g' -e 's/"//g' | tr '\t' ' '; }
# The expected /ranks lines of run $1 on hosts given as NAME:COUNT... in rank order.
expect_ranks() {
    local run=$1 r=0 spec h c
    shift
    for spec in "$@"; do
        h=${spec%:*}
        for ((c = 0; c < ${spec#*:}; c++)); do echo "$run $r $h"; r=$((r + 1)); done
    done
}

all_done() { # file: every row done
    local n d
    n=$(h5dump -d /results "$1" 2>/dev/null | grep -c '^ *([0-9]*): {')
    d=$(pf_count_done "$1")
    [ "$n" -gt 0 ] && [ "$n" = "$d" ]
}

# ---- 1. the smoke job on 3 hosts x 2 ranks equals -np 1 ----------------------------------------

mpirun -q -np 1 "$BIN" run "$SMOKE_JOB" -o "$TMP/smoke-np1.h5" --quiet >"$TMP/smoke-np1.log" 2>&1 ||
    fail smoke_np1_reference "mpirun -np 1 $BIN run $SMOKE_JOB failed" "$(tail -n 5 "$TMP/smoke-np1.log")"
mn_mpirun --host "$ALL" "$BIN" run "$SMOKE_JOB" -o "$TMP/smoke-3x2.h5" >"$TMP/smoke-3x2.log" 2>&1
rc=$?
if [ "$rc" = 0 ] && all_done "$TMP/smoke-3x2.h5" && grep -q "on 6 ranks" "$TMP/smoke-3x2.log"; then
    pass smoke_3_hosts_x_2_ranks_completes
else
    fail smoke_3_hosts_x_2_ranks_completes "exit $rc" "$(tail -n 20 "$TMP/smoke-3x2.log")"
fi
same_metrics smoke_3_hosts_identical_to_np1 "$TMP/smoke-3x2.h5" "$TMP/smoke-np1.h5" "3 hosts x 2 ranks against -np 1"
hosts_used=$(h5dump -d /results "$TMP/smoke-3x2.h5" 2>/dev/null | grep -o '"node[A-C]"' | sort -u | tr -d '"' | tr '\n' ' ')
info "configurations trained on: $hosts_used"

# Every rank's host is in /ranks (run 0: ranks 0-1 on nodeA, 2-3 on nodeB, 4-5 on nodeC), and the
# run's /runs row counts 3 hosts.
runs=$(table "$TMP/smoke-3x2.h5" /runs)
if [ "$(ranks_table "$TMP/smoke-3x2.h5")" = "$(expect_ranks 0 nodeA:2 nodeB:2 nodeC:2)" ] &&
    grep -q $'run=0\tranks=6\tthreads=1\tnhosts=3\t' <<<"$runs" && [ "$(grep -c . <<<"$runs")" = 1 ]; then
    pass every_rank_host_recorded
    info "/ranks: $(ranks_table "$TMP/smoke-3x2.h5" | awk '{ printf "%srank %s on %s", (NR > 1 ? ", " : ""), $2, $3 }')"
    info "/runs: $(tr '\t' ' ' <<<"$runs")"
else
    fail every_rank_host_recorded "/ranks of $TMP/smoke-3x2.h5:" "$(ranks_table "$TMP/smoke-3x2.h5")" "/runs: $runs"
fi

# ---- 2. TCP between hosts ------------------------------------------------------------------------

# Shared memory and self alone cannot connect ranks on different hosts: Open MPI refuses to start.
# One rank on each of two hosts: with more ranks failing at once, Open MPI 4.1's daemon sometimes
# garbles the forwarded message (ORTE_ERROR_LOG ... show_help.c); that alone is tried again.
for attempt in 1 2 3; do
    mn_mpirun --host nodeA:1,nodeB:1 --mca btl self,vader "$BIN" run "$SMOKE_JOB" -o "$TMP/vader$attempt.h5" --quiet \
        >"$TMP/vader.log" 2>&1
    rc=$?
    grep -q "unable to reach each other" "$TMP/vader.log" && break
    [ "$rc" = 0 ] && break
done
if [ "$rc" != 0 ] && grep -q "unable to reach each other" "$TMP/vader.log" && [ "$(pf_count_done "$TMP/vader$attempt.h5")" = 0 ]; then
    pass shared_memory_alone_cannot_cross_hosts
    info "with --mca btl self,vader (exit $rc): $(grep -m1 'unable to reach' "$TMP/vader.log" | sed 's/^ *//')"
    info "$(grep -m1 'Process 1 (' "$TMP/vader.log" | sed 's/^ *//'); $(grep -m1 'Process 2 (' "$TMP/vader.log" | sed 's/^ *//')"
else
    fail shared_memory_alone_cannot_cross_hosts "exit $rc; expected Open MPI's 'unable to reach each other'" \
        "$(head -n 20 "$TMP/vader.log")"
fi

# ---- 3. node-local data that differs -------------------------------------------------------------

# nodeC sees another t10k-labels file at the same path (bind-mounted in its mount namespace only): a
# valid file whose first label is one class further. The run must refuse before any file is
# written, with one line naming the host and the file, every rank exiting with status 2.
LABELS=$(readlink -f "$DATA_DIR/mnist/t10k-labels-idx1-ubyte")
cp "$LABELS" "$TMP/other-labels"
b=$(od -An -tu1 -j8 -N1 "$TMP/other-labels" | tr -d ' ')
# shellcheck disable=SC2059
printf "$(printf '\\%03o' $(((b + 1) % 10)))" | dd of="$TMP/other-labels" bs=1 seek=8 conv=notrunc 2>/dev/null
cmp -s "$LABELS" "$TMP/other-labels" && { fail other_labels "could not make a different labels file"; exit 1; }
differ_on() { mn_on nodeC mount --bind "$TMP/other-labels" "$LABELS"; }
differ_off() { mn_on nodeC umount "$LABELS"; }

# ranked LOG EXITS HOSTS ARGS...: mpirun -q --host HOSTS poisonfarm ARGS, every rank through sh,
# which appends "HOST rank R exit STATUS" to EXITS. mpirun is told not to kill the other ranks
# when one exits non-zero (orte_abort_on_non_zero_status 0), so that each rank's own status shows
# (mpirun then exits 0: the statuses are in EXITS).
ranked() {
    local log=$1 exits=$2 hosts=$3
    shift 3
    : >"$exits"
    # shellcheck disable=SC2016  # expanded by the rank's sh
    mn_mpirun -q --host "$hosts" --mca orte_abort_on_non_zero_status 0 \
        sh -c 'x=$1; shift; "$@"; rc=$?; echo "$(hostname) rank $OMPI_COMM_WORLD_RANK exit $rc" >>"$x"; exit $rc' \
        sh "$exits" "$BIN" "$@" >"$log" 2>&1
}

differ_on
ranked "$TMP/differ.log" "$TMP/differ.exits" "$ALL" run "$SMOKE_JOB" -o "$TMP/differ.h5"
rc=$?
differ_off
exits=$(awk '{ print $NF }' "$TMP/differ.exits" | sort | uniq -c | awk '{ printf "%s x %s ", $1, $2 }')
# mpirun itself sometimes warns "plm:rsh: Warning: setpgid(...) failed in parent" when its launch
# agent's child wins a race (harmless, also with ssh): not poisonfarm's output.
said=$(grep -v 'plm:rsh: Warning: setpgid' "$TMP/differ.log")
if [ "$(grep -c . <<<"$said")" = 1 ] &&
    grep -q "^poisonfarm: host nodeC: $LABELS differs from the copy on nodeA" "$TMP/differ.log" &&
    [ "$exits" = "6 x 2 " ] && [ -z "$(ls -d "$TMP"/differ.h5* 2>/dev/null)" ]; then
    pass other_data_on_one_host_refused
    info "$said"
    info "exit statuses of the 6 ranks: $exits; nothing created (no results file, lock or checkpoint directory)"
else
    fail other_data_on_one_host_refused "mpirun exit $rc, rank exits: $exits (want 6 x 2), files: $(ls -d "$TMP"/differ.h5* 2>/dev/null)" \
        "output (want one line naming nodeC and $LABELS):" "$(head -n 20 "$TMP/differ.log")"
fi

# nodeC without the data at all (an empty directory over its mnist directory): refused the same way.
MNIST_DIR=$(readlink -f "$DATA_DIR/mnist")
mkdir -p "$TMP/empty"
mn_on nodeC mount --bind "$TMP/empty" "$MNIST_DIR"
ranked "$TMP/missing.log" "$TMP/missing.exits" "$ALL" run "$SMOKE_JOB" -o "$TMP/missing.h5"
mn_on nodeC umount "$MNIST_DIR"
said=$(grep -v 'plm:rsh: Warning: setpgid' "$TMP/missing.log")
exits=$(awk '{ print $NF }' "$TMP/missing.exits" | sort | uniq -c | awk '{ printf "%s x %s ", $1, $2 }')
if [ "$(grep -c . <<<"$said")" = 1 ] && grep -q "^poisonfarm: host nodeC: .*$MNIST_DIR" <<<"$said" &&
    [ "$exits" = "6 x 2 " ] && [ -z "$(ls -d "$TMP"/missing.h5* 2>/dev/null)" ]; then
    pass missing_data_on_one_host_refused
    info "$said"
else
    fail missing_data_on_one_host_refused "rank exits: $exits (want 6 x 2), files: $(ls -d "$TMP"/missing.h5* 2>/dev/null)" \
        "output (want one line naming nodeC and $MNIST_DIR):" "$(head -n 20 "$TMP/missing.log")"
fi

# ---- 4. a run that loses a whole host --------------------------------------------------------------

# Twice as many configurations as ranks, so that work is left when the host goes. The run is
# frozen (SIGSTOP to every rank) once its results file holds K finished rows: the kill point is the
# program's own report, and the ranks' memory and sockets are sampled while they are alive. (The
# file, not the progress lines: mpirun forwards those with a lag that, on a loaded machine, let
# the run finish 10 of its 12 configurations before the second line came through.)
LONG_JOB=$TMP/long.cfg
NLONG=12
sed -E 's/^percents[ \t]*=.*/percents = [0, 10, 25, 50, 75, 90];/' "$SMOKE_JOB" >"$LONG_JOB"
grep -q '^percents = \[0, 10, 25, 50, 75, 90\];' "$LONG_JOB" ||
    { fail long_job "no 'percents = [...];' line to widen in $SMOKE_JOB"; exit 1; }
# A checkpoint after every epoch (not every 60 s): the lost host's configurations leave some.
# Twelve epochs each, not the smoke job's three (patience 20: no early stop), so that work is
# still left when mpirun notices the lost daemon and ends the job: with 3 epochs a configuration
# took about half a second, and a freeze that came a second late left only the last two running,
# which the other hosts could finish before mpirun ended them.
sed -i -E 's/^max_epochs[ \t]*=.*/max_epochs = 12;/' "$LONG_JOB"
grep -q '^max_epochs = 12;' "$LONG_JOB" || { fail long_job "no 'max_epochs = ...;' line in $SMOKE_JOB"; exit 1; }
printf 'checkpoint_interval = 0;\npatience = 20;\n' >>"$LONG_JOB"
K=2
mpirun -q -np 2 "$BIN" run "$LONG_JOB" -o "$TMP/long-ref.h5" --quiet >"$TMP/long-ref.log" 2>&1 ||
    fail long_reference "mpirun -np 2 $BIN run $LONG_JOB failed" "$(tail -n 5 "$TMP/long-ref.log")"

OUT=$TMP/lost.h5
mn_mpirun --host "$ALL" "$BIN" run "$LONG_JOB" -o "$OUT" >"$TMP/lost.log" 2>&1 &
run_pid=$!
frozen=0
for ((i = 0; i < TIMEOUT * 10; i++)); do
    if [ -f "$OUT" ] && [ "$(pf_count_done "$OUT")" -ge "$K" ]; then
        for h in "${HOSTS[@]}"; do
            # shellcheck disable=SC2046
            kill -STOP $(ranks_on "$h") 2>/dev/null
        done
        frozen=1
        break
    fi
    kill -0 "$run_pid" 2>/dev/null || break
    sleep 0.1
done
nranks=0
for h in "${HOSTS[@]}"; do nranks=$((nranks + $(ranks_on "$h" | grep -c .))); done
if [ "$frozen" = 1 ] && [ "$nranks" = 6 ]; then
    pass run_frozen_after_k_done
    info "frozen once $K configurations were done in the file: $(pf_count_done "$OUT") rows done in $OUT, 6 ranks alive"
else
    fail run_frozen_after_k_done "frozen=$frozen, $nranks ranks alive (want 6)" "$(tail -n 20 "$TMP/lost.log")"
fi

# One copy of the dataset per host: the ranks' proportional set sizes. The shared window lives in
# the host's /tmp (tmpfs), so it is counted as Pss_Shmem, split between the ranks that touched it;
# a rank with a private copy would carry it in Pss_Anon.
data_kib=$(($(cat "$DATA_DIR"/mnist/*-ubyte | wc -c) / 1024))
copies_ok=1
for h in "${HOSTS[@]}"; do
    shm=0 line=""
    for p in $(ranks_on "$h"); do
        read -r pss anon shmem < <(awk '$1 == "Pss:" { p = $2 } $1 == "Pss_Anon:" { a = $2 } $1 == "Pss_Shmem:" { s = $2 }
            END { print p + 0, a + 0, s + 0 }' "/proc/$p/smaps_rollup")
        shm=$((shm + shmem))
        line="$line pid $p: Pss $((pss / 1024)) MiB (anon $((anon / 1024)), shmem $((shmem / 1024)));"
        # No rank holds a private copy.
        [ "$anon" -lt $((data_kib / 2)) ] || copies_ok=0
    done
    info "$h:$line host's shmem $((shm / 1024)) MiB for a dataset of $((data_kib / 1024)) MiB"
    # The host holds one copy: at least the dataset, and well short of two.
    { [ "$shm" -ge $((data_kib * 95 / 100)) ] && [ "$shm" -lt $((data_kib * 3 / 2)) ]; } || copies_ok=0
done
if [ "$copies_ok" = 1 ] && [ "$nranks" = 6 ]; then
    pass one_dataset_copy_per_host
else
    fail one_dataset_copy_per_host "a host's ranks do not hold exactly one shared copy of MNIST ($data_kib KiB): figures above"
fi

# The ranks talk to the other hosts over TCP: their own sockets (the daemons' are not counted).
tcp_ok=1
for h in "${HOSTS[@]}"; do
    pids=$(ranks_on "$h" | paste -sd'|')
    own=$(mn_on "$h" ip -o -4 addr show dev eth0 | awk '{ print $4 }' | cut -d/ -f1)
    conns=$(mn_on "$h" ss -tnpH state established 2>/dev/null | grep -E "pid=($pids)," |
        awk -v own="$own" '{ split($4, r, ":"); if (r[1] != own && r[1] ~ /^'"${MN_SUBNET//./\\.}"'\./) print r[1] }' | sort | uniq -c |
        awk '{ printf "%s%d to %s", (NR > 1 ? ", " : ""), $1, $2 }')
    [ -n "$conns" ] || tcp_ok=0
    info "$h: the ranks' TCP connections to other hosts: ${conns:-none}"
done
if [ "$tcp_ok" = 1 ]; then pass ranks_talk_tcp_between_hosts; else
    fail ranks_talk_tcp_between_hosts "a host's ranks hold no TCP connection to another host"; fi

# Lose nodeB: every process in its namespaces, the daemon and its ranks, at once.
done_at_kill=$(pf_count_done "$OUT")
mn_host_kill nodeB >"$TMP/kill.log" 2>&1
killed=$?
# The survivors are still stopped: let them see what happened.
for h in nodeA nodeC; do
    # shellcheck disable=SC2046
    kill -CONT $(ranks_on "$h") 2>/dev/null
done
ended=0
for ((i = 0; i < TIMEOUT * 10; i++)); do
    kill -0 "$run_pid" 2>/dev/null || { ended=1; break; }
    sleep 0.1
done
if [ "$ended" = 0 ]; then
    # The run did not end with its host: end it here (its ranks and mpirun).
    for h in "${HOSTS[@]}"; do
        # shellcheck disable=SC2046
        kill -9 $(ranks_on "$h") 2>/dev/null
    done
    for p in $(mn_host_pids nodeA); do
        case "$(readlink "/proc/$p/exe" 2>/dev/null)" in */orterun | */mpirun) kill -9 "$p" ;; esac
    done
fi
wait "$run_pid" 2>/dev/null
lost_rc=$?
n=$(h5dump -d /results "$OUT" 2>/dev/null | grep -c '^ *([0-9]*): {')
d=$(pf_count_done "$OUT")
if [ "$killed" = 0 ] && [ "$ended" = 1 ] && [ "$lost_rc" != 0 ] && [ "$n" = "$NLONG" ] && [ "$d" -ge "$K" ] && [ "$d" -lt "$NLONG" ]; then
    pass host_loss_ends_run_leaves_readable_file
    info "nodeB lost with $done_at_kill of $NLONG done; mpirun exited $lost_rc: $(mpirun_said "$TMP/lost.log")"
    info "the file reads with $d done once the job ended (the other hosts' ranks, continued, ran until mpirun ended them)"
else
    fail host_loss_ends_run_leaves_readable_file "kill ok=$((1 - killed)), run ended=$ended (exit $lost_rc), rows $n, done $d (want >= $K, < $NLONG)" \
        "$(cat "$TMP/kill.log")" "$(tail -n 20 "$TMP/lost.log")"
fi

# Resume on one host (a copy of the file and its checkpoints) and on the three hosts (nodeB back).
file_id=$(h5dump -a /file_id "$OUT" 2>/dev/null | sed -n 's/^ *(0): "\(.*\)"$/\1/p')
cp "$OUT" "$TMP/one.h5" && [ -n "$file_id" ] && cp -a "$OUT.ckpt-$file_id" "$TMP/one.h5.ckpt-$file_id"
# A resume with other data on one host is refused before the file is opened: not a byte changes.
sum_before=$(md5sum <"$TMP/one.h5")
differ_on
ranked "$TMP/differ2.log" "$TMP/differ2.exits" nodeA:1,nodeC:1 run "$LONG_JOB" -o "$TMP/one.h5"
rc=$?
differ_off
if grep -q "^poisonfarm: host nodeC: $LABELS differs" "$TMP/differ2.log" &&
    [ "$(grep -c 'exit 2$' "$TMP/differ2.exits")" = 2 ] && [ "$(md5sum <"$TMP/one.h5")" = "$sum_before" ] &&
    [ ! -e "$TMP/one.h5.lock" ]; then
    pass other_data_refused_before_resume
else
    fail other_data_refused_before_resume "mpirun exit $rc; file changed: $([ "$(md5sum <"$TMP/one.h5")" = "$sum_before" ] && echo no || echo yes)" \
        "$(cat "$TMP/differ2.exits")" "$(head -n 20 "$TMP/differ2.log")"
fi

mn_mpirun --host nodeA:2 "$BIN" run "$LONG_JOB" -o "$TMP/one.h5" >"$TMP/one.log" 2>&1
rc=$?
if [ "$rc" = 0 ] && all_done "$TMP/one.h5"; then pass resume_on_one_host_completes; else
    fail resume_on_one_host_completes "exit $rc" "$(tail -n 20 "$TMP/one.log")"; fi
info "$(grep -c 'resumes after epoch' "$TMP/one.log") configurations resumed from their checkpoints; $(grep '^poisonfarm: .* configurations, ' "$TMP/one.log")"
same_metrics resume_on_one_host_identical "$TMP/one.h5" "$TMP/long-ref.h5" "lost nodeB, resumed on nodeA x 2"

if mn_host_up nodeB >"$TMP/up2.log" 2>&1; then
    mn_mpirun --host "$ALL" "$BIN" run "$LONG_JOB" -o "$OUT" >"$TMP/three.log" 2>&1
    rc=$?
else
    rc="nodeB did not come back: $(cat "$TMP/up2.log")"
fi
if [ "$rc" = 0 ] && all_done "$OUT"; then pass resume_on_three_hosts_completes; else
    fail resume_on_three_hosts_completes "exit $rc" "$(tail -n 20 "$TMP/three.log")"; fi
same_metrics resume_on_three_hosts_identical "$OUT" "$TMP/long-ref.h5" "lost nodeB, resumed on the 3 hosts"

# The run that lost its host is in /ranks (run 0) but has no /runs row: only the resumes ended cleanly.
if [ "$(ranks_table "$OUT")" = "$(expect_ranks 0 nodeA:2 nodeB:2 nodeC:2; expect_ranks 1 nodeA:2 nodeB:2 nodeC:2)" ] &&
    [ "$(ranks_table "$TMP/one.h5")" = "$(expect_ranks 0 nodeA:2 nodeB:2 nodeC:2; expect_ranks 1 nodeA:2)" ] &&
    [ "$(table "$OUT" /runs | grep -c $'^start=.*\trun=1\tranks=6\tthreads=1\tnhosts=3\t')" = 1 ] &&
    [ "$(table "$OUT" /runs | grep -c .)" = 1 ] &&
    [ "$(table "$TMP/one.h5" /runs | grep -c $'\trun=1\tranks=2\tthreads=1\tnhosts=1\t')" = 1 ]; then
    pass lost_run_hosts_recorded
    info "$(basename "$OUT"): /ranks holds run 0 (6 ranks on 3 hosts, lost) and run 1; /runs only run 1"
else
    fail lost_run_hosts_recorded "/ranks of $OUT:" "$(ranks_table "$OUT")" "/runs:" "$(table "$OUT" /runs)" \
        "/ranks of one.h5:" "$(ranks_table "$TMP/one.h5")" "/runs:" "$(table "$TMP/one.h5" /runs)"
fi

# ---- 5. Slurm: one slurmd per simulated host ------------------------------------------------------

# shellcheck source=tests/slurm/cluster.sh
source "$ROOT/tests/slurm/cluster.sh"   # cluster_install
# shellcheck source=tests/multinode/slurm.sh
source "$HERE/slurm.sh"
if ! out=$(cluster_install 2>&1); then
    if [ "${CI:-}" = true ]; then fail slurm_install "$out"; else skip slurm_multinode "Slurm is not installed and cannot be: $out"; fi
    exit 0
fi
[ -n "$out" ] && echo "$out"
if mn_slurm_start "$TMP" "$(nproc)" >"$TMP/slurm-up.log" 2>&1; then
    pass slurm_one_slurmd_per_host
    info "$(mn_on nodeA scontrol show nodes -o | tr ' ' '\n' | awk -F= '$1 == "NodeName" { n = $2 } $1 == "NodeAddr" { a = $2 }
        $1 == "State" { printf "%s%s at %s %s", (c++ ? ", " : ""), n, a, $2 }')"
else
    fail slurm_one_slurmd_per_host "$(cat "$TMP/slurm-up.log")"
    exit 1
fi

job_field() { mn_on nodeA scontrol show job -o "$1" 2>/dev/null | tr ' ' '\n' | sed -n "s/^$2=//p" | head -n 1; }
wait_job() { # id: until it ended (bounded); prints its state
    local i state
    for ((i = 0; i < TIMEOUT * 5; i++)); do
        state=$(job_field "$1" JobState)
        case "$state" in COMPLETED | FAILED | CANCELLED | TIMEOUT | NODE_FAIL | OUT_OF_MEMORY | BOOT_FAIL)
            echo "$state"; return 0 ;; esac
        sleep 0.2
    done
    echo "still ${state:-unknown} after ${TIMEOUT}s"
}
# slurm_job NAME LAUNCHER OUT [ENV=VALUE...]: slurm/multinode.sbatch of the smoke job on 3 nodes x 2
# tasks, submitted on nodeA; checks that it completed on the 3 hosts, with the same results as -np 1.
slurm_job() {
    local name=$1 launcher=$2 out=$3 id state rc log
    shift 3
    id=$(mn_on nodeA env PF_BIN="$BIN" PF_LAUNCHER="$launcher" POISONFARM_DATA="$DATA_DIR" "$@" \
        sbatch --parsable --chdir="$ROOT" --output="$TMP/slurm-%j.out" -N 3 --ntasks-per-node=2 \
        "$ROOT/slurm/multinode.sbatch" "$SMOKE_JOB" -o "$out" 2>&1)
    state=$(wait_job "$id")
    rc=$(job_field "$id" ExitCode)
    log=$TMP/slurm-$id.out
    if [ "$state" = COMPLETED ] && [ "$rc" = 0:0 ] && [ "$(job_field "$id" NodeList)" = nodeA,nodeB,nodeC ] &&
        grep -q "running: $launcher" "$log" && all_done "$out" &&
        [ "$(ranks_table "$out")" = "$(expect_ranks 0 nodeA:2 nodeB:2 nodeC:2)" ]; then
        pass "$name"
        info "job $id: sbatch -N 3 --ntasks-per-node=2 slurm/multinode.sbatch, NodeList=$(job_field "$id" NodeList), $(grep -m1 "running:" "$log" | sed 's/^poisonfarm.sbatch: //')"
    else
        fail "$name" "job '$id': state $state, ExitCode $rc, NodeList $(job_field "$id" NodeList) (want COMPLETED 0:0 on nodeA,nodeB,nodeC)" \
            "/ranks: $(ranks_table "$out" | tr '\n' ';')" "$(tail -n 20 "$log" 2>/dev/null)"
    fi
    same_metrics "${name}_identical_to_np1" "$out" "$TMP/smoke-np1.h5" "Slurm job ($launcher) against -np 1"
    LAST_JOB_LOG=$log
}

# srun --mpi=pmix, every node with its own copy of MNIST in its own /tmp (node-local: no other host
# sees it, nor the machine).
LOCAL=/tmp/pf-data-$(basename "$TMP")
slurm_job sbatch_3_nodes_srun_pmix srun "$TMP/slurm-srun.h5" PF_LOCAL_DATA="$LOCAL" PF_STAGE=mnist
local_ok=1
for h in "${HOSTS[@]}"; do
    mn_on "$h" cmp -s "$LOCAL/mnist/t10k-labels-idx1-ubyte" "$DATA_DIR/mnist/t10k-labels-idx1-ubyte" || local_ok=0
    grep -q "^multinode.sbatch: $h: .* in $LOCAL\$" "$LAST_JOB_LOG" || local_ok=0
done
[ -e "$LOCAL" ] && local_ok=0
if [ "$local_ok" = 1 ] && grep -q -- "--data-dir $LOCAL" "$LAST_JOB_LOG"; then
    pass sbatch_node_local_data
    info "$(grep '^multinode.sbatch: node' "$LAST_JOB_LOG" | sed 's/^multinode.sbatch: //' | paste -sd ';' | sed 's/;/; /g')"
else
    fail sbatch_node_local_data "each host should hold its own copy in $LOCAL (and the machine none), read with --data-dir $LOCAL" \
        "$(grep '^multinode.sbatch' "$LAST_JOB_LOG")"
fi

# mpirun inside the allocation (it starts its daemons on the other nodes through Slurm), shared data.
slurm_job sbatch_3_nodes_mpirun mpirun "$TMP/slurm-mpirun.h5"

exit 0
