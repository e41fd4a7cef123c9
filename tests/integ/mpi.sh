#!/usr/bin/env bash
# tests/integ/mpi.sh -- MPI as poisonfarm uses it, under mpirun: a failing MPI call is reported by
# PF_MPI_CHECK (rank, file:line, MPI's message) and aborts the job, rather than aborting inside the
# library; broadcasts reach every rank; the scheduler's protocol runs every configuration exactly
# once and stops cleanly. The drivers are the unit test binaries test_mpi and test_sched. A hung
# protocol would never end: `timeout` turns that into a failure (it never decides a passing case).
source "$(dirname "$0")/../lib.sh"
B=$ROOT/${BUILD:-build}/tests
for d in test_mpi test_sched; do
    if [ ! -x "$B/$d" ]; then fail "mpi_driver_$d" "missing $B/$d (make check-build)"; exit 0; fi
done

# A failing call: our one line per rank, a non-zero exit, no MPI_ERRORS_ARE_FATAL banner.
cmd="mpirun -q --oversubscribe -np 2 $B/test_mpi --fail-call"
timeout 120 $cmd >"$TMP/fail.out" 2>"$TMP/fail.err"
rc=$?
want='^poisonfarm: rank [01]: tests/unit/test_mpi\.c:[0-9]+: MPI_Send\(.*\) failed: MPI_ERR_RANK: invalid rank$'
if [ "$rc" -ne 0 ] && [ "$rc" -ne 124 ] && grep -qE "$want" "$TMP/fail.err" &&
   ! grep -q 'MPI_ERRORS_ARE_FATAL\|the failing call returned' "$TMP/fail.err" "$TMP/fail.out"; then
    pass mpi_failed_call_reported
else
    fail mpi_failed_call_reported "exit $rc (want non-zero), stderr should hold a line like: $want; rerun: $cmd" \
        "$(head -5 "$TMP/fail.err")"
fi

# run NAME NP ARGS...: a driver under mpirun that must exit 0 and print its summary.
run() {
    local name=$1 np=$2; shift 2
    local cmd="mpirun -q --oversubscribe -np $np $*"
    if out=$(timeout 300 $cmd 2>&1); then pass "$name"; grep '^sched:' <<<"$out" | sed 's/^/    /'; else
        fail "$name" "rerun: $cmd" "$(tail -5 <<<"$out")"; fi
}
run mpi_bcast_three_ranks 3 "$B/test_mpi" --bcast
run sched_every_config_once_np3 3 "$B/test_sched" --mpi-all 40
run sched_stop_reaches_every_rank_np3 3 "$B/test_sched" --mpi-stop 40
run sched_stop_reaches_every_rank_np5 5 "$B/test_sched" --mpi-stop 40
