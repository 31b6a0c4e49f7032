#!/usr/bin/env bash
# Redis outages while the daemon consumes a steady produce stream.
#
# 1. A real stop: redis-server (append-only file on, fsync always) gets
#    SIGTERM and stays down for OUTAGE_S seconds, then starts again on the
#    same port and dir. Meanwhile a burst of events arrives. /readyz must
#    return 503 naming Redis during the outage and 200 after. The daemon's
#    memory must stay within RSS_BOUND_KB of its level before the outage,
#    and the log must show the reconnect backoff.
#    The outage lasts 14 s. The daemon retries after 0.1, 0.3, 0.7, 1.5,
#    3.1, 6.3 and 11.3 s, and the log writes a repeated warning once per
#    10 s. So the retry at 11.3 s logs a second line whose suppressed= count
#    and retry_ms show the backoff, and 14 s leaves margin for a late timer.
# 2. A half-open connection: redis-server gets SIGSTOP for STALL_S seconds,
#    so the connection stays open and silent. The daemon sends a PING every
#    second and replaces the connection once a PING is more than 5 s
#    overdue, which takes up to 7 s. After SIGCONT, Redis also runs the
#    batch that the dropped connection had sent, and the daemon must carry
#    on without counting it twice.
# Afterwards the totals in Redis, the KPI topic and the DLQ must equal
# truth.py's, and nothing may leak a raw identifier.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=lib_outage.sh
source "$here/lib_outage.sh"
faults_init
command -v curl >/dev/null || lib_fail "curl not found; run scripts/install-deps.sh"

STEADY=$(faults_event_count 30000)   # the steady stream, over 35 s
BURST=$(faults_event_count 60000)    # produced at once while Redis is down
OUTAGE_S=14
STALL_S=9
# The consumer may prefetch 1 MB. The burst is about 6 MB in Kafka, and
# holding all of it costs about 27 MB of RSS (measured with the default
# 32 MB prefetch). Growth beyond 16 MB means input is buffered without limit.
PREFETCH_KB=${OUTAGE_PREFETCH_KB:-1024}
RSS_BOUND_KB=${OUTAGE_RSS_BOUND_KB:-$((16 * 1024))}
GROUP=outage-redis
PREFIX=outage-redis
watch=$LIB_TMP/watch

fail_with_log() {
	tail -n 40 "$DAEMON_LOG" >&2
	lib_fail "$@"
}

# Waits up to TIMEOUT_S seconds for /readyz to return 200.
wait_ready() {
	lib_wait_for "[ \"\$(outage_readyz)\" = 200 ]" "$1" ||
		fail_with_log "/readyz did not return 200 within $1 s; body: $(cat "$LIB_TMP/readyz.body")"
}

# Waits up to TIMEOUT_S seconds until the Redis offsets add up to more than SUM.
wait_consumed_past() {
	lib_wait_for "[ \$(faults_consumed $PREFIX $GROUP) -gt $1 ]" "$2" ||
		fail_with_log "the daemon consumed nothing past offset sum $1 within $2 s"
}

# ---------------------------------------------------------------- setup
faults_start_stack 4
# lib_start_redis starts Redis without the append-only file; turn it on now,
# while Redis is empty, so that the restart below finds every write.
redis-cli -p "$REDIS_PORT" config set appendonly yes >/dev/null
lib_wait_for "redis-cli -p $REDIS_PORT info persistence | grep -q '^aof_rewrite_in_progress:0'" 10 &&
	redis-cli -p "$REDIS_PORT" info persistence | grep -q '^aof_enabled:1' ||
	lib_fail "cannot turn on the append-only file of redis-server on port $REDIS_PORT"

# No upstream duplicates: a batch holding one is refused by Redis on both
# connections of the half-open case, which would hide the race that case
# is about (the dropped connection's batch runs after SIGCONT).
faults_gen --seed 40 --employees 400 --events $((STEADY + BURST)) --duplicates 0 \
	--late $((STEADY / 100)) --future $((STEADY / 200)) --unknown $((STEADY / 100)) \
	--retracts $((STEADY / 50))
faults_produce_roster
faults_split_events $((STEADY * 100 / $(faults_messages)))
outage_config outage "$GROUP" "$PREFIX" --prefetch-kbytes "$PREFETCH_KB"
faults_start_daemon outage
outage_admin_port
wait_ready 60

faults_start_producer 35 "$FAULTS_DATA/events.head.jsonl"
wait_consumed_past 0 30
sleep 3
before_kb=$(outage_rss_kb "$DAEMON_PID")
lib_log "consuming; RSS before the outage ${before_kb} kB"

# ---------------------------------------------------------------- stop
before=$(faults_consumed $PREFIX $GROUP)
lib_log "stopping redis-server for $OUTAGE_S s (offset sum $before)"
outage_redis_stop
stopped_at=$SECONDS
faults_produce "$FAULTS_DATA/events.tail.jsonl"
lib_log "produced $(wc -l <"$FAULTS_DATA/events.tail.jsonl") more events in $((SECONDS - stopped_at)) s while Redis is down"
outage_watch $((OUTAGE_S - (SECONDS - stopped_at))) "$watch.stop" "$PREFIX" "$GROUP"
backlog=$(lib_kcat_count "$FAULTS_INPUT_TOPIC")
outage_redis_start
lib_log "redis-server is back; the topic holds $backlog messages, $((backlog - before)) not consumed"

# Redis closes its connections when it stops, so /readyz must return 503
# from the first second of the outage on.
samples=$(awk '$1 >= 1' "$watch.stop" | wc -l)
others=$(awk '$1 >= 1 && $2 != 503 { printf "%s@%ss ", $2, $1 }' "$watch.stop")
[ "$samples" -ge 8 ] || lib_fail "only $samples /readyz samples during the outage; the machine is too slow"
[ -z "$others" ] || lib_fail "/readyz did not answer 503 during the outage: $others"
grep -qx 'not ready: redis disconnected' "$watch.stop.body" ||
	lib_fail "the 503 body lacks the Redis reason: $(cat "$watch.stop.body")"
max_kb=$(outage_max_rss_kb "$watch.stop")
lib_log "RSS during the outage: at most ${max_kb} kB (${before_kb} kB before)"
[ $((max_kb - before_kb)) -le "$RSS_BOUND_KB" ] ||
	lib_fail "RSS grew from ${before_kb} kB to ${max_kb} kB during the outage, more than ${RSS_BOUND_KB} kB"

wait_ready 30
wait_consumed_past "$before" 30
lib_log "consuming again after the outage"

# Backoff: the retries logged between the loss and the reconnect, with the
# ones the repeat suppression held back, must be far fewer than one per
# 100 ms, and their delay must have grown to the 5 s maximum.
awk '/msg="connection lost, reconnecting"/ { on = 1 } on' "$DAEMON_LOG" |
	awk '/msg="connected"/ { exit } { print }' >"$LIB_TMP/outage.log"
retries=$(grep -c 'msg="connection failed, retrying"' "$LIB_TMP/outage.log" || true)
held=$(sed -n 's/.*msg="connection failed, retrying".* suppressed=\([0-9]*\).*/\1/p' \
	"$LIB_TMP/outage.log" | awk '{ s += $1 } END { print s + 0 }')
delays=$(sed -n 's/.*msg="connection failed, retrying".* retry_ms=\([0-9]*\).*/\1/p' \
	"$LIB_TMP/outage.log" | tr '\n' ' ')
lib_log "reconnect: $retries retry lines, $held held back, retry_ms: $delays"
[ "$retries" -ge 2 ] || fail_with_log "expected at least two reconnect retry lines, found $retries"
attempts=$((retries + held))
[ "$attempts" -ge 4 ] && [ "$attempts" -le 20 ] ||
	fail_with_log "$attempts reconnect attempts in a ${OUTAGE_S}-s outage; backoff from 100 ms to 5 s gives about 7"
[[ " $delays" == *" 5000 "* ]] || fail_with_log "the retry delay never reached 5000 ms: $delays"

# ---------------------------------------------------------------- half-open
before=$(faults_consumed $PREFIX $GROUP)
lost_before=$(grep -c 'replacing the connection' "$DAEMON_LOG" || true)
lib_log "stopping redis-server with SIGSTOP for $STALL_S s (offset sum $before)"
kill -STOP "$REDIS_PID"
sleep "$STALL_S"
kill -CONT "$REDIS_PID"
lost_after=$(grep -c 'msg="no reply within the timeout, replacing the connection"' "$DAEMON_LOG" || true)
[ "$lost_after" -gt "$lost_before" ] ||
	fail_with_log "the daemon did not replace the silent Redis connection within $STALL_S s"
grep 'replacing the connection' "$DAEMON_LOG" | tail -n 1 | grep -q 'timeout_ms=5000' ||
	fail_with_log "the replacement line does not give the 5 s PING timeout"
# The backlog of the burst keeps a batch in flight, so the dropped
# connection took one with it and the daemon must send it again.
awk '/msg="no reply within the timeout, replacing the connection"/ { on = 1 } on' "$DAEMON_LOG" |
	grep -q 'msg="batch write not acknowledged; it will be retried"' ||
	fail_with_log "no batch was in flight on the silent connection, so its retry went untested"
wait_ready 30
wait_consumed_past "$before" 30
lib_log "consuming again after the half-open connection"

# ---------------------------------------------------------------- totals
outage_check_totals
# The burst's backlog keeps a batch write waiting for Redis while the next
# batch is due, so second writes go out behind it (README "Batch writes in
# flight"), and the totals above include them.
pipelined=$(outage_field "$(outage_final_counters)" pipelined_batches)
[ "${pipelined:-0}" -gt 0 ] ||
	lib_fail "no batch write was sent behind another during the catch-up after the burst"
lib_log "PASS: totals exact through a ${OUTAGE_S}-s Redis stop and a ${STALL_S}-s half-open connection"
