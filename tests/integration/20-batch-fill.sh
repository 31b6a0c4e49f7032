#!/usr/bin/env bash
# Batches fill for kafka.batch_max_ms: a few events wait in the filling batch
# and reach Redis only when that time has passed since the first poll that
# found them; a full batch goes at once; a stop writes the filling batch
# before the daemon exits. Redis offsets (`{P}:offsets`) show what is written.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=../lib.sh
source "$here/../lib.sh"
lib_init

lib_start_redis
lib_start_devkafka advocacy.events:2 advocacy.roster:1 advocacy.kpi:1 \
	advocacy.escalations:1 advocacy.dlq:1
produce="$ADVOCACY_BUILD_DIR/advocacyd-produce"
work=$LIB_TMP
cp "$ADVOCACY_SOURCE_DIR/tests/fixtures/hmac.key" "$work/hmac.key"
cat >"$work/fill.yaml" <<CONFIG
kafka:
  bootstrap_servers: "$KAFKA_BOOTSTRAP"
  group_id: fill
  inputs:
    - {topic: advocacy.events, format: avro}
  roster_topic: advocacy.roster
  batch_max_messages: 200
  batch_max_ms: 4000
  properties:
    session.timeout.ms: 6000
redis:
  host: 127.0.0.1
  port: $REDIS_PORT
  key_prefix: fill
privacy:
  key_file: hmac.key
  key_id: test-1
behaviours:
  recognition_given:
    rules:
      - {kinds: [recognition], credit: actor}
kpis:
  - id: recognition_count
    behaviours: [recognition_given]
    aggregation: count
    window: 24h
    quadrant: learning_growth
    indicator: leading
    weight: 1
    target: 10
outputs:
  tick_interval: 1s
admin:
  port: 0
CONFIG
printf 'emp-1\t{"department":"Eng","team":"A","segment":"knowledge"}\n' |
	kcat -P -b "$KAFKA_BOOTSTRAP" -t advocacy.roster -K $'\t'

written() {
	redis-cli -p "$REDIS_PORT" hgetall '{fill}:offsets' |
		awk 'NR % 2 == 0 { sum += $1 } END { print sum + 0 }'
}
events() { # first count
	for i in $(seq "$1" $(($1 + $2 - 1))); do
		printf '{"event_id":"e%d","age_s":60,"kind":"recognition","actor_id":"emp-1"}\n' "$i"
	done | "$produce" --brokers "$KAFKA_BOOTSTRAP" --topic advocacy.events
}

"$ADVOCACY_BUILD_DIR/advocacyd" --config "$work/fill.yaml" 2>"$work/daemon.log" &
daemon=$!
LIB_PIDS+=("$daemon")
lib_wait_for "[ \$(grep -c 'partition claimed' '$work/daemon.log') -ge 2 ]" 30 ||
	lib_fail "the daemon claimed no partition; see $work/daemon.log"

# Five events: the batch waits 4 s after the poll that found the first.
events 1 5
sent=$(date +%s.%N)
sleep 2
[ "$(written)" -eq 0 ] ||
	lib_fail "5 events were written ($(written) offsets) within 2 s; the batch should wait 4 s"
lib_wait_for "[ \$(written) -eq 5 ]" 20 || lib_fail "the waiting batch was never written"
lib_log "a batch of 5 reached Redis $(echo "$(date +%s.%N) - $sent" | bc) s after it was produced"

# 200 events fill a batch: it goes without waiting for batch_max_ms.
events 100 200
lib_wait_for "[ \$(written) -ge 200 ]" 3 ||
	lib_fail "a full batch of 200 was not written within 3 s (written: $(written))"

# A stop writes the filling batch at once.
lib_wait_for "[ \$(written) -eq 205 ]" 20 || lib_fail "the last 5 of 205 were never written"
events 1000 3
sleep 1
[ "$(written)" -eq 205 ] || lib_fail "3 events were written before the stop ($(written))"
kill -TERM "$daemon"
wait "$daemon" && status=0 || status=$?
[ "$status" -eq 0 ] || { cat "$work/daemon.log"; lib_fail "daemon exited $status on SIGTERM"; }
[ "$(written)" -eq 208 ] || lib_fail "after the stop Redis has $(written) offsets, expected 208"
echo "20-batch-fill: ok"
