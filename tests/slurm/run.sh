#!/usr/bin/env bash
# tests/slurm/run.sh -- `make test-slurm`: slurm/poisonfarm.sbatch against a real single-node Slurm
# cluster (munged + slurmctld + slurmd) started here from tests/slurm/slurm.conf.in, with every
# file in a temporary directory (see cluster.sh). Prints one cmocka-style line per check and ends
# with "N passed, N failed, N skipped"; exits non-zero on failure.
#
# Skips (exit 0) when not root or when a system slurmctld, slurmd or munged is running, except with
# CI=true, where it must run and those conditions fail. Installs Slurm and munge with apt-get when
# missing. Every daemon it starts is stopped by PID at exit, also on failure; on failure the
# daemons' and jobs' logs are printed. Takes one to three minutes on 2 cores.
#
# Environment: BIN (default ./poisonfarm), PF_SLURM_JOB_TIMEOUT (seconds per job, default 240),
# PF_SLURMCTLD_PORT / PF_SLURMD_PORT (default 6817 / 6818).
# shellcheck disable=SC2317  # functions run from traps
set -u
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
HERE=$ROOT/tests/slurm
cd "$ROOT" || exit 1
BIN=${BIN:-./poisonfarm}
case "$BIN" in /*) ;; *) BIN="$ROOT/${BIN#./}" ;; esac
export POISONFARM_DATA=${POISONFARM_DATA:-$ROOT/data}
SBATCH_SCRIPT=$ROOT/slurm/poisonfarm.sbatch
SMOKE_JOB=$ROOT/jobs/smoke.cfg
JOB_TIMEOUT=${PF_SLURM_JOB_TIMEOUT:-240}
NP=2

# shellcheck source=tests/suite.sh
source "$HERE/../suite.sh"

# Not root, or someone else's Slurm here: nothing we may start. CI must run the suite, so there
# the same conditions are failures.
why_not=
if [ "$(id -u)" != 0 ]; then
    why_not="needs root (starts munged, slurmctld and slurmd)"
elif pgrep -x slurmctld >/dev/null || pgrep -x slurmd >/dev/null || pgrep -x munged >/dev/null; then
    why_not="a slurmctld, slurmd or munged is already running on this machine; not starting a test cluster next to it"
fi
if [ -n "$why_not" ]; then
    if [ "${CI:-}" = true ]; then
        fail slurm_cluster "$why_not (CI=true: the Slurm suite must run)"
        summary
        exit 1
    fi
    skip slurm_cluster "$why_not"
    summary
    exit 0
fi

# shellcheck source=tests/slurm/cluster.sh
source "$HERE/cluster.sh"

TMP=$(mktemp -d "${TMPDIR:-/tmp}/pf-slurm.XXXXXX")
# munged (user munge) must reach its socket under here.
chmod 755 "$TMP"
CLUSTER_UP=0
FINISHED=0

# Cancels every job of the test cluster, waits for it to leave, and kills by PID whatever job
# process is still alive (slurmstepd outlives slurmd).
cancel_jobs() {
    local ids pids i
    ids=$(squeue -h -o %i 2>/dev/null)
    [ -z "$ids" ] && return 0
    pids=$(scontrol listpids 2>/dev/null | awk 'NR > 1 && $1 ~ /^[0-9]+$/ { print $1 }')
    # shellcheck disable=SC2086
    scancel $ids 2>/dev/null
    for ((i = 0; i < 200; i++)); do
        [ -z "$(squeue -h -o %i 2>/dev/null)" ] && break
        sleep 0.1
    done
    for i in $pids; do kill -9 "$i" 2>/dev/null; done
}

finish() {
    [ "$FINISHED" = 1 ] && return
    FINISHED=1
    if [ "$CLUSTER_UP" = 1 ]; then cancel_jobs; fi
    if [ "$failed" -gt 0 ]; then
        local f
        for f in "$TMP"/slurm-*.out "$TMP"/*.log; do
            [ -f "$f" ] || continue
            echo "----- $f (last 40 lines)"
            tail -n 40 "$f"
        done
        [ -f "$TMP/cluster/jobcomp.txt" ] && { echo "----- jobcomp"; cat "$TMP/cluster/jobcomp.txt"; }
        cluster_logs
    fi
    cluster_stop
    rm -rf "$TMP"
    summary
}
trap 'finish; if [ "$failed" -gt 0 ]; then exit 1; fi' EXIT
trap 'fail interrupted "stopped by a signal"; exit 1' INT TERM HUP

# ---- helpers -----------------------------------------------------------------------------------

# results_table FILE: /results as one tab-separated "name=value" line per configuration.
results_table() {
    h5dump -w 0 -m '%.17g' -d /results "$1" 2>/dev/null | awk -f "$HERE/h5table.awk"
}

# metrics FILE: the result columns that must not depend on where or how fast a configuration ran
# (drops timings, rank and host).
metrics() {
    results_table "$1" | tr '\t' '\n' |
        awk -F= 'BEGIN { row = 0 }
                 $1 == "status" { if (line != "") print line; line = ""; row++ }
                 $1 ~ /seconds|time|^rank$|^host$/ { next }
                 { line = line (line == "" ? "" : " ") $0 }
                 END { if (line != "") print line }'
}

# count_status FILE STATUS: rows with that status (0 when the file cannot be read yet).
count_status() {
    results_table "$1" | tr '\t' '\n' | grep -c "^status=$2\$"
}
count_rows() {
    results_table "$1" | grep -c .
}

# submit ARGS...: sbatch from the repository root, log in $TMP; prints the job id.
submit() {
    sbatch --parsable --chdir="$ROOT" --output="$TMP/slurm-%j.out" -n "$NP" "$@"
}

# job_field JOBID FIELD: a field of `scontrol show job` (JobState, ExitCode, Restarts...).
job_field() {
    scontrol show job -o "$1" 2>/dev/null | tr ' ' '\n' | sed -n "s/^$2=//p" | head -n 1
}

# wait_job JOBID: waits (bounded) until the job has ended; prints its final state.
wait_job() {
    local i state
    for ((i = 0; i < JOB_TIMEOUT * 5; i++)); do
        state=$(job_field "$1" JobState)
        case "$state" in
        COMPLETED | FAILED | CANCELLED | TIMEOUT | NODE_FAIL | OUT_OF_MEMORY | BOOT_FAIL | DEADLINE | PREEMPTED)
            echo "$state"
            return 0 ;;
        esac
        sleep 0.2
    done
    echo "still ${state:-unknown} after ${JOB_TIMEOUT}s"
    return 1
}

# wait_done FILE K JOBID: waits until at least K configurations are done (or the job ended).
wait_done() {
    local i
    for ((i = 0; i < JOB_TIMEOUT * 5; i++)); do
        [ -f "$1" ] && [ "$(count_status "$1" "done")" -ge "$2" ] && return 0
        case "$(job_field "$3" JobState)" in RUNNING | PENDING | CONFIGURING | REQUEUED) ;; *) return 1 ;; esac
        sleep 0.2
    done
    return 1
}

# check_job NAME JOBID STATE EXIT: the job ended in STATE with exit code EXIT, and the batch
# script logged poisonfarm's status.
check_job() {
    local name=$1 id=$2 want_state=$3 want_rc=$4 state rc
    state=$(wait_job "$id")
    rc=$(job_field "$id" ExitCode)
    if [ "$state" = "$want_state" ] && [ "$rc" = "$want_rc:0" ] &&
        grep -q "poisonfarm exited with status $want_rc" "$TMP/slurm-$id.out"; then
        pass "$name"
    else
        fail "$name" "job $id: state $state, ExitCode $rc (want $want_state, $want_rc:0)" \
            "log: $TMP/slurm-$id.out"
    fi
}

# check_all_done NAME FILE: h5dump reads the file and every configuration is done.
check_all_done() {
    local n d
    n=$(count_rows "$2")
    d=$(count_status "$2" "done")
    if [ "$n" -gt 0 ] && [ "$d" = "$n" ]; then
        pass "$1"
    else
        fail "$1" "$2: $d of $n configurations done" "rerun: h5dump -d /results $2"
    fi
}

# check_same NAME FILE REF: the same metrics as the reference file, row by row, and the same
# validation-loss histories and confusion matrices.
check_same() {
    local f
    for f in "$2":a "$3":b; do
        metrics "${f%:*}" >"$TMP/${f##*:}.txt"
        h5dump -w 0 -m '%.17g' -d /history/val_loss -d /confusion "${f%:*}" 2>&1 | tail -n +2 >>"$TMP/${f##*:}.txt"
    done
    if [ -s "$TMP/b.txt" ] && cmp -s "$TMP/a.txt" "$TMP/b.txt"; then
        pass "$1"
    else
        fail "$1" "metrics of $2 differ from $3:" "$(diff "$TMP/a.txt" "$TMP/b.txt" | head -n 10)"
    fi
}

# reference NAME JOBFILE OUT: the job run with plain mpirun, outside Slurm.
reference() {
    OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_rmaps_base_oversubscribe=1 \
        mpirun -q -np "$NP" "$BIN" run "$2" -o "$3" --quiet >"$TMP/$1.log" 2>&1
    local rc=$?
    if [ "$rc" = 0 ] && [ "$(count_rows "$3")" -gt 0 ]; then
        pass "$1"
        return 0
    fi
    fail "$1" "exit $rc, rerun: mpirun -np $NP $BIN run $2 -o $3"
    return 1
}

# ---- the cluster -------------------------------------------------------------------------------

if [ ! -x "$BIN" ]; then
    fail slurm_binary "$BIN not found or not executable (run make first)"
    exit 1
fi
if [ ! -f "$SMOKE_JOB" ]; then
    fail slurm_smoke_job "$SMOKE_JOB is missing"
    exit 1
fi
if ! out=$(cluster_install 2>&1); then
    fail slurm_install "$out"
    exit 1
fi
[ -n "$out" ] && echo "$out"
export SLURM_CONF=$TMP/cluster/slurm.conf   # never a system configuration, even before start
CLUSTER_UP=1   # from here on, finish() cancels jobs and stops whatever cluster_start started
if cluster_start "$TMP/cluster" >"$TMP/cluster-start.log" 2>&1; then
    pass slurm_cluster_up
else
    fail slurm_cluster_up "$(cat "$TMP/cluster-start.log")"
    exit 1
fi
# A private copy of the binary: a rebuild in the checkout while the jobs run must not change it.
cp "$BIN" "$TMP/poisonfarm"
BIN=$TMP/poisonfarm
export PF_BIN=$BIN

# ---- 1. the smoke job through sbatch equals plain mpirun ----------------------------------------

reference smoke_reference_mpirun "$SMOKE_JOB" "$TMP/smoke-ref.h5"
id=$(submit "$SBATCH_SCRIPT" "$SMOKE_JOB" -o "$TMP/smoke.h5")
check_job sbatch_smoke_completes "$id" COMPLETED 0
check_all_done sbatch_smoke_all_done "$TMP/smoke.h5"
check_same sbatch_smoke_matches_mpirun "$TMP/smoke.h5" "$TMP/smoke-ref.h5"
if grep -q -- "--threads 1" "$TMP/slurm-$id.out" && grep -q "^poisonfarm.sbatch: job $id " "$TMP/slurm-$id.out"; then
    pass sbatch_log_names_job_and_threads
else
    fail sbatch_log_names_job_and_threads "no launch line with --threads 1 in $TMP/slurm-$id.out"
fi

# ---- 2. SIGUSR1 (Slurm's time-limit warning) stops the job cleanly; a resubmission completes it ---

# More configurations than the smoke job, so that work is still pending when the warning arrives
# (the first one done is the cue; the file is polled, no clock is raced).
LONG_JOB=$TMP/long.cfg
sed -E 's/^percents[ \t]*=.*/percents = [0, 25, 50, 75];/' "$SMOKE_JOB" >"$LONG_JOB"
if ! grep -q '^percents = \[0, 25, 50, 75\];' "$LONG_JOB"; then
    fail long_job "no 'percents = [...];' line to widen in $SMOKE_JOB: the interruption tests need more configurations"
    exit 1
fi
K=1

reference long_reference_mpirun "$LONG_JOB" "$TMP/long-ref.h5"

id=$(submit --no-requeue "$SBATCH_SCRIPT" "$LONG_JOB" -o "$TMP/long.h5")
if wait_done "$TMP/long.h5" "$K" "$id"; then
    scancel --signal=USR1 --batch "$id"
    check_job usr1_stops_with_exit_4 "$id" FAILED 4
else
    fail usr1_stops_with_exit_4 "job $id: $K configurations never done before it ended ($(job_field "$id" JobState))"
fi
n=$(count_rows "$TMP/long.h5")
d=$(count_status "$TMP/long.h5" "done")
p=$(count_status "$TMP/long.h5" pending)
r=$(count_status "$TMP/long.h5" running)
if [ "$n" -gt 0 ] && [ "$d" -ge "$K" ] && [ "$p" -gt 0 ] && [ "$r" = 0 ] && [ $((d + p)) = "$n" ]; then
    pass usr1_leaves_clean_file_with_pending
else
    fail usr1_leaves_clean_file_with_pending "$TMP/long.h5: $n rows, $d done, $p pending, $r running"
fi
if grep -q "SIGUSR1 received" "$TMP/slurm-$id.out" && ! grep -q "requeueing job" "$TMP/slurm-$id.out"; then
    pass usr1_forwarded_without_requeue
else
    fail usr1_forwarded_without_requeue "$TMP/slurm-$id.out: no forwarding line, or requeued despite --no-requeue"
fi

id=$(submit --no-requeue "$SBATCH_SCRIPT" "$LONG_JOB" -o "$TMP/long.h5")
check_job resubmit_completes "$id" COMPLETED 0
check_all_done resubmit_all_done "$TMP/long.h5"
check_same resubmit_matches_uninterrupted "$TMP/long.h5" "$TMP/long-ref.h5"

# ---- 3. With --requeue, the job requeues itself on the warning and the rerun completes ----------

id=$(submit --requeue "$SBATCH_SCRIPT" "$LONG_JOB" -o "$TMP/requeue.h5")
requeued=0
if wait_done "$TMP/requeue.h5" "$K" "$id"; then
    scancel --signal=USR1 --batch "$id"
    # Requeued: pending again with one restart. Slurm holds a requeued job back for its credential
    # lifetime (about two minutes); the test releases it at once.
    for ((i = 0; i < JOB_TIMEOUT * 5; i++)); do
        if [ "$(job_field "$id" Restarts)" = 1 ] && [ "$(job_field "$id" JobState)" = PENDING ]; then
            requeued=1
            break
        fi
        case "$(job_field "$id" JobState)" in COMPLETED | FAILED | CANCELLED | TIMEOUT) break ;; esac
        sleep 0.2
    done
fi
if [ "$requeued" = 1 ] && [ "$(count_status "$TMP/requeue.h5" pending)" -gt 0 ]; then
    pass requeue_on_usr1
    # slurmd refuses a credential of this job issued in the same second as the requeue ("Job
    # credential revoked"): release it a little later.
    sleep 2
    scontrol update jobid="$id" StartTime=now
    check_job requeued_run_completes "$id" COMPLETED 0
    check_all_done requeued_run_all_done "$TMP/requeue.h5"
    check_same requeued_run_matches_uninterrupted "$TMP/requeue.h5" "$TMP/long-ref.h5"
    if grep -q "^poisonfarm.sbatch: job $id restart 1 " "$TMP/slurm-$id.out" &&
        [ "$(grep -c "^poisonfarm.sbatch: running:" "$TMP/slurm-$id.out")" = 2 ]; then
        pass requeue_log_appended
    else
        fail requeue_log_appended "$TMP/slurm-$id.out lacks one of the two runs"
    fi
else
    fail requeue_on_usr1 "job $id: state $(job_field "$id" JobState), restarts $(job_field "$id" Restarts)," \
        "$(count_status "$TMP/requeue.h5" pending) pending rows"
fi

# ---- 4. slurm/chain.sh: the next link (afterany) resumes what the warned one left --------------

ids=$(bash "$ROOT/slurm/chain.sh" 2 --chdir="$ROOT" --output="$TMP/slurm-%j.out" -n "$NP" -- \
    "$LONG_JOB" -o "$TMP/chain.h5" 2>"$TMP/chain.log")
first=$(echo "$ids" | sed -n 1p)
second=$(echo "$ids" | sed -n 2p)
if [ -z "$second" ]; then
    fail chain_submits_links "chain.sh printed '$ids': $(cat "$TMP/chain.log")"
elif ! wait_done "$TMP/chain.h5" "$K" "$first"; then
    fail chain_first_link_warned "job $first: $K configurations never done before it ended"
else
    pass chain_submits_links
    scancel --signal=USR1 --batch "$first"
    check_job chain_first_link_stops "$first" FAILED 4
    check_job chain_second_link_completes "$second" COMPLETED 0
    check_same chain_matches_uninterrupted "$TMP/chain.h5" "$TMP/long-ref.h5"
fi

# ---- 5. The srun launcher (PMIx): the warning reaches the ranks too, the rerun completes ---------

if srun --mpi=list 2>&1 | grep -q pmix; then
    id=$(PF_LAUNCHER=srun submit --no-requeue "$SBATCH_SCRIPT" "$LONG_JOB" -o "$TMP/srun.h5")
    if wait_done "$TMP/srun.h5" "$K" "$id"; then
        scancel --signal=USR1 --batch "$id"
        check_job srun_launcher_usr1_exit_4 "$id" FAILED 4
    else
        fail srun_launcher_usr1_exit_4 "job $id: $K configurations never done before it ended"
    fi
    id=$(PF_LAUNCHER=srun submit --no-requeue "$SBATCH_SCRIPT" "$LONG_JOB" -o "$TMP/srun.h5")
    check_job srun_launcher_completes "$id" COMPLETED 0
    if grep -q "running: srun --mpi=pmix" "$TMP/slurm-$id.out"; then
        check_same srun_launcher_matches_uninterrupted "$TMP/srun.h5" "$TMP/long-ref.h5"
    else
        fail srun_launcher_matches_uninterrupted "$TMP/slurm-$id.out: not launched with srun"
    fi
else
    skip srun_launcher "Slurm's PMIx plugin is not installed"
fi

exit 0
