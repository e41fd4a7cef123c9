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
# Every metric column of every CSV row equals the stored value of the same member of the same
# /results row: h5dump's 17 digits and the CSV's shortest round-trip form read back as the same
# double; a NaN in the file is an empty CSV field. (CSV column:/results member; accuracy = the
# best_val_acc for the smoke job's selection "test".)
h5dump -m '%.17g' -d /results "$TMP/r.h5" | awk '
    /^ *DATA \{/ { data = 1; next }
    !data { next }
    /^ *\([0-9]+\): \{/ { row = $1; gsub(/[():]/, "", row); field = 0; next }
    /^ *\}/ { next }
    { field++; v = $1; sub(/,$/, "", v); print row, field, v }' >"$TMP/h5rows"
csv_diff=$(awk -F, '
    NR == FNR { split($0, a, " "); v[a[1] " " a[2]] = a[3]; next }
    FNR == 1 { next }
    {
        rows++
        n = split("16:3 17:4 18:5 19:6 20:7 21:8 22:9 23:11 24:12 25:13 26:3", pairs, " ")
        for (k = 1; k <= n; k++) {
            split(pairs[k], p, ":")
            c = p[1] + 0; h = v[$1 " " p[2]]
            if (h == "") { print "row " $1 ": no /results member " p[2] " in h5dump"; continue }
            if (h == "nan") { if ($c != "") print "row " $1 " column " c ": " $c ", stored nan"; continue }
            if ($c == "" || $c + 0 != h + 0) print "row " $1 " column " c ": " $c ", stored " h
        }
        for (c = 16; c <= 26; c += 10) if ($c != "" && !($c >= 0 && $c <= 1)) print "row " $1 " column " c ": " $c " is not a fraction"
    }
    END { if (rows == 0) print "no CSV rows" }' "$TMP/h5rows" "$TMP/rep/results.csv")
if [ -z "$csv_diff" ]; then pass report_csv_matches_h5dump; else
    fail report_csv_matches_h5dump "rerun: $BIN report $TMP/r.h5 and h5dump -m %.17g -d /results $TMP/r.h5" \
        "$(head -5 <<<"$csv_diff")"; fi
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
