#!/usr/bin/env bash
# store_mpi.sh -- the results file under real MPI: three ranks write their own rows independently
# into one parallel HDF5 file, and a kill -9 of the whole job in the middle of writing leaves a
# file that h5dump opens and store_load reads, with every "done" row complete (status last).
# The driver is the store unit test binary in its MPI modes (tests/unit/test_store.c).
source "$(dirname "$0")/../lib.sh"
DRIVER=$ROOT/${BUILD:-build}/tests/test_store
N=24

if [ ! -x "$DRIVER" ]; then
    fail store_mpi_driver "missing $DRIVER (make check-build)"
    exit 0
fi
if ! command -v h5dump >/dev/null 2>&1; then
    skip store_mpi_h5dump "h5dump not installed (hdf5-tools)"
fi

# 1. Three writers, then every rank reopens and rank 0 checks every row with store_load.
F=$TMP/writers.h5
cmd="mpirun -q --oversubscribe -np 3 $DRIVER --mpi-write $F $N"
if out=$(pf_mpirun 3 "$DRIVER" --mpi-write "$F" "$N" 2>&1) && grep -q "rows done: $N of $N on 3 ranks" <<<"$out"; then
    pass store_mpi_three_writers
else
    fail store_mpi_three_writers "rerun: $cmd" "$out"
fi
if command -v h5dump >/dev/null 2>&1; then
    dump=$(h5dump -d /results "$F" 2>&1)
    # The status is the first member of each row: the line after "(i): {".
    statuses=$(awk 'f { print $1; f = 0 } /^ *\([0-9]+\): \{$/ { f = 1 }' <<<"$dump")
    ndone=$(grep -c '^done,$' <<<"$statuses")
    ndiv=$(grep -c '^diverged,$' <<<"$statuses")
    if [ $((ndone + ndiv)) -eq "$N" ] && [ "$ndone" -gt 0 ] && [ "$ndiv" -gt 0 ]; then
        pass store_mpi_h5dump_every_row
    else
        fail store_mpi_h5dump_every_row "rerun: h5dump -d /results $F" "done=$ndone diverged=$ndiv of $N"
    fi
    if h5dump -d /configs "$F" | grep -q '"cifar100"' && h5dump -d /runs "$F" | grep -q '"complete"'; then
        pass store_mpi_h5dump_configs_runs
    else
        fail store_mpi_h5dump_configs_runs "rerun: h5dump -d /configs -d /runs $F"
    fi
fi

# 2. kill -9 of the whole job (every process of its session) while the ranks rewrite their rows:
# right after the driver reports that every row was written once (round 0 done on every rank), the
# ranks are rewriting rows without pause.
K=$TMP/killed.h5
# setsid makes mpirun (same pid) the leader of a new session: its pid is the session id.
sid=
kill_session() { sid=$1; pkill -9 -s "$1"; }
pf_at_line 1 '^every row written$' "$TMP/endless.log" kill_session \
    setsid mpirun -q --oversubscribe -np 3 "$DRIVER" --mpi-endless "$K" "$N"
# Live (not zombie) processes of the job's session: every one got SIGKILL, so they are gone as
# soon as the kernel has reaped them (allowed 10 s); one still alive escaped the kill.
members() { ps -eo pid=,sid=,stat= | awk -v s="$1" '$2 == s && $3 !~ /^Z/ { print $1 }'; }
left=
for _ in $(seq 100); do
    [ -z "$sid" ] && break
    left=$(members "$sid")
    [ -z "$left" ] && break
    sleep 0.1
done
if [ -n "$left" ]; then
    kill -9 $left 2>/dev/null
    fail store_mpi_kill_all "processes of the killed session survived:" $left
fi
if [ -z "$sid" ]; then
    fail store_mpi_kill9_setup "the writers never wrote every row once" "$(cat "$TMP/endless.log")"
else
    if command -v h5dump >/dev/null 2>&1; then
        if h5dump -H "$K" >/dev/null 2>&1 && h5dump -d /results "$K" >/dev/null 2>&1; then
            pass store_mpi_kill9_h5dump_opens
        else
            fail store_mpi_kill9_h5dump_opens "rerun: h5dump -d /results $K (file kept in $TMP)"
        fi
    fi
    if out=$("$DRIVER" --verify "$K" "$N" 2>&1); then
        pass store_mpi_kill9_store_load
        echo "    after kill -9: $out"
    else
        fail store_mpi_kill9_store_load "rerun: $DRIVER --verify $K $N" "$out"
    fi
fi
