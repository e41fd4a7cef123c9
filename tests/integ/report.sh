#!/usr/bin/env bash
# tests/integ/report.sh -- `poisonfarm report` on real results files made by the smoke job: CSV rows
# against h5dump, valid PNG and SVG, summary.md rows, a partial file, no gnuplot, bad input.
source "$(dirname "$0")/../lib.sh"

# Bad input: one line on stderr, exit 2, nothing written.
bad_input() { # name, expected message part, args...
    local name=$1 want=$2; shift 2
    local err rc
    err=$("$BIN" report "$@" -o "$TMP/bad" 2>&1 >/dev/null); rc=$?
    if [ "$rc" -eq 2 ] && [ "$(printf '%s\n' "$err" | wc -l)" -eq 1 ] && [[ "$err" == *"$want"* ]] \
        && [ ! -e "$TMP/bad" ]; then
        pass "$name"
    else
        fail "$name" "rc=$rc stderr: $err" "rerun: $BIN report $* -o $TMP/bad"
    fi
}
bad_input report_missing_file "no such results file" "$TMP/none.h5"
echo "not hdf5" >"$TMP/junk.h5"
bad_input report_not_hdf5 "junk.h5" "$TMP/junk.h5"
bad_input report_no_argument "which results file"
check report_help_exit_0 bash -c "\"$BIN\" report --help | grep -q usage:"

# A real results file from the smoke job (the run command must work).
run_out=$("$BIN" run jobs/smoke.cfg -o "$TMP/r.h5" --quiet 2>&1); run_rc=$?
if [ "$run_rc" -ne 0 ] && [[ "$run_out" == *"not implemented"* ]]; then
    skip report_smoke_file "'poisonfarm run' is not implemented yet"
    exit 0
fi
if [ "$run_rc" -ne 0 ]; then
    fail report_smoke_file "run failed (rc=$run_rc): $run_out" \
        "rerun: $BIN run jobs/smoke.cfg -o $TMP/r.h5"
    exit 0
fi

out=$("$BIN" report "$TMP/r.h5" -o "$TMP/rep" 2>&1); rc=$?
check report_exit_0 test "$rc" -eq 0
check report_prints_where_pictures_are grep -q "figures (PNG and SVG) in $TMP/rep" <<<"$out"

# results.csv: a header and one row per configuration, every one done, values as in the file.
n=$(tail -n +2 "$TMP/rep/results.csv" | wc -l)
nh5=$(h5dump -H -d /configs "$TMP/r.h5" | grep -o 'DATASPACE  SIMPLE { ( [0-9]*' | grep -o '[0-9]*$')
check report_csv_one_row_per_config test "$n" -eq "$nh5" -a "$n" -gt 0
check report_csv_all_done test "$(cut -d, -f14 "$TMP/rep/results.csv" | tail -n +2 | sort -u)" = done
# Every best_val_acc of the CSV is one of the numbers h5dump prints for /results (17 digits).
h5dump -m '%.17g' -d /results "$TMP/r.h5" | grep -oE '[-0-9.e+]+' >"$TMP/h5nums"
csv_ok=1
for v in $(tail -n +2 "$TMP/rep/results.csv" | cut -d, -f16); do
    awk -v v="$v" 'BEGIN{f=0} { if ($1 + 0 == v + 0) f=1 } END{exit !f}' "$TMP/h5nums" || csv_ok=0
    awk -v v="$v" 'BEGIN{exit !(v > 0 && v <= 1)}' || csv_ok=0
done
check report_csv_matches_h5dump test "$csv_ok" -eq 1
check report_history_rows test "$(tail -n +2 "$TMP/rep/history.csv" | wc -l)" -gt 0

# Pictures: PNG signature and IHDR size, SVG header.
png_ok() {
    [ "$(head -c 8 "$1" | od -An -tx1 | tr -d ' \n')" = 89504e470d0a1a0a ] || return 1
    [ "$(head -c 24 "$1" | tail -c 8 | od -An -tx1 | tr -d ' \n')" = 000003e80000026c ]
}
svg_ok() { head -c 5 "$1" | grep -qE '^(<\?xml|<svg)'; }
check report_png_accuracy png_ok "$TMP/rep/accuracy_200.png"
check report_png_curves png_ok "$TMP/rep/curves_mnist_random_200.png"
check report_svg_accuracy svg_ok "$TMP/rep/accuracy_200.svg"
check report_summary_rows grep -q '^| mnist | random | [0-9.]* % |' "$TMP/rep/summary.md"
check report_summary_capped grep -q 'Capped epochs' "$TMP/rep/summary.md"
# The scripts rerun by hand.
rm -f "$TMP/rep/accuracy_200.png"
check report_gp_reruns bash -c "cd '$TMP/rep' && gnuplot accuracy_200.gp && test -s accuracy_200.png"

# Without gnuplot: everything but the pictures, and a line saying what to install.
out=$(POISONFARM_GNUPLOT=/nonexistent "$BIN" report "$TMP/r.h5" -o "$TMP/nognu" 2>&1); rc=$?
check report_nognuplot_exit_0 test "$rc" -eq 0
check report_nognuplot_says_so grep -q gnuplot-nox <<<"$out"
check report_nognuplot_scripts test -s "$TMP/nognu/accuracy_200.gp" -a -s "$TMP/nognu/summary.md" \
    -a ! -e "$TMP/nognu/accuracy_200.png"

# A partial file: stopped after one configuration.
"$BIN" run jobs/smoke.cfg -o "$TMP/p.h5" --quiet --stop-after 1 >/dev/null 2>&1
out=$("$BIN" report "$TMP/p.h5" -o "$TMP/part" 2>&1); rc=$?
check report_partial_exit_0 test "$rc" -eq 0
check report_partial_says_missing grep -q 'missing' <<<"$out"
check report_partial_summary grep -q 'Partial results' "$TMP/part/summary.md"
