#!/usr/bin/env bash
# tests/integ/concurrency.sh -- two runs of grid X and a --force run of grid Y (which stops after two
# configurations) started together on one output, 20 times: 10 times on a new output, 10 times on
# a partly done file of X. Every outcome is checked: each run either works (X: exit 0; Y: exit 4,
# stopped with configurations pending) or refuses in one line (exit 2: the lock is held, or the
# file holds another grid); at least one works; the file at the end is one grid's, with every done
# row equal to that row of the grid's uninterrupted run (X's complete, Y's two rows done); every
# file --force moved aside is still there with X's rows only; no lock and no temporary file is
# left. Whatever order the three take the lock in, these hold: the test does not depend on timing.
source "$(dirname "$0")/../lib.sh"
cd "$ROOT" || exit 1
pf_need_mnist concurrency || exit 0
REPS=${PF_CONCURRENCY_REPS:-20}
# X loads more data than Y (and CIFAR-10 when it is there), so Y often does all its work while an X
# run is still loading: the interleaving that once let X resume Y's file with its own rows.
xds='"mnist", "fashion_mnist"'
[ -e "$DATA_DIR/cifar10/test_batch.bin" ] && xds="$xds, \"cifar10\""
cat >"$TMP/X.cfg" <<CFG
datasets = [$xds]; modes = ["random"]; subsets = [10]; percents = [0, 50];
max_epochs = 1; validation_items = 10; batch_sizes = [10];
CFG
cat >"$TMP/Y.cfg" <<'CFG'
datasets = ["mnist"]; modes = ["random"]; subsets = [10]; percents = [0, 20, 40, 60, 80, 100];
max_epochs = 1; validation_items = 10; batch_sizes = [10];
CFG

# The /results columns of each row that do not depend on time, rank or host, one line per row.
rows_of() {
    pf_metrics "$1" | awk '$1 ~ /^\([0-9]+\):$/ { r[$1] = r[$1] " " $3 } END { for (k in r) print k r[k] }' | sort
}
configs_of() { h5dump -d /configs "$1" 2>/dev/null | sed -n '/DATA {/,$p'; }

"$BIN" run "$TMP/X.cfg" -o "$TMP/refX.h5" --quiet >/dev/null 2>&1
"$BIN" run "$TMP/Y.cfg" -o "$TMP/refY.h5" --quiet >/dev/null 2>&1
"$BIN" run "$TMP/X.cfg" -o "$TMP/partX.h5" --stop-after 1 --quiet >/dev/null 2>&1
for g in X Y; do
    rows_of "$TMP/ref$g.h5" >"$TMP/rows$g"
    configs_of "$TMP/ref$g.h5" >"$TMP/cfg$g"
done
if [ "$(pf_count_done "$TMP/refX.h5")" -lt 4 ] || [ "$(pf_count_done "$TMP/refY.h5")" -ne 6 ] ||
   [ "$(pf_count_done "$TMP/partX.h5")" -ne 1 ]; then
    fail concurrency_references "could not make the reference files ($BIN run $TMP/X.cfg / $TMP/Y.cfg)"
    exit 0
fi

# grid_of FILE: X or Y by its /configs, "?" otherwise.
grid_of() {
    configs_of "$1" >"$TMP/cfg.now"
    if cmp -s "$TMP/cfg.now" "$TMP/cfgX"; then echo X; elif cmp -s "$TMP/cfg.now" "$TMP/cfgY"; then echo Y; else echo '?'; fi
}
# rows_fit FILE GRID: every done row of FILE equals that row of GRID's uninterrupted run.
rows_fit() {
    rows_of "$1" | awk '$2 == "done,"' >"$TMP/rows.now"
    [ -z "$(comm -23 "$TMP/rows.now" "$TMP/rows$2")" ]
}

bad=0 outcomes=""
for rep in $(seq 1 "$REPS"); do
    d=$TMP/rep$rep; mkdir -p "$d"; out=$d/r.h5
    kind=new
    if [ $((rep % 2)) -eq 0 ]; then cp "$TMP/partX.h5" "$out"; kind=partial; fi
    "$BIN" run "$TMP/X.cfg" -o "$out" --quiet >"$d/x1.out" 2>"$d/x1.err" &
    p1=$!
    "$BIN" run "$TMP/X.cfg" -o "$out" --quiet >"$d/x2.out" 2>"$d/x2.err" &
    p2=$!
    "$BIN" run "$TMP/Y.cfg" -o "$out" --force --stop-after 2 --quiet >"$d/y.out" 2>"$d/y.err" &
    p3=$!
    wait $p1; r1=$?; wait $p2; r2=$?; wait $p3; r3=$?
    why=""
    worked=0
    for run in x1:$r1 x2:$r2 y:$r3; do
        n=${run%%:*} rc=${run#*:}
        grep -v '^poisonfarm: --force: moved ' "$d/$n.err" | grep -v '^poisonfarm: removed .*did not finish$' >"$d/$n.refusal"
        if { [ "$n" != y ] && [ "$rc" -eq 0 ]; } || { [ "$n" = y ] && [ "$rc" -eq 4 ]; }; then
            worked=$((worked + 1))
        elif [ "$rc" -ne 2 ] || [ "$(grep -c . "$d/$n.refusal")" -ne 1 ] ||
             ! grep -qE 'in use by another run|holds results of another grid' "$d/$n.refusal"; then
            why="$why; run $n: exit $rc: $(head -c 300 "$d/$n.err")"
        fi
    done
    [ $worked -ge 1 ] || why="$why; no run worked"
    g=$(grid_of "$out")
    if [ "$g" = '?' ]; then why="$why; the file holds neither grid's /configs"
    else
        want=$([ "$g" = X ] && wc -l <"$TMP/rowsX" || echo 2)
        if [ "$(pf_count_done "$out")" -ne "$want" ] || ! rows_fit "$out" "$g"; then
            why="$why; the $g file has $(pf_count_done "$out") rows done (want $want) or rows of the other grid"
        fi
    fi
    moved=$(sed -n 's/^poisonfarm: --force: moved .* to //p' "$d/y.err")
    for m in $moved; do
        if [ ! -f "$m" ]; then why="$why; moved file $m is gone"
        elif [ "$(grid_of "$m")" != X ] || ! rows_fit "$m" X; then why="$why; moved file $m is not X's"
        fi
    done
    nmoved=$(ls "$d" | grep -c '\.moved-' || true)
    nmoved_files=$(ls "$d" | grep '\.moved-' | grep -vc '\.ckpt-' || true)
    [ "$nmoved_files" -eq "$(echo "$moved" | grep -c .)" ] || why="$why; $nmoved_files moved files for $(echo "$moved" | grep -c .) moves"
    ls "$d" | grep -qE '\.lock$|\.creating-' && why="$why; left: $(ls "$d" | grep -E '\.lock$|\.creating-' | tr '\n' ' ')"
    outcomes="$outcomes $kind:$r1$r2$r3:$g"
    if [ -n "$why" ]; then
        bad=$((bad + 1))
        echo "    rep $rep ($kind output): exits $r1 $r2 $r3, file of grid $g$why"
    fi
done
if [ $bad -eq 0 ]; then pass "concurrent_runs_${REPS}_times"; else
    fail "concurrent_runs_${REPS}_times" "$bad of $REPS repetitions went wrong (see above); outcomes (kind:exits:grid):$outcomes"; fi
echo "    outcomes (kind:exits x1 x2 y:grid at the end):$outcomes"
