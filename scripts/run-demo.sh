#!/usr/bin/env bash
# scripts/run-demo.sh -- `make run`: the quick demo job on NP ranks, then its report.
# Running it again resumes (or, when complete, only redraws the report). A results file left by an
# older demo grid or an older poisonfarm is moved aside (--force), with a note, not refused.
set -u
cd "$(dirname "$0")/.."
NP=${NP:-2}
BIN=${BIN:-./poisonfarm}
case "$BIN" in */*) ;; *) BIN=./$BIN ;; esac
JOB=${JOB:-jobs/quick.cfg}
OUT=${OUT:-output/quick.h5}
MPIRUN=(mpirun -q -np "$NP")
if [ "$(id -u)" = 0 ]; then
    export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
fi
# More ranks than cores is allowed for the demo (the ranks then share cores).
if [ "$NP" -gt "$(nproc)" ]; then MPIRUN+=(--oversubscribe); fi

echo "make run: ${MPIRUN[*]} $BIN run $JOB -o $OUT --force"
"${MPIRUN[@]}" "$BIN" run "$JOB" -o "$OUT" --force
rc=$?
case $rc in
    0) ;;
    3) echo "make run: some configurations failed or diverged (see $OUT); reporting the rest" ;;
    4) echo "make run: stopped early; run 'make run' again to resume"; exit 4 ;;
    *) exit $rc ;;
esac
"$BIN" report "$OUT" || exit $?
