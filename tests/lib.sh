# tests/lib.sh -- helpers for the integration tests (sourced). Each check reports one line in
# cmocka's format, which tests/run.sh counts. On failure it prints the command to rerun.
set -u
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BIN=${BIN:-./poisonfarm}
case "$BIN" in /*) ;; *) BIN="$ROOT/${BIN#./}" ;; esac
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
export OMPI_MCA_rmaps_base_oversubscribe=1 OMPI_MCA_btl_vader_single_copy_mechanism=none
DATA_DIR=${POISONFARM_DATA:-$ROOT/data}
export POISONFARM_DATA=$DATA_DIR

pass() { echo "[       OK ] $1"; }
fail() { echo "[  FAILED  ] $1"; shift; for l in "$@"; do echo "    $l"; done; }
skip() { echo "[  SKIPPED ] $1: $2"; }

# check NAME CONDITION-COMMAND... : passes when the command succeeds.
check() {
    local name=$1; shift
    if "$@"; then pass "$name"; else fail "$name" "check failed: $*"; fi
}

# pf_need_mnist NAME : true when MNIST is in DATA_DIR; otherwise reports NAME as skipped (the
# script then exits 0: `pf_need_mnist NAME || exit 0`).
pf_need_mnist() {
    [ -f "$DATA_DIR/mnist/t10k-labels-idx1-ubyte" ] || [ -f "$DATA_DIR/mnist/t10k-labels-idx1-ubyte.gz" ] && return 0
    skip "$1" "no MNIST in $DATA_DIR (run make data)"
    return 1
}

# A fresh temporary directory removed at exit.
TMP=$(mktemp -d "${TMPDIR:-/tmp}/pf-test.XXXXXX")
trap 'rm -rf "$TMP"' EXIT

# mpirun with the options every test needs; -q hides mpirun's banner about non-zero exits.
pf_mpirun() { local np=$1; shift; mpirun -q --oversubscribe -np "$np" "$@"; }

# pf_at_line N PATTERN LOG ACTION CMD... : runs CMD in the background with its standard output and
# error through a pipe into LOG, and runs `ACTION PID` (PID: CMD's) as soon as the Nth line matching
# the extended regex PATTERN has come out -- a point the program itself reports, never a delay. The
# pipe is read to its end, so CMD never blocks on it. Returns CMD's exit status; ACTION never ran
# when fewer than N such lines came out (check LOG).
pf_at_line() {
    local n=$1 pattern=$2 log=$3 action=$4; shift 4
    local fifo seen=0 line pid rc
    fifo=$(mktemp -u "$TMP/fifo.XXXXXX")
    mkfifo "$fifo"
    "$@" >"$fifo" 2>&1 &
    pid=$!
    : >"$log"
    # (Standard error off for the shell here: no "Killed" job notice when ACTION killed CMD.)
    {
        while IFS= read -r line; do
            printf '%s\n' "$line" >>"$log"
            if [ "$seen" -lt "$n" ] && [[ $line =~ $pattern ]]; then
                seen=$((seen + 1))
                [ "$seen" -eq "$n" ] && "$action" "$pid"
            fi
        done <"$fifo"
        wait "$pid"
        rc=$?
    } 2>/dev/null
    rm -f "$fifo"
    return "$rc"
}

# The numbers of a results file that must not depend on ranks, threads or scheduling: every
# history curve, the confusion and transition matrices, the suspects and the /results columns at
# full precision, leaving out train_seconds, rank and host (members 13-15 of a /results row).
pf_metrics() {
    h5dump -m '%.17g' -d /history/train_loss -d /history/train_acc -d /history/val_loss \
        -d /history/val_acc -d /history/lr -d /confusion -d /transitions -d /suspects "$1" 2>&1 |
        grep -v '^HDF5 "'
    h5dump -m '%.17g' -d /results "$1" 2>&1 | awk '
        /^ *DATA \{/ { data = 1; next }
        !data { next }
        /^ *\([0-9]+\): \{/ { row = $1; field = 0; next }
        /^ *\}/ { next }
        { field++; if (field < 13 || field > 15) print row, field, $0 }'
}

# How many configurations of a results file have status done (0 when unreadable).
pf_count_done() {
    local n
    n=$(h5dump -d /results "$1" 2>/dev/null | awk '/^ *\([0-9]+\): \{/ { getline; if ($1 == "done,") n++ } END { print n + 0 }')
    echo "${n:-0}"
}
