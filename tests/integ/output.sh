#!/usr/bin/env bash
# tests/integ/output.sh -- the results file's path and its neighbours: a 400-character output path
# under mpirun, names of moved-aside files that never replace one another.
source "$(dirname "$0")/../lib.sh"
cd "$ROOT" || exit 1
pf_need_mnist output || exit 0
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

# --- a temporary file left by a killed creation: recognised by its name, removed with a note ---
tmpname="$TMP/t.h5.creating-0123456789abcdef0123456789abcdef"
echo "half a file" >"$tmpname"
echo "not ours" >"$TMP/t.h5.creating-notes"
"$BIN" run "$TMP/a.cfg" -o "$TMP/t.h5" --quiet >"$TMP/t.log" 2>&1
rc=$?
if [ $rc -eq 0 ] && [ ! -e "$tmpname" ] && [ -e "$TMP/t.h5.creating-notes" ] &&
   grep -q "^poisonfarm: removed $tmpname, left by a creation of $TMP/t.h5 that did not finish$" "$TMP/t.log"; then
    pass leftover_creation_removed_with_note; else
    fail leftover_creation_removed_with_note "exit $rc, leftover $( [ -e "$tmpname" ] && echo still there || echo gone)" "$(cat "$TMP/t.log")"
fi

# --- a truncated results file (4 KiB, what a failed creation once left): refused with the way out,
# and moved aside by --force ---
head -c 4096 "$TMP/t.h5" >"$TMP/trunc.h5"
"$BIN" run "$TMP/a.cfg" -o "$TMP/trunc.h5" --quiet >"$TMP/tr1.log" 2>&1
rc1=$?
"$BIN" run "$TMP/a.cfg" -o "$TMP/trunc.h5" --force --quiet >"$TMP/tr2.log" 2>&1
rc2=$?
moved=$(sed -n 's/^poisonfarm: --force: moved .* to //p' "$TMP/tr2.log")
if [ $rc1 -eq 2 ] && grep -q "trunc.h5: .*--force to move it aside" "$TMP/tr1.log" && [ $rc2 -eq 0 ] &&
   [ -n "$moved" ] && [ "$(stat -c %s "$moved")" -eq 4096 ] && [ "$(pf_count_done "$TMP/trunc.h5")" -eq 2 ]; then
    pass truncated_file_force_moves_aside; else
    fail truncated_file_force_moves_aside "exits $rc1 (want 2) then $rc2 (want 0), moved to '$moved'" "$(cat "$TMP/tr1.log" "$TMP/tr2.log")"
fi

# --- sizes: grid prints the results file's size, an upper bound of the file a run makes ---
"$BIN" grid "$TMP/a.cfg" >"$TMP/grid.out" 2>&1
est=$(sed -n 's/^results file: about \([0-9.]*\) KB .*/\1/p' "$TMP/grid.out")
real=$(stat -c %s "$TMP/t.h5")
if [ -n "$est" ] && awk -v e="$est" -v r="$real" 'BEGIN { exit !(e * 1000 >= r && e * 1000 <= 3 * r) }'; then
    pass grid_prints_file_size; else
    fail grid_prints_file_size "estimate '$est KB', the file has $real bytes" "$(tail -3 "$TMP/grid.out")"
fi

# --- a grid whose file cannot fit: 10^6 configurations x 100000 epochs, about 4.8 TB of /history ---
{
    printf 'datasets = ["mnist"]; modes = ["random", "biased", "first_wrong", "pairflip", "asymmetric"];\n'
    printf 'subsets = [100]; repeats = 1000; max_epochs = 100000; validation_items = 100;\npercents = ['
    for i in $(seq 0 199); do printf '%s%d.%d' "$([ $i -gt 0 ] && echo ', ')" $((i / 2)) $((i % 2 * 5)); done
    printf '];\n'
} >"$TMP/huge.cfg"
"$BIN" run "$TMP/huge.cfg" -o "$TMP/huge.h5" >"$TMP/huge.out" 2>"$TMP/huge.err"
rc=$?
if [ $rc -eq 2 ] && [ "$(grep -c . "$TMP/huge.err")" -eq 1 ] &&
   grep -q "no space for the results file huge.h5: it needs about 4.[0-9] TB" "$TMP/huge.err" &&
   [ ! -e "$TMP/huge.h5" ] && [ ! -e "$TMP/huge.h5.lock" ]; then
    pass oversized_grid_refused; else
    fail oversized_grid_refused "exit $rc" "$(cat "$TMP/huge.err")"
fi
