#!/usr/bin/env bash
# slurm/chain.sh -- submits a long poisonfarm grid as a chain of time-limited Slurm jobs.
#
#   slurm/chain.sh N [SBATCH OPTIONS...] [-- JOBFILE [POISONFARM OPTIONS...]]
#   slurm/chain.sh 5 -n 64 --time=12:00:00 -- jobs/seed.cfg -o output/seed.h5
#
# Submits N jobs of slurm/poisonfarm.sbatch, each starting after the previous one has ended
# (--dependency=afterany), all on the same results file: each job resumes where the previous one
# stopped at its time limit. The jobs are submitted with --no-requeue, so the chain is the only
# continuation (the alternative is a single job that requeues itself: see docs/slurm.md). Links
# that start after the grid is complete find nothing to do and end within seconds. Prints the job
# ids, one a line; cancel the rest of a chain with scancel.
set -u
here=$(cd "$(dirname "$0")" && pwd)

usage() {
    echo "usage: $0 N [SBATCH OPTIONS...] [-- JOBFILE [POISONFARM OPTIONS...]]" >&2
    exit 2
}
[ $# -ge 1 ] || usage
n=$1
shift
case "$n" in '' | *[!0-9]*) usage ;; esac
[ "$n" -ge 1 ] || usage

sbatch_opts=()
while [ $# -gt 0 ] && [ "$1" != -- ]; do
    sbatch_opts+=("$1")
    shift
done
[ "${1:-}" = -- ] && shift

# Slurm opens the log file before the script runs; the default one is under output/.
mkdir -p output

prev=
for ((i = 1; i <= n; i++)); do
    dep=()
    [ -n "$prev" ] && dep=(--dependency="afterany:$prev")
    id=$(sbatch --parsable --no-requeue "${dep[@]}" "${sbatch_opts[@]}" "$here/poisonfarm.sbatch" "$@") || {
        echo "chain.sh: sbatch failed for link $i of $n" >&2
        exit 1
    }
    id=${id%%;*}   # --parsable prints "id;cluster" on multi-cluster sites
    echo "$id"
    prev=$id
done
