#!/usr/bin/env bash
# Teams through Microsoft Graph change notifications, end to end: a graph
# input topic gets encrypted notification collections (made now with the
# TEST-ONLY key of tests/fixtures/graph), a redelivered update, a collection
# with a tampered notification and one of ignored notifications. Checks that
# Redis-backed KPIs count each reaction once, that the tampered message is
# dead-lettered as bad_signature while its valid notification counts, and
# that ignored notifications are counted by reason.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=../lib.sh
source "$here/../lib.sh"
lib_init

lib_start_redis
lib_start_devkafka teams.notifications:2 advocacy.roster:1 advocacy.kpi:1 \
	advocacy.escalations:1 advocacy.dlq:1
work=$LIB_TMP
fixtures=$ADVOCACY_SOURCE_DIR/tests/fixtures/graph

cp "$ADVOCACY_SOURCE_DIR/tests/fixtures/hmac.key" "$work/hmac.key"
cat >"$work/graph.yaml" <<EOF
kafka:
  bootstrap_servers: "$KAFKA_BOOTSTRAP"
  group_id: graph-test
  inputs:
    - topic: teams.notifications
      format: graph
      graph:
        keys:
          - {certificate_id: advocacyd-test-2025, private_key_file: $fixtures/test-key.pem}
  roster_topic: advocacy.roster
redis: {host: 127.0.0.1, port: $REDIS_PORT, key_prefix: graph}
privacy: {key_file: hmac.key, key_id: test-1, min_group_size: 3}
windows: {granularities: [5m, 1h, 1d], retention: 35d, allowed_lateness: 7d, timezone: UTC}
behaviours:
  recognition_given:
    rules:
      - {kinds: [reaction_added], sources: [teams], reactions: [like, "💯"], credit: actor}
  recognition_received:
    rules:
      - {kinds: [reaction_added], sources: [teams], reactions: [like, "💯"], credit: targets}
  content_contribution:
    rules:
      - {kinds: [message_posted, reply_posted], sources: [teams]}
kpis:
  - {id: recognition_count, behaviours: [recognition_given], aggregation: count, window: 24h,
     quadrant: learning_growth, indicator: leading, weight: 0.4, target: 10}
  - {id: recognition_received_count, behaviours: [recognition_received], aggregation: count,
     window: 24h, quadrant: learning_growth, indicator: leading, weight: 0.3, target: 10}
  - {id: contribution_count, behaviours: [content_contribution], aggregation: count, window: 24h,
     quadrant: internal_process, indicator: leading, weight: 0.3, target: 10}
outputs:
  tick_interval: 1s
  kpi: {topic: advocacy.kpi, format: json}
  escalations: {topic: advocacy.escalations, format: json}
  dlq: {topic: advocacy.dlq, format: json}
admin: {port: 0}
EOF
"$ADVOCACY_BUILD_DIR/advocacyd" --check-config "$work/graph.yaml" || lib_fail "test config invalid"

user() { echo "7d0c5a1e-3b6f-4c2a-9e11-0a1b2c3d4e0$1"; }
for n in 1 2 3 4; do
	printf 'emp-000%s\t{"department":"Sales","team":"North","segment":"knowledge","work_mode":"remote","employment_type":"full_time","region":"EMEA","aliases":["%s"]}\n' \
		"$n" "$(user "$n")"
done | kcat -P -b "$KAFKA_BOOTSTRAP" -t advocacy.roster -K $'\t'

# The fixture resources with times moved to the last hour, encrypted now.
python3 - "$fixtures" "$work" <<'EOF'
import importlib.util, json, os, sys, time
fixtures, work = sys.argv[1], sys.argv[2]
spec = importlib.util.spec_from_file_location("mk", os.path.join(fixtures, "make-encrypted.py"))
mk = importlib.util.module_from_spec(spec)
spec.loader.exec_module(mk)
def iso(age_s):
    return time.strftime("%Y-%m-%dT%H:%M:%S.250Z", time.gmtime(time.time() - age_s))
def fresh(name, **times):
    msg = json.loads(mk.resource(name))
    for key, age in times.items():
        msg[key] = iso(age)
    for i, r in enumerate(msg.get("reactions", [])):
        r["createdDateTime"] = iso(300 + i)
    return json.dumps(msg).encode()
def note(change, path, mid, plain, **kw):
    return mk.notification(change, path, mid, mk.encrypted(plain, **kw))
post = note("created", mk.channel_path("1764921600123"), "1764921600123",
            fresh("channel-created.json", createdDateTime=900))
update = note("updated", mk.chat_path("1764925200789"), "1764925200789",
              fresh("chat-edited.json", createdDateTime=800, lastEditedDateTime=700))
reply = note("created", mk.channel_path("1764921600123", "1764921900456"), "1764921900456",
             fresh("channel-reply.json", createdDateTime=600))
tampered = note("created", mk.channel_path("1764921600124"), "1764921600124",
                fresh("channel-created.json", createdDateTime=500), tamper="data")
with open(os.path.join(work, "graph.jsonl"), "w") as out:
    for doc in ({"value": [post, update]}, update, {"value": [reply, tampered]}):
        out.write(json.dumps(doc) + "\n")
    with open(os.path.join(fixtures, "ignored-collection.json")) as f:
        out.write(json.dumps(json.load(f)) + "\n")
EOF
"$ADVOCACY_BUILD_DIR/advocacyd-produce" --brokers "$KAFKA_BOOTSTRAP" --topic teams.notifications \
	--raw <"$work/graph.jsonl"

lib_log "topic holds $(lib_kcat_count teams.notifications) messages"
"$ADVOCACY_BUILD_DIR/advocacyd" --config "$work/graph.yaml" 2>"$work/daemon.log" &
LIB_PIDS+=("$!")

expect_kpi() { python3 "$ADVOCACY_SOURCE_DIR/tests/integration/kpi_check.py" "$work/kpi.json" "$@"; }
read_kpis() {
	kcat -C -b "$KAFKA_BOOTSTRAP" -t advocacy.kpi -e -q -f '%k\t%s\n' >"$work/kpi.json" || true
}
lib_wait_for "read_kpis && expect_kpi contribution_count org 24h value 2" 60 ||
	{ cat "$work/daemon.log"; lib_fail "contribution_count never reached 2"; }
read_kpis
# The like (by user 4) and the 100 (by the author) count once, though the
# update came twice; the like is received by the author.
expect_kpi recognition_count org 24h value 2
expect_kpi recognition_received_count org 24h value 1
expect_kpi contribution_count team:North 24h value 2

# Redis contains the ids of the four counted events (post, reply and two
# reactions): the edit matches no rule, the repeats were dropped.
ids=0
for key in $(redis-cli -h 127.0.0.1 -p "$REDIS_PORT" --scan --pattern '{graph}:d:*'); do
	ids=$((ids + $(redis-cli -h 127.0.0.1 -p "$REDIS_PORT" scard "$key")))
done
lib_assert_eq 4 "$ids" "event ids counted in Redis"

dlq=$(kcat -C -b "$KAFKA_BOOTSTRAP" -t advocacy.dlq -e -q -f '%h\n' | tr ',' '\n' |
	sed -n 's/^dlq.reason=//p' | sort | tr '\n' ' ')
lib_assert_eq "bad_signature " "$dlq" "dead-letter reasons"

# Ignored notifications are counted by reason in the stats log at stop.
lib_stop "${LIB_PIDS[-1]}"
for reason in bot_message system_message unsupported_resource no_resource_data \
	lifecycle_event duplicate_event; do
	grep -q "ignored by reason.*$reason=" "$work/daemon.log" ||
		{ cat "$work/daemon.log"; lib_fail "no ignored count for $reason"; }
done
for raw in "$(user 1)" "$(user 4)" "Test Author One"; do
	! grep -qF "$raw" "$work/daemon.log" || lib_fail "a raw id or name reached the log"
	[ -z "$(redis-cli -h 127.0.0.1 -p "$REDIS_PORT" --scan --pattern "*$raw*")" ] ||
		lib_fail "a raw id reached a Redis key"
done
lib_log "graph adapter test passed"
