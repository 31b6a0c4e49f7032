#!/usr/bin/env bash
# Back-pressure from the output queue: outputs.max_queued_messages is 1000
# and the dev broker goes down, so KPI updates and dead letters cannot be
# delivered while Redis stays up. Just before the outage a burst of events
# arrives, which the consumer fetches at once and the daemon needs seconds
# to process, so input is still there when the queue fills.
#
# Once more than half the queue waits, or a batch waits for its dead letters
# to be delivered, the daemon must log that input is paused ("output queue
# over half full; input paused" or "dead letters not delivered yet; input
# paused") and stop advancing its offsets in Redis,
# skip its ticks, keep serving /readyz (no send may block the loop) and
# keep its memory bounded. Once the broker is back it must resume. Totals
# in Redis, the KPI topic and the DLQ must then equal truth.py's, no record
# may have failed (produce_failed=0), and nothing may leak a raw identifier.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=lib_outage.sh
source "$here/lib_outage.sh"
faults_init
command -v curl >/dev/null || lib_fail "curl not found; run scripts/install-deps.sh"

STEADY=$(faults_event_count 20000)   # the steady stream, over 30 s
# The burst is produced at once just before the outage and not scaled down
# for the sanitizer build: the daemon must still be busy with it when the
# queue fills.
BURST=30000
OUTAGE_S=12
MAX_QUEUED=1000
# Growth allowed from the pause to the broker's return. The burst is in
# memory before the pause (it costs about 30 MB in the normal build and
# 160 MB with AddressSanitizer), and nothing may pile up on top of it.
RSS_BOUND_KB=$((64 * 1024))
GROUP=backpressure
PREFIX=backpressure
PAUSED='msg="\(output queue over half full\|dead letters not delivered yet\); input paused'
SKIPPED='msg="output queue over half full; tick skipped'
watch=$LIB_TMP/watch

fail_with_log() {
	tail -n 40 "$DAEMON_LOG" >&2
	lib_fail "$@"
}

# Succeeds when the daemon log has PATTERN after line FROM.
logged_since() {
	tail -n +"$1" "$DAEMON_LOG" | grep -q "$2"
}

# ---------------------------------------------------------------- setup
faults_start_stack 4
# Late and future events make dead letters, which go to the same queue.
# One in ten is late, so the queue fills within a few batches of the
# outage, long before the daemon is through the burst.
# No upstream duplicates: a batch holding one is read again after a seek,
# which drops what the consumer fetched and needs the broker, so the burst
# would no longer be there when the queue fills.
faults_gen --seed 60 --employees 400 --events $((STEADY + BURST)) --duplicates 0 \
	--late $(((STEADY + BURST) / 10)) --future $((STEADY / 100)) --unknown $((STEADY / 100)) \
	--retracts $((STEADY / 50))
faults_produce_roster
faults_split_events $((STEADY * 100 / $(faults_messages)))
# The fault config's 3-s session would end in the outage and drop the
# partitions with what was fetched; the librdkafka default is 45 s.
outage_config outage "$GROUP" "$PREFIX" --max-queued "$MAX_QUEUED" --session-timeout-ms 30000
faults_start_daemon outage
outage_admin_port
lib_wait_for "[ \"\$(outage_readyz)\" = 200 ]" 60 ||
	fail_with_log "/readyz did not return 200 within 60 s: $(cat "$LIB_TMP/readyz.body")"

faults_start_producer 30 "$FAULTS_DATA/events.head.jsonl"
lib_wait_for "[ \$(faults_consumed $PREFIX $GROUP) -gt 0 ]" 30 ||
	fail_with_log "the daemon stored no offsets within 30 s of the stream's start"
sleep 3
before_kb=$(outage_rss_kb "$DAEMON_PID")
lib_log "consuming; RSS ${before_kb} kB"

# ---------------------------------------------------------------- outage
faults_produce "$FAULTS_DATA/events.tail.jsonl"
burst_at=$(faults_consumed $PREFIX $GROUP)
lib_wait_for "[ \$(faults_consumed $PREFIX $GROUP) -gt $burst_at ]" 10 ||
	fail_with_log "the daemon did not start on the burst within 10 s"
in_topic=$(lib_kcat_count "$FAULTS_INPUT_TOPIC")
down_line=$(wc -l <"$DAEMON_LOG")
kill -USR1 "$DEVKAFKA_PID"
down_at=$SECONDS
at_down=$(faults_consumed $PREFIX $GROUP)
lib_log "took the dev broker down for $OUTAGE_S s after a burst of $(wc -l <"$FAULTS_DATA/events.tail.jsonl") events"
lib_wait_for "logged_since $down_line '$PAUSED'" 10 ||
	fail_with_log "no '$PAUSED' line within 10 s of the broker going down"
# A batch polled just before the pause may still be written: let it land.
sleep 1
paused=$(faults_consumed $PREFIX $GROUP)
paused_kb=$(outage_rss_kb "$DAEMON_PID")
lib_log "input paused after $((SECONDS - down_at)) s: offset sum $at_down at the outage," \
	"$paused at the pause, $in_topic messages in the topic"
# The consumer prefetches up to 32 MB, far more than the burst, so what the
# daemon has not consumed yet is in its memory, not only in the broker.
[ "$paused" -lt "$in_topic" ] ||
	fail_with_log "the daemon consumed the whole burst before the queue filled, so the pause held nothing back"
outage_watch $((OUTAGE_S - (SECONDS - down_at))) "$watch" "$PREFIX" "$GROUP"
kill -USR2 "$DEVKAFKA_PID"
lib_log "the dev broker is back"

moved=$(awk -v c="$paused" '$4 != c { printf "%s@%ss ", $4, $1 }' "$watch")
[ -z "$moved" ] || fail_with_log "offsets moved from $paused while input was paused: $moved"
# curl reports 000 when the daemon sent no response within 2 s.
unanswered=$(awk '$2 != 200 { printf "%s@%ss ", $2, $1 }' "$watch")
[ -z "$unanswered" ] ||
	fail_with_log "/readyz did not answer 200 while input was paused: $unanswered (000: no answer within 2 s, the loop is blocked)"
logged_since "$down_line" "$SKIPPED" || fail_with_log "no '$SKIPPED' line during the outage"
max_kb=$(outage_max_rss_kb "$watch")
lib_log "RSS while paused: at most ${max_kb} kB (${paused_kb} kB at the pause, ${before_kb} kB before the burst)"
[ $((max_kb - paused_kb)) -le "$RSS_BOUND_KB" ] ||
	lib_fail "RSS grew from ${paused_kb} kB to ${max_kb} kB while input was paused, more than ${RSS_BOUND_KB} kB"

# ---------------------------------------------------------------- recovery
lib_wait_for "[ \$(faults_consumed $PREFIX $GROUP) -gt $paused ]" 60 ||
	fail_with_log "input did not resume within 60 s of the broker's return"
lib_log "consuming again"

# ---------------------------------------------------------------- totals
outage_check_totals
lib_log "PASS: input paused at offset sum $paused for $OUTAGE_S s of Kafka outage; totals exact"
