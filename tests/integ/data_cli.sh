#!/usr/bin/env bash
# tests/integ/data_cli.sh -- `poisonfarm data`: the real data directory (each dataset that is there
# listed with its counts, exit 0), corrupt files (exit 2, one line naming the file), --require of a
# missing dataset (exit 2), bad options (exit 2).
source "$(dirname "$0")/../lib.sh"
cd "$ROOT" || exit 1

# run NAME ARGS...: runs $BIN data ARGS, leaving $out, $err and $rc.
run() {
    local name=$1; shift
    "$BIN" data "$@" >"$TMP/$name.out" 2>"$TMP/$name.err"
    rc=$?
    out=$(cat "$TMP/$name.out")
    err=$(cat "$TMP/$name.err")
}

# expect_rc NAME WANT CMD-DESCRIPTION
expect_rc() {
    if [ "$rc" -eq "$2" ]; then pass "$1"; else
        fail "$1" "exit $rc, expected $2; rerun: $3" "$(tail -n 5 <<<"$out")" "$(tail -n 3 <<<"$err")"; fi
}

# The block of lines `poisonfarm data` prints for dataset $1.
block() { awk -v d="$1" '$1 == d { on = 1; print; next } /^[a-z]/ { on = 0 } on' <<<"$out"; }

has_files() { # DIR FILE...: every file (or its .gz) is there
    local d=$1 f; shift
    for f in "$@"; do [ -e "$d/$f" ] || [ -e "$d/$f.gz" ] || return 1; done
}

# --- the real data directory ---
run real --data-dir "$DATA_DIR"
expect_rc data_real_exit_0 0 "$BIN data --data-dir $DATA_DIR"
n=$(grep -cE '^(mnist|fashion_mnist|cifar10|cifar100) ' <<<"$out")
if [ "$n" -eq 4 ]; then pass data_real_lists_four; else fail data_real_lists_four "listed $n datasets" "$out"; fi
if grep -q "^data directory: $DATA_DIR (from --data-dir)" <<<"$out"; then pass data_real_dir_origin; else
    fail data_real_dir_origin "first line: $(head -n 1 <<<"$out")"; fi

# check_dataset NAME PRESENT-TEST-FILES TRAIN-LINE-REGEX PER-CLASS-REGEX
check_dataset() {
    local name=$1 files=$2 train=$3 perclass=$4 b
    # shellcheck disable=SC2086
    if ! has_files "$DATA_DIR/$name" $files; then
        skip "data_real_$name" "no $name in $DATA_DIR (run make data)"
        return
    fi
    b=$(block "$name")
    if grep -qE "$train" <<<"$b" && grep -q "test  10000 items" <<<"$b" && grep -qE "$perclass" <<<"$b"; then
        pass "data_real_$name"
    else
        fail "data_real_$name" "expected /$train/, 10000 test items and /$perclass/ in:" "$b"
    fi
}
check_dataset mnist "t10k-images-idx3-ubyte t10k-labels-idx1-ubyte train-images-idx3-ubyte" \
    'train 60000 items \(complete\)' 'train per class: 5923 6742 5958 6131 5842 5421 5918 6265 5851 5949'
check_dataset fashion_mnist "t10k-images-idx3-ubyte t10k-labels-idx1-ubyte train-images-idx3-ubyte" \
    'train 60000 items \(complete\)' 'train per class: 6000 6000 6000 6000 6000 6000 6000 6000 6000 6000'
if [ -e "$DATA_DIR/cifar10/data_batch_2.bin" ]; then c10='train (partial, [0-9]+0000 of 50000|50000 items)'; else
    c10='train partial, 10000 of 50000 training items: add data_batch_2.bin .. data_batch_5.bin'; fi
check_dataset cifar10 "test_batch.bin data_batch_1.bin" "$c10" \
    'train per class: 1005 974 1032 1016 999 937 1030 1001 1025 981|train per class: 5000 5000'
check_dataset cifar100 "test.bin train.bin" 'train (partial, train.bin holds [0-9]+ of 50000|50000 items)' \
    'test  per class: 100 each \(100 classes\)'

# --- corrupt files: exit 2 and one line on stderr naming the file ---
mkdir -p "$TMP/bad/mnist"
# A valid one-item training set (IDX headers: magic, count, rows, cols), so that the dataset is
# present, and a test images file that is not IDX at all.
printf '\0\0\10\1\0\0\0\1\3' >"$TMP/bad/mnist/train-labels-idx1-ubyte"
{ printf '\0\0\10\3\0\0\0\1\0\0\0\34\0\0\0\34'; head -c 784 /dev/zero; } >"$TMP/bad/mnist/train-images-idx3-ubyte"
printf 'not an IDX file at all' >"$TMP/bad/mnist/t10k-images-idx3-ubyte"
printf '\0\0\10\1\0\0\0\1\3' >"$TMP/bad/mnist/t10k-labels-idx1-ubyte"
run bad --data-dir "$TMP/bad"
expect_rc data_corrupt_exit_2 2 "$BIN data --data-dir $TMP/bad"
if [ "$(wc -l <<<"$err")" -eq 1 ] && grep -q "t10k-images-idx3-ubyte: wrong magic number" <<<"$err" &&
   grep -q "run make data" <<<"$err"; then pass data_corrupt_one_line; else
    fail data_corrupt_one_line "stderr should be one line naming t10k-images-idx3-ubyte:" "$err"; fi
if grep -q '^mnist  *ERROR' <<<"$out" && grep -q '^cifar10  *MISSING' <<<"$out"; then pass data_corrupt_listed; else
    fail data_corrupt_listed "stdout should list mnist as ERROR, the others as MISSING:" "$out"; fi

if has_files "$DATA_DIR/cifar10" test_batch.bin data_batch_1.bin batches.meta.txt; then
    mkdir -p "$TMP/trunc/cifar10"
    ln -s "$(readlink -f "$DATA_DIR/cifar10/test_batch.bin")" "$TMP/trunc/cifar10/test_batch.bin"
    cp "$DATA_DIR/cifar10/batches.meta.txt" "$TMP/trunc/cifar10/"
    head -c 1000000 "$DATA_DIR/cifar10/data_batch_1.bin" >"$TMP/trunc/cifar10/data_batch_1.bin"
    run trunc --data-dir "$TMP/trunc"
    expect_rc data_truncated_cifar10_exit_2 2 "$BIN data --data-dir $TMP/trunc"
    if [ "$(wc -l <<<"$err")" -eq 1 ] && grep -q "data_batch_1.bin: .*expected 3073-byte records" <<<"$err"; then
        pass data_truncated_cifar10_message; else
        fail data_truncated_cifar10_message "stderr should be one line naming data_batch_1.bin:" "$err"; fi
else
    skip data_truncated_cifar10 "no CIFAR-10 in $DATA_DIR (run make data)"
fi

# --- missing datasets: listed, exit 0; --require'd: exit 2 ---
mkdir -p "$TMP/empty"
run empty --data-dir "$TMP/empty"
expect_rc data_missing_exit_0 0 "$BIN data --data-dir $TMP/empty"
if [ "$(grep -c ' MISSING ' <<<"$out")" -eq 4 ] && grep -q 'dataset-fashion-mnist' <<<"$out" &&
   grep -q 'cifar-10-binary.tar.gz' <<<"$out"; then pass data_missing_listed; else
    fail data_missing_listed "four MISSING lines saying what to install expected:" "$out"; fi
run require --data-dir "$TMP/empty" --require mnist,cifar10
expect_rc data_require_missing_exit_2 2 "$BIN data --data-dir $TMP/empty --require mnist,cifar10"
if grep -q 'cifar10 is required' <<<"$err" && grep -q 'mnist is required' <<<"$err"; then pass data_require_message; else
    fail data_require_message "stderr should name both required datasets:" "$err"; fi
# The environment variable is overridden by --data-dir, and used without it.
POISONFARM_DATA=$TMP/empty run env
if grep -q "^data directory: $TMP/empty (from \$POISONFARM_DATA)" <<<"$out" && [ "$rc" -eq 0 ]; then
    pass data_env_dir; else fail data_env_dir "POISONFARM_DATA=$TMP/empty $BIN data: $(head -n 1 <<<"$out")"; fi

# --- bad usage ---
run badopt --bogus
expect_rc data_bad_option_exit_2 2 "$BIN data --bogus"
if grep -q 'unknown option --bogus' <<<"$err" && grep -q '^usage: poisonfarm data' <<<"$err"; then
    pass data_bad_option_usage; else fail data_bad_option_usage "stderr: $err"; fi
run badreq --require nosuch
expect_rc data_bad_require_exit_2 2 "$BIN data --require nosuch"
run noarg --data-dir
expect_rc data_missing_argument_exit_2 2 "$BIN data --data-dir"
run help --help
if [ "$rc" -eq 0 ] && grep -q '^usage: poisonfarm data' <<<"$out"; then pass data_help; else
    fail data_help "exit $rc: $out"; fi
