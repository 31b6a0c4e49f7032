#!/usr/bin/env bash
# Crash: advocacyd is killed with SIGKILL at random moments while it consumes
# a stream that is still being produced, and restarted each time. Every batch
# writes its counts and its offsets in one Lua call, and a restarted daemon
# skips what Redis already holds, so the Redis buckets, the latest KPI updates
# and the dead letters must equal truth.py's ground truth exactly.
#
# Odd-numbered kills land within 0.4 s of the first batch a restarted daemon
# writes, while it catches up with the backlog built up during its downtime.
# Even-numbered ones land 0.5 to 3 s later, while it follows the stream.
#
# Environment: ADVOCACY_FAULTS_EVENTS (default 300000; a third of that in the
# sanitizer build), ADVOCACY_FAULTS_SEED (default random; printed, and it also
# seeds the kill delays), ADVOCACY_FAULTS_KILLS (default 6, at least 5).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=lib_faults.sh
source "$here/lib_faults.sh"
faults_init

seed=${ADVOCACY_FAULTS_SEED:-$((RANDOM * 32768 + RANDOM))}
RANDOM=$seed
events=$(faults_event_count 300000)
kills=${ADVOCACY_FAULTS_KILLS:-6}
[ "$kills" -ge 5 ] || lib_fail "ADVOCACY_FAULTS_KILLS is $kills; the test needs at least 5 kills"
# Production outlasts the kill loop: a restart takes about 5 s to rejoin the
# consumer group after a SIGKILL, so six kills need about 40 s.
produce_seconds=50
lib_log "20-crash: seed $seed, $events events over ${produce_seconds}s, $kills kills"

faults_start_stack 8
faults_config crash crash crash range
faults_gen --seed "$seed" --employees 200 --events "$events" --late 200 --future 100 \
	--unknown 2000 --retracts 2000
faults_produce_roster
total=$(faults_messages)

faults_start_daemon crash
faults_start_producer "$produce_seconds"

done_kills=0
while [ "$done_kills" -lt "$kills" ] && faults_producing; do
	since=$(faults_consumed crash crash)
	lib_wait_for "[ \$(faults_consumed crash crash) -gt $since ]" 60 ||
		lib_fail "advocacyd wrote nothing within 60 s of its start; log $DAEMON_LOG"
	if ((done_kills % 2 == 0)); then
		delay_ms=$((RANDOM % 400))
	else
		delay_ms=$((500 + RANDOM % 2500))
	fi
	sleep "$(printf '%d.%03d' $((delay_ms / 1000)) $((delay_ms % 1000)))"
	faults_producing || break
	at=$(faults_consumed crash crash)
	[ "$at" -lt "$total" ] || lib_fail "input fully consumed before kill $((done_kills + 1))"
	faults_kill9 "$DAEMON_PID"
	done_kills=$((done_kills + 1))
	lib_log "kill $done_kills: SIGKILL ${delay_ms} ms after the run's first write; Redis offsets at $at of $total"
	faults_start_daemon crash
done
[ "$done_kills" -ge 5 ] ||
	lib_fail "only $done_kills kills happened while events were produced; at least 5 are needed"

faults_wait_producer
faults_assert_topic_complete
faults_check crash --wait 240
faults_stop_clean "$DAEMON_PID" "$DAEMON_LOG"
faults_privacy_scan "$LIB_TMP"/crash.*.log

replayed=$(cat "$LIB_TMP"/crash.*.log | grep -c 'batch already applied in Redis' || true)
echo "20-crash: ok (seed $seed, $total messages, $done_kills kills, $replayed replayed batches skipped)"
