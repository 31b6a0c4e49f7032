#!/usr/bin/env bash
# The consumer's input buffer at its smallest (kafka.max_prefetch_kbytes
# 1024). A backlog many times its size goes through it with every offset
# written once. A record bigger than the whole buffer (1.2 MB, not valid
# Avro) is handed over without a copy, goes to the DLQ and does not hold up
# the records behind it. A message.max.bytes above the default
# fetch.max.bytes does not stop the daemon. Purging on revoke and seek is
# covered by faults.30-rebalance and faults.80-poison, which run through
# the same buffer.
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
cat >"$work/buffer.yaml" <<CONFIG
kafka:
  bootstrap_servers: "$KAFKA_BOOTSTRAP"
  group_id: buffer
  inputs:
    - {topic: advocacy.events, format: avro}
  roster_topic: advocacy.roster
  batch_max_messages: 5000
  batch_max_ms: 200
  max_prefetch_kbytes: 1024
  properties:
    session.timeout.ms: 6000
    # Above the consumer's fetch.max.bytes default (1 MiB at this budget),
    # which then follows it; still below the 1.2 MB record.
    message.max.bytes: 1100000
redis:
  host: 127.0.0.1
  port: $REDIS_PORT
  key_prefix: buffer
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
	redis-cli -p "$REDIS_PORT" hgetall '{buffer}:offsets' |
		awk 'NR % 2 == 0 { sum += $1 } END { print sum + 0 }'
}
events() { # first count
	for i in $(seq "$1" $(($1 + $2 - 1))); do
		printf '{"event_id":"e%d","age_s":60,"kind":"recognition","actor_id":"emp-1"}\n' "$i"
	done | "$produce" --brokers "$KAFKA_BOOTSTRAP" --topic advocacy.events
}
dead_letters() { # of the big record: its original size is in a header
	kcat -C -b "$KAFKA_BOOTSTRAP" -t advocacy.dlq -o beginning -e -q -f '%h\n' 2>/dev/null |
		grep -c 'dlq.payload.size=1200000' || true
}

# The backlog is produced before the daemon starts, so the buffer fills and
# waits for the batches many times over. The big record sits in the middle
# of partition 0.
events 1 20000
head -c 1200000 /dev/zero | tr '\0' 'x' |
	kcat -P -b "$KAFKA_BOOTSTRAP" -t advocacy.events -p 0 -X message.max.bytes=2000000
events 20001 20000
total=40001

"$ADVOCACY_BUILD_DIR/advocacyd" --config "$work/buffer.yaml" 2>"$work/daemon.log" &
daemon=$!
LIB_PIDS+=("$daemon")
lib_wait_for "[ \$(written) -ge $total ]" 120 ||
	lib_fail "$(written) of $total offsets written; see $work/daemon.log"
sleep 2
[ "$(written)" -eq "$total" ] ||
	lib_fail "$(written) offsets written for $total records: some were read twice"
lib_wait_for "[ \$(dead_letters) -eq 1 ]" 20 ||
	lib_fail "the 1.2 MB record is not in the DLQ once ($(dead_letters) times)"
count=$(redis-cli -p "$REDIS_PORT" --scan --pattern '{buffer}:*' | wc -l)
[ "$count" -gt 0 ] || lib_fail "no window keys in Redis"

lib_stop "$daemon"
lib_log "40000 records through a 1 MiB input buffer, the 1.2 MB one to the DLQ"
