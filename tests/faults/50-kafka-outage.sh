#!/usr/bin/env bash
# A Kafka outage mid-stream: the dev broker goes down (SIGUSR1) for
# OUTAGE_S seconds while the test keeps producing a steady stream, then
# comes back (SIGUSR2). The producer of the test buffers what it cannot
# deliver meanwhile and delivers it afterwards.
#
# Checks: the outage is real (a kcat metadata request fails and the
# daemon's Kafka clients report errors), consumption resumes (the Redis
# offsets move past their level at the outage), production resumes (KPI
# updates computed after the broker came back reach advocacy.kpi), the
# totals in Redis, the KPI topic and the DLQ equal truth.py's, the stop
# counters show produce_failed=0, and nothing leaks a raw identifier.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=lib_outage.sh
source "$here/lib_outage.sh"
faults_init

EVENTS=$(faults_event_count 30000)
OUTAGE_S=10
GROUP=outage-kafka
PREFIX=outage-kafka

fail_with_log() {
	tail -n 40 "$DAEMON_LOG" >&2
	lib_fail "$@"
}

# Succeeds when the dev broker returns metadata within 2 s.
broker_answers() {
	timeout 5 kcat -L -b "$KAFKA_BOOTSTRAP" -m 2 -t "$FAULTS_INPUT_TOPIC" >/dev/null 2>&1
}

# Prints how many KPI updates on advocacy.kpi were computed after MS.
kpi_updates_after() {
	kcat -C -b "$KAFKA_BOOTSTRAP" -t advocacy.kpi -o beginning -e -q -f '%s\n' |
		jq -c --argjson t "$1" 'select(.computed_at > $t)' | wc -l
}

# ---------------------------------------------------------------- setup
faults_start_stack 4
faults_gen --seed 50 --employees 400 --events "$EVENTS" \
	--late $((EVENTS / 100)) --future $((EVENTS / 200)) --unknown $((EVENTS / 100)) \
	--retracts $((EVENTS / 50)) --duplicates $((EVENTS / 500))
faults_produce_roster
outage_config outage "$GROUP" "$PREFIX"
faults_start_daemon outage
outage_admin_port
lib_wait_for "[ \"\$(outage_readyz)\" = 200 ]" 60 ||
	fail_with_log "/readyz did not return 200 within 60 s: $(cat "$LIB_TMP/readyz.body")"

faults_start_producer 30
lib_wait_for "[ \$(faults_consumed $PREFIX $GROUP) -gt 0 ]" 30 ||
	fail_with_log "the daemon stored no offsets within 30 s of the stream's start"
sleep 5

# ---------------------------------------------------------------- outage
before=$(faults_consumed $PREFIX $GROUP)
down_line=$(wc -l <"$DAEMON_LOG")
lib_log "taking the dev broker down for $OUTAGE_S s (offset sum $before)"
kill -USR1 "$DEVKAFKA_PID"
down_at=$SECONDS
! broker_answers || lib_fail "kcat still reads metadata from $KAFKA_BOOTSTRAP after SIGUSR1"
sleep $((OUTAGE_S - (SECONDS - down_at)))
during=$(faults_consumed $PREFIX $GROUP)
kill -USR2 "$DEVKAFKA_PID"
up_ms=$(date +%s%3N)
lib_log "the dev broker is back; the offsets moved from $before to $during while it was down"
lib_wait_for broker_answers 20 || lib_fail "kcat reads no metadata within 20 s of SIGUSR2"

# The daemon's clients must have noticed: librdkafka reports the lost
# connections as client errors.
tail -n +"$down_line" "$DAEMON_LOG" | grep -E 'component=(kafka|librdkafka)' >"$LIB_TMP/outage.log" || true
grep -q 'msg="client error"' "$LIB_TMP/outage.log" ||
	fail_with_log "the daemon's Kafka clients reported no error during the outage"
lib_log "Kafka client lines during the outage: $(wc -l <"$LIB_TMP/outage.log"), e.g. $(grep -m 1 'msg="client error"' "$LIB_TMP/outage.log" | sed 's/.*msg=//')"

# ---------------------------------------------------------------- recovery
lib_wait_for "[ \$(faults_consumed $PREFIX $GROUP) -gt $during ]" 60 ||
	fail_with_log "consumption did not resume within 60 s of the broker's return"
lib_log "consuming again"
lib_wait_for "[ \$(kpi_updates_after $up_ms) -gt 0 ]" 30 ||
	fail_with_log "no KPI update computed after the broker's return reached advocacy.kpi within 30 s"
lib_log "KPI updates computed after the outage are on advocacy.kpi"

# ---------------------------------------------------------------- totals
outage_check_totals
lib_log "PASS: totals exact through a ${OUTAGE_S}-s Kafka outage"
