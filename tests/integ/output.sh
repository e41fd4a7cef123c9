#!/usr/bin/env bash
# tests/integ/output.sh -- the results file's path and its neighbours: a 400-character output path
# under mpirun, names of moved-aside files that never replace one another.
source "$(dirname "$0")/../lib.sh"
cd "$ROOT" || exit 1
if [ ! -f "$DATA_DIR/mnist/t10k-labels-idx1-ubyte" ] && [ ! -f "$DATA_DIR/mnist/t10k-labels-idx1-ubyte.gz" ]; then
    skip output "no MNIST in $DATA_DIR (run make data)"
    exit 0
fi
cat >"$TMP/a.cfg" <<'CFG'
datasets = ["mnist"]; modes = ["random"]; subsets = [20]; percents = [0, 50];
max_epochs = 1; validation_items = 20; batch_sizes = [10];
CFG
cat >"$TMP/b.cfg" <<'CFG'
datasets = ["mnist"]; modes = ["biased"]; subsets = [20]; percents = [0, 50];
max_epochs = 1; validation_items = 20; batch_sizes = [10];
CFG

# --- a 400-character output path under mpirun (Open MPI's sharedfp/lockedfile overflowed at ~245) ---
dir=$TMP/$(printf 'd%.0s' $(seq 1 120))/$(printf 'e%.0s' $(seq 1 120))
name=$(printf 'f%.0s' $(seq 1 $((400 - ${#dir} - 1 - 3))))
out=$dir/$name.h5   # exactly 400 characters
mkdir -p "$(dirname "$out")"
pf_mpirun 2 "$BIN" run "$TMP/a.cfg" -o "$out" --quiet >"$TMP/long.log" 2>&1
rc=$?
if [ ${#out} -eq 400 ] && [ $rc -eq 0 ] && [ "$(pf_count_done "$out")" -eq 2 ] && [ ! -e "$out.lock" ]; then
    pass long_output_path_under_mpirun; else
    fail long_output_path_under_mpirun "path of ${#out} characters: exit $rc, $(pf_count_done "$out") done, lock left: $([ -e "$out.lock" ] && echo yes || echo no)" \
        "rerun: mpirun -np 2 $BIN run $TMP/a.cfg -o <400 characters>" "$(grep -v '^$' "$TMP/long.log" | head -5)"
fi

# --- moved-aside files: --force twice in a row, and decoys with the names of the old scheme ---
"$BIN" run "$TMP/a.cfg" -o "$TMP/m.h5" --quiet >/dev/null 2>&1
sum_a=$(md5sum <"$TMP/m.h5")
now=$(date +%s)
for s in 0 1 2 3 4 5 6 7 8 9; do
    echo decoy >"$TMP/m.h5.moved-$(date -d "@$((now + s))" +%Y%m%d-%H%M%S)"
done
"$BIN" run "$TMP/b.cfg" -o "$TMP/m.h5" --force --quiet >"$TMP/f1.log" 2>&1
sum_b=$(md5sum <"$TMP/m.h5")
"$BIN" run "$TMP/a.cfg" -o "$TMP/m.h5" --force --quiet >"$TMP/f2.log" 2>&1
decoys=$(grep -lx decoy "$TMP"/m.h5.moved-* 2>/dev/null | wc -l)
m1=$(sed -n 's/^poisonfarm: --force: moved .* to //p' "$TMP/f1.log")
m2=$(sed -n 's/^poisonfarm: --force: moved .* to //p' "$TMP/f2.log")
if [ "$decoys" -eq 10 ] && [ -n "$m1" ] && [ -n "$m2" ] && [ "$m1" != "$m2" ] &&
   [ "$(md5sum <"$m1")" = "$sum_a" ] && [ "$(md5sum <"$m2")" = "$sum_b" ]; then
    pass moved_aside_never_replaced; else
    fail moved_aside_never_replaced "$decoys of 10 decoys left; moved to '$m1' and '$m2'" "$(cat "$TMP/f1.log" "$TMP/f2.log")"
fi
