#!/usr/bin/env bash
# tests/integ/install.sh -- `make install PREFIX=...`: the installed binary finds the installed job
# files from any directory, and relative outputs land in the working directory.
source "$(dirname "$0")/../lib.sh"
cd "$ROOT"
prefix=$TMP/prefix
if ! make --no-print-directory install PREFIX="$prefix" >"$TMP/install.log" 2>&1; then
    fail make_install "rerun: make install PREFIX=$prefix" "$(tail -5 "$TMP/install.log")"
    exit 0
fi
check installed_files test -x "$prefix/bin/poisonfarm" -a -f "$prefix/share/poisonfarm/jobs/seed.cfg" \
    -a -f "$prefix/share/poisonfarm/jobs/quick.cfg"
mkdir -p "$TMP/elsewhere" && cd "$TMP/elsewhere"
g=$("$prefix/bin/poisonfarm" grid quick 2>&1)
if grep -q "^$prefix/share/poisonfarm/jobs/quick.cfg: 10 configurations" <<<"$g"; then pass installed_job_lookup; else
    fail installed_job_lookup "rerun: cd /tmp && $prefix/bin/poisonfarm grid quick" "$(head -2 <<<"$g")"; fi
if [ -f "$DATA_DIR/mnist/t10k-labels-idx1-ubyte" ] || [ -f "$DATA_DIR/mnist/t10k-labels-idx1-ubyte.gz" ]; then
    mpirun -q -np 1 "$prefix/bin/poisonfarm" smoke --data-dir "$DATA_DIR" --quiet >"$TMP/run.log" 2>&1
    rc=$?
    if [ $rc -eq 0 ] && [ -f "$TMP/elsewhere/output/smoke.h5" ]; then pass installed_run_from_any_directory; else
        fail installed_run_from_any_directory "exit $rc; rerun: cd /tmp && mpirun -np 1 $prefix/bin/poisonfarm smoke" "$(cat "$TMP/run.log")"; fi
else
    skip installed_run_from_any_directory "no MNIST in $DATA_DIR (run make data)"
fi
