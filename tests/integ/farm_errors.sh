#!/usr/bin/env bash
# tests/integ/farm_errors.sh -- user errors under mpirun: one line, exit 2, every rank ends
# cleanly (no MPI_Abort, no HDF5 error stack), and no results file written or changed.
source "$(dirname "$0")/../lib.sh"
cd "$ROOT"

# expect_user_error NAME PATTERN NP ARGS... : exit 2, exactly one line on stderr matching PATTERN.
expect_user_error() {
    local name=$1 pattern=$2 np=$3; shift 3
    local cmd="mpirun -q --oversubscribe -np $np $BIN $*"
    $cmd >"$TMP/out" 2>"$TMP/err"
    local rc=$?
    local nerr
    nerr=$(grep -c . "$TMP/err")
    if [ $rc -eq 2 ] && [ "$nerr" -eq 1 ] && grep -qE -- "$pattern" "$TMP/err" &&
       ! grep -qiE 'MPI_Abort|HDF5-DIAG|error stack' "$TMP/err" "$TMP/out"; then
        pass "$name"
    else
        fail "$name" "exit $rc (want 2), $nerr stderr lines (want 1 matching '$pattern'); rerun: $cmd" \
            "$(head -5 "$TMP/err")"
    fi
}

job() { # name, text -> path of a job file
    printf '%s\n' "$2" >"$TMP/$1.cfg"
    echo "$TMP/$1.cfg"
}
base='datasets = ["mnist"]; modes = ["random"]; subsets = [100]; percents = [0];
max_epochs = 1; validation_items = 200;'

expect_user_error bad_job_unknown_key "unknown_key.cfg:3:.*zzz" 2 run "$(job unknown_key "$base
zzz = 1;")" -o "$TMP/x.h5"
expect_user_error bad_job_syntax "syntax.cfg:1:" 2 run "$(job syntax 'datasets = [mnist;')" -o "$TMP/x.h5"
expect_user_error bad_job_percent_range "percent.cfg:[0-9]+:.*(percent|100)" 2 run "$(job percent 'datasets = ["mnist"]; modes = ["random"]; subsets = [100];
percents = [0, 120];')" -o "$TMP/x.h5"
expect_user_error bad_job_empty_axis "empty.cfg:[0-9]+:" 2 run "$(job empty 'datasets = []; modes = ["random"]; subsets = [100]; percents = [0];')" -o "$TMP/x.h5"
expect_user_error bad_job_unknown_dataset "dataset.cfg:1:.*svhn" 2 run "$(job dataset 'datasets = ["svhn"]; modes = ["random"]; subsets = [100]; percents = [0];')" -o "$TMP/x.h5"
expect_user_error bad_job_wrong_type "type.cfg:[0-9]+:" 2 run "$(job type 'datasets = ["mnist"]; modes = ["random"]; subsets = [100]; percents = "ten";')" -o "$TMP/x.h5"
expect_user_error bad_job_subset_too_large "subset.cfg:[0-9]+:.*(subset|60000)" 2 run "$(job subset 'datasets = ["mnist"]; modes = ["random"]; subsets = [70000]; percents = [0];')" -o "$TMP/x.h5"
expect_user_error missing_job_file "nonexistent.cfg" 2 run "$TMP/nonexistent.cfg" -o "$TMP/x.h5"
expect_user_error bad_option "unknown option" 2 run --frobnicate
expect_user_error bad_checkpoint_interval "--checkpoint-interval: expected seconds from 0 to 86400, got '-5'" 2 run --checkpoint-interval -5
expect_user_error bad_job_checkpoint_interval "interval.cfg:3: 'checkpoint_interval' = -1 is out of range" 2 run "$(job interval "$base
checkpoint_interval = -1;")" -o "$TMP/x.h5"
expect_user_error bad_isa "--isa.*sse9" 2 run "$(job ok "$base")" -o "$TMP/x.h5" --isa sse9
# OpenBLAS on a generic core: a user error stays one line (the warning comes after validation) ...
OPENBLAS_CORETYPE=Prescott expect_user_error user_error_before_blas_warning "unknown option" 2 run --frobnicate
if ! grep -qw avx512f /proc/cpuinfo; then
    expect_user_error isa_not_on_this_cpu "--isa avx512: this CPU" 2 run "$(job ok "$base")" -o "$TMP/x.h5" --isa avx512
fi
if [ ! -e "$TMP/x.h5" ]; then pass bad_jobs_write_nothing; else fail bad_jobs_write_nothing "$TMP/x.h5 was created"; fi

expect_user_error missing_dataset "cifar10.*make data" 2 run "$(job cifar 'datasets = ["cifar10"]; modes = ["random"]; subsets = [100]; percents = [0];')" -o "$TMP/y.h5" --data-dir "$TMP/nodata"

# Unwritable output: a directory that cannot be created (a regular file in the way).
touch "$TMP/afile"
expect_user_error unwritable_output "afile" 2 run "$(job ok "$base")" -o "$TMP/afile/r.h5"

# A results file of another grid is refused and left untouched; --force moves it aside.
mpirun -q -np 1 $BIN run "$(job ok "$base")" -o "$TMP/r.h5" --quiet >/dev/null 2>&1
sum_before=$(md5sum <"$TMP/r.h5")
expect_user_error other_grid_refused "another grid" 2 run "$(job other 'datasets = ["mnist"]; modes = ["biased"]; subsets = [100]; percents = [0]; max_epochs = 1; validation_items = 200;')" -o "$TMP/r.h5"
if [ "$(md5sum <"$TMP/r.h5")" = "$sum_before" ]; then pass other_grid_file_untouched; else fail other_grid_file_untouched "the refused run changed $TMP/r.h5"; fi
mpirun -q -np 1 $BIN run "$TMP/other.cfg" -o "$TMP/r.h5" --force --quiet >"$TMP/force.log" 2>&1
rc=$?
moved=$(ls "$TMP"/r.h5.moved-* 2>/dev/null | head -1)
if [ $rc -eq 0 ] && [ -n "$moved" ] && [ "$(md5sum <"$moved")" = "$sum_before" ]; then pass force_moves_aside; else
    fail force_moves_aside "exit $rc, moved file '$moved'" "$(cat "$TMP/force.log")"; fi

# ... and a run on 2 ranks warns once (rank 0), on stderr.
if grep -qw avx2 /proc/cpuinfo; then
    OPENBLAS_CORETYPE=Prescott mpirun -q -np 2 $BIN run "$(job ok "$base")" -o "$TMP/w.h5" --quiet >"$TMP/w.out" 2>"$TMP/w.err"
    rc=$?
    if [ $rc -eq 0 ] && [ "$(grep -c "warning: OpenBLAS runs its generic 'Prescott'" "$TMP/w.err")" -eq 1 ] &&
        ! grep -q warning "$TMP/w.out"; then
        pass farm_warns_generic_blas_once
    else
        fail farm_warns_generic_blas_once "exit $rc; rerun: OPENBLAS_CORETYPE=Prescott mpirun -np 2 $BIN run ... --quiet" "$(cat "$TMP/w.err")"
    fi
fi

# A results file of an older format is refused with one line naming its format; --force moves it
# aside like one of another grid (the demo relies on this), and the run starts afresh.
mpirun -q -np 1 $BIN run "$TMP/ok.cfg" -o "$TMP/old.h5" --quiet >/dev/null 2>&1
"$BUILD/tests/test_store" --set-format "$TMP/old.h5" 1
sum_old=$(md5sum <"$TMP/old.h5")
expect_user_error older_format_refused "old.h5: results file format 1 \\(written by an older poisonfarm\\).*--force" 2 run "$TMP/ok.cfg" -o "$TMP/old.h5"
mpirun -q -np 1 $BIN run "$TMP/ok.cfg" -o "$TMP/old.h5" --force --quiet >"$TMP/force-old.log" 2>&1
rc=$?
moved=$(ls "$TMP"/old.h5.moved-* 2>/dev/null | head -1)
if [ $rc -eq 0 ] && [ -n "$moved" ] && [ "$(md5sum <"$moved")" = "$sum_old" ] && grep -q "moved $TMP/old.h5 to" "$TMP/force-old.log"; then
    pass force_moves_older_format_aside; else
    fail force_moves_older_format_aside "exit $rc, moved file '$moved'" "$(cat "$TMP/force-old.log")"; fi

# A corrupt results file (not HDF5) is refused, not overwritten.
echo "not hdf5" >"$TMP/bad.h5"
expect_user_error corrupt_results_refused "bad.h5" 2 run "$TMP/ok.cfg" -o "$TMP/bad.h5"
if [ "$(cat "$TMP/bad.h5")" = "not hdf5" ]; then pass corrupt_results_untouched; else fail corrupt_results_untouched "bad.h5 changed"; fi

# A second concurrent run on the same file is refused while the first holds the lock.
long='datasets = ["mnist"]; modes = ["random"]; subsets = [1000]; percents = [0, 10, 20, 30];
max_epochs = 50; patience = 50; lr_patience = 50;'
setsid mpirun -q -np 1 $BIN run "$(job long "$long")" -o "$TMP/c.h5" --quiet >/dev/null 2>&1 &
first=$!
for _ in $(seq 100); do [ -e "$TMP/c.h5.lock" ] && [ -s "$TMP/c.h5" ] && break; sleep 0.2; done
expect_user_error concurrent_run_refused "lock" 2 run "$TMP/long.cfg" -o "$TMP/c.h5"
kill -USR1 $first 2>/dev/null; pkill -USR1 -f "$TMP/long.cfg" 2>/dev/null
wait $first
rc=$?
if [ $rc -eq 4 ] && [ ! -e "$TMP/c.h5.lock" ]; then pass usr1_stops_with_status_4; else
    fail usr1_stops_with_status_4 "the first run ended with $rc (want 4), lock left: $(ls "$TMP"/c.h5.lock 2>&1)"; fi
