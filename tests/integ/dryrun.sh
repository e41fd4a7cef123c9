#!/usr/bin/env bash
# tests/integ/dryrun.sh -- the farm's dry run (run --dry-run SCALE) at 32 ranks: every configuration
# simulated exactly once, every rank used, the file marked as a dry run's; its simulated rows are
# refused by report, by train --from and by a real run (which change nothing); a dry run refuses a
# file of real results; a stopped dry run resumes as one. And the open-file limit: raised to the
# hard limit, a warning when the hard limit is too low.
source "$(dirname "$0")/../lib.sh"
cd "$ROOT"
pf_need_mnist dryrun || exit 0
NP=32
# 2 modes x 2 sizes x 24 percents = 96 configurations; the whole training set's are the long ones.
cat >"$TMP/grid.cfg" <<'CFG'
datasets = ["mnist"]; modes = ["random", "biased"]; subsets = [0, 1000];
percents = [0, 1, 2, 3, 4, 5, 7, 10, 15, 20, 25, 30, 35, 40, 45, 50, 55, 60, 65, 70, 80, 90, 95, 100];
CFG
N=96
# Estimates x 0.0002: a whole-set configuration sleeps about a quarter of a second.
SCALE=0.0002
OUT=$TMP/dry.h5
pf_mpirun $NP $BIN run "$TMP/grid.cfg" -o "$OUT" --dry-run $SCALE --verbose >"$TMP/dry.log" 2>&1
rc=$?
ids=$(sed -n 's/^poisonfarm: rank [0-9]*: configuration \([0-9]*\) simulated after .*/\1/p' "$TMP/dry.log" | sort -n)
if [ $rc -eq 0 ] && [ "$ids" = "$(seq 0 $((N - 1)))" ] && [ "$(grep -c '^\[ *[0-9]*/96\] .* simulated ' "$TMP/dry.log")" = $N ]; then
    pass dry_run_every_configuration_once
else
    fail dry_run_every_configuration_once "exit $rc; want each of ids 0..$((N - 1)) simulated exactly once; rerun: mpirun -np $NP $BIN run $TMP/grid.cfg --dry-run $SCALE --verbose" \
        "ids simulated twice: $(uniq -d <<<"$ids" | paste -sd' ')" "$(grep -v '^\[' "$TMP/dry.log" | grep -v 'simulated after' | head -20)"
fi
rows=$(h5dump -d /results "$OUT" 2>/dev/null | awk '/^ *\([0-9]+\): \{/ { getline; print $1 }' | sort | uniq -c | awk '{ print $1, $2 }')
ranks=$(h5dump -m '%d' -d /results "$OUT" 2>/dev/null | awk '
    /^ *DATA \{/ { data = 1; next } !data { next }
    /^ *\([0-9]+\): \{/ { field = 0; next } /^ *\}/ { next }
    { field++; if (field == 14) { sub(",", "", $1); print $1 } }' | sort -un | wc -l)
flag=$(h5dump -a /simulated "$OUT" 2>/dev/null | sed -n 's/^ *(0): //p')
if [ "$rows" = "$N simulated," ] && [ "$ranks" = $NP ] && [ "$flag" = 1 ]; then
    pass dry_run_file_marked_every_rank_used
else
    fail dry_run_file_marked_every_rank_used "statuses '$rows' (want $N simulated), $ranks distinct ranks (want $NP), attribute simulated '$flag' (want 1)"
fi
if grep -qE '^dry_run ranks=32 .* configs=96 .* writes=96 ' "$TMP/dry.log" &&
    grep -q '^poisonfarm: dry run: makespan .* request -> assignment median' "$TMP/dry.log"; then
    pass dry_run_summary
else
    fail dry_run_summary "no summary line with ranks=32, configs=96, writes=96" "$(grep 'dry' "$TMP/dry.log" | grep -v 'simulated after')"
fi

# Simulated rows are never taken for results: each command refuses the file in one line, exit 2,
# and the file does not change.
sum=$(md5sum <"$OUT")
refused() { # name, pattern, command...
    local name=$1 pattern=$2; shift 2
    "$@" >"$TMP/r.out" 2>"$TMP/r.err"
    local rc=$?
    if [ $rc -eq 2 ] && [ "$(grep -c . "$TMP/r.err")" = 1 ] && grep -qE -- "$pattern" "$TMP/r.err" &&
        [ "$(md5sum <"$OUT")" = "$sum" ]; then pass "$name"; else
        fail "$name" "exit $rc (want 2), want one line matching '$pattern' and the file unchanged; rerun: $*" \
            "$(cat "$TMP/r.err")"; fi
}
refused report_refuses_simulated "is a dry run's file .* no results to report" $BIN report "$OUT" -o "$TMP/report"
[ ! -e "$TMP/report" ] || fail report_refuses_simulated_writes_nothing "$TMP/report was created"
refused train_from_refuses_simulated "is a dry run's file .* no result to replay" $BIN train --from "$OUT" --id 30
refused real_run_refuses_simulated "is a dry run's file .* a real run never resumes it" \
    pf_mpirun 2 $BIN run "$TMP/grid.cfg" -o "$OUT"

# A dry run never writes into real results.
REAL=$TMP/real.h5
pf_mpirun 2 $BIN run jobs/smoke.cfg -o "$REAL" --quiet >"$TMP/real.log" 2>&1 || fail real_reference "$(cat "$TMP/real.log")"
real_sum=$(md5sum <"$REAL")
pf_mpirun 2 $BIN run jobs/smoke.cfg -o "$REAL" --dry-run 1 >"$TMP/r.out" 2>"$TMP/r.err"
rc=$?
if [ $rc -eq 2 ] && grep -q "holds real results: a dry run never writes into them" "$TMP/r.err" &&
    [ "$(md5sum <"$REAL")" = "$real_sum" ]; then pass dry_run_refuses_real_results; else
    fail dry_run_refuses_real_results "exit $rc (want 2), file changed: $([ "$(md5sum <"$REAL")" = "$real_sum" ] && echo no || echo yes)" "$(cat "$TMP/r.err")"; fi

# A stopped dry run resumes as a dry run (2 ranks, 4 configurations: 2 at least are never handed
# out once the first is done).
STOP=$TMP/stop.h5
pf_mpirun 2 $BIN run jobs/smoke.cfg -o "$STOP" --dry-run 0.5 --stop-after 1 --quiet >"$TMP/s1.log" 2>&1
rc1=$?
pf_mpirun 2 $BIN run jobs/smoke.cfg -o "$STOP" --dry-run 0.5 --quiet >"$TMP/s2.log" 2>&1
rc2=$?
st=$(h5dump -d /results "$STOP" 2>/dev/null | awk '/^ *\([0-9]+\): \{/ { getline; print $1 }' | sort | uniq -c | awk '{ print $1, $2 }')
if [ $rc1 -eq 4 ] && [ $rc2 -eq 0 ] && [ "$st" = "4 simulated," ]; then pass dry_run_stop_and_resume; else
    fail dry_run_stop_and_resume "exits $rc1, $rc2 (want 4, 0), statuses '$st'" "$(cat "$TMP/s1.log" "$TMP/s2.log")"; fi

# The open-file limit: a soft limit below the hard one is raised silently; a hard limit too low
# for the ranks gets one warning line (the run goes on).
(ulimit -Sn 60 && pf_mpirun 2 $BIN run jobs/smoke.cfg -o "$TMP/nofile1.h5" --dry-run 0.01 --quiet) >"$TMP/n1.out" 2>"$TMP/n1.err"
rc1=$?
(ulimit -n 60 && pf_mpirun 2 $BIN run jobs/smoke.cfg -o "$TMP/nofile2.h5" --dry-run 0.01 --quiet) >"$TMP/n2.out" 2>"$TMP/n2.err"
rc2=$?
if [ $rc1 -eq 0 ] && ! grep -q 'open-file limit' "$TMP/n1.err" && [ $rc2 -eq 0 ] &&
    [ "$(grep -c 'poisonfarm: warning: the open-file limit is 60 ' "$TMP/n2.err")" = 1 ]; then
    pass open_file_limit_raised_or_warned
else
    fail open_file_limit_raised_or_warned "exits $rc1, $rc2 (want 0, 0); want no warning under a soft limit of 60, one under a hard limit of 60" \
        "$(cat "$TMP/n1.err" "$TMP/n2.err")"
fi
