#!/usr/bin/env bash
# Bias audit through a real daemon, redis-server and the dev broker: remote
# staff receive less recognition than onsite staff.
#
# Roster: onsite E01-E06 (6 people), remote E07-E16 (10), hybrid E17-E19
# (3, below privacy.min_group_size 5, so suppressed as a small group) and
# field E20-E24 (5). Hybrid is the only suppressed child of org among the
# work_mode values, so sibling suppression also hides the smallest other
# value, field (5 < 6 < 10). Every other dimension has one segment, so only
# work_mode gives records.
#
# Phase 1: onsite E01-E06 receive 1 kudos each, remote E07-E11 1 each,
# hybrid E17 and E18 2 each, field E20-E24 2 each.
#   kudos_rate (rate):  onsite 6/6 = 1.0, remote 5/10 = 0.5 -> ratio 0.5 < 0.8.
#                       Hybrid (4/3 = 1.33) and field (10/5 = 2.0) are left
#                       out, field because of sibling suppression although
#                       its 5 people meet min_sample. Either would be the
#                       highest and change the ratio.
#   kudos (count):      per head the same 1.0 and 0.5 -> ratio 0.5, although
#                       the raw counts 5 and 6 would give 0.83 and pass.
#   Both raise a bias escalation, observed 0.5, remote lowest, onsite highest.
# Phase 2: remote E12-E16 receive 1 each: remote 10/10 = 1.0, ratio 1.0, and
# both escalations resolve.
# Last, no roster id reaches the bias or escalation topic, Redis or the log.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=../lib.sh
source "$here/../lib.sh"
lib_init

lib_start_redis
lib_start_devkafka advocacy.events:1 advocacy.roster:1 advocacy.kpi:1 \
	advocacy.escalations:1 advocacy.dlq:1 advocacy.bias:1
produce="$ADVOCACY_BUILD_DIR/advocacyd-produce"
work=$LIB_TMP

cp "$ADVOCACY_SOURCE_DIR/tests/fixtures/hmac.key" "$work/hmac.key"
cat >"$work/bias.yaml" <<EOF
kafka:
  bootstrap_servers: "$KAFKA_BOOTSTRAP"
  group_id: bias-test
  inputs: [{topic: advocacy.events, format: avro}]
  roster_topic: advocacy.roster
redis: {host: 127.0.0.1, port: $REDIS_PORT, key_prefix: bias}
privacy: {key_file: hmac.key, key_id: test-1, min_group_size: 5}
windows: {granularities: [5m, 1h, 1d], retention: 35d, allowed_lateness: 7d, timezone: UTC}
behaviours:
  kudos_received: {rules: [{kinds: [recognition], credit: targets}]}
kpis:
  - {id: kudos_rate, name: Kudos received per head, behaviours: [kudos_received],
     aggregation: rate, window: 24h, quadrant: learning_growth, indicator: leading,
     weight: 0.5, target: 1}
  - {id: kudos, behaviours: [kudos_received], aggregation: count, window: 24h,
     quadrant: learning_growth, indicator: leading, weight: 0.5, target: 5}
outputs:
  tick_interval: 1s
  kpi: {topic: advocacy.kpi, format: json}
  escalations: {topic: advocacy.escalations, format: json}
  dlq: {topic: advocacy.dlq, format: json}
  bias: {topic: advocacy.bias, format: json}
bias_audit: {owner: HR analytics}
admin: {port: 0}
EOF
"$ADVOCACY_BUILD_DIR/advocacyd" --check-config "$work/bias.yaml" >/dev/null ||
	lib_fail "test config invalid"

# ---------------------------------------------------------------- roster
for n in $(seq 1 24); do
	if [ "$n" -le 6 ]; then mode=onsite
	elif [ "$n" -le 16 ]; then mode=remote
	elif [ "$n" -le 19 ]; then mode=hybrid
	else mode=field
	fi
	printf 'E%02d\t{"department":"Ops","team":"Alpha","segment":"knowledge","work_mode":"%s","employment_type":"full_time","region":"EMEA","aliases":[]}\n' \
		"$n" "$mode"
done | kcat -P -b "$KAFKA_BOOTSTRAP" -t advocacy.roster -K $'\t'

kudos() { # id target
	printf '{"event_id":"%s","age_s":60,"kind":"recognition","actor_id":"E19","target_ids":["%s"]}\n' \
		"$1" "$2"
}
{
	for n in 01 02 03 04 05 06 07 08 09 10 11; do kudos "p1-$n" "E$n"; done
	for n in 17 18 20 21 22 23 24; do
		kudos "p1-${n}a" "E$n"
		kudos "p1-${n}b" "E$n"
	done
} | "$produce" --brokers "$KAFKA_BOOTSTRAP" --topic advocacy.events

"$ADVOCACY_BUILD_DIR/advocacyd" --config "$work/bias.yaml" 2>"$work/daemon.log" &
LIB_PIDS+=("$!")

read_topic() { # topic file
	kcat -C -b "$KAFKA_BOOTSTRAP" -t "$1" -e -q -f '%k\t%s\n' >"$2" || true
}
# Checks the newest bias record of KEY against FIELD=VALUE pairs.
expect_bias() {
	read_topic advocacy.bias "$work/bias.json"
	python3 - "$work/bias.json" "$@" <<'EOF'
import json, sys
path, key, pairs = sys.argv[1], sys.argv[2], sys.argv[3:]
latest = None
for line in open(path):
    k, value = line.rstrip("\n").split("\t", 1)
    if k == key:
        latest = json.loads(value)
if latest is None:
    sys.exit("no bias record keyed %s" % key)
for pair in pairs:
    field, want = pair.split("=", 1)
    got = latest[field]
    ok = abs(got - float(want)) < 1e-9 if isinstance(got, float) else str(got).lower() == want
    if not ok:
        sys.exit("%s: %s is %r, expected %s" % (key, field, got, want))
EOF
}
# Prints the statuses of the escalations keyed KEY, in order, space-separated.
statuses() {
	read_topic advocacy.escalations "$work/esc.json"
	python3 - "$work/esc.json" "$1" <<'EOF'
import json, sys
print(" ".join(json.loads(v)["status"] for k, v in
               (line.rstrip("\n").split("\t", 1) for line in open(sys.argv[1]))
               if k == sys.argv[2]))
EOF
}

# ---------------------------------------------------------------- phase 1
rate_key='kudos_rate|work_mode|24h'
count_key='kudos|work_mode|24h'
lib_wait_for "expect_bias '$rate_key' ratio=0.5 segments_compared=2 2>/dev/null" 60 ||
	{ cat "$work/daemon.log"; lib_fail "no bias record with ratio 0.5 for $rate_key"; }
expect_bias "$rate_key" ratio=0.5 basis=value below_threshold=true threshold=0.8 \
	lowest_segment=work_mode:remote lowest_value=0.5 highest_segment=work_mode:onsite \
	highest_value=1.0 segments_compared=2 segments_excluded=2 min_sample=5 window=24h
lib_wait_for "expect_bias '$count_key' ratio=0.5 2>/dev/null" 30 ||
	lib_fail "no bias record with ratio 0.5 for $count_key"
expect_bias "$count_key" ratio=0.5 basis=per_head below_threshold=true \
	lowest_segment=work_mode:remote lowest_value=0.5 highest_value=1.0 segments_excluded=2
# One record per (KPI, dimension): no other dimension has two segments.
keys=$(cut -f1 "$work/bias.json" | LC_ALL=C sort -u | tr '\n' ' ')
lib_assert_eq "kudos_rate|work_mode|24h kudos|work_mode|24h " "$keys" "bias record keys"

for rule in bias.kudos_rate bias.kudos; do
	lib_wait_for "[ \"\$(statuses $rule/work_mode)\" = firing ]" 30 ||
		{ cat "$work/daemon.log"; lib_fail "$rule/work_mode did not fire"; }
done
python3 - "$work/esc.json" <<'EOF'
import json, sys
for line in open(sys.argv[1]):
    key, value = line.rstrip("\n").split("\t", 1)
    e = json.loads(value)
    assert key.startswith("bias."), "unexpected escalation %s" % key
    assert e["condition"] == "bias", e
    assert e["rule_id"] == key.split("/")[0], e
    assert e["scope"] == "work_mode", e
    assert e["observed"] == 0.5, e
    assert e["threshold"] == 0.8, e
    assert e["lowest_scope"] == "work_mode:remote", e
    assert e["highest_scope"] == "work_mode:onsite", e
    assert e["owner"] == "HR analytics", e
    assert e["route"] == "HR analytics", e
    assert e["summary"].endswith("work_mode:remote is at 0.50 of work_mode:onsite, below 0.80"), e
EOF
kcat -C -b "$KAFKA_BOOTSTRAP" -t advocacy.escalations -e -q -J >"$work/esc-ce.json"
python3 "$ADVOCACY_SOURCE_DIR/tests/alerts/cloudevents_check.py" <"$work/esc-ce.json" >/dev/null ||
	lib_fail "the bias escalations are not valid CloudEvents"

# ---------------------------------------------------------------- phase 2
for n in 12 13 14 15 16; do kudos "p2-$n" "E$n"; done |
	"$produce" --brokers "$KAFKA_BOOTSTRAP" --topic advocacy.events
for rule in bias.kudos_rate bias.kudos; do
	lib_wait_for "[ \"\$(statuses $rule/work_mode)\" = 'firing resolved' ]" 30 ||
		{ cat "$work/daemon.log"; lib_fail "$rule/work_mode did not resolve"; }
done
expect_bias "$rate_key" ratio=1.0 below_threshold=false lowest_value=1.0 highest_value=1.0
expect_bias "$count_key" ratio=1.0 below_threshold=false
python3 - "$work/esc.json" <<'EOF'
import json, sys
for line in open(sys.argv[1]):
    e = json.loads(line.rstrip("\n").split("\t", 1)[1])
    if e["status"] == "resolved":
        assert e["observed"] == 1.0, e
EOF

# ---------------------------------------------------------------- privacy
raw_id='(^|[^A-Za-z0-9])E[0-2][0-9]([^0-9]|$)'
for topic in advocacy.bias advocacy.escalations advocacy.kpi; do
	if kcat -C -b "$KAFKA_BOOTSTRAP" -t "$topic" -e -q -f '%k %s\n' | grep -Eq "$raw_id"; then
		lib_fail "a roster id reached $topic"
	fi
done
redis-cli -h 127.0.0.1 -p "$REDIS_PORT" --scan >"$work/keys.txt"
redis-cli -h 127.0.0.1 -p "$REDIS_PORT" hgetall '{bias}:alerts:state' >"$work/state.txt"
grep -q 'bias.kudos_rate/work_mode' "$work/state.txt" ||
	lib_fail "no alert state for bias.kudos_rate/work_mode in {bias}:alerts:state"
if grep -Eq "$raw_id" "$work/keys.txt" "$work/state.txt" "$work/daemon.log"; then
	lib_fail "a roster id reached Redis or the log"
fi
lib_log "bias audit: records, firing and resolve as computed by hand"
