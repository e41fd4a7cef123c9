#!/usr/bin/env bash
# tests/integ/paths.sh -- paths that are not what they should be: a FIFO, a directory, a device, a
# symbolic link loop or a dangling symbolic link where a data file, a job file, a label file, a
# checkpoint, the lock or the results file should be. Each is refused (or, for a checkpoint, set
# aside with a warning) in one line that names the path and what it is; nothing hangs. `timeout`
# only guards against the hang these checks exist for: every command here ends in about a second.
source "$(dirname "$0")/../lib.sh"
cd "$ROOT" || exit 1
pf_need_mnist paths || exit 0
GUARD=120

# expect NAME WANT-RC PATTERN CMD...: exit WANT-RC, standard error's last line matches PATTERN,
# and no run hangs (timeout's 124 is a failure).
expect() {
    local name=$1 want=$2 pattern=$3; shift 3
    timeout "$GUARD" "$@" >"$TMP/out" 2>"$TMP/err"
    local rc=$?
    local last
    last=$(grep -v '^$' "$TMP/err" | tail -n 1)
    if [ "$rc" -eq "$want" ] && grep -qE -- "$pattern" <<<"$last"; then pass "$name"; else
        fail "$name" "exit $rc (want $want$([ $rc -eq 124 ] && echo ': it hung')), last error line: $last" \
            "want /$pattern/; rerun: $*"
    fi
}

# A data directory of links to the real files, one of which is then replaced.
fake_data() { # DIR
    local d=$1 ds f
    for ds in mnist cifar10; do
        mkdir -p "$d/$ds"
        for f in "$DATA_DIR/$ds"/*; do [ -e "$f" ] && ln -sf "$(readlink -f "$f")" "$d/$ds/$(basename "$f")"; done
    done
}

# --- data files ---
D=$TMP/d-fifo; fake_data "$D"
rm -f "$D"/mnist/t10k-labels-idx1-ubyte*; mkfifo "$D/mnist/t10k-labels-idx1-ubyte"
expect data_fifo_named 2 "t10k-labels-idx1-ubyte: a FIFO \(named pipe\), not a data file" "$BIN" data --data-dir "$D"

D=$TMP/d-dir; fake_data "$D"
rm -f "$D"/mnist/t10k-labels-idx1-ubyte*; mkdir "$D/mnist/t10k-labels-idx1-ubyte"
expect data_directory_named 2 "t10k-labels-idx1-ubyte: a directory, not a data file" "$BIN" data --data-dir "$D"

if [ -e "$DATA_DIR/cifar10/test_batch.bin" ]; then
    D=$TMP/d-cdir; fake_data "$D"
    rm -f "$D/cifar10/data_batch_1.bin"; mkdir "$D/cifar10/data_batch_1.bin"
    expect data_cifar_directory_named 2 "data_batch_1.bin: a directory, not a data file" "$BIN" data --data-dir "$D"
    D=$TMP/d-loop; fake_data "$D"
    rm -f "$D/cifar10/data_batch_1.bin"; ln -s data_batch_1.bin "$D/cifar10/data_batch_1.bin"
    expect data_cifar_symlink_loop_named 2 "data_batch_1.bin: a symbolic link loop, not a data file" "$BIN" data --data-dir "$D"
    D=$TMP/d-dev; fake_data "$D"
    rm -f "$D/cifar10/batches.meta.txt"; ln -s /dev/zero "$D/cifar10/batches.meta.txt"
    expect data_cifar_device_named 2 "batches.meta.txt: a character device, not a data file" "$BIN" data --data-dir "$D"
else
    skip data_cifar_kinds "no CIFAR-10 in $DATA_DIR (run make data)"
fi

# --- job files ---
ok='datasets = ["mnist"]; modes = ["random"]; subsets = [20]; percents = [0, 50];
max_epochs = 1; validation_items = 20; batch_sizes = [10];'
mkdir "$TMP/jobdir"
expect job_directory_named 2 "jobdir: a directory, not a job file" "$BIN" grid "$TMP/jobdir"
ln -s loop.cfg "$TMP/loop.cfg"
expect job_symlink_loop_named 2 "loop.cfg: a symbolic link loop, not a job file" "$BIN" grid "$TMP/loop.cfg"
expect job_device_named 2 "/dev/zero: a character device, not a job file" "$BIN" grid /dev/zero
mkfifo "$TMP/fifo.cfg"
expect job_fifo_named 2 "fifo.cfg: a FIFO \(named pipe\), not a job file" "$BIN" run "$TMP/fifo.cfg" -o "$TMP/never.h5"

# --- a label file ---
mkfifo "$TMP/labels.fifo"
printf 'datasets = ["mnist"]; modes = ["file"]; subsets = [20]; percents = [0];\nlabel_file = "%s";\n' \
    "$TMP/labels.fifo" >"$TMP/labelfifo.cfg"
expect label_file_fifo_named 2 "labels.fifo: a FIFO \(named pipe\), not a label file" "$BIN" grid "$TMP/labelfifo.cfg"

# --- the results file and its lock ---
printf '%s\n' "$ok" >"$TMP/ok.cfg"
mkdir "$TMP/out-dir.h5"
expect output_directory_named 2 "out-dir.h5: a directory, not a results file" "$BIN" run "$TMP/ok.cfg" -o "$TMP/out-dir.h5" --quiet
ln -s /nonexistent/elsewhere "$TMP/r.h5.lock"
expect lock_dangling_symlink_named 2 "r.h5.lock: a dangling symbolic link \(to /nonexistent/elsewhere\)" \
    "$BIN" run "$TMP/ok.cfg" -o "$TMP/r.h5" --quiet
rm -f "$TMP/r.h5.lock"
mkfifo "$TMP/r.h5.lock"
expect lock_fifo_named 2 "r.h5.lock: a FIFO \(named pipe\)" "$BIN" run "$TMP/ok.cfg" -o "$TMP/r.h5" --quiet
rm -f "$TMP/r.h5.lock"
if [ ! -e "$TMP/r.h5" ]; then pass lock_refusals_write_nothing; else fail lock_refusals_write_nothing "$TMP/r.h5 exists"; fi

# --- a checkpoint that is a FIFO: set aside with a warning naming it, the run completes ---
"$BIN" run "$TMP/ok.cfg" -o "$TMP/c.h5" --stop-after 1 --quiet >/dev/null 2>&1
ck=$(ls -d "$TMP"/c.h5.ckpt-* 2>/dev/null | head -1)
if [ -n "$ck" ]; then
    for id in 0 1; do mkfifo "$ck/config-$id.state"; done
    timeout "$GUARD" "$BIN" run "$TMP/ok.cfg" -o "$TMP/c.h5" --quiet >"$TMP/out" 2>"$TMP/err"
    rc=$?
    if [ $rc -eq 0 ] && grep -q "config-[01].state: a FIFO (named pipe), not a checkpoint.*starts afresh" "$TMP/err" &&
       [ "$(pf_count_done "$TMP/c.h5")" -eq 2 ]; then pass checkpoint_fifo_set_aside; else
        fail checkpoint_fifo_set_aside "exit $rc$([ $rc -eq 124 ] && echo ': it hung')" "$(cat "$TMP/err")"; fi
else
    fail checkpoint_fifo_set_aside "no checkpoint directory after $BIN run $TMP/ok.cfg -o $TMP/c.h5 --stop-after 1"
fi
