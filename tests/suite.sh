# tests/suite.sh -- for the suites that run on their own (tests/slurm, tests/multinode), sourced
# after tests/lib.sh if at all: pass, fail and skip report in cmocka's line format as lib.sh's do
# and count, and summary prints the suite's last line, `N passed, N failed[, N skipped]`.
passed=0 failed=0 skipped=0
pass() { echo "[       OK ] $1"; passed=$((passed + 1)); }
fail() {
    echo "[  FAILED  ] $1"
    failed=$((failed + 1))
    shift
    local l
    for l in "$@"; do echo "    $l"; done
}
skip() { echo "[  SKIPPED ] $1: $2"; skipped=$((skipped + 1)); }
summary() {
    if [ "$skipped" -gt 0 ]; then
        echo "$passed passed, $failed failed, $skipped skipped"
    else
        echo "$passed passed, $failed failed"
    fi
}
