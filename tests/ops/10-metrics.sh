#!/usr/bin/env bash
# Prometheus /metrics against real redis-server and the dev broker. A known
# roster and known events, malformed ones among them, go in. promtool must
# accept the page, and its counts must be exact: messages consumed in total
# and per partition, dead letters and ignored messages per reason, late
# events, KPI updates, Redis and Kafka connection state and consumer lag. Stopping
# Redis turns advocacyd_redis_connected to 0 and starting it again back to
# 1. No roster id, alias, name or e-mail may appear in the page. The
# daemon runs with --log-format json, and every line it writes to stderr
# must parse as one JSON object.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=../lib.sh
source "$here/../lib.sh"
lib_init

command -v curl >/dev/null || lib_fail "curl not found; run scripts/install-deps.sh"
promtool=$ADVOCACY_SOURCE_DIR/.deps/bin/promtool
[ -x "$promtool" ] || promtool=$(command -v promtool || true)
[ -n "$promtool" ] || lib_fail "promtool not found in .deps/bin or on PATH; run scripts/install-deps.sh"

lib_start_redis
lib_start_devkafka advocacy.events:3 slack.events:1 advocacy.roster:1 \
	advocacy.kpi:1 advocacy.escalations:1 advocacy.dlq:1
produce="$ADVOCACY_BUILD_DIR/advocacyd-produce"
work=$LIB_TMP

# ---------------------------------------------------------------- config
cp "$ADVOCACY_SOURCE_DIR/tests/fixtures/hmac.key" "$work/hmac.key"
cat >"$work/metrics.yaml" <<EOF
kafka:
  bootstrap_servers: "$KAFKA_BOOTSTRAP"
  group_id: metrics
  inputs:
    - {topic: advocacy.events, format: avro}
    - {topic: slack.events, format: slack}
  roster_topic: advocacy.roster
  properties:
    statistics.interval.ms: "1000"
redis:
  host: 127.0.0.1
  port: $REDIS_PORT
  key_prefix: metrics
privacy:
  key_file: hmac.key
  key_id: test-1
  min_group_size: 3
windows:
  allowed_lateness: 7d
behaviours:
  recognition_given:
    rules:
      - {kinds: [recognition], credit: actor}
      - {kinds: [message_posted], sources: [slack], credit: actor}
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
  kpi: {topic: advocacy.kpi, format: json}
  escalations: {topic: advocacy.escalations, format: json}
  dlq: {topic: advocacy.dlq, format: json}
admin:
  port: 0
EOF
"$ADVOCACY_BUILD_DIR/advocacyd" --check-config "$work/metrics.yaml" || lib_fail "test config invalid"

# ---------------------------------------------------------------- input
# Alpha: 3 people, Beta: 2 (suppressed: below the minimum group size of 3).
secrets=(emp-m-0001 emp-m-0002 emp-m-0003 emp-m-0004 emp-m-0005 U0MALPHA1 U0MBETA01
	ottoline.figgins@example.com ottoline figgins "quarterly roadmap secret")
roster_line() { # id team aliases-json
	printf '%s\t{"department":"Eng","team":"%s","segment":"knowledge","work_mode":"remote","employment_type":"full_time","region":"EMEA","aliases":%s}\n' "$@"
}
{
	roster_line emp-m-0001 Alpha '["U0MALPHA1","ottoline.figgins@example.com"]'
	roster_line emp-m-0002 Alpha '[]'
	roster_line emp-m-0003 Alpha '[]'
	roster_line emp-m-0004 Beta '["U0MBETA01"]'
	roster_line emp-m-0005 Beta '[]'
} | kcat -P -b "$KAFKA_BOOTSTRAP" -t advocacy.roster -K $'\t'

# 30 valid recognitions keyed by event id over 3 partitions, one late event.
for i in $(seq 1 30); do
	printf '{"event_id":"m%d","age_s":%d,"kind":"recognition","actor_id":"emp-m-000%d","target_ids":["emp-m-0004"]}\n' \
		"$i" $((60 + i)) $((i % 5 + 1))
done >"$work/events.jsonl"
printf '{"event_id":"m-late","age_s":%d,"kind":"recognition","actor_id":"emp-m-0001","target_ids":[]}\n' \
	$((10 * 86400)) >>"$work/events.jsonl"
"$produce" --brokers "$KAFKA_BOOTSTRAP" --topic advocacy.events <"$work/events.jsonl"
# Two messages that are no Avro record, one on partition 0 and one on 2.
printf 'not an avro record' | kcat -P -b "$KAFKA_BOOTSTRAP" -t advocacy.events -p 0 -k bad-1
printf 'neither is this one' | kcat -P -b "$KAFKA_BOOTSTRAP" -t advocacy.events -p 2 -k bad-2

now=$(date +%s)
cat >"$work/slack.jsonl" <<EOF
{"type":"event_callback","team_id":"T0M","event_id":"Ev0M00001","event_time":$((now - 30)),"event":{"type":"message","user":"U0MALPHA1","text":"Ottoline Figgins shares the quarterly roadmap secret","channel":"C0GENERAL","ts":"$((now - 30)).000100"}}
{"type":"event_callback","team_id":"T0M","event_id":"Ev0M00002","event_time":$((now - 20)),"event":{"type":"message","subtype":"bot_message","bot_id":"B0BOT","text":"quarterly roadmap secret","channel":"C0GENERAL","ts":"$((now - 20)).000200"}}
{"type":"url_verification","challenge":"challenge-m","token":"t0ken"}
{"type":"event_callback", "this is not json
EOF
"$produce" --brokers "$KAFKA_BOOTSTRAP" --topic slack.events --raw <"$work/slack.jsonl"

# The exact number of messages per partition, as the broker stores them.
kcat -C -b "$KAFKA_BOOTSTRAP" -t advocacy.events -o beginning -e -q -f '%p\n' | sort | uniq -c |
	awk '{ print $2, $1 }' >"$work/partitions.txt"
total_events=$(awk '{ s += $2 } END { print s }' "$work/partitions.txt")
lib_assert_eq 33 "$total_events" "messages in advocacy.events"
total=$((total_events + 4))

# ---------------------------------------------------------------- run
"$ADVOCACY_BUILD_DIR/advocacyd" --config "$work/metrics.yaml" --log-format json \
	2>"$work/daemon.log" &
daemon=$!
lib_track "$daemon"

fail_with_log() {
	tail -n 40 "$work/daemon.log" >&2
	lib_fail "$@"
}

admin_port() {
	python3 - "$work/daemon.log" <<'PYTHON'
import json, sys
for line in open(sys.argv[1]):
    r = json.loads(line)
    if r.get("component") == "admin" and r.get("msg") == "admin server listening":
        print(r["port"])
        break
PYTHON
}
lib_wait_for "[ -n \"\$(admin_port)\" ]" 30 || fail_with_log "the daemon never logged the admin port"
base=http://127.0.0.1:$(admin_port)

scrape() {
	curl -s --max-time 5 -D "$work/headers" -o "$work/metrics.txt" "$base/metrics"
}

# Prints the value of the sample whose name and labels are exactly $1.
sample() {
	awk -v s="$1" '$1 == s { print $2; found = 1 } END { if (!found) print "absent" }' \
		"$work/metrics.txt"
}

# Prints the sum of every sample of family $1 (any labels).
family_sum() {
	awk -v f="$1" 'index($1, f "{") == 1 || $1 == f { s += $2 } END { print s + 0 }' \
		"$work/metrics.txt"
}

lib_wait_for "scrape && [ \"\$(family_sum advocacyd_messages_consumed_total)\" = $total ]" 60 ||
	fail_with_log "consumed messages never reached $total: $(grep consumed "$work/metrics.txt")"
lib_wait_for "scrape && [ \"\$(sample advocacyd_kpi_updates_total{kpi=\\\"recognition_count\\\"})\" != absent ]" 30 ||
	fail_with_log "no KPI update counted"
lib_wait_for "scrape && [ \"\$(sample advocacyd_kafka_connected{client=\\\"consumer\\\"})\" = 1 ]" 15 ||
	fail_with_log "the consumer never showed as connected to Kafka"
lib_wait_for "scrape && [ \"\$(sample 'advocacyd_consumer_lag_messages{topic=\"advocacy.events\",partition=\"0\"}')\" = 0 ]" 15 ||
	fail_with_log "partition 0's lag never reached 0: $(grep lag_messages "$work/metrics.txt")"
scrape
cp "$work/metrics.txt" "$work/metrics-up.txt"

# ---------------------------------------------------------------- format
grep -qi '^Content-Type: text/plain; version=0.0.4; charset=utf-8'$'\r''$' "$work/headers" ||
	lib_fail "wrong Content-Type: $(grep -i content-type "$work/headers")"
"$promtool" check metrics <"$work/metrics.txt" >"$work/promtool.txt" 2>&1 ||
	lib_fail "promtool check metrics failed: $(cat "$work/promtool.txt")"
families=$(grep -c '^# TYPE advocacyd_' "$work/metrics.txt")
helps=$(grep -c '^# HELP advocacyd_' "$work/metrics.txt")
lib_assert_eq "$families" "$helps" "families with # TYPE and with # HELP"
if grep -v '^#' "$work/metrics.txt" | grep -v '^advocacyd_' | grep -q .; then
	lib_fail "a sample not named advocacyd_*: $(grep -v '^#' "$work/metrics.txt" | grep -v '^advocacyd_' | head -n 3)"
fi

# ---------------------------------------------------------------- values
while read -r partition count; do
	lib_assert_eq "$count" "$(sample "advocacyd_messages_consumed_total{topic=\"advocacy.events\",partition=\"$partition\"}")" \
		"messages consumed on advocacy.events partition $partition"
	lib_assert_eq 0 "$(sample "advocacyd_consumer_lag_messages{topic=\"advocacy.events\",partition=\"$partition\"}")" \
		"lag of advocacy.events partition $partition"
done <"$work/partitions.txt"
lib_assert_eq 4 "$(sample 'advocacyd_messages_consumed_total{topic="slack.events",partition="0"}')" \
	"messages consumed on slack.events"
lib_assert_eq 2 "$(sample 'advocacyd_messages_dead_lettered_total{reason="invalid_avro"}')" \
	"dead letters with reason invalid_avro"
lib_assert_eq 1 "$(sample 'advocacyd_messages_dead_lettered_total{reason="invalid_json"}')" \
	"dead letters with reason invalid_json"
lib_assert_eq 1 "$(sample 'advocacyd_messages_dead_lettered_total{reason="late"}')" \
	"dead letters with reason late"
lib_assert_eq 4 "$(family_sum advocacyd_messages_dead_lettered_total)" "dead letters in total"
lib_assert_eq 1 "$(sample advocacyd_late_events_total)" "late events"
lib_assert_eq 1 "$(sample 'advocacyd_messages_ignored_total{reason="bot_message"}')" \
	"ignored bot messages"
lib_assert_eq 1 "$(sample 'advocacyd_messages_ignored_total{reason="url_verification"}')" \
	"ignored url_verification envelopes"
lib_assert_eq 31 "$(sample 'advocacyd_events_decoded_total{adapter="avro"}')" "Avro events decoded"
lib_assert_eq 1 "$(sample 'advocacyd_events_decoded_total{adapter="slack"}')" "Slack events decoded"
lib_assert_eq 1 "$(sample advocacyd_redis_connected)" "Redis connection gauge while up"
lib_assert_eq 1 "$(sample 'advocacyd_kafka_connected{client="producer"}')" "producer connection gauge"
lib_assert_eq 5 "$(sample advocacyd_roster_people)" "people in the roster"
lib_assert_eq 0 "$(family_sum advocacyd_produce_failures_total)" "failed output records"
kpi_updates=$(sample 'advocacyd_kpi_updates_total{kpi="recognition_count"}')
[ "$kpi_updates" -gt 0 ] || lib_fail "KPI updates: $kpi_updates"
[ "$(sample advocacyd_kpi_scopes_suppressed_total)" -gt 0 ] ||
	lib_fail "team:Beta (2 people) was never counted as a suppressed scope"
[ "$(sample advocacyd_batch_messages_count)" -gt 0 ] || lib_fail "no batch size observed"
[ "$(sample advocacyd_redis_flush_duration_seconds_count)" -gt 0 ] ||
	lib_fail "no Redis write latency observed"
lib_assert_eq "$(sample advocacyd_batch_messages_count)" \
	"$(sample 'advocacyd_batch_messages_bucket{le="+Inf"}')" "batch histogram +Inf bucket"
version=$(sha256sum "$work/metrics.yaml" | cut -c1-16)
lib_assert_eq 1 "$(sample "advocacyd_config_info{version=\"$version\"}")" "config version info"
lib_assert_eq 0 "$(sample advocacyd_config_reloads_total)" "config reloads"

# ---------------------------------------------------------------- Redis outage
lib_log "stopping redis-server on port $REDIS_PORT"
lib_stop "$REDIS_PID" || true
lib_wait_for "scrape && [ \"\$(sample advocacyd_redis_connected)\" = 0 ]" 10 ||
	fail_with_log "advocacyd_redis_connected did not turn 0 within 10 s of stopping Redis"
cp "$work/metrics.txt" "$work/metrics-down.txt"
redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --save '' --appendonly no \
	--dir "$REDIS_DIR" --daemonize no >>"$REDIS_DIR/redis.log" 2>&1 &
REDIS_PID=$!
lib_track "$REDIS_PID"
lib_wait_for "scrape && [ \"\$(sample advocacyd_redis_connected)\" = 1 ]" 20 ||
	fail_with_log "advocacyd_redis_connected did not return to 1 after Redis came back"

# ---------------------------------------------------------------- shutdown
status=0
lib_stop "$daemon" || status=$?
[ "$status" -eq 0 ] || fail_with_log "daemon exited $status on SIGTERM"

# ---------------------------------------------------------------- JSON log
python3 - "$work/daemon.log" <<'PYTHON' || lib_fail "the JSON log has an invalid line"
import json, sys
lines = open(sys.argv[1], encoding="utf-8").read().splitlines()
assert lines, "empty log"
for n, line in enumerate(lines, 1):
    try:
        r = json.loads(line)
    except ValueError as e:
        sys.exit("line %d is not JSON (%s): %r" % (n, e, line[:200]))
    assert isinstance(r, dict), "line %d is no object" % n
    for key in ("ts", "level", "component", "msg"):
        assert key in r, "line %d lacks %s: %r" % (n, key, line[:200])
msgs = [json.loads(l)["msg"] for l in lines]
assert "stopped" in msgs, "no clean stop in the log"
assert "message dead-lettered" in msgs, "no dead letter logged"
PYTHON

# ---------------------------------------------------------------- privacy scan
for s in "${secrets[@]}"; do
	for f in metrics-up.txt metrics-down.txt metrics.txt daemon.log; do
		if grep -qi -- "$s" "$work/$f"; then
			lib_fail "'$s' leaked into $f"
		fi
	done
done
echo "10-metrics: ok"
