#!/usr/bin/env bash
# tests/integ/faults.sh -- writes that fail: a small tmpfs that is too small for the results file, that
# runs out of inodes while the file is created, that fills up during a run, and that is full when a
# run resumes. Each failure is one line (no HDF5 error stack, no MPI_Abort), nothing is left behind
# by a creation that failed, and nothing already written is lost: the rows of a run that met a full
# disk are those of an uninterrupted run. Needs root and permission to mount a tmpfs: skipped with
# the reason otherwise.
source "$(dirname "$0")/../lib.sh"
cd "$ROOT" || exit 1
pf_need_mnist faults || exit 0
MNT=$TMP/mnt
mkdir -p "$MNT"
# mount_tmpfs OPTIONS: a fresh tmpfs at $MNT.
mount_tmpfs() {
    mountpoint -q "$MNT" && umount "$MNT"
    mount -t tmpfs -o "$1" tmpfs "$MNT" 2>"$TMP/mount.err"
}
if [ "$(id -u)" -ne 0 ] || ! mount_tmpfs size=1m; then
    skip faults "cannot mount a tmpfs here ($( [ "$(id -u)" -ne 0 ] && echo 'not root' || head -1 "$TMP/mount.err"))"
    exit 0
fi
trap 'mountpoint -q "$MNT" && umount "$MNT"; rm -rf "$TMP"' EXIT

# one_line NAME LOG: the log's error lines are poisonfarm's own, one line each, nothing from HDF5 or
# mpirun's abort.
clean_errors() { ! grep -qiE 'HDF5-DIAG|error stack|MPI_ABORT|Signal|#[0-9]{3}:' "$1"; }
nothing_left() { # no results file, temporary file, lock, checkpoint directory or scratch file
    [ -z "$(ls -A "$MNT" | grep -v '^fill')" ]
}

cat >"$TMP/small.cfg" <<'CFG'
datasets = ["mnist"]; modes = ["random"]; subsets = [20]; percents = [0, 50];
max_epochs = 1; validation_items = 20; batch_sizes = [10];
CFG
cat >"$TMP/big.cfg" <<'CFG'
datasets = ["mnist"]; modes = ["random", "biased"]; subsets = [20]; percents = [0, 10, 20, 30, 40, 50, 60, 70, 80, 90];
max_epochs = 1000; validation_items = 20; batch_sizes = [10];
CFG

# --- 1. the file does not fit (about 1 MB of /history on a 1 MB tmpfs) ---
"$BIN" run "$TMP/big.cfg" -o "$MNT/r.h5" >"$TMP/1.out" 2>"$TMP/1.err"
rc=$?
if [ $rc -eq 2 ] && [ "$(grep -c . "$TMP/1.err")" -eq 1 ] &&
   grep -q "^poisonfarm: $MNT: no space for the results file r.h5: it needs about .* is free" "$TMP/1.err" && nothing_left; then
    pass too_small_refused_before_creation; else
    fail too_small_refused_before_creation "exit $rc, left: $(ls -A "$MNT")" "$(head -c 600 "$TMP/1.err")"; fi

# --- 2. out of inodes while the file is created: two inodes free are what the lock takes for a
# moment (a tmpfs counts a hard link as one) and then the checkpoint directory, so the results
# file itself cannot be created: one line, nothing left ---
for free in 2; do
    mount_tmpfs size=16m,nr_inodes=64
    i=0
    while touch "$MNT/fill$i" 2>/dev/null; do i=$((i + 1)); done
    for j in $(seq 1 $free); do rm -f "$MNT/fill$((i - j))"; done
    "$BIN" run "$TMP/small.cfg" -o "$MNT/r.h5" >"$TMP/2.out" 2>"$TMP/2.err"
    rc=$?
    if [ $rc -eq 2 ] && [ "$(grep -c . "$TMP/2.err")" -eq 1 ] && clean_errors "$TMP/2.err" &&
       grep -q "no space for the results file r.h5" "$TMP/2.err" && nothing_left; then
        pass no_inode_when_file_created; else
        fail no_inode_when_file_created "exit $rc, left: $(ls -A "$MNT" | grep -v '^fill' | tr '\n' ' ')" "$(head -c 600 "$TMP/2.err")"; fi
done

# --- 3. the disk fills up during a run (after the first configuration is reported) ---
cat >"$TMP/run.cfg" <<'CFG'
datasets = ["mnist"]; modes = ["random"]; subsets = [200]; percents = [0, 20, 40, 60, 80, 100];
max_epochs = 3; validation_items = 200; batch_sizes = [20];
CFG
pf_mpirun 2 "$BIN" run "$TMP/run.cfg" -o "$TMP/ref.h5" --quiet >/dev/null 2>&1
pf_metrics "$TMP/ref.h5" >"$TMP/ref.m"
mount_tmpfs size=4m
fill() { dd if=/dev/zero of="$MNT/fill" bs=64k >/dev/null 2>&1; true; }
pf_at_line 1 '^\[ *1/6\] ' "$TMP/3.log" fill mpirun -q --oversubscribe -np 2 "$BIN" run "$TMP/run.cfg" -o "$MNT/r.h5"
rc=$?
pf_metrics "$MNT/r.h5" >"$TMP/3.m"
runs=$(h5dump -d /runs "$MNT/r.h5" 2>/dev/null | grep -c '"complete"')
if [ $rc -eq 0 ] && [ -s "$MNT/fill" ] && cmp -s "$TMP/ref.m" "$TMP/3.m" && clean_errors "$TMP/3.log" &&
   { [ "$runs" -eq 1 ] || grep -q "no space left for this run's /runs row" "$TMP/3.log"; } && [ ! -e "$MNT/r.h5.lock" ]; then
    pass disk_full_during_run_rows_intact; else
    fail disk_full_during_run_rows_intact "exit $rc, fill $(stat -c %s "$MNT/fill" 2>/dev/null) bytes, metrics $(cmp -s "$TMP/ref.m" "$TMP/3.m" && echo equal || echo DIFFER), /runs rows $runs" "$(head -c 800 "$TMP/3.log")"; fi
if grep -q "cannot write checkpoint: No space left on device" "$TMP/3.log"; then
    echo "    (checkpoints failed while the disk was full, one line each: $(grep -c 'cannot write checkpoint' "$TMP/3.log"))"; fi

# --- 4. a full disk when a run resumes: one line, the file untouched; with space again the
# resume ends as an uninterrupted run ---
mount_tmpfs size=4m
pf_mpirun 2 "$BIN" run "$TMP/run.cfg" -o "$MNT/r.h5" --stop-after 2 --quiet >/dev/null 2>&1
before=$(md5sum <"$MNT/r.h5")
done_before=$(pf_count_done "$MNT/r.h5")
fill
pf_mpirun 2 "$BIN" run "$TMP/run.cfg" -o "$MNT/r.h5" --quiet >"$TMP/4.out" 2>"$TMP/4.err"
rc=$?
if [ $rc -eq 2 ] && [ "$(grep -c . "$TMP/4.err")" -eq 1 ] && clean_errors "$TMP/4.err" &&
   grep -qE "No space left on device|no space" "$TMP/4.err" && [ "$(md5sum <"$MNT/r.h5")" = "$before" ] &&
   [ ! -e "$MNT/r.h5.lock" ] && [ "$done_before" -ge 2 ]; then
    pass disk_full_at_resume_one_line; else
    fail disk_full_at_resume_one_line "exit $rc, file $( [ "$(md5sum <"$MNT/r.h5")" = "$before" ] && echo untouched || echo CHANGED), $done_before done before" "$(head -c 600 "$TMP/4.err")"; fi
rm -f "$MNT/fill"
pf_mpirun 2 "$BIN" run "$TMP/run.cfg" -o "$MNT/r.h5" --quiet >"$TMP/5.out" 2>&1
rc=$?
pf_metrics "$MNT/r.h5" >"$TMP/5.m"
if [ $rc -eq 0 ] && cmp -s "$TMP/ref.m" "$TMP/5.m"; then pass resume_after_full_disk_same_results; else
    fail resume_after_full_disk_same_results "exit $rc" "$(head -5 "$TMP/5.out")"; fi
