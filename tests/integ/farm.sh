#!/usr/bin/env bash
# tests/integ/farm.sh -- the farm end to end: the smoke grid on 1, 2 and 3 ranks gives identical
# metrics; h5dump shows enum names and done statuses; the /runs log; `poisonfarm grid`.
source "$(dirname "$0")/../lib.sh"
cd "$ROOT"
pf_need_mnist farm || exit 0
JOB=jobs/smoke.cfg

for np in 1 2 3; do
    out="$TMP/np$np.h5"
    cmd="mpirun -q --oversubscribe -np $np $BIN run $JOB -o $out --quiet"
    $cmd >"$TMP/np$np.log" 2>&1
    rc=$?
    if [ $rc -eq 0 ] && [ -f "$out" ]; then pass "farm_np${np}_runs"; else
        fail "farm_np${np}_runs" "exit $rc, rerun: $cmd" "$(tail -5 "$TMP/np$np.log")"; fi
done

pf_metrics "$TMP/np1.h5" >"$TMP/m1"
for np in 2 3; do
    pf_metrics "$TMP/np$np.h5" >"$TMP/m$np"
    if [ -s "$TMP/m1" ] && cmp -s "$TMP/m1" "$TMP/m$np"; then pass "farm_np${np}_same_metrics_as_np1"; else
        fail "farm_np${np}_same_metrics_as_np1" "rerun: mpirun -np $np $BIN run $JOB -o x.h5 and compare with -np 1" \
            "$(diff "$TMP/m1" "$TMP/m$np" | head -10)"; fi
done

dump=$(h5dump -d /configs -d /results "$TMP/np1.h5" 2>&1)
if grep -q 'H5T_ENUM' <<<"$dump" && grep -q 'mnist' <<<"$dump" && grep -q 'biased' <<<"$dump" &&
   grep -q 'max_epochs' <<<"$dump"; then pass farm_h5dump_enum_names; else
    fail farm_h5dump_enum_names "h5dump -d /configs -d /results $TMP/np1.h5 shows no enum names"; fi
done_n=$(pf_count_done "$TMP/np1.h5")
if [ "$done_n" -eq 4 ]; then pass farm_all_done; else fail farm_all_done "expected 4 done configurations, h5dump shows $done_n"; fi

runs=$(h5dump -d /runs "$TMP/np2.h5" 2>&1)
if grep -q 'complete' <<<"$runs" && grep -q 'efficiency' <<<"$runs"; then pass farm_runs_log; else
    fail farm_runs_log "h5dump -d /runs shows no complete run" "$(head -20 <<<"$runs")"; fi

# Running a finished job again does nothing and succeeds; the file keeps its results.
before=$(pf_metrics "$TMP/np1.h5")
mpirun -q -np 1 $BIN run $JOB -o "$TMP/np1.h5" --quiet >"$TMP/again.log" 2>&1
rc=$?
after=$(pf_metrics "$TMP/np1.h5")
if [ $rc -eq 0 ] && [ "$before" = "$after" ]; then pass farm_rerun_complete_is_noop; else
    fail farm_rerun_complete_is_noop "exit $rc; rerun: mpirun -np 1 $BIN run $JOB -o x.h5 twice"; fi

# The progress lines: one per configuration, fractions as percentages for people.
mpirun -q -np 2 $BIN run $JOB -o "$TMP/progress.h5" >"$TMP/progress.log" 2>&1
lines=$(grep -cE '^\[ *[0-9]+/4\] +[0-9.]+% eta .* mnist (random|biased) 200 (0|50)%  best [0-9.]+% @ep [0-9]+' "$TMP/progress.log")
if [ "$lines" -eq 4 ] && grep -q 'parallel efficiency' "$TMP/progress.log"; then pass farm_progress_lines; else
    fail farm_progress_lines "expected 4 progress lines, got $lines" "$(cat "$TMP/progress.log")"; fi

# `poisonfarm train` with a row's parameters reproduces that row (configuration 1: mnist random
# 200 items 50 %).
line=$($BIN train --dataset mnist --mode random --subset 200 --percent 50 --batch-size 64 --max-epochs 3 \
    --validation-items 500 --seed 1 --quiet 2>&1 | tail -1)
best=$(sed -n 's/.*best_val_acc=\([0-9.]*\).*/\1/p' <<<"$line")
csv_best=$($BIN report "$TMP/np1.h5" -o "$TMP/rep" >/dev/null 2>&1 && awk -F, 'NR==1{for(i=1;i<=NF;i++)h[$i]=i} NR==3{printf "%.6f", $h["best_val_acc"]}' "$TMP/rep/results.csv")
if [ -n "$best" ] && [ "$best" = "$csv_best" ]; then pass farm_train_reproduces_row; else
    fail farm_train_reproduces_row "train gave '$best', the file holds '$csv_best' for id 1" "$line"; fi

# grid: ids, estimates, makespan.
g=$($BIN grid jobs/seed.cfg -n 64 2>&1)
if grep -q '320 configurations' <<<"$g" && grep -q 'makespan on 64 ranks' <<<"$g" && [ "$(grep -cE '^ +[0-9]+  ' <<<"$g")" -eq 320 ]; then
    pass grid_lists_seed_job; else fail grid_lists_seed_job "rerun: $BIN grid jobs/seed.cfg -n 64" "$(head -5 <<<"$g")"; fi
