#!/usr/bin/env bash
# Headcount history, departures and retention, end to end with 20 s buckets
# and one 80 s window (buckets B0..B3, starting at T0, T1, T2, T3).
#
# Roster at start: team A (department Sales) a1..a6, team B (Ops) b1..b4.
#   B1: n1 joins A; a6 moves from A to B.
#   B2: b4 leaves (tombstone); a5's record gets left_at (a time in B2).
#   The daemon restarts in B2 and reads the roster topic again.
# Snapshots per bucket (org, A, B): B0 10 6 4, B1 11 6 5, B2 9 5 4, B3 9 5 4.
# Mean headcount over B0..B3: A = 22/4 = 5.5, B = 17/4 = 4.25, org = 39/4 = 9.75.
# privacy.min_group_size is 3, the least the loader accepts: every scope has at
# least 4 people now and a mean of at least 4.25, so no figure is suppressed.
# Recognition events in B0..B3: A 11 (a1..a4), B 6 (b1..b3), org 17; two
# more by a1 just before T0 fall outside the window.
#   recognition_rate: A 11/5.5 = 2, B 6/4.25, org 17/9.75 (today's headcount
#     would give A 11/5 = 2.2)
#   active_rate (participation): A 4/5.5, B 3/4.25, org 7/9.75
#   retention: A 1 - 1/5.5, B 1 - 1/4.25, org 1 - 2/9.75
#   retention_gap (org, split by active_rate at the median): high = A,
#     low = B, gap = (1 - 1/5.5) - (1 - 1/4.25)
# Departures are counted once although the restart applies both records
# again: {P}:dep for B2 contains org 2, team:A 1, team:B 1.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=../lib.sh
source "$here/../lib.sh"
lib_init

lib_start_redis
lib_start_devkafka events:2 advocacy.roster:1 advocacy.kpi:1 advocacy.escalations:1 \
	advocacy.dlq:1
work=$LIB_TMP
cp "$ADVOCACY_SOURCE_DIR/tests/fixtures/hmac.key" "$work/hmac.key"
cat >"$work/hc.yaml" <<EOF
kafka:
  bootstrap_servers: "$KAFKA_BOOTSTRAP"
  group_id: headcount-test
  inputs:
    - {topic: events, format: avro}
  roster_topic: advocacy.roster
redis: {host: 127.0.0.1, port: $REDIS_PORT, key_prefix: hc}
privacy: {key_file: hmac.key, key_id: test-1, min_group_size: 3}
windows:
  granularities: [20s, 1d]
  retention: 35d
  allowed_lateness: 1d
  timezone: UTC
  rolling:
    - {name: 80s, length: 80s, granularity: 20s}
behaviours:
  recognition_given: {rules: [{kinds: [recognition]}]}
kpis:
  - {id: recognition_rate, behaviours: [recognition_given], aggregation: rate, window: 80s,
     quadrant: learning_growth, indicator: leading, weight: 0.5, target: 1}
  - {id: active_rate, behaviours: [recognition_given], aggregation: participation, window: 80s,
     quadrant: learning_growth, indicator: leading, weight: 0.5, target: 0.5}
  - {id: retention, aggregation: retention, window: 80s,
     quadrant: learning_growth, indicator: lagging, weight: 0, target: 0.9}
  - {id: retention_gap, aggregation: retention_gap, split_by: active_rate, window: 80s,
     quadrant: learning_growth, indicator: lagging, weight: 0, target: 0}
outputs:
  tick_interval: 1s
  kpi: {topic: advocacy.kpi, format: json}
  escalations: {topic: advocacy.escalations, format: json}
  dlq: {topic: advocacy.dlq, format: json}
admin: {port: 0}
EOF
"$ADVOCACY_BUILD_DIR/advocacyd" --check-config "$work/hc.yaml" || lib_fail "test config invalid"

# T0: a bucket start at least 15 s ahead, so that the daemon runs through all of B0.
t0=$((($(date +%s) + 15 + 19) / 20 * 20))
t1=$((t0 + 20)) t2=$((t0 + 40)) t3=$((t0 + 60)) t4=$((t0 + 80))
lib_log "T0=$t0: B0..B3 end at $t4"

roster() { kcat -P -b "$KAFKA_BOOTSTRAP" -t advocacy.roster -K '|' -Z; }
sleep_until() { local d=$(($1 - $(date +%s))); [ "$d" -le 0 ] || sleep "$d"; }

for n in 1 2 3 4 5 6; do echo "EMP-A$n|{\"department\":\"Sales\",\"team\":\"A\"}"; done | roster
for n in 1 2 3 4; do echo "EMP-B$n|{\"department\":\"Ops\",\"team\":\"B\"}"; done | roster

# Events with event times in B0..B3 (and two before T0), all produced now:
# the future ones are within windows.max_future (5 minutes).
python3 - "$t0" >"$work/events.jsonl" <<'EOF'
import json, sys
t0 = int(sys.argv[1]) * 1000
plan = [("EMP-A1", -1, 2), ("EMP-A1", 0, 3), ("EMP-A2", 1, 3), ("EMP-A3", 2, 3),
        ("EMP-A4", 3, 2), ("EMP-B1", 0, 2), ("EMP-B2", 1, 2), ("EMP-B3", 3, 2)]
n = 0
for who, bucket, count in plan:
    for i in range(count):
        n += 1
        print(json.dumps({"event_id": "hc-%d" % n, "source": "canonical", "kind": "recognition",
                          "actor_id": who, "event_time_ms": t0 + bucket * 20000 + 5000 + i * 100}))
EOF
"$ADVOCACY_BUILD_DIR/advocacyd-produce" --brokers "$KAFKA_BOOTSTRAP" --topic events \
	<"$work/events.jsonl"

"$ADVOCACY_BUILD_DIR/advocacyd" --config "$work/hc.yaml" 2>"$work/daemon1.log" &
daemon=$!
lib_track "$daemon"

read_kpis() {
	kcat -C -b "$KAFKA_BOOTSTRAP" -t advocacy.kpi -e -q -f '%k\t%s\n' >"$work/kpi.json" || true
}
lib_wait_for "read_kpis && grep -q recognition_rate '$work/kpi.json'" 30 ||
	{ cat "$work/daemon1.log"; lib_fail "no KPI update before T0"; }
[ "$(date +%s)" -lt "$t0" ] || lib_fail "the daemon started too late for B0; rerun the test"

sleep_until $((t1 + 1))
printf '%s\n' 'EMP-N1|{"department":"Sales","team":"A"}' \
	'EMP-A6|{"department":"Ops","team":"B"}' | roster

sleep_until $((t2 + 1))
left_at=$(date -u -d "@$((t2 + 1))" +%Y-%m-%dT%H:%M:%SZ)
printf '%s\n' 'EMP-B4|' \
	"EMP-A5|{\"department\":\"Sales\",\"team\":\"A\",\"left_at\":\"$left_at\"}" | roster

# Restart: the new process reads the whole roster topic again.
sleep_until $((t2 + 6))
lib_stop "$daemon" || lib_fail "the first daemon did not exit cleanly"
"$ADVOCACY_BUILD_DIR/advocacyd" --config "$work/hc.yaml" 2>"$work/daemon2.log" &
daemon=$!
lib_track "$daemon"

sleep_until $((t4 + 3))
read_kpis
lib_stop "$daemon" || lib_fail "the second daemon did not exit cleanly"
grep -q 'msg="departures counted"' "$work/daemon1.log" ||
	{ cat "$work/daemon1.log"; lib_fail "the first daemon counted no departure"; }
if grep -q 'msg="departures counted"' "$work/daemon2.log"; then
	lib_fail "the restarted daemon counted departures again: $(grep departures "$work/daemon2.log")"
fi

# The last update of each (KPI, scope) whose window is B0..B3.
python3 - "$work/kpi.json" "$((t0 * 1000))" "$((t4 * 1000))" <<'EOF'
import json, sys
path, start, end = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
last = {}
for line in open(path):
    if "\t" not in line:
        continue
    r = json.loads(line.split("\t", 1)[1])
    if r["window_end"] == end:
        last[(r["kpi"], r["scope"])] = r
failures = []
def expect(kpi, scope, field, want):
    r = last.get((kpi, scope))
    got = None if r is None else r.get(field)
    if got is None or abs(float(got) - want) > 1e-9:
        failures.append("%s %s %s: got %r, expected %r" % (kpi, scope, field, got, want))
for scope in ("team:A", "org"):
    r = last.get(("recognition_rate", scope))
    if r is not None and r["window_start"] != start:
        failures.append("%s window_start %r, expected %r" % (scope, r["window_start"], start))
expect("recognition_rate", "team:A", "value", 11 / 5.5)
expect("recognition_rate", "team:A", "headcount", 6)
expect("recognition_rate", "team:B", "value", 6 / 4.25)
expect("recognition_rate", "team:B", "headcount", 4)
expect("recognition_rate", "org", "value", 17 / 9.75)
expect("recognition_rate", "org", "count", 17)
expect("recognition_rate", "org", "headcount", 10)
expect("recognition_rate", "department:Sales", "value", 11 / 5.5)
expect("recognition_rate", "department:Ops", "value", 6 / 4.25)
expect("active_rate", "team:A", "value", 4 / 5.5)
expect("active_rate", "team:B", "value", 3 / 4.25)
expect("active_rate", "org", "value", 7 / 9.75)
expect("retention", "team:A", "value", 1 - 1 / 5.5)
expect("retention", "team:A", "count", 1)
expect("retention", "team:B", "value", 1 - 1 / 4.25)
expect("retention", "org", "value", 1 - 2 / 9.75)
expect("retention", "org", "count", 2)
expect("retention_gap", "org", "value", (1 - 1 / 5.5) - (1 - 1 / 4.25))
expect("retention_gap", "org", "count", 2)
gap = last.get(("retention_gap", "org"), {})
split = gap.get("retention_split") or {}
for group, teams, heads, departures in (("high", 1, 5.5, 1), ("low", 1, 4.25, 1)):
    g = split.get(group, {})
    if (g.get("teams"), g.get("headcount"), g.get("departures")) != (teams, heads, departures):
        failures.append("retention_gap %s group %r, expected teams %d headcount %r "
                        "departures %d" % (group, g, teams, heads, departures))
if ("retention_gap", "team:A") in last:
    failures.append("retention_gap has a figure for team:A; it is computed for org only")
if failures:
    print("\n".join(failures))
    sys.exit(1)
EOF

r() { redis-cli -h 127.0.0.1 -p "$REDIS_PORT" "$@"; }
deps=$(r HGETALL "{hc}:dep:20s:$t2" | paste -sd' ')
for pair in "org 2" "team:A 1" "team:B 1" "department:Sales 1" "department:Ops 1"; do
	[[ " $deps " == *" $pair "* ]] || lib_fail "{hc}:dep:20s:$t2 is '$deps', expected $pair"
done
lib_assert_eq 10 "$(r HGETALL "{hc}:dep:20s:$t2" | wc -l | tr -d ' ')" \
	"fields and values in the departures hash of B2"
lib_assert_eq "" "$(r KEYS "{hc}:dep:20s:*" | grep -v ":$t2\$" || true)" \
	"departure hashes of buckets other than B2"
lib_assert_eq 2 "$(r SCARD "{hc}:dd:$((t2 / 86400 * 86400))")" "departure idempotency keys"
lib_assert_eq 11 "$(r HGET "{hc}:hc:20s:$t1" org)" "org headcount recorded for B1"
lib_assert_eq 6 "$(r HGET "{hc}:hc:20s:$t1" team:A)" "team:A headcount recorded for B1"
lib_assert_eq 5 "$(r HGET "{hc}:hc:20s:$t1" team:B)" "team:B headcount recorded for B1"
lib_assert_eq 9 "$(r HGET "{hc}:hc:20s:$t3" org)" "org headcount recorded for B3"
ttl=$(r TTL "{hc}:hc:20s:$t3")
[ "$ttl" -gt 0 ] && [ "$ttl" -le 200 ] || lib_fail "{hc}:hc:20s:$t3 expires in $ttl s, expected 1..200"

# No raw employee id in Redis, the KPI topic or the logs.
for key in $(r --scan); do
	r --raw DUMP "$key" >>"$work/redis.dump" 2>/dev/null || true
	echo "$key" >>"$work/redis.dump"
done
for file in redis.dump kpi.json daemon1.log daemon2.log; do
	if grep -a -q 'EMP-' "$work/$file"; then
		lib_fail "a raw employee id reached $file"
	fi
done
lib_log "headcount history, departures and retention as computed by hand"
