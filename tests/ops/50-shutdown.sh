#!/usr/bin/env bash
# Graceful stop. A normal SIGTERM exits 0 with the consumed offsets
# committed to Kafka. SIGTERM while a batch waits for Redis (redis-server
# stopped with SIGSTOP) exits 3 once shutdown.drain_timeout has passed, and
# a second SIGTERM exits 3 at once. The batches abandoned that way were not
# committed, so the next start counts their events, each exactly once.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=../lib.sh
source "$here/../lib.sh"
lib_init

lib_start_redis
lib_start_devkafka advocacy.events:2 advocacy.roster:1 advocacy.kpi:1 \
	advocacy.escalations:1 advocacy.dlq:1 advocacy.governance:1
work=$LIB_TMP
bin=$(lib_bin advocacyd)
cp "$ADVOCACY_SOURCE_DIR/tests/fixtures/hmac.key" "$work/hmac.key"

# Writes $work/stop.yaml with drain timeout $1 and key prefix stop$2.
write_config() {
	cat >"$work/stop.yaml" <<EOF
kafka:
  bootstrap_servers: "$KAFKA_BOOTSTRAP"
  group_id: stop
  # A stopped member may leave the dev broker's group only when its session
  # times out; keep that short so that the next instance starts quickly.
  properties: {session.timeout.ms: 3000, heartbeat.interval.ms: 300}
  inputs: [{topic: advocacy.events, format: avro}]
  roster_topic: advocacy.roster
redis: {host: 127.0.0.1, port: $REDIS_PORT, key_prefix: stop${2:-}}
privacy: {key_file: hmac.key, key_id: test-1, min_group_size: 3}
behaviours:
  recognition_given: {rules: [{kinds: [recognition], credit: actor}]}
kpis:
  - {id: recognition_count, behaviours: [recognition_given], aggregation: count, window: 24h,
     quadrant: learning_growth, indicator: leading, weight: 1, target: 10}
outputs: {tick_interval: 500ms, kpi: {format: json}}
admin: {port: 0}
shutdown: {drain_timeout: $1}
EOF
}

produced=0
# Produces N recognition events with fresh ids.
produce() {
	local n=$1 i
	for ((i = 1; i <= n; i++)); do
		printf '{"event_id":"e-%d","age_s":60,"kind":"recognition","actor_id":"emp-0001","target_ids":[]}\n' \
			$((produced + i))
	done | "$ADVOCACY_BUILD_DIR/advocacyd-produce" --brokers "$KAFKA_BOOTSTRAP" \
		--topic advocacy.events >/dev/null
	produced=$((produced + n))
}

# Org count of recognition_given in today's day bucket under prefix stop$1.
counted() {
	local day
	day=$(($(date -u +%s) - 60))
	day=$((day - day % 86400))
	redis-cli -p "$REDIS_PORT" hget "{stop${1:-}}:n:1d:$day" 'recognition_given|org'
}

start_daemon() {
	log=$work/daemon.$1.log
	"$bin" --config "$work/stop.yaml" 2>"$log" &
	daemon=$!
	lib_track "$daemon"
	lib_wait_for "grep -q 'msg=\"partition claimed\"' '$log'" 30 ||
		{ cat "$log" >&2; lib_fail "daemon $1 claimed no partition"; }
}

# Waits for the daemon to exit; sets code (its exit status) and took (seconds).
wait_exit() {
	local start=$SECONDS
	code=0
	wait "$daemon" || code=$?
	lib_untrack "$daemon"
	took=$((SECONDS - start))
}

printf 'emp-0001\t{"department":"Eng","team":"A","segment":"knowledge","work_mode":"remote","employment_type":"full_time","region":"EMEA","aliases":[]}\n' |
	kcat -P -b "$KAFKA_BOOTSTRAP" -t advocacy.roster -K $'\t'

# ---------------------------------------------------------------- clean stop
write_config 10s
produce 5
start_daemon clean
lib_wait_for "[ \"\$(counted)\" = 5 ]" 30 || { cat "$log" >&2; lib_fail "5 events not counted"; }
kill -TERM "$daemon"
wait_exit
lib_assert_eq 0 "$code" "exit code of a clean stop"
grep -q 'msg="stopped" exit_code=0' "$log" || lib_fail "no clean stop logged"
# Kafka's committed offsets are where an instance starts when Redis contains
# none: under a fresh key prefix a daemon counts only the one event produced
# after the stop (all six without a commit).
produce 1
write_config 10s fresh
start_daemon committed
lib_wait_for "[ \"\$(counted fresh)\" = 1 ]" 30 ||
	{ cat "$log" >&2; lib_fail "a fresh prefix counted $(counted fresh) events, expected 1"; }
kill -TERM "$daemon"
wait_exit
lib_assert_eq 0 "$code" "exit code of the second clean stop"

# ---------------------------------------------------------------- drain timeout
write_config 3s
start_daemon drain
kill -STOP "$REDIS_PID"
produce 3
sleep 1
kill -TERM "$daemon"
wait_exit
kill -CONT "$REDIS_PID"
lib_assert_eq 3 "$code" "exit code when the drain time runs out"
[ "$took" -ge 2 ] && [ "$took" -le 8 ] || lib_fail "stopped after $took s with a 3 s drain time"
grep -q 'could not be written within the drain time' "$log" ||
	{ cat "$log" >&2; lib_fail "the drain timeout was not logged"; }
lib_log "drain timeout: exit $code after $took s"

# ---------------------------------------------------------------- second signal
write_config 60s
start_daemon second
kill -STOP "$REDIS_PID"
produce 2
sleep 1
kill -TERM "$daemon"
sleep 0.5
kill -TERM "$daemon"
wait_exit
kill -CONT "$REDIS_PID"
lib_assert_eq 3 "$code" "exit code after a second signal"
[ "$took" -le 5 ] || lib_fail "second signal took $took s to stop the daemon (drain time 60 s)"
grep -q 'second stop signal' "$log" || { cat "$log" >&2; lib_fail "second signal not logged"; }
lib_log "second signal: exit $code after $took s"

# ---------------------------------------------------------------- nothing lost
write_config 10s
start_daemon final
lib_wait_for "[ \"\$(counted)\" = $produced ]" 30 ||
	{ cat "$log" >&2; lib_fail "expected $produced events counted once, Redis has $(counted)"; }
sleep 1
lib_assert_eq "$produced" "$(counted)" "events counted after the abandoned batches"
kill -TERM "$daemon"
wait_exit
lib_assert_eq 0 "$code" "exit code of the final clean stop"
lib_log "graceful stop behaves"
