#!/usr/bin/env bash
# tests/fuzz/run.sh MODE [SECONDS] [SEED] -- the libFuzzer harnesses built by `make fuzz-build` (in
# $FUZZ_BUILD, default build-fuzz):
#   replay   every input of the seed corpora (tests/fuzz/corpus/<harness>/) once
#   run      each harness for SECONDS (default 60) from its seed corpus, with SEED (default: a
#            random one) as libFuzzer's seed; new inputs go to $FUZZ_BUILD/corpus/<harness>, never
#            into the repository
# One cmocka-format line per harness with its figures ("N inputs in T s"); on a crash or a broken
# invariant, libFuzzer's report, the input that caused it ($FUZZ_BUILD/crash-*) and exit 1.
set -u
cd "$(dirname "$0")/../.."
ROOT=$(pwd)
FUZZ_BUILD=${FUZZ_BUILD:-build-fuzz}
case "$FUZZ_BUILD" in /*) ;; *) FUZZ_BUILD=$ROOT/$FUZZ_BUILD ;; esac
mode=${1:-run}
secs=${2:-60}
seed=${3:-0}
HARNESSES="fuzz_idx fuzz_cifar fuzz_job fuzz_results"
# Open MPI and OpenBLAS keep allocations for the life of the process: leaks are not the harnesses'
# subject. Everything else ASan and UBSan find is.
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=0:abort_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
failed=0
for h in $HARNESSES; do
    bin=$FUZZ_BUILD/$h
    seeds=$ROOT/tests/fuzz/corpus/$h   # absolute: a harness may change its directory
    log=$FUZZ_BUILD/$h.log
    if [ ! -x "$bin" ]; then echo "[  FAILED  ] $h: $bin is missing (make fuzz-build)"; failed=1; continue; fi
    if [ "$mode" = replay ]; then
        "$bin" -runs=0 "$seeds" >"$log" 2>&1
    else
        work=$FUZZ_BUILD/corpus/$h
        mkdir -p "$work"
        "$bin" -max_total_time="$secs" -seed="$seed" -timeout=20 -rss_limit_mb=2048 -max_len=8192 \
            -artifact_prefix="$FUZZ_BUILD/" -print_final_stats=1 "$work" "$seeds" >"$log" 2>&1
    fi
    rc=$?
    runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
    [ -n "$runs" ] || runs=$(sed -n 's/^Done \([0-9]*\) runs.*/\1/p' "$log" | tail -1)
    took=$(sed -n 's/.*Done [0-9]* runs in \([0-9]*\) second.*/\1/p' "$log" | tail -1)
    corpus=$(ls "$seeds" | wc -l)
    [ "$mode" = replay ] || corpus="$(ls "$FUZZ_BUILD/corpus/$h" | wc -l) (from $corpus seeds)"
    if [ $rc -eq 0 ]; then
        echo "[       OK ] $h: ${runs:-?} inputs in ${took:-?} s, corpus $corpus, $mode$([ "$mode" = run ] && echo " (seed $seed)")"
    else
        echo "[  FAILED  ] $h: exit $rc after ${runs:-?} inputs ($mode, seed $seed); the report:"
        grep -v '^#[0-9]' "$log" | tail -n 40 | sed 's/^/    /'
        failed=1
    fi
done
exit $failed
