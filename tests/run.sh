#!/usr/bin/env bash
# tests/run.sh [unit|integ|all] -- runs the unit tests (cmocka binaries under $BUILD/tests) and the
# integration tests (tests/integ/*.sh, which run the real binary $BIN), then prints one line:
# "N passed, N failed, N skipped". Every test reports itself on standard output in cmocka's format
# ("[       OK ] name", "[  FAILED  ] name", "[  SKIPPED ] name"); a program that exits non-zero
# without reporting a failure counts as one failed test.
set -u
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
BIN=${BIN:-./poisonfarm}
export BUILD BIN
what=${1:-all}
passed=0 failed=0 skipped=0
failures=()

# Open MPI as root, and more ranks than cores, in every test that runs mpirun.
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
export OMPI_MCA_rmaps_base_oversubscribe=1 OMPI_MCA_btl_vader_single_copy_mechanism=none
# Sanitizer builds: Open MPI and OpenBLAS keep allocations for the life of the process.
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=0:abort_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

run_one() { # name, command...
    local name=$1; shift
    local out rc p f s
    out=$(mktemp)
    "$@" >"$out" 2>&1
    rc=$?
    p=$(grep -c '^\[       OK \]' "$out")
    f=$(grep -c '^\[  FAILED  \] [A-Za-z_]' "$out")
    s=$(grep -c '^\[  SKIPPED \]' "$out")
    # cmocka repeats failed and skipped names in its summary on stderr ("listed below"): count
    # the per-test lines only, which come before the summary.
    if grep -q 'listed below' "$out"; then
        f=$(sed -n '1,/^\[==========\] [0-9]* test(s) run\./p' "$out" | grep -c '^\[  FAILED  \]')
        s=$(sed -n '1,/^\[==========\] [0-9]* test(s) run\./p' "$out" | grep -c '^\[  SKIPPED \]')
    fi
    if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
        f=1
        echo "[  FAILED  ] $name exited with status $rc" >>"$out"
    fi
    passed=$((passed + p)); failed=$((failed + f)); skipped=$((skipped + s))
    if [ "$f" -gt 0 ]; then
        failures+=("$name")
        echo "=== $name: FAILED ($p passed, $f failed, $s skipped)"
        cat "$out"
    else
        echo "=== $name: $p passed, $s skipped"
        grep '^\[  SKIPPED \]' "$out" | sed 's/^/    /'
    fi
    rm -f "$out"
}

if [ "$what" = unit ] || [ "$what" = all ]; then
    for t in "$BUILD"/tests/test_*; do
        [ -x "$t" ] || continue
        case "$t" in *.d) continue ;; esac
        run_one "$(basename "$t")" "$t"
    done
fi
if [ "$what" = integ ] || [ "$what" = all ]; then
    for t in tests/integ/*.sh; do
        [ -f "$t" ] || continue
        run_one "$(basename "$t" .sh)" bash "$t"
    done
fi

if [ ${#failures[@]} -gt 0 ]; then echo "failed: ${failures[*]}"; fi
echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ]
