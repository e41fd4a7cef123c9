#!/usr/bin/env bash
# tests/integ/noise.sh -- the noise models and the detection measures end to end under mpirun: every
# mode on a tiny grid gives the same file on 1 and 2 ranks; the realised noise (transitions.csv) is
# what each mode defines; the detection columns and suspects are there; mode file with the shipped
# example labels (its hash, its realised noise, refusals with file and line, a changed file refused
# on resume); the example file is what scripts/example-labels.sh makes.
source "$(dirname "$0")/../lib.sh"
cd "$ROOT"
if [ ! -f "$DATA_DIR/mnist/train-labels-idx1-ubyte" ] && [ ! -f "$DATA_DIR/mnist/train-labels-idx1-ubyte.gz" ]; then
    skip noise "no MNIST in $DATA_DIR (run make data)"
    exit 0
fi
EXAMPLE=jobs/labels/mnist-1000-annotator.txt

# The first n MNIST training labels, one per line.
mnist_labels() {
    local f="$DATA_DIR/mnist/train-labels-idx1-ubyte"
    { if [ -f "$f" ]; then cat "$f"; else gzip -dc "$f.gz"; fi; } |
        od -An -v -tu1 -j8 -N"$1" | tr -s ' \n' '\n\n' | sed '/^$/d'
}

cat >"$TMP/modes.cfg" <<'EOF'
datasets = ["mnist"];
modes    = ["random", "biased", "first_wrong", "pairflip", "asymmetric"];
subsets  = [200];
percents = [0, 50];
batch_sizes = [64];
max_epochs = 2;
validation_items = 300;
seed = 1;
EOF
for np in 1 2; do
    cmd="mpirun -q --oversubscribe -np $np $BIN run $TMP/modes.cfg -o $TMP/modes$np.h5 --quiet"
    $cmd >"$TMP/modes$np.log" 2>&1
    rc=$?
    if [ $rc -eq 0 ] && [ "$(pf_count_done "$TMP/modes$np.h5")" -eq 10 ]; then pass "noise_modes_np${np}_run"; else
        fail "noise_modes_np${np}_run" "exit $rc; rerun: $cmd" "$(tail -5 "$TMP/modes$np.log")"; fi
done
pf_metrics "$TMP/modes1.h5" >"$TMP/m1"
pf_metrics "$TMP/modes2.h5" >"$TMP/m2"
if [ -s "$TMP/m1" ] && cmp -s "$TMP/m1" "$TMP/m2" && grep -q 'transitions' "$TMP/m1" && grep -q 'suspects' "$TMP/m1"; then
    pass noise_modes_same_on_1_and_2_ranks; else
    fail noise_modes_same_on_1_and_2_ranks "the metrics, transitions or suspects differ between 1 and 2 ranks" \
        "$(diff "$TMP/m1" "$TMP/m2" | head -10)"; fi

dump=$(h5dump -H "$TMP/modes2.h5" 2>&1)
if grep -q 'DATASET "transitions"' <<<"$dump" && grep -q 'DATASET "suspects"' <<<"$dump" &&
   grep -q '"detect_auroc"' <<<"$dump" && grep -q '"noise_rate"' <<<"$dump" && grep -q '"pairflip"' <<<"$dump" &&
   grep -q '"label_file"' <<<"$dump"; then pass noise_h5dump_layout; else
    fail noise_h5dump_layout "h5dump -H $TMP/modes2.h5 lacks /transitions, /suspects or the new columns"; fi

$BIN report "$TMP/modes2.h5" -o "$TMP/rep" --quiet >"$TMP/rep.log" 2>&1 || fail noise_report "$(cat "$TMP/rep.log")"
R=$TMP/rep
# results.csv by column name: mode, percent, n_train, n_poisoned, noise_rate, detect_auroc.
awk -F, 'NR == 1 { for (i = 1; i <= NF; i++) h[$i] = i; next }
         { print $h["id"], $h["mode"], $h["percent"], $h["n_train"], $h["n_poisoned"], $h["noise_rate"], $h["detect_auroc"] }' \
    "$R/results.csv" >"$TMP/rows"
bad=$(awk '{
    if ($3 == 0) { if ($5 != 0 || $6 != 0 || $7 != "") print "clean row", $0; next }
    if ($2 == "asymmetric") { if (!($5 > 0 && $5 < 100)) print "asymmetric count", $0 }
    else if ($5 != 100) print "count", $0
    if ($6 != $5 / $4) print "rate", $0
    if ($7 == "" || $7 < 0 || $7 > 1) print "auroc", $0
}' "$TMP/rows")
if [ -z "$bad" ] && [ "$(wc -l <"$TMP/rows")" -eq 10 ]; then pass noise_counts_rates_auroc; else
    fail noise_counts_rates_auroc "results.csv: n_poisoned 100 at 50 % (asymmetric fewer), noise_rate = n_poisoned / n_train, AUROC in [0, 1] where poisoned" "$bad"; fi

# A configuration replayed alone reproduces its stored row, detection columns included (the farm
# fills them as the trainer computed them).
line=$($BIN train --from "$TMP/modes2.h5" --id 7 --quiet 2>&1 | tail -1)
if grep -q 'mode=pairflip' <<<"$line" && grep -q 'matches_stored=1' <<<"$line" && grep -q 'detect_auroc=0\.' <<<"$line"; then
    pass noise_replay_matches_stored; else
    fail noise_replay_matches_stored "rerun: $BIN train --from $TMP/modes2.h5 --id 7" "$line"; fi

# The realised noise is the mode's: pairflip moves y to y+1 only, asymmetric along MNIST's table only.
id_of() { awk -v m="$1" -v p="$2" '$2 == m && $3 == p { print $1 }' "$TMP/rows"; }
pf=$(id_of pairflip 50); as=$(id_of asymmetric 50)
bad=$(awk -F, -v pf="$pf" -v as="$as" 'NR > 1 && $2 != $3 {
    if ($1 == pf) { moved += $4; if ($3 != ($2 + 1) % 10) print "pairflip", $0 }
    else if ($1 == as) { if (!(($2 == 2 && $3 == 7) || ($2 == 3 && $3 == 8) || ($2 == 5 && $3 == 6) || ($2 == 6 && $3 == 5) || ($2 == 7 && $3 == 1))) print "asymmetric", $0 }
} END { if (moved != 100) print "pairflip moved", moved }' "$R/transitions.csv")
if [ -z "$bad" ] && [ -n "$pf" ] && [ -n "$as" ]; then pass noise_transitions_follow_the_modes; else
    fail noise_transitions_follow_the_modes "transitions.csv of configurations $pf (pairflip) and $as (asymmetric)" "$bad"; fi

# 100 suspects per configuration, ranks 1..100, items of the 200 used, scores ascending.
bad=$(awk -F, 'NR > 1 {
    n[$1]++; if ($2 != n[$1]) print "rank", $0
    if ($3 < 0 || $3 >= 200) print "item", $0
    if (n[$1] > 1 && $8 < last[$1]) print "order", $0
    last[$1] = $8
} END { for (i in n) if (n[i] != 100) print "config", i, n[i]; if (length(n) != 10) print "configs", length(n) }' "$R/suspects.csv")
if [ -z "$bad" ]; then pass noise_suspects_listed; else fail noise_suspects_listed "suspects.csv" "$bad"; fi
if grep -q '^## Finding the poisoned items' "$R/summary.md" && grep -q '| mnist | pairflip | 50 % | 50.0 % |' "$R/summary.md" &&
   [ -f "$R/detection_200.gp" ] && grep -q 'detection_200' "$R/summary.md"; then pass noise_report_detection; else
    fail noise_report_detection "summary.md or detection_200 missing in $R"; fi

# Mode file on the shipped example labels: 100 % gives the file's labels throughout.
cat >"$TMP/file.cfg" <<EOF
datasets = ["mnist"];
modes = ["file"];
subsets = [200];
percents = [100];
label_file = "$EXAMPLE";
batch_sizes = [64];
max_epochs = 1;
validation_items = 300;
EOF
mpirun -q -np 2 $BIN run "$TMP/file.cfg" -o "$TMP/file.h5" --quiet >"$TMP/file.log" 2>&1
rc=$?
differ=$(paste <(mnist_labels 200) <(grep -v '^#' "$EXAMPLE" | head -200) | awk '$1 != $2 { n++ } END { print n + 0 }')
$BIN report "$TMP/file.h5" -o "$TMP/frep" --quiet >/dev/null 2>&1
got=$(awk -F, 'NR == 1 { for (i = 1; i <= NF; i++) h[$i] = i; next } { print $h["n_poisoned"] }' "$TMP/frep/results.csv" 2>/dev/null)
if [ $rc -eq 0 ] && [ "$differ" -gt 10 ] && [ "$got" = "$differ" ]; then pass noise_file_mode_realised; else
    fail noise_file_mode_realised "exit $rc; the file differs from MNIST in $differ of the first 200 labels, the run changed '$got'" \
        "$(tail -3 "$TMP/file.log")"; fi
# Its hash: the first 64 bits of the file's SHA-256, in /configs and in poisonfarm train's output.
want=$(sha256sum "$EXAMPLE" | cut -c1-16)
stored=$(h5dump -d /configs "$TMP/file.h5" | grep -A1 "\"$EXAMPLE\"" | tail -1 | tr -dc '0-9')
line=$($BIN train --dataset mnist --mode file --label-file "$EXAMPLE" --subset 200 --percent 100 --max-epochs 1 \
    --batch-size 64 --validation-items 300 2>&1)
if [ -n "$stored" ] && [ "$(printf '%016x' "$stored")" = "$want" ] && grep -q "SHA-256 $want" <<<"$line" &&
   grep -q "n_poisoned=$differ " <<<"$line"; then pass noise_file_hash; else
    fail noise_file_hash "expected $want in /configs ($stored) and in poisonfarm train's output" "$(head -3 <<<"$line")"; fi

# Refusals: too short for the items used, a label beyond the classes (one line with file and line,
# exit 2, no results file); a label file changed since the results file was made.
sed 's/^subsets = \[200\];/subsets = [2000];/' "$TMP/file.cfg" >"$TMP/short.cfg"
out=$(mpirun -q -np 2 $BIN run "$TMP/short.cfg" -o "$TMP/short.h5" 2>&1)
rc=$?
if [ $rc -eq 2 ] && [ ! -e "$TMP/short.h5" ] && [ "$(grep -c . <<<"$out")" -eq 1 ] &&
   grep -q "$EXAMPLE:1004: the file ends after 1000 labels, but 2000 training items are used" <<<"$out"; then
    pass noise_file_too_short_refused; else
    fail noise_file_too_short_refused "exit $rc (want 2), one line naming $EXAMPLE:1004" "$out"; fi
{ head -5 "$EXAMPLE"; echo 12; tail -n +7 "$EXAMPLE"; } >"$TMP/labels.txt"
sed "s|$EXAMPLE|$TMP/labels.txt|" "$TMP/file.cfg" >"$TMP/bad.cfg"
out=$(mpirun -q -np 2 $BIN run "$TMP/bad.cfg" -o "$TMP/bad.h5" 2>&1)
rc=$?
if [ $rc -eq 2 ] && [ ! -e "$TMP/bad.h5" ] && grep -q "labels.txt:6: label 12 is outside 0..9 (10 classes)" <<<"$out"; then
    pass noise_file_bad_label_refused; else fail noise_file_bad_label_refused "exit $rc" "$out"; fi
cp "$EXAMPLE" "$TMP/labels.txt"
sed "s|$EXAMPLE|$TMP/labels.txt|" "$TMP/file.cfg" >"$TMP/mine.cfg"
mpirun -q -np 1 $BIN run "$TMP/mine.cfg" -o "$TMP/mine.h5" --quiet >/dev/null 2>&1
sed -i '10s/.*/0/' "$TMP/labels.txt"
out=$(mpirun -q -np 1 $BIN run "$TMP/mine.cfg" -o "$TMP/mine.h5" 2>&1)
rc=$?
if [ $rc -eq 2 ] && grep -q 'holds results of another grid or other data' <<<"$out"; then pass noise_file_changed_refused; else
    fail noise_file_changed_refused "exit $rc: a changed label file must not resume the old results" "$out"; fi

# The shipped example is the generator's output.
if bash scripts/example-labels.sh "$DATA_DIR" >"$TMP/example.txt" 2>"$TMP/example.err" && cmp -s "$TMP/example.txt" "$EXAMPLE"; then
    pass noise_example_file_regenerates; else
    fail noise_example_file_regenerates "bash scripts/example-labels.sh differs from $EXAMPLE" "$(cat "$TMP/example.err")"; fi
