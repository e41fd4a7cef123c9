#!/usr/bin/env bash
# tests/integ/check.sh -- `poisonfarm check RESULTS.h5`: a valid file (exit 0) with what a resume would
# keep and run, and every kind of refusal with its own exit status and one line: no file (5), not a
# results file (6), another format (7), damaged (8), bad usage (2); a dry run's file is valid and said
# to be one. It only reads: the file is unchanged, also while a run holds its lock.
source "$(dirname "$0")/../lib.sh"
cd "$ROOT" || exit 1
pf_need_mnist check || exit 0
POKE=$ROOT/${BUILD:-build}/tests/h5poke
DRIVER=$ROOT/${BUILD:-build}/tests/test_store
# A checkpoint after every epoch (checkpoint_interval = 0): the kill below waits for the first one.
cat >"$TMP/job.cfg" <<'CFG'
datasets = ["mnist"]; modes = ["random"]; subsets = [1000]; percents = [0, 25, 50, 75];
max_epochs = 6; patience = 10; lr_patience = 10; validation_items = 500; batch_sizes = [32];
checkpoint_interval = 0;
CFG
# Two rows done, then a kill -9 once the third has checkpointed an epoch: a running row with its
# checkpoint, and a stale lock.
kill9() { kill -9 "$1"; }
"$BIN" run "$TMP/job.cfg" -o "$TMP/r.h5" --stop-after 2 --quiet >/dev/null 2>&1
# Waits for the first checkpoint file for as long as the run lives (an event it can see).
ck() {
    while kill -0 "$1" 2>/dev/null && ! ls "$TMP"/r.h5.ckpt-*/config-*.state >/dev/null 2>&1; do sleep 0.05; done
    kill -9 "$1" 2>/dev/null
}
pf_at_line 1 'configurations, 2 done' "$TMP/k.log" ck "$BIN" run "$TMP/job.cfg" -o "$TMP/r.h5"
sum=$(md5sum <"$TMP/r.h5")

# expect NAME WANT-RC PATTERN ARGS...: exit WANT-RC, exactly one line on stderr matching PATTERN.
expect() {
    local name=$1 want=$2 pattern=$3; shift 3
    "$BIN" check "$@" >"$TMP/out" 2>"$TMP/err"
    local rc=$?
    if [ $rc -eq "$want" ] && [ "$(grep -c . "$TMP/err")" -eq 1 ] && grep -qE -- "$pattern" "$TMP/err"; then pass "$name"; else
        fail "$name" "exit $rc (want $want); rerun: $BIN check $*" "$(head -c 400 "$TMP/err")"; fi
}

"$BIN" check "$TMP/r.h5" >"$TMP/ok.out" 2>"$TMP/ok.err"
rc=$?
n=$(pf_count_done "$TMP/r.h5")
if [ $rc -eq 0 ] && [ ! -s "$TMP/ok.err" ] && grep -q "r.h5: a poisonfarm results file, format [0-9]*, 4 configurations .*every row valid" "$TMP/ok.out" &&
   [ "$n" -eq 2 ] && grep -q "1 running (interrupted), 1 pending" "$TMP/ok.out" && grep -q "a resume keeps 2 done rows" "$TMP/ok.out" &&
   grep -qE "a resume runs 2 configurations \(ids [0-9, -]*\), 1 of them from their checkpoint" "$TMP/ok.out" &&
   [ "$(md5sum <"$TMP/r.h5")" = "$sum" ]; then pass check_valid_file; else
    fail check_valid_file "exit $rc; $n done" "$(cat "$TMP/ok.out" "$TMP/ok.err")"; fi
cat "$TMP/ok.out" | sed 's/^/    /'

# The lock the killed run left is named (its process has ended).
if [ -e "$TMP/r.h5.lock" ] && grep -q "lock: held by pid .* that process has ended" "$TMP/ok.out"; then pass check_names_stale_lock; else
    fail check_names_stale_lock "lock file $( [ -e "$TMP/r.h5.lock" ] && echo there || echo absent)" "$(cat "$TMP/ok.out")"; fi

expect check_missing 5 "nothing.h5: no such results file" "$TMP/nothing.h5"
echo "not hdf5" >"$TMP/text.h5"
expect check_not_hdf5 6 "text.h5: not an HDF5 file" "$TMP/text.h5"
: >"$TMP/empty.h5"
expect check_empty 6 "empty.h5: empty file" "$TMP/empty.h5"
mkdir "$TMP/dir.h5"
expect check_directory 6 "dir.h5: a directory, not a results file" "$TMP/dir.h5"
cp "$TMP/r.h5" "$TMP/old.h5"; "$DRIVER" --set-format "$TMP/old.h5" 1
expect check_other_format 7 "old.h5: results file format 1" "$TMP/old.h5"
cp "$TMP/r.h5" "$TMP/d1.h5"; "$POKE" "$TMP/d1.h5" /configs 2 dataset 7
expect check_damaged_row 8 "/configs row 2, dataset: 7 is not a known dataset" "$TMP/d1.h5"
cp "$TMP/r.h5" "$TMP/d2.h5"; "$POKE" "$TMP/d2.h5" /results 0 best_val_acc 1.5
expect check_damaged_result 8 "/results row 0, best_val_acc: 1.5 is not a fraction" "$TMP/d2.h5"
cp "$TMP/r.h5" "$TMP/d3.h5"; "$POKE" "$TMP/d3.h5" --remove history
expect check_missing_table 8 "/history is missing" "$TMP/d3.h5"
cp "$TMP/r.h5" "$TMP/d4.h5"; "$POKE" "$TMP/d4.h5" --remove /history/val_loss
expect check_missing_history 8 "cannot read val_loss" "$TMP/d4.h5"

# A dry run's file (format 7) is valid and said to be a dry run's; a simulated row in a file of
# results, or a result in a dry run's file, is damage.
"$BIN" run "$TMP/job.cfg" -o "$TMP/dry.h5" --dry-run 0.001 --quiet >"$TMP/dry.log" 2>&1 || fail check_dry_run_reference "$(cat "$TMP/dry.log")"
"$BIN" check "$TMP/dry.h5" >"$TMP/dry.out" 2>"$TMP/dry.err"
rc=$?
if [ $rc -eq 0 ] && [ ! -s "$TMP/dry.err" ] &&
   grep -q "dry.h5: a poisonfarm dry run's file (run --dry-run 0.001), format [0-9]*, 4 configurations .*nothing was trained, its rows are simulated, not results" "$TMP/dry.out" &&
   grep -q "rows: 4 simulated, 0 running (interrupted), 0 pending" "$TMP/dry.out" &&
   grep -q "report, train --from and a real run refuse it" "$TMP/dry.out"; then pass check_dry_run_file; else
    fail check_dry_run_file "exit $rc" "$(cat "$TMP/dry.out" "$TMP/dry.err")"; fi
cat "$TMP/dry.out" | sed 's/^/    /'
cp "$TMP/r.h5" "$TMP/d5.h5"; "$POKE" "$TMP/d5.h5" /results 0 status 5
expect check_simulated_row_in_results 8 "/results row 0, status: simulated in a file of results" "$TMP/d5.h5"
cp "$TMP/dry.h5" "$TMP/d6.h5"; "$POKE" "$TMP/d6.h5" /results 1 status 2
expect check_result_in_dry_run_file 8 "/results row 1, status: done in a dry run's file" "$TMP/d6.h5"
cp "$TMP/dry.h5" "$TMP/d7.h5"; "$POKE" "$TMP/d7.h5" @simulated 0
expect check_dry_run_unmarked 8 "dry_run_scale 0.001 is not 0 in a file of results" "$TMP/d7.h5"
expect check_usage_no_file 2 "which results file" 
expect check_usage_bad_option 2 "unknown option" --frobnicate "$TMP/r.h5"
