#!/usr/bin/env bash
# tests/integ/farm_resume.sh -- interruptions and resume: --stop-after, SIGUSR1, kill -9 of the
# whole job, and a configuration interrupted mid-way; each resumed file must end with exactly the
# metrics of an uninterrupted run. The jobs checkpoint after every epoch (checkpoint_interval = 0),
# so that a kill finds checkpoints; the last part checks checkpoints by time (written at the stop
# only, when the interval has not passed).
source "$(dirname "$0")/../lib.sh"
cd "$ROOT"
pf_need_mnist farm_resume || exit 0
cat >"$TMP/resume.cfg" <<'CFG'
datasets = ["mnist"]; modes = ["random", "biased"]; subsets = [300];
percents = [0, 25, 50, 75]; batch_sizes = [64];
max_epochs = 4; validation_items = 500; checkpoint_interval = 0;
CFG
cat >"$TMP/long.cfg" <<'CFG'
datasets = ["mnist"]; modes = ["random"]; subsets = [1000]; percents = [10];
batch_sizes = [32]; max_epochs = 8; patience = 50; lr_patience = 50; validation_items = 1000;
checkpoint_interval = 0;
CFG
JOB=$TMP/resume.cfg
mpirun -q -np 2 $BIN run "$JOB" -o "$TMP/ref.h5" --quiet >/dev/null 2>&1
pf_metrics "$TMP/ref.h5" >"$TMP/ref.m"
[ -s "$TMP/ref.m" ] || { fail farm_resume_reference "the uninterrupted run failed: mpirun -np 2 $BIN run $JOB"; exit 0; }

same_as_ref() { # name, file, rerun hint
    pf_metrics "$2" >"$TMP/got.m"
    if cmp -s "$TMP/ref.m" "$TMP/got.m"; then pass "$1"; else
        fail "$1" "metrics differ from the uninterrupted run; rerun: $3" "$(diff "$TMP/ref.m" "$TMP/got.m" | head -8)"; fi
}

# --stop-after: exit 4 with pending rows, then resume.
out=$TMP/stop.h5
mpirun -q -np 1 $BIN run "$JOB" -o "$out" --stop-after 3 --quiet >"$TMP/stop.log" 2>&1
rc=$?
n=$(pf_count_done "$out")
if [ $rc -eq 4 ] && [ "$n" -ge 3 ] && [ "$n" -lt 8 ] && [ ! -e "$out.lock" ]; then pass stop_after_exit_4_pending; else
    fail stop_after_exit_4_pending "exit $rc (want 4), $n done (want 3..7); rerun: mpirun -np 1 $BIN run $JOB --stop-after 3" "$(cat "$TMP/stop.log")"; fi
mpirun -q -np 2 $BIN run "$JOB" -o "$out" --quiet >"$TMP/stop2.log" 2>&1
rc=$?
[ $rc -eq 0 ] || fail stop_after_resume_exit "exit $rc" "$(cat "$TMP/stop2.log")"
same_as_ref stop_after_resume_same_metrics "$out" "--stop-after 3 then resume"

# SIGUSR1 to mpirun once the first configuration is reported done (its progress line, printed
# after its row is written): graceful stop, exit 4, then resume.
out=$TMP/usr1.h5
usr1() { kill -USR1 "$1"; }
pf_at_line 1 '^\[ *[0-9]+/8\] ' "$TMP/usr1.log" usr1 mpirun -q -np 2 $BIN run "$JOB" -o "$out"
rc=$?
n=$(pf_count_done "$out")
if [ $rc -eq 4 ] && [ "$n" -ge 1 ] && [ "$n" -lt 8 ] && grep -q '^poisonfarm: stopping' "$TMP/usr1.log"; then
    pass usr1_exit_4_pending; else
    fail usr1_exit_4_pending "exit $rc (want 4), $n of 8 done (want 1..7)" "$(cat "$TMP/usr1.log")"; fi
mpirun -q -np 2 $BIN run "$JOB" -o "$out" --quiet >/dev/null 2>&1
same_as_ref usr1_resume_same_metrics "$out" "SIGUSR1 to mpirun -np 2, then resume"

# kill -9 of the whole job (every process of its session) once two configurations are reported
# done: the file stays readable, and running again completes it.
out=$TMP/kill.h5
# setsid makes mpirun (same pid) the leader of a new session: its pid is the session id.
sid=
kill_session() { sid=$1; pkill -9 -s "$1"; }
pf_at_line 2 '^\[ *[0-9]+/8\] ' "$TMP/kill.log" kill_session setsid mpirun -q -np 2 $BIN run "$JOB" -o "$out"
# Until every process of that session is gone (zombies aside), at most 10 s.
for _ in $(seq 100); do
    [ -z "$sid" ] && break
    [ -z "$(ps -s "$sid" -o stat= 2>/dev/null | grep -v '^Z')" ] && break
    pkill -9 -s "$sid" 2>/dev/null
    sleep 0.1
done
n=$(pf_count_done "$out")
if [ -n "$sid" ] && [ "$n" -ge 2 ] && [ "$n" -lt 8 ] && h5dump -H "$out" >/dev/null 2>&1; then
    pass kill9_file_readable; else
    fail kill9_file_readable "killed: ${sid:-no}, $n of 8 done (want 2..7); h5dump -H $out must open it" \
        "$(cat "$TMP/kill.log")"; fi
mpirun -q -np 2 $BIN run "$JOB" -o "$out" --quiet >"$TMP/kill2.log" 2>&1
rc=$?
if [ $rc -eq 0 ]; then pass kill9_resume_completes; else fail kill9_resume_completes "exit $rc" "$(cat "$TMP/kill2.log")"; fi
same_as_ref kill9_resume_same_metrics "$out" "kill -9 mpirun -np 2 after 2 done, then resume"

# A configuration interrupted mid-way resumes from its checkpoint, not from scratch. The point to
# interrupt at is the first checkpoint of configuration 0: it appears whole (written aside, then
# renamed into place) once epoch 1 is complete, and the run has 8 epochs. The wait lasts as long as
# the run lives, however slow the machine.
mpirun -q -np 1 $BIN run "$TMP/long.cfg" -o "$TMP/long-ref.h5" --quiet >/dev/null 2>&1
out=$TMP/long.h5
mpirun -q -np 1 $BIN run "$TMP/long.cfg" -o "$out" >"$TMP/long1.log" 2>&1 &
pid=$!
st=
while [ -z "$st" ] && kill -0 "$pid" 2>/dev/null; do
    st=$(ls "$out".ckpt-*/config-0.state 2>/dev/null | head -1)
    [ -n "$st" ] || sleep 0.05   # a poll interval, not a wait for something to happen
done
[ -n "$st" ] || echo "    the run ended before configuration 0 wrote a checkpoint"
kill -USR1 $pid
wait $pid
rc=$?
st=$(ls "$out".ckpt-*/config-0.state 2>/dev/null | head -1)
if [ $rc -eq 4 ] && [ -n "$st" ] && [ "$(pf_count_done "$out")" -eq 0 ]; then pass midway_stop_keeps_checkpoint; else
    fail midway_stop_keeps_checkpoint "exit $rc, checkpoint '$st'" "$(cat "$TMP/long1.log")"; fi
mpirun -q -np 1 $BIN run "$TMP/long.cfg" -o "$out" >"$TMP/long2.log" 2>&1
if grep -q 'resumes after epoch' "$TMP/long2.log" && [ -z "$(ls "$out".ckpt-* 2>/dev/null)" ]; then pass midway_resumes_from_checkpoint; else
    fail midway_resumes_from_checkpoint "no 'resumes after epoch' line, or checkpoints left" "$(cat "$TMP/long2.log")"; fi
pf_metrics "$TMP/long-ref.h5" >"$TMP/lr.m"; pf_metrics "$out" >"$TMP/lo.m"
if [ -s "$TMP/lr.m" ] && cmp -s "$TMP/lr.m" "$TMP/lo.m"; then pass midway_resume_same_metrics; else
    fail midway_resume_same_metrics "metrics differ from the uninterrupted run" "$(diff "$TMP/lr.m" "$TMP/lo.m" | head -8)"; fi

# Checkpoints by time: with an interval longer than the run, a configuration writes no checkpoint
# while it trains, and exactly one when the stop arrives -- of its last completed epoch, from which
# the next run resumes to the same results. The stop is sent once the run has reported the second
# completed epoch (--verbose: a line per epoch), so at least two epochs are done.
out=$TMP/timed.h5
pf_at_line 2 '^poisonfarm: rank 0: configuration 0 epoch [0-9]+$' "$TMP/timed1.log" usr1 \
    mpirun -q -np 1 $BIN run "$TMP/long.cfg" -o "$out" --checkpoint-interval 3600 --verbose
rc=$?
written=$(grep -c 'checkpoint written' "$TMP/timed1.log")
stop_epoch=$(sed -n 's/^poisonfarm: rank 0: configuration 0 epoch \([0-9]*\) (stopped), checkpoint written$/\1/p' "$TMP/timed1.log")
if [ $rc -eq 4 ] && [ "$written" = 1 ] && [ -n "$stop_epoch" ] && [ "$stop_epoch" -ge 2 ] &&
    [ -n "$(ls "$out".ckpt-*/config-0.state 2>/dev/null)" ]; then
    pass interval_checkpoint_only_at_stop; else
    fail interval_checkpoint_only_at_stop "exit $rc (want 4), $written checkpoints written (want 1, at the stop, epoch >= 2)" \
        "$(cat "$TMP/timed1.log")"; fi
mpirun -q -np 1 $BIN run "$TMP/long.cfg" -o "$out" --checkpoint-interval 3600 >"$TMP/timed2.log" 2>&1
if [ -n "$stop_epoch" ] && grep -q "configuration 0 resumes after epoch $stop_epoch\$" "$TMP/timed2.log"; then
    pass interval_resumes_from_stop_epoch; else
    fail interval_resumes_from_stop_epoch "want 'resumes after epoch ${stop_epoch:-?}'" "$(cat "$TMP/timed2.log")"; fi
pf_metrics "$out" >"$TMP/timed.m"
if [ -s "$TMP/lr.m" ] && cmp -s "$TMP/lr.m" "$TMP/timed.m"; then pass interval_resume_same_metrics; else
    fail interval_resume_same_metrics "metrics differ from the uninterrupted run" "$(diff "$TMP/lr.m" "$TMP/timed.m" | head -8)"; fi
