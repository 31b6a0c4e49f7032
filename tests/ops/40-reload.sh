#!/usr/bin/env bash
# Hot reload and the governance trail, against real redis-server and the dev
# broker. A valid reload (SIGHUP) that changes a target and retires a KPI
# applies: the next updates carry the new target, the retired KPI stops
# appearing, the window totals continue, and exactly one governance record
# lists the change with owners and rationales. A file with a syntax error
# and one that changes a restart-only key are refused: the old config keeps
# running and no record appears. A restart with the same file records
# nothing, and two instances started together on a new file record it once.
# Three reloads while Redis is silent get three records, in order.
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

# Writes $work/reload.yaml: TARGET of recognition_count, STATUS of
# shares_count, then any extra top-level YAML.
write_config() {
	local target=$1 status=$2 extra=${3:-}
	local weight=0.5
	[ "$status" = retired ] && weight=1
	cat >"$work/reload.yaml" <<EOF
kafka:
  bootstrap_servers: "$KAFKA_BOOTSTRAP"
  group_id: reload
  # A stopped member may leave the dev broker's group only when its session
  # times out; keep that short so that the next instance starts quickly.
  properties: {session.timeout.ms: 3000, heartbeat.interval.ms: 300}
  inputs: [{topic: advocacy.events, format: avro}]
  roster_topic: advocacy.roster
redis: {host: 127.0.0.1, port: $REDIS_PORT, key_prefix: reload}
privacy: {key_file: hmac.key, key_id: test-1, min_group_size: 3}
behaviours:
  recognition_given: {rules: [{kinds: [recognition], credit: actor}]}
  content_shared: {rules: [{kinds: [share_external], credit: actor}]}
kpis:
  - id: recognition_count
    behaviours: [recognition_given]
    aggregation: count
    window: 24h
    quadrant: learning_growth
    indicator: leading
    weight: $weight
    target: $target
    owner: HR
    rationale: Recognition is the leading advocacy signal
  - id: shares_count
    behaviours: [content_shared]
    aggregation: count
    window: 24h
    quadrant: customer
    indicator: leading
    weight: 0.5
    target: 3
    status: $status
    owner: Marketing
    rationale: Shares carry company content to customers
    thresholds:
      - {id: shares_low, direction: below, owner: Marketing, rationale: Campaigns need a nudge}
outputs:
  tick_interval: ${TICK:-500ms}
  kpi: {format: json}
  escalations: {format: json}
  dlq: {format: json}
admin: {port: 0}
shutdown: {drain_timeout: 5s}
$extra
EOF
}

# Produces N recognition events by emp-0001 with ids PREFIX-1..N.
produce_recognitions() {
	local prefix=$1 n=$2 i
	for ((i = 1; i <= n; i++)); do
		printf '{"event_id":"%s-%d","age_s":60,"kind":"recognition","actor_id":"emp-0001","target_ids":[]}\n' \
			"$prefix" "$i"
	done | "$ADVOCACY_BUILD_DIR/advocacyd-produce" --brokers "$KAFKA_BOOTSTRAP" \
		--topic advocacy.events
}

# Prints the governance records, one JSON object a line.
governance() {
	kcat -C -b "$KAFKA_BOOTSTRAP" -t advocacy.governance -o beginning -e -q -f '%s\n'
}

# Prints the latest org update of KPI as "value target", or nothing.
latest_org() {
	kcat -C -b "$KAFKA_BOOTSTRAP" -t advocacy.kpi -o beginning -e -q -f '%s\n' |
		python3 -c '
import json, sys
last = None
for line in sys.stdin:
    u = json.loads(line)
    if u["kpi"] == sys.argv[1] and u["scope"] == "org":
        last = u
if last:
    print("%g %g" % (last["value"], last["target"]))' "$1"
}

kpi_updates_of() {
	kcat -C -b "$KAFKA_BOOTSTRAP" -t advocacy.kpi -o beginning -e -q -f '%s\n' |
		grep -c "\"kpi\":\"$1\"" || true
}

start_daemon() {
	local log=$1
	"$bin" --config "$work/reload.yaml" 2>"$log" &
	daemon=$!
	lib_track "$daemon"
}

fail_with_log() {
	cat "$work/daemon.log" >&2
	lib_fail "$@"
}

# Three people, the least privacy.min_group_size accepts; emp-0001 acts.
for emp in emp-0001 emp-0002 emp-0003; do
	printf '%s\t{"department":"Eng","team":"A","segment":"knowledge","work_mode":"remote","employment_type":"full_time","region":"EMEA","aliases":[]}\n' "$emp"
done | kcat -P -b "$KAFKA_BOOTSTRAP" -t advocacy.roster -K $'\t'
produce_recognitions before 3

# ---------------------------------------------------------------- first start
write_config 10 active
"$bin" --check-config "$work/reload.yaml" >/dev/null || lib_fail "test config invalid"
v1=$(sha256sum "$work/reload.yaml" | cut -c1-16)
start_daemon "$work/daemon.log"
lib_wait_for "[ \"\$(latest_org recognition_count)\" = '3 10' ]" 30 ||
	fail_with_log "no org update of recognition_count with value 3 and target 10: $(latest_org recognition_count)"
lib_wait_for "[ \$(governance | wc -l) -ge 1 ]" 20 || fail_with_log "no governance record at start"
governance | python3 -c '
import json, sys
recs = [json.loads(l) for l in sys.stdin]
assert len(recs) == 1, recs
r = recs[0]
assert r["type"] == "config_applied", r
assert r["config_version"] == sys.argv[1], r
assert r["previous_version"] is None, r
assert [k["id"] for k in r["kpis"]["added"]] == ["recognition_count", "shares_count"], r
assert [k["id"] for k in r["rules"]["added"]] == ["shares_low"], r
assert r["kpis"]["added"][1]["owner"] == "Marketing", r
assert r["applied_at"].endswith("Z"), r
assert len(r["applied_at"]) == 24, r
' "$v1" || lib_fail "first governance record wrong: $(governance)"
lib_assert_eq "$v1" "$(redis-cli -p "$REDIS_PORT" hget '{reload}:governance' version)" \
	"version stored in Redis"

# ---------------------------------------------------------------- valid reload
write_config 20 retired
v2=$(sha256sum "$work/reload.yaml" | cut -c1-16)
kill -HUP "$daemon"
lib_wait_for "grep -q 'msg=\"configuration applied\".*version=$v2' '$work/daemon.log'" 10 ||
	fail_with_log "the reload was not applied"
sleep 1
shares_before=$(kpi_updates_of shares_count)
produce_recognitions after 2
lib_wait_for "[ \"\$(latest_org recognition_count)\" = '5 20' ]" 20 ||
	fail_with_log "no update with the new target and the continued count 5: $(latest_org recognition_count)"
sleep 1
lib_assert_eq "$shares_before" "$(kpi_updates_of shares_count)" "shares_count updates after it was retired"
lib_wait_for "[ \$(governance | wc -l) -ge 2 ]" 20 || fail_with_log "no governance record for the reload"
governance | python3 -c '
import json, sys
recs = [json.loads(l) for l in sys.stdin]
assert len(recs) == 2, recs
r = recs[1]
assert r["config_version"] == sys.argv[2], r
assert r["previous_version"] == sys.argv[1], r
k = r["kpis"]
assert [i["id"] for i in k["changed"]] == ["recognition_count"], r
assert k["changed"][0]["fields"] == ["weight", "target"], r
assert k["changed"][0]["owner"] == "HR", r
assert k["changed"][0]["rationale"] == "Recognition is the leading advocacy signal", r
assert [i["id"] for i in k["retired"]] == ["shares_count"], r
assert k["retired"][0]["owner"] == "Marketing", r
assert k["added"] == [], r
assert k["removed"] == [], r
assert [i["id"] for i in r["rules"]["retired"]] == ["shares_low"], r
assert r["rules"]["retired"][0]["rationale"] == "Campaigns need a nudge", r
' "$v1" "$v2" || lib_fail "reload governance record wrong: $(governance | tail -n 1)"

# ---------------------------------------------------------------- refused reloads
cp "$work/reload.yaml" "$work/good.yaml"
printf 'kpis: [\n' >>"$work/reload.yaml"
kill -HUP "$daemon"
lib_wait_for "grep -q 'msg=\"configuration not reloaded: the file is invalid.*YAML syntax error' '$work/daemon.log'" 10 ||
	fail_with_log "a syntax error was not reported"
grep 'configuration not reloaded' "$work/daemon.log" | grep -q "reload.yaml: line" ||
	fail_with_log "the refusal does not name the file and line"
write_config 20 retired
sed -i 's/key_prefix: reload/key_prefix: other/' "$work/reload.yaml"
kill -HUP "$daemon"
lib_wait_for "grep -q 'redis.key_prefix: changed, but takes effect only at restart' '$work/daemon.log'" 10 ||
	fail_with_log "a restart-only key change was not refused by name"
produce_recognitions refused 1
lib_wait_for "[ \"\$(latest_org recognition_count)\" = '6 20' ]" 20 ||
	fail_with_log "the old config stopped running after refused reloads: $(latest_org recognition_count)"
lib_assert_eq 2 "$(governance | wc -l)" "governance records after refused reloads"
kill -0 "$daemon" || fail_with_log "the daemon died on a refused reload"

# ---------------------------------------------------------------- restart, same file
cp "$work/good.yaml" "$work/reload.yaml"
status=0
lib_stop "$daemon" || status=$?
lib_assert_eq 0 "$status" "exit code of a normal stop"
start_daemon "$work/daemon2.log"
lib_wait_for "grep -q 'configuration already recorded' '$work/daemon2.log'" 20 ||
	{ cat "$work/daemon2.log" >&2; lib_fail "restart with the same file did not find it recorded"; }
sleep 1
lib_assert_eq 2 "$(governance | wc -l)" "governance records after a restart with the same file"
lib_stop "$daemon" || lib_fail "second daemon did not stop cleanly"

# ---------------------------------------------------------------- two instances
write_config 30 retired
v3=$(sha256sum "$work/reload.yaml" | cut -c1-16)
start_daemon "$work/a.log"
a=$daemon
start_daemon "$work/b.log"
b=$daemon
for log in a b; do
	lib_wait_for "grep -Eq 'configuration (change|already) recorded' '$work/$log.log'" 20 ||
		{ cat "$work/$log.log" >&2; lib_fail "instance $log did not settle the governance trail"; }
done
lib_wait_for "[ \$(governance | wc -l) -ge 3 ]" 20 || lib_fail "no record for the new file"
sleep 2
lib_assert_eq 3 "$(governance | wc -l)" "governance records after two instances started together"
governance | tail -n 1 | grep -q "\"config_version\":\"$v3\"" || lib_fail "third record is not $v3"
lib_wait_for "[ -z \"\$(redis-cli -p $REDIS_PORT hget '{reload}:governance' pending)\" ]" 10 ||
	lib_fail "the delivered record is still pending in Redis"
lib_stop "$b" || lib_fail "instance b did not stop cleanly"

# ---------------------------------------------------------------- burst of reloads
# Three configs applied while Redis is silent get three records, in order,
# once it replies again. No tick may wait for Redis then, because a reload is
# applied only between ticks: the first reload sets a 1 h tick.
TICK=1h write_config 30 retired
v4=$(sha256sum "$work/reload.yaml" | cut -c1-16)
kill -HUP "$a"
lib_wait_for "[ \$(governance | wc -l) -ge 4 ]" 20 ||
	{ cat "$work/a.log" >&2; lib_fail "no record for the 1 h tick config"; }
kill -STOP "$REDIS_PID"
versions=()
for target in 31 32 33; do
	TICK=1h write_config "$target" retired
	v=$(sha256sum "$work/reload.yaml" | cut -c1-16)
	versions+=("$v")
	kill -HUP "$a"
	lib_wait_for "grep -q 'msg=\"configuration applied\".*version=$v' '$work/a.log'" 10 ||
		{ kill -CONT "$REDIS_PID"; cat "$work/a.log" >&2; lib_fail "reload to target $target was not applied"; }
done
kill -CONT "$REDIS_PID"
lib_wait_for "[ \$(governance | wc -l) -ge 7 ]" 30 ||
	{ cat "$work/a.log" >&2; lib_fail "the burst of reloads did not get three records: $(governance | wc -l)"; }
sleep 1
governance | python3 -c '
import json, sys
recs = [json.loads(l) for l in sys.stdin][4:]
chain = sys.argv[1:]
assert [r["config_version"] for r in recs] == chain[1:], recs
assert [r["previous_version"] for r in recs] == chain[:-1], recs
for r in recs:
    assert [i["id"] for i in r["kpis"]["changed"]] == ["recognition_count"], r
    assert r["kpis"]["changed"][0]["fields"] == ["target"], r
' "$v4" "${versions[@]}" || lib_fail "burst records wrong: $(governance | tail -n 3)"
lib_stop "$a" || lib_fail "instance a did not stop cleanly"
lib_log "reload and governance trail behave"
