# tests/live/lib_dataset.sh - a daemon with a known data set for the live view tests.
#
# Source it after tests/lib.sh and lib_init. live_start_daemon writes the
# config (admin lines from its argument), feeds the roster and events and
# starts the daemon; it sets LIVE_DIR, LIVE_PID, LIVE_LOG and LIVE_BASE.
# live_restart_daemon starts it again with other admin lines.
#
# The data set: 200 teams of 3 people (team:T0 .. team:T199) in 10
# departments, 2 segments, and team:Tiny of 2 people in D9, below the
# minimum group size of 3, so team:Tiny is suppressed. team:T180, the first
# of D9's other teams (all of 3 people), is then hidden as its sibling;
# Tiny sits in D9 so that this is not team:T0, which the tests read.
# Four KPIs in two quadrants:
# shares_count (customer, target 10), shares_reach (customer, participation,
# target 0.5), kudos_count (learning_growth, target 4) and kudos_givers
# (learning_growth, participation, target 0.25). In the org: 6 shares by 3
# people, 2 kudos by 2 people. Each tick emits 4 KPIs x 217 scopes.

live_write_config() {
	local file=$1 admin_lines=$2
	cp "$ADVOCACY_SOURCE_DIR/tests/fixtures/hmac.key" "$LIVE_DIR/hmac.key"
	cat >"$file" <<YAML
kafka:
  bootstrap_servers: "$KAFKA_BOOTSTRAP"
  group_id: live-view
  inputs:
    - {topic: advocacy.events, format: avro}
  roster_topic: advocacy.roster
redis:
  host: 127.0.0.1
  port: $REDIS_PORT
  key_prefix: live
privacy:
  key_file: hmac.key
  key_id: test-1
  min_group_size: 3
behaviours:
  share:
    rules:
      - {kinds: [share], credit: actor}
  kudos:
    rules:
      - {kinds: [recognition], credit: actor}
kpis:
  - {id: shares_count, name: Shares, behaviours: [share], aggregation: count, window: 24h,
     quadrant: customer, indicator: leading, weight: 0.4, target: 10}
  - {id: shares_reach, name: Sharing employees, behaviours: [share],
     aggregation: participation, window: 24h, quadrant: customer, indicator: lagging,
     weight: 0.2, target: 0.5}
  - {id: kudos_count, name: Kudos, behaviours: [kudos], aggregation: count, window: 24h,
     quadrant: learning_growth, indicator: leading, weight: 0.2, target: 4}
  - {id: kudos_givers, name: Kudos givers, behaviours: [kudos],
     aggregation: participation, window: 24h, quadrant: learning_growth,
     indicator: lagging, weight: 0.2, target: 0.25}
outputs:
  tick_interval: 1s
  kpi: {topic: advocacy.kpi, format: json}
admin:
  port: 0
$admin_lines
YAML
}

live_feed_input() {
	python3 - <<'PYTHON' | kcat -P -b "$KAFKA_BOOTSTRAP" -t advocacy.roster -K $'\t'
import json
people = [("emp-%04d" % i, "T%d" % (i // 3), "D%d" % (i // 60)) for i in range(600)]
people += [("emp-tiny-1", "Tiny", "D9"), ("emp-tiny-2", "Tiny", "D9")]
for n, (pid, team, dept) in enumerate(people):
    print("%s\t%s" % (pid, json.dumps({
        "department": dept, "team": team,
        "segment": "frontline" if n % 2 else "knowledge", "work_mode": "remote",
        "employment_type": "full_time", "region": "EMEA", "aliases": []})))
PYTHON
	python3 - <<'PYTHON' | "$ADVOCACY_BUILD_DIR/advocacyd-produce" --brokers "$KAFKA_BOOTSTRAP" --topic advocacy.events
import json
events = [("share", "emp-0000"), ("share", "emp-0000"), ("share", "emp-0001"),
          ("share", "emp-0001"), ("share", "emp-0002"), ("share", "emp-tiny-1"),
          ("recognition", "emp-0003"), ("recognition", "emp-0100")]
for i, (kind, actor) in enumerate(events):
    print(json.dumps({"event_id": "live-%d" % i, "age_s": 60, "kind": kind,
                      "actor_id": actor, "target_ids": []}))
PYTHON
}

# Starts redis-server, the dev broker and the daemon with ADMIN_LINES under admin:.
live_start_daemon() {
	LIVE_DIR=$LIB_TMP
	lib_start_redis
	lib_start_devkafka advocacy.events:2 advocacy.roster:1 \
		advocacy.kpi:1 advocacy.escalations:1 advocacy.dlq:1
	live_write_config "$LIVE_DIR/live.yaml" "$1"
	"$ADVOCACY_BUILD_DIR/advocacyd" --check-config "$LIVE_DIR/live.yaml" >/dev/null ||
		lib_fail "the live test config is invalid"
	live_feed_input
	LIVE_LOG=$LIVE_DIR/daemon.log
	"$ADVOCACY_BUILD_DIR/advocacyd" --config "$LIVE_DIR/live.yaml" 2>"$LIVE_LOG" &
	LIVE_PID=$!
	lib_track "$LIVE_PID"
	local port
	port=$(lib_admin_port "$LIVE_LOG") || live_fail "the daemon never logged its admin port"
	LIVE_BASE=http://127.0.0.1:$port
	export LIVE_DIR LIVE_PID LIVE_LOG LIVE_BASE
}

# Stops the daemon (expecting exit 0) and starts it again with ADMIN_LINES.
live_restart_daemon() {
	local status=0 port
	lib_stop "$LIVE_PID" || status=$?
	[ "$status" -eq 0 ] || live_fail "the daemon exited $status on SIGTERM"
	live_write_config "$LIVE_DIR/live.yaml" "$1"
	"$ADVOCACY_BUILD_DIR/advocacyd" --config "$LIVE_DIR/live.yaml" 2>"$LIVE_LOG" &
	LIVE_PID=$!
	lib_track "$LIVE_PID"
	port=$(lib_admin_port "$LIVE_LOG") || live_fail "the daemon never logged its admin port"
	LIVE_BASE=http://127.0.0.1:$port
}

live_fail() {
	tail -n 40 "$LIVE_LOG" >&2 || true
	lib_fail "$@"
}

# Waits until GET /api/kpis (with TOKEN, if any) shows the org's 6 shares.
live_wait_for_data() {
	local auth=()
	[ -z "${1:-}" ] || auth=(-H "Authorization: Bearer $1")
	lib_wait_for "grep -q '\"count\":6' <<<\"\$(curl -sf ${auth[*]:+-H '${auth[1]}'} '$LIVE_BASE/api/kpis?kpi=shares_count&scope=org')\"" 40 ||
		live_fail "GET /api/kpis never showed the org's 6 shares"
}
