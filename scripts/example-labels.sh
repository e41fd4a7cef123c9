#!/usr/bin/env bash
# scripts/example-labels.sh [DATA_DIR] -- writes the example label file of the poisoning mode
# `file` (docs/poisoning.md) to standard output: labels for MNIST's first 1000 training items, in
# the training set's order, as a simulated annotator would give them. The annotator confuses about
# one image in five with a look-alike digit (0 -> 6, 1 -> 7, 2 -> 7, 3 -> 5, 4 -> 9, 5 -> 3,
# 6 -> 0, 7 -> 1, 8 -> 3, 9 -> 4) and labels the rest correctly; which images is decided by a
# fixed Park-Miller generator (seed 2024), so the output never changes. Synthetic noise for tests
# and examples, not real human annotations. The shipped file jobs/labels/mnist-1000-annotator.txt
# is this script's output: `bash scripts/example-labels.sh > jobs/labels/mnist-1000-annotator.txt`.
set -euo pipefail
dir=${1:-data}/mnist
if [ -f "$dir/train-labels-idx1-ubyte" ]; then
    read_labels() { cat "$dir/train-labels-idx1-ubyte"; }
elif [ -f "$dir/train-labels-idx1-ubyte.gz" ]; then
    read_labels() { gzip -dc "$dir/train-labels-idx1-ubyte.gz"; }
else
    echo "example-labels.sh: no MNIST training labels in $dir (run make data)" >&2
    exit 2
fi
echo "# poisonfarm example label file (mode file, docs/poisoning.md): MNIST, first 1000 training items."
echo "# One label per line, in the training set's order. A simulated annotator: about one image in"
echo "# five labelled as a look-alike digit. Made by scripts/example-labels.sh; not human annotations."
# IDX labels: an 8-byte header, then one byte per item.
read_labels | od -An -v -tu1 -j8 -N1000 | tr -s ' \n' '\n\n' | sed '/^$/d' | awk '
    BEGIN { split("6 7 7 5 9 3 0 1 3 4", look); x = 2024 }
    {
        x = (x * 16807) % 2147483647          # exact in awk doubles: 16807 * 2^31 < 2^53
        if (x % 5 == 0) print look[$1 + 1]; else print $1
    }'
