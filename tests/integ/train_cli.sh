#!/usr/bin/env bash
# tests/integ/train_cli.sh -- `poisonfarm train`: bad arguments (usage, exit 2), the same ranges and
# reasons as a job file (one validator), a missing dataset
# (one line naming what to install, exit 2), and on real MNIST (skipped when absent) the final
# key=value summary line, --quiet, split / poisoned-validation keys, thread-count independence and
# a graceful stop by SIGUSR1 (exit 4), and --from/--id replaying a smoke job's configuration
# exactly. Runs are tiny: 200 training items, 500 validation items.
source "$(dirname "$0")/../lib.sh"
cd "$ROOT"

# run NAME ARGS...: runs $BIN train ARGS, leaving $out, $err and $rc.
run() {
    local name=$1; shift
    "$BIN" train "$@" >"$TMP/$name.out" 2>"$TMP/$name.err"
    rc=$?
    out=$(cat "$TMP/$name.out")
    err=$(cat "$TMP/$name.err")
}

expect_rc() { # NAME WANT RERUN-COMMAND
    if [ "$rc" -eq "$2" ]; then pass "$1"; else
        fail "$1" "exit $rc, expected $2; rerun: $3" "$(tail -n 5 <<<"$out")" "$(tail -n 3 <<<"$err")"; fi
}

# --- bad arguments: usage on stderr, exit 2 ---
bad_case() { # NAME ARGS...
    local name=$1; shift
    run "$name" "$@"
    if [ "$rc" -eq 2 ] && grep -q '^usage: poisonfarm train' <<<"$err" && [ -z "$out" ]; then
        pass "$name"
    else
        fail "$name" "exit $rc (want 2 with usage on stderr); rerun: $BIN train $*" "$err"
    fi
}
REQ=(--dataset mnist --mode random --subset 100 --percent 0)
bad_case train_no_args
bad_case train_missing_percent --dataset mnist --mode random --subset 100
bad_case train_missing_dataset_opt --mode random --subset 100 --percent 0
bad_case train_unknown_option "${REQ[@]}" --frobnicate
bad_case train_unknown_dataset --dataset mnsit --mode random --subset 100 --percent 0
bad_case train_unknown_mode --dataset mnist --mode sideways --subset 100 --percent 0
bad_case train_percent_range --dataset mnist --mode random --subset 100 --percent 101
bad_case train_negative_subset --dataset mnist --mode random --subset -5 --percent 0
bad_case train_bad_batch "${REQ[@]}" --batch-size 0
bad_case train_bad_threads "${REQ[@]}" --threads two
bad_case train_bad_selection "${REQ[@]}" --selection best
bad_case train_bad_isa "${REQ[@]}" --isa sse9
bad_case train_missing_value "${REQ[@]}" --seed
bad_case train_extra_argument "${REQ[@]}" extra
bad_case train_id_without_from --id 3
bad_case train_from_without_id --from "$TMP/none.h5"
bad_case train_from_with_settings --from "$TMP/none.h5" --id 0 --percent 10

# --- one validator: train's options and a job file take the same ranges and give the same reason
# (a learning rate above 10, selection split on 1 validation item) ---
agree() { # NAME JOB-LINE TEXT TRAIN-ARGS...: both refuse, exit 2, both naming TEXT
    local name=$1 line=$2 text=$3; shift 3
    printf 'datasets = ["mnist"]; modes = ["random"]; subsets = [100]; percents = [0];\n%s\n' "$line" >"$TMP/$name.cfg"
    "$BIN" grid "$TMP/$name.cfg" >/dev/null 2>"$TMP/$name.grid.err"
    local grc=$?
    run "$name" "${REQ[@]}" "$@"
    if [ "$grc" -eq 2 ] && [ "$rc" -eq 2 ] && [ -z "$out" ] && grep -qF -- "$text" "$TMP/$name.grid.err" &&
       head -n 1 <<<"$err" | grep -qF -- "$text"; then
        pass "$name"
    else
        fail "$name" "grid exit $grc, train exit $rc (want 2 and 2, both naming '$text'); rerun: $BIN train ${REQ[*]} $*" \
            "$(cat "$TMP/$name.grid.err")" "$(head -n 1 <<<"$err")"
    fi
}
agree validator_lr_limit_agrees 'lr = 10.5;' '10.5 is outside (0, 10]' --lr 10.5
agree validator_split_items_agrees 'selections = ["split"]; validation_items = 1;' \
    '1 is too few for selection split' --selection split --validation-items 1

run from_missing --from "$TMP/none.h5" --id 0
if [ "$rc" -eq 2 ] && [ "$(wc -l <<<"$err")" -eq 1 ] && grep -q "$TMP/none.h5" <<<"$err"; then
    pass train_from_missing_file
else
    fail train_from_missing_file "exit $rc (want 2, one line naming the file); rerun: $BIN train --from $TMP/none.h5 --id 0" "$err"
fi

run help --help
if [ "$rc" -eq 0 ] && grep -q -- '--poison-validation' <<<"$out"; then pass train_help; else
    fail train_help "exit $rc; rerun: $BIN train --help"; fi

# --- a missing dataset: one line naming what to install, exit 2 ---
mkdir -p "$TMP/empty"
run missing "${REQ[@]}" --data-dir "$TMP/empty"
if [ "$rc" -eq 2 ] && [ "$(wc -l <<<"$err")" -eq 1 ] && grep -q 'mnist' <<<"$err" &&
    grep -qi 'make data\|install' <<<"$err"; then
    pass train_missing_dataset
else
    fail train_missing_dataset "exit $rc (want 2, one line naming what to install); rerun: $BIN train ${REQ[*]} --data-dir $TMP/empty" "$err"
fi

# --- real runs ---
if [ ! -d "$DATA_DIR/mnist" ]; then
    for n in train_summary_line train_quiet train_split_keys train_threads_same train_sigusr1_stop \
        train_replay_matches; do
        skip "$n" "no MNIST in $DATA_DIR (run make data)"
    done
    exit 0
fi

TINY=(--dataset mnist --mode random --subset 200 --percent 20 --batch-size 64 --validation-items 500
      --data-dir "$DATA_DIR")
# value KEY LINE: the value of KEY= in a summary line.
value() { tr ' ' '\n' <<<"$2" | sed -n "s/^$1=//p"; }
is_fraction() { [[ $1 =~ ^(0\.[0-9]{6}|1\.000000)$ ]]; }

run summary "${TINY[@]}" --max-epochs 2
last=$(tail -n 1 <<<"$out")
ok=1
for k in best_val_acc best_epoch final_val_acc epochs stop n_train n_poisoned learned_poison learned_true seconds; do
    grep -q "\(^\| \)$k=" <<<"$last" || { ok=0; echo "    missing key $k"; }
done
is_fraction "$(value best_val_acc "$last")" || ok=0
is_fraction "$(value final_val_acc "$last")" || ok=0
is_fraction "$(value learned_poison "$last")" || ok=0
[ "$(value epochs "$last")" = 2 ] || ok=0
[ "$(value stop "$last")" = max_epochs ] || ok=0
[ "$(value n_train "$last")" = 200 ] || ok=0
[ "$(value n_poisoned "$last")" = 40 ] || ok=0
be=$(value best_epoch "$last")
{ [ "$be" = 1 ] || [ "$be" = 2 ]; } || ok=0
grep -q '^model seed: 80,874 parameters' <<<"$out" || { ok=0; echo "    no parameter count line"; }
[ "$(grep -c '^epoch ' <<<"$out")" -eq 2 ] || { ok=0; echo "    not two epoch lines"; }
if [ "$rc" -eq 0 ] && [ "$ok" -eq 1 ]; then pass train_summary_line; else
    fail train_summary_line "exit $rc; rerun: $BIN train ${TINY[*]} --max-epochs 2" "$out" "$err"; fi

# Patience 0 (Keras allows it) and a learning rate of 10 (the limit): a job file and train both
# accept them (at 10 this network diverges, which is a result, not a refusal).
printf 'datasets = ["mnist"]; modes = ["random"]; subsets = [100]; percents = [0];\npatience = 0; lr_patience = 0; lr = 10;\n' >"$TMP/p0.cfg"
"$BIN" grid "$TMP/p0.cfg" >/dev/null 2>"$TMP/p0.grid.err"
grc=$?
run p0 "${TINY[@]}" --max-epochs 1 --quiet --patience 0 --lr-patience 0 --lr 10
if [ "$grc" -eq 0 ] && [ "$rc" -eq 0 ] && [ "$(value epochs "$out")" = 1 ]; then
    pass validator_patience_0_accepted
else
    fail validator_patience_0_accepted "grid exit $grc, train exit $rc (want 0 and 0, 1 epoch); rerun: $BIN train ${TINY[*]} --max-epochs 1 --quiet --patience 0 --lr-patience 0 --lr 10" \
        "$(cat "$TMP/p0.grid.err")" "$out" "$err"
fi

run quiet "${TINY[@]}" --max-epochs 1 --quiet
if [ "$rc" -eq 0 ] && [ "$(wc -l <<<"$out")" -eq 1 ] && grep -q ' stop=max_epochs ' <<<"$out"; then
    pass train_quiet
else
    fail train_quiet "exit $rc; rerun: $BIN train ${TINY[*]} --max-epochs 1 --quiet" "$out"
fi

run split "${TINY[@]}" --max-epochs 1 --quiet --selection split --poison-validation
ok=1
is_fraction "$(value heldout_acc "$out")" || ok=0
is_fraction "$(value poisoned_val_acc "$out")" || ok=0
[ "$(value n_val "$out")" = 250 ] || ok=0
[ "$(value n_val_poisoned "$out")" = 100 ] || ok=0
if [ "$rc" -eq 0 ] && [ "$ok" -eq 1 ]; then pass train_split_keys; else
    fail train_split_keys "exit $rc; rerun: $BIN train ${TINY[*]} --max-epochs 1 --quiet --selection split --poison-validation" "$out"
fi

# Thread count never changes a result: the summary lines agree but for the seconds.
run t1 "${TINY[@]}" --max-epochs 2 --quiet --threads 1
a=$(sed 's/ seconds=.*//' <<<"$out")
run t2 "${TINY[@]}" --max-epochs 2 --quiet --threads 2
b=$(sed 's/ seconds=.*//' <<<"$out")
if [ -n "$a" ] && [ "$a" = "$b" ]; then pass train_threads_same; else
    fail train_threads_same "1 thread: $a" "2 threads: $b"; fi

# The kernels' path: printed, recorded in the summary line; avx2 and avx512 give the very same
# result; scalar (im2col + OpenBLAS) runs too; a path this CPU lacks is one line, exit 2.
paths=(scalar)
grep -qw avx2 /proc/cpuinfo && grep -qw fma /proc/cpuinfo && paths+=(avx2)
grep -qw avx512f /proc/cpuinfo && paths+=(avx512)
declare -A summary
for p in "${paths[@]}"; do
    run "isa_$p" "${TINY[@]}" --max-epochs 2 --isa "$p"
    last=$(tail -n 1 <<<"$out")
    summary[$p]=$(sed 's/ seconds=.*//' <<<"$last")
    if [ "$rc" -eq 0 ] && [ "$(value isa "$last")" = "$p" ] && grep -q "kernels $p (pinned by --isa)" <<<"$out"; then
        pass "train_isa_$p"
    else
        fail "train_isa_$p" "exit $rc; rerun: $BIN train ${TINY[*]} --max-epochs 2 --isa $p" "$last" "$err"
    fi
done
if [ -n "${summary[avx512]:-}" ] && [ -n "${summary[avx2]:-}" ]; then
    if [ "${summary[avx2]}" = "${summary[avx512]}" ]; then pass train_isa_avx2_avx512_same; else
        fail train_isa_avx2_avx512_same "avx2: ${summary[avx2]}" "avx512: ${summary[avx512]}"; fi
else
    skip train_isa_avx2_avx512_same "this CPU lacks AVX2 or AVX-512"
fi
if ! grep -qw avx512f /proc/cpuinfo; then
    run isa_missing "${TINY[@]}" --max-epochs 1 --isa avx512
    if [ "$rc" -eq 2 ] && [ "$(wc -l <<<"$err")" -eq 1 ] && grep -q 'avx512' <<<"$err"; then
        pass train_isa_not_on_this_cpu
    else
        fail train_isa_not_on_this_cpu "exit $rc (want 2, one line)" "$err"
    fi
fi

# OpenBLAS on a generic core (forced here with OPENBLAS_CORETYPE) on a CPU with AVX2: one warning
# line on stderr after validation; a user error stays one line.
if grep -qw avx2 /proc/cpuinfo; then
    OPENBLAS_CORETYPE=Prescott "$BIN" train "${TINY[@]}" --max-epochs 1 --quiet >"$TMP/pres.out" 2>"$TMP/pres.err"
    rc=$?
    if [ "$rc" -eq 0 ] && [ "$(grep -c . "$TMP/pres.err")" -eq 1 ] &&
        grep -q "^poisonfarm: warning: OpenBLAS runs its generic 'Prescott' kernels.*OPENBLAS_CORETYPE=" "$TMP/pres.err"; then
        pass train_warns_generic_blas
    else
        fail train_warns_generic_blas "exit $rc; rerun: OPENBLAS_CORETYPE=Prescott $BIN train ${TINY[*]} --max-epochs 1" "$(cat "$TMP/pres.err")"
    fi
    OPENBLAS_CORETYPE=Prescott "$BIN" train --dataset mnist --mode random --subset 100 --percent 0 \
        --data-dir "$TMP/nodata" >"$TMP/pres.out" 2>"$TMP/pres.err"
    rc=$?
    if [ "$rc" -eq 2 ] && [ "$(grep -c . "$TMP/pres.err")" -eq 1 ] && ! grep -q warning "$TMP/pres.err"; then
        pass train_user_error_before_blas_warning
    else
        fail train_user_error_before_blas_warning "exit $rc (want 2, one line)" "$(cat "$TMP/pres.err")"
    fi
else
    skip train_warns_generic_blas "this CPU has no AVX2"
fi

# SIGUSR1 as soon as the first epoch line comes out: graceful stop, exit 4.
usr1() { kill -USR1 "$1"; }
pf_at_line 1 '^epoch ' "$TMP/sig.out" usr1 "$BIN" train "${TINY[@]}" --max-epochs 1000 --patience 1000
rc=$?
if [ "$rc" -eq 4 ] && grep -q '^stopped by signal' "$TMP/sig.out" && ! grep -q 'best_val_acc=' "$TMP/sig.out"; then
    pass train_sigusr1_stop
else
    fail train_sigusr1_stop "exit $rc (want 4); rerun: $BIN train ${TINY[*]} --max-epochs 1000 & kill -USR1" \
        "$(tail -n 3 "$TMP/sig.out")"
fi

# --from/--id: a configuration of a (smoke) results file replays to the very same metrics.
pf_mpirun 2 "$BIN" run jobs/smoke.cfg -o "$TMP/smoke.h5" -q --data-dir "$DATA_DIR" >"$TMP/smoke.out" 2>&1
src=$?
run replay --from "$TMP/smoke.h5" --id 1 --data-dir "$DATA_DIR"
last=$(tail -n 1 <<<"$out")
if [ "$src" -eq 0 ] && [ "$rc" -eq 0 ] && [ "$(value matches_stored "$last")" = 1 ] &&
    [ "$(value id "$last")" = 1 ] && grep -q '^stored: ' <<<"$out" && grep -q '^replayed: ' <<<"$out"; then
    pass train_replay_matches
else
    fail train_replay_matches "run exit $src, replay exit $rc; rerun: $BIN train --from $TMP/smoke.h5 --id 1" \
        "$(tail -n 3 "$TMP/smoke.out")" "$(tail -n 4 <<<"$out")" "$err"
fi

# The realised noise: biased poisoning (the seed's published draw) moves a 0 to 1, a 1 to 0 and
# any other label to 0 or 1; first_wrong moves every label to 0 (1 from 0). The counts add up to
# n_poisoned.
noise_check() { # name mode allowed-rows-regex
    run noise --dataset mnist --mode "$2" --subset 200 --percent 30 --max-epochs 1 --validation-items 200 \
        --data-dir "$DATA_DIR"
    rows=$(sed -n '/^realised noise: 60 of 200 labels changed/,/^threads/p' <<<"$out" | grep -E '^ +[0-9]+ ->')
    bad=$(grep -vE "$3" <<<"$rows")
    total=$(grep -oE ':[0-9]+' <<<"$rows" | tr -d : | awk '{ s += $1 } END { print s + 0 }')
    if [ "$rc" -eq 0 ] && [ -n "$rows" ] && [ -z "$bad" ] && [ "$total" = 60 ]; then pass "$1"; else
        fail "$1" "rerun: $BIN train --dataset mnist --mode $2 --subset 200 --percent 30 --max-epochs 1" \
            "$(head -15 <<<"$out")"
    fi
}
noise_check train_realised_noise_biased biased '^ +0 ->  1:[0-9]+$|^ +1 ->  0:[0-9]+$|^ +[2-9] -> ( [01]:[0-9]+){1,2}$'
# ... and among the other labels both 0 and 1 occur (a draw, not a rule).
if grep -qE '^ +[2-9] ->  0:[0-9]+ 1:[0-9]+$' <<<"$rows"; then pass train_biased_draws_both; else
    fail train_biased_draws_both "no label 2..9 went to both 0 and 1" "$rows"; fi
noise_check train_realised_noise_first_wrong first_wrong '^ +0 ->  1:[0-9]+$|^ +[1-9] ->  0:[0-9]+$'
