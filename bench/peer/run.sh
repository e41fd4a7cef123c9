#!/usr/bin/env bash
# bench/peer/run.sh -- `make bench-peer`: poisonfarm against its PyTorch twin (bench/peer/twin.py)
# on the same workload: one training epoch + one evaluation of the 10000 test items, MNIST (60000
# training items) and CIFAR-10 (the first CIFAR_ITEMS training items on both sides, default 10000),
# with 1 and 2 threads. Each measurement is a whole process's wall time (start-up and data loading
# included); poisonfarm and PyTorch alternate (which one goes first alternates too), PAIRS pairs
# (default 3) per row, and the row reports the medians and their ratio PyTorch / poisonfarm.
# Installs Debian's python3-torch when it is missing (as root with apt-get; else says how).
# Writes output/bench-peer.csv.
#
# Environment: BIN (./poisonfarm), DATA_DIR (data), PAIRS (3), THREADS ("1 2"), DATASETS
# ("mnist cifar10"), CIFAR_ITEMS
# (10000), ISA (auto: poisonfarm's kernel path), PEER_LAYOUT (channels_last, PyTorch's faster
# layout for these convolutions on the CPU; "contiguous" for its default NCHW).
set -u
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$ROOT" || exit 1
BIN=${BIN:-./poisonfarm}
DATA_DIR=${DATA_DIR:-data}
PAIRS=${PAIRS:-3}
THREADS=${THREADS:-"1 2"}
DATASETS=${DATASETS:-"mnist cifar10"}
CIFAR_ITEMS=${CIFAR_ITEMS:-10000}
ISA=${ISA:-auto}
PEER_LAYOUT=${PEER_LAYOUT:-channels_last}
PY=/usr/bin/python3 # Debian's interpreter, which sees Debian's python3-torch
TWIN=$ROOT/bench/peer/twin.py

die() { echo "bench-peer: $*" >&2; exit 2; }

if ! "$PY" -c 'import torch' >/dev/null 2>&1; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
        echo "bench-peer: installing Debian's python3-torch (PyTorch with oneDNN; about 1 GB)"
        export DEBIAN_FRONTEND=noninteractive
        { apt-get update -q && apt-get install -y -q --no-install-recommends python3-torch; } >/dev/null ||
            die "apt-get install python3-torch failed"
    else
        die "PyTorch is missing: install Debian's python3-torch (apt-get install python3-torch) and run again"
    fi
fi
[ -x "$BIN" ] || die "$BIN is missing: run make first"
[ -e "$DATA_DIR/mnist/train-labels-idx1-ubyte" ] || [ -e "$DATA_DIR/mnist/train-labels-idx1-ubyte.gz" ] ||
    die "MNIST is missing in $DATA_DIR: run make data first"

# Both sides may start threads through OpenMP and OpenBLAS: the same count everywhere.
now() { date +%s.%N; }
median() { sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

# run_pf DATASET ITEMS THREADS -> seconds on stdout (its summary line in $TMPD/pf.out)
run_pf() {
    local t0 t1
    t0=$(now)
    OMP_NUM_THREADS=$3 OPENBLAS_NUM_THREADS=$3 "$BIN" train --dataset "$1" --mode random --subset "$2" \
        --percent 0 --max-epochs 1 --threads "$3" --isa "$ISA" --data-dir "$DATA_DIR" --quiet \
        >"$TMPD/pf.out" 2>"$TMPD/pf.err" || die "poisonfarm train failed: $(cat "$TMPD/pf.err")"
    t1=$(now)
    awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f\n", b - a }'
}

run_torch() {
    local t0 t1
    t0=$(now)
    OMP_NUM_THREADS=$3 OPENBLAS_NUM_THREADS=$3 MKL_NUM_THREADS=$3 "$PY" "$TWIN" "$DATA_DIR" "$1" "$2" "$3" \
        "$PEER_LAYOUT" >"$TMPD/torch.out" 2>"$TMPD/torch.err" || die "twin.py failed: $(tail -3 "$TMPD/torch.err")"
    t1=$(now)
    awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f\n", b - a }'
}

TMPD=$(mktemp -d "${TMPDIR:-/tmp}/pf-peer.XXXXXX")
trap 'rm -rf "$TMPD"' EXIT
mkdir -p output
CSV=output/bench-peer.csv

cpu=$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)
fam=$(awk -F': ' '/^cpu family/ { print $2; exit }' /proc/cpuinfo)
mod=$(awk -F': ' '/^model\t/ { print $2; exit }' /proc/cpuinfo)
tv=$("$PY" -c 'import torch; print(torch.__version__)')
echo "CPU: $cpu (family $fam model $mod); PyTorch $tv ($PEER_LAYOUT); poisonfarm kernels: --isa $ISA"
echo "load average at start: $(cut -d' ' -f1 /proc/loadavg) (figures are meaningful only on an otherwise idle machine)"
echo "whole-process wall time, median of $PAIRS alternating pairs"
printf '  %-8s %7s %7s %12s %12s %8s\n' dataset threads items poisonfarm_s pytorch_s ratio
echo "cpu,dataset,threads,train_items,pairs,poisonfarm_seconds,pytorch_seconds,pytorch_over_poisonfarm,poisonfarm_val_acc,pytorch_val_acc,pytorch_version,pytorch_layout,isa" >"$CSV"

for ds in $DATASETS; do
    if [ "$ds" = mnist ]; then items=0; shown=60000; else items=$CIFAR_ITEMS; shown=$CIFAR_ITEMS; fi
    if [ "$ds" = cifar10 ] && [ ! -e "$DATA_DIR/cifar10/test_batch.bin" ]; then
        echo "  cifar10: not in $DATA_DIR (make data): skipped"
        continue
    fi
    for t in $THREADS; do
        : >"$TMPD/pf.times"
        : >"$TMPD/torch.times"
        for p in $(seq 1 "$PAIRS"); do
            if [ $((p % 2)) = 1 ]; then
                run_pf "$ds" "$items" "$t" >>"$TMPD/pf.times" || exit 2
                run_torch "$ds" "$items" "$t" >>"$TMPD/torch.times" || exit 2
            else
                run_torch "$ds" "$items" "$t" >>"$TMPD/torch.times" || exit 2
                run_pf "$ds" "$items" "$t" >>"$TMPD/pf.times" || exit 2
            fi
        done
        pf=$(median <"$TMPD/pf.times")
        to=$(median <"$TMPD/torch.times")
        ratio=$(awk -v a="$to" -v b="$pf" 'BEGIN { printf "%.3f", a / b }')
        pacc=$(tr ' ' '\n' <"$TMPD/pf.out" | sed -n 's/^best_val_acc=//p')
        tacc=$(tr ' ' '\n' <"$TMPD/torch.out" | sed -n 's/^val_acc=//p')
        isa=$(tr ' ' '\n' <"$TMPD/pf.out" | sed -n 's/^isa=//p')
        printf '  %-8s %7s %7s %12.2f %12.2f %7.2fx\n' "$ds" "$t" "$shown" "$pf" "$to" "$ratio"
        echo "\"$cpu\",$ds,$t,$shown,$PAIRS,$pf,$to,$ratio,$pacc,$tacc,$tv,$PEER_LAYOUT,$isa" >>"$CSV"
    done
done
echo "ratio: PyTorch's time / poisonfarm's (above 1: poisonfarm is faster); wrote $CSV"
