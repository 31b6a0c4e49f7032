#!/usr/bin/env bash
# Confluent-framed Avro input through a schema registry, end to end. The real
# Confluent Schema Registry is a Java service that is not available here, so
# registry_standin.py (next to this file) serves the two endpoints advocacyd
# uses on 127.0.0.1. The registry contains the canonical schema (id 11), an
# evolved writer schema (id 12: tests/fixtures/schemas/101.avsc, fields
# reordered and two added) and an incompatible one (id 14: 104.avsc, kind
# removed). Checks that:
#   - at start advocacyd registers its Avro output schemas under
#     <topic>-value (KPI and escalations; the DLQ is JSON here) and frames
#     its KPI updates with the id the registry returned, not the file's;
#   - canonical (framed and bare) and evolved events are counted, the
#     evolved schema id is looked up once for two messages;
#   - the incompatible and an unknown schema id are dead-lettered with
#     incompatible_schema and unknown_schema_id;
#   - with no registry listening at the URL, advocacyd refuses to start and
#     says which subject it could not register.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=../lib.sh
source "$here/../lib.sh"
lib_init

lib_start_redis
lib_start_devkafka advocacy.events:1 advocacy.roster:1 advocacy.kpi:1 \
	advocacy.escalations:1 advocacy.dlq:1
work=$LIB_TMP
schemas=$ADVOCACY_SOURCE_DIR/tests/fixtures/schemas

python3 "$here/registry_standin.py" --port-file "$work/registry.port" \
	--log "$work/registry.log" --first-id 201 \
	11="$ADVOCACY_SOURCE_DIR/schemas/advocacy_event.avsc" 12="$schemas/101.avsc" \
	14="$schemas/104.avsc" &
LIB_PIDS+=("$!")
lib_wait_for "test -s '$work/registry.port'" 10 || lib_fail "the registry stand-in did not start"
registry_port=$(cat "$work/registry.port")
touch "$work/registry.log"

cp "$ADVOCACY_SOURCE_DIR/tests/fixtures/hmac.key" "$work/hmac.key"
cat >"$work/registry.yaml" <<YAML
kafka:
  bootstrap_servers: "$KAFKA_BOOTSTRAP"
  group_id: registry-test
  inputs:
    - {topic: advocacy.events, format: avro}
  roster_topic: advocacy.roster
redis: {host: 127.0.0.1, port: $REDIS_PORT, key_prefix: registry}
privacy: {key_file: hmac.key, key_id: test-1, min_group_size: 3}
windows: {granularities: [5m, 1h, 1d], retention: 35d, allowed_lateness: 7d, timezone: UTC}
behaviours:
  recognition_given:
    rules:
      - {kinds: [recognition], credit: actor}
kpis:
  - {id: recognition_count, behaviours: [recognition_given], aggregation: count, window: 24h,
     quadrant: learning_growth, indicator: leading, weight: 1, target: 10}
outputs:
  tick_interval: 1s
  kpi: {topic: advocacy.kpi, format: avro, schema_id: 1}
  escalations: {topic: advocacy.escalations, format: avro, schema_id: 2}
  dlq: {topic: advocacy.dlq, format: json}
schema_registry:
  url: http://127.0.0.1:$registry_port
  timeout: 2s
admin: {port: 0}
YAML
"$ADVOCACY_BUILD_DIR/advocacyd" --check-config "$work/registry.yaml" || lib_fail "test config invalid"

# Three people, the least privacy.min_group_size accepts; emp-0001 acts.
for n in 1 2 3; do
	printf 'emp-000%d\t{"department":"Sales","team":"North","segment":"knowledge","work_mode":"remote","employment_type":"full_time","region":"EMEA","aliases":["E-100%d"]}\n' "$n" "$n"
done | kcat -P -b "$KAFKA_BOOTSTRAP" -t advocacy.roster -K $'\t'

# One file per message: kcat -P sends each file given as one message.
mkdir "$work/msgs"
python3 - "$work/msgs" <<'PY'
import os, struct, sys, time
out = sys.argv[1]
now = int(time.time() * 1000)

def long(v):
    z = (v << 1) ^ (v >> 63)
    b = bytearray()
    while z > 0x7f:
        b.append((z & 0x7f) | 0x80)
        z >>= 7
    b.append(z)
    return bytes(b)

def s(text):
    raw = text.encode()
    return long(len(raw)) + raw

def frame(schema_id):
    return b"\x00" + struct.pack(">I", schema_id)

def canonical(event_id, age_ms):
    # event_id, event_time, source, kind, actor_id, target_ids, content_id,
    # channel_id, attributes
    return (s(event_id) + long(now - age_ms) + s("canonical") + s("recognition") +
            long(1) + s("E-1001") + long(0) + long(0) + long(0) + long(0))

def evolved(event_id, age_ms):
    # 101.avsc: kind, event_id, team_size, event_time, source, actor_id,
    # target_ids, content_id, channel_id, attributes, locale
    return (s("recognition") + s(event_id) + long(12) + long(now - age_ms) + s("hr-portal") +
            long(1) + s("E-1001") + long(0) + long(1) + s("post-9") + long(0) +
            long(1) + s("badge") + s("mentor") + long(0) + long(0))

messages = [
    frame(11) + canonical("reg-canonical-1", 60000),
    canonical("reg-bare-1", 50000),
    frame(12) + evolved("reg-evolved-1", 40000),
    frame(12) + evolved("reg-evolved-2", 30000),
    frame(14) + s("reg-bad-1") + long(now) + s("canonical"),
    frame(99) + canonical("reg-unknown-1", 20000),
]
for i, m in enumerate(messages):
    with open(os.path.join(out, f"{i:02d}.bin"), "wb") as f:
        f.write(m)
PY
for f in "$work"/msgs/*.bin; do
	kcat -P -b "$KAFKA_BOOTSTRAP" -t advocacy.events "$f"
done
lib_assert_eq 6 "$(lib_kcat_count advocacy.events)" "messages in advocacy.events"

"$ADVOCACY_BUILD_DIR/advocacyd" --config "$work/registry.yaml" 2>"$work/daemon.log" &
LIB_PIDS+=("$!")

# Registration at start, under the topic-name strategy; the DLQ is JSON.
lib_wait_for "grep -q 'output schema registered.*advocacy.escalations-value' '$work/daemon.log'" 30 ||
	{ cat "$work/daemon.log"; lib_fail "the output schemas were not registered"; }
grep -q "POST /subjects/advocacy.kpi-value/versions" "$work/registry.log" ||
	lib_fail "the KPI schema was not registered"
grep -q "POST /subjects/advocacy.escalations-value/versions" "$work/registry.log" ||
	lib_fail "the escalation schema was not registered"
! grep -q "advocacy.dlq-value" "$work/registry.log" || lib_fail "the JSON DLQ was registered"
kpi_id=$(sed -n 's/.*subject=advocacy.kpi-value schema_id=\([0-9]*\).*/\1/p' "$work/daemon.log")
[ "$kpi_id" -ge 201 ] || lib_fail "unexpected KPI schema id '$kpi_id'"

# Four events count: canonical framed, bare, and the two evolved ones.
counted() {
	local n=0 key
	for key in $(redis-cli -h 127.0.0.1 -p "$REDIS_PORT" --scan --pattern '{registry}:d:*'); do
		n=$((n + $(redis-cli -h 127.0.0.1 -p "$REDIS_PORT" scard "$key")))
	done
	echo "$n"
}
lib_wait_for '[ "$(counted)" = 4 ]' 60 ||
	{ cat "$work/daemon.log"; lib_fail "expected 4 counted events, Redis holds $(counted)"; }

# KPI updates are framed with the id the registry returned for advocacy.kpi-value.
lib_wait_for "[ \$(lib_kcat_count advocacy.kpi) -gt 0 ]" 30 || lib_fail "no KPI update"
header=$(kcat -C -b "$KAFKA_BOOTSTRAP" -t advocacy.kpi -o beginning -c 1 -e -q -f '%s' |
	head -c 5 | od -An -tx1 | tr -d ' \n')
lib_assert_eq "$(printf '00%08x' "$kpi_id")" "$header" "KPI frame header"

dlq() {
	kcat -C -b "$KAFKA_BOOTSTRAP" -t advocacy.dlq -e -q -f '%h\n' | tr ',' '\n' |
		sed -n 's/^dlq.reason=//p' | sort | tr '\n' ' '
}
lib_wait_for '[ "$(dlq)" = "incompatible_schema unknown_schema_id " ]' 30 ||
	lib_fail "dead-letter reasons: expected 'incompatible_schema unknown_schema_id ', got '$(dlq)'"

# Each id is asked for once, though id 12 came twice.
for id in 11 12 14 99; do
	lib_assert_eq 1 "$(grep -c "^GET /schemas/ids/$id\$" "$work/registry.log")" "lookups of id $id"
done

lib_stop "${LIB_PIDS[-1]}" || lib_fail "advocacyd did not exit cleanly"
! grep -qF "E-1001" "$work/daemon.log" || lib_fail "a raw id reached the log"
[ -z "$(redis-cli -h 127.0.0.1 -p "$REDIS_PORT" --scan --pattern '*E-1001*')" ] ||
	lib_fail "a raw id reached a Redis key"
# No registry at the URL: the start fails with a message naming the subject.
sed "s|url: http://127.0.0.1:$registry_port|url: http://127.0.0.1:$(lib_free_port)|" \
	"$work/registry.yaml" >"$work/no-registry.yaml"
status=0
"$ADVOCACY_BUILD_DIR/advocacyd" --config "$work/no-registry.yaml" 2>"$work/no-registry.log" ||
	status=$?
[ "$status" -ne 0 ] || lib_fail "advocacyd started without its schema registry"
grep -q 'startup failed.*registering subject advocacy.kpi-value.*did not answer' \
	"$work/no-registry.log" || { cat "$work/no-registry.log"; lib_fail "no clear start error"; }
lib_log "schema registry test passed"
