#!/usr/bin/env bash
# tests/integ/damaged.sh -- results files with impossible values in /configs or /results (changed
# through the HDF5 API with h5poke, as a bit flip or a hand edit would): a resume refuses each in
# one line naming the row and the field, exit 2, the file untouched and no lock left; report and
# train --from refuse them too. A file whose rows only disagree with its fingerprint is refused the
# same way.
source "$(dirname "$0")/../lib.sh"
cd "$ROOT" || exit 1
pf_need_mnist damaged || exit 0
POKE=$ROOT/${BUILD:-build}/tests/h5poke
cat >"$TMP/job.cfg" <<'CFG'
datasets = ["mnist"]; modes = ["random"]; subsets = [20]; percents = [0, 50, 100];
max_epochs = 2; validation_items = 20; batch_sizes = [10];
CFG
# Row 0 done, rows 1-2 pending.
"$BIN" run "$TMP/job.cfg" -o "$TMP/base.h5" --stop-after 1 --quiet >/dev/null 2>&1
if [ "$(pf_count_done "$TMP/base.h5")" -ne 1 ]; then
    fail damaged_fixture "could not make the fixture: $BIN run $TMP/job.cfg -o $TMP/base.h5 --stop-after 1"
    exit 0
fi

# damaged NAME PATTERN POKE-ARGS...: a copy of the fixture changed by h5poke, then resumed.
damaged() {
    local name=$1 pattern=$2; shift 2
    local f=$TMP/$name.h5
    cp "$TMP/base.h5" "$f"
    if ! "$POKE" "$f" "$@"; then fail "$name" "h5poke $f $* failed"; return; fi
    local sum
    sum=$(md5sum <"$f")
    pf_mpirun 2 "$BIN" run "$TMP/job.cfg" -o "$f" --quiet >"$TMP/$name.out" 2>"$TMP/$name.err"
    local rc=$? nerr
    nerr=$(grep -c . "$TMP/$name.err")
    if [ $rc -eq 2 ] && [ "$nerr" -eq 1 ] && grep -qE -- "$pattern" "$TMP/$name.err" &&
       [ "$(md5sum <"$f")" = "$sum" ] && [ ! -e "$f.lock" ]; then
        pass "$name"
    else
        fail "$name" "resume after h5poke $*: exit $rc (want 2), $nerr error lines (want 1 matching /$pattern/), file $( [ "$(md5sum <"$f")" = "$sum" ] && echo untouched || echo CHANGED), lock $( [ -e "$f.lock" ] && echo LEFT || echo gone)" \
            "$(head -c 600 "$TMP/$name.err")"
    fi
}

damaged configs_dataset_7 "/configs row 1, dataset: 7 is not a known dataset" /configs 1 dataset 7
damaged configs_dataset_minus_1 "/configs row 2, dataset: -1 is not a known dataset" /configs 2 dataset -1
damaged configs_k_huge "/configs row 1, k: 1000000" /configs 1 k 1000000
damaged configs_max_epochs_beyond_history "/configs row 2, max_epochs: 3 is larger than /history's 2 epochs" /configs 2 max_epochs 3
damaged configs_id_not_its_row "/configs row 1, id: 2 differs from its row" /configs 1 id 2
damaged configs_mode_out_of_range "/configs row 0, mode: 99 is not a known mode" /configs 0 mode 99
damaged configs_percent_within_range "fingerprint" /configs 1 percent 51
damaged results_final_acc_negative "/results row 0, final_val_acc: -1.1e-64 is not a fraction" /results 0 final_val_acc -1.1e-64
damaged results_status_9 "/results row 1, status: 9 is not a status" /results 1 status 9
damaged results_done_without_epochs "/results row 1, stop: none for a row that is done" /results 1 status 2
damaged results_nan_accuracy_done "/results row 0, best_val_acc: NaN for a row that is done" /results 0 best_val_acc nan
damaged results_poisoned_beyond_items "/results row 0, n_poisoned: 21 is outside \[0, 20\]" /results 0 n_poisoned 21
damaged fingerprint_attribute "fingerprint" @fingerprint 12345

# report and train --from read the same rules.
cp "$TMP/base.h5" "$TMP/rep.h5"
"$POKE" "$TMP/rep.h5" /configs 1 dataset 7
"$BIN" report "$TMP/rep.h5" -o "$TMP/rep" >"$TMP/rep.out" 2>"$TMP/rep.err"
rc=$?
if [ $rc -eq 2 ] && grep -q "/configs row 1, dataset: 7 is not a known dataset" "$TMP/rep.err"; then pass report_refuses_damaged; else
    fail report_refuses_damaged "exit $rc" "$(head -3 "$TMP/rep.err")"; fi
"$BIN" train --from "$TMP/rep.h5" --id 0 --quiet >"$TMP/tr.out" 2>"$TMP/tr.err"
rc=$?
if [ $rc -eq 2 ] && grep -q "/configs row 1, dataset: 7 is not a known dataset" "$TMP/tr.err"; then pass train_from_refuses_damaged; else
    fail train_from_refuses_damaged "exit $rc" "$(head -3 "$TMP/tr.err")"; fi

# The undamaged fixture still resumes to the end.
pf_mpirun 2 "$BIN" run "$TMP/job.cfg" -o "$TMP/base.h5" --quiet >"$TMP/ok.out" 2>&1
rc=$?
if [ $rc -eq 0 ] && [ "$(pf_count_done "$TMP/base.h5")" -eq 3 ]; then pass undamaged_resumes; else
    fail undamaged_resumes "exit $rc" "$(head -5 "$TMP/ok.out")"; fi
