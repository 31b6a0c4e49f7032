# Shared set-up of the escalation tests (sourced after tests/lib.sh).
#
# One KPI, recognition_count (net recognitions of the day), and one rule on
# the org scope: recognition_high fires once the count stays above 5 for two
# ticks and resolves only once it is back at 3 or less (hysteresis). The
# count goes up with "recognition" events and down with
# "recognition_revoked" ones, so a test can move it both ways.

alerts_setup() {
	# No AOF: nothing here restarts Redis, and an fsync per write can stall a
	# loaded machine past a short lease.
	lib_start_redis
	lib_start_devkafka advocacy.events:2 advocacy.roster:1 advocacy.kpi:1 \
		advocacy.escalations:1 advocacy.dlq:1 advocacy.governance:1
	work=$LIB_TMP
	bin=$(lib_bin advocacyd)
	cp "$ADVOCACY_SOURCE_DIR/tests/fixtures/hmac.key" "$work/hmac.key"
	# Three people, the least privacy.min_group_size accepts; emp-0001 acts.
	for emp in emp-0001 emp-0002 emp-0003; do
		printf '%s\t{"department":"Eng","team":"A","segment":"knowledge","work_mode":"remote","employment_type":"full_time","region":"EMEA","aliases":[]}\n' "$emp"
	done | kcat -P -b "$KAFKA_BOOTSTRAP" -t advocacy.roster -K $'\t'
	event_seq=0
}

# Writes $work/alerts.yaml. Optional: extra rule keys (YAML flow mapping
# entries, e.g. "repeat_interval: 1s"), then extra top-level YAML.
# ESC_FORMAT sets the escalation data format (default json), LEASE_TTL
# the escalation lease (default 4s) and ALERTS_EXTRA adds entries to the
# alerts: section.
write_config() {
	local rule_extra=${1:-} extra=${2:-}
	cat >"$work/alerts.yaml" <<EOF
kafka:
  bootstrap_servers: "$KAFKA_BOOTSTRAP"
  group_id: alerts
  properties: {session.timeout.ms: 3000, heartbeat.interval.ms: 300}
  inputs: [{topic: advocacy.events, format: avro}]
  roster_topic: advocacy.roster
redis: {host: 127.0.0.1, port: $REDIS_PORT, key_prefix: alerts}
privacy: {key_file: hmac.key, key_id: test-1, min_group_size: 3}
behaviours:
  recognition_given:
    rules:
      - {kinds: [recognition], credit: actor}
      - {kinds: [recognition_revoked], credit: actor, effect: retract}
kpis:
  - id: recognition_count
    name: Recognitions today
    behaviours: [recognition_given]
    aggregation: count
    window: 24h
    quadrant: learning_growth
    indicator: leading
    weight: 1
    target: 4
    owner: HR
    thresholds:
      - {id: recognition_high, direction: above, value: 5, resolve_value: 3, for_ticks: 2,
         scopes: [org], severity: warning, owner: HR,
         runbook_url: "https://runbooks.invalid/recognition", labels: {programme: pilot}
         ${rule_extra:+, $rule_extra}}
outputs:
  tick_interval: 300ms
  kpi: {format: json}
  escalations: {format: ${ESC_FORMAT:-json}}
  dlq: {format: json}
alerts: {lease_ttl: ${LEASE_TTL:-4s}, source: /advocacyd/test${ALERTS_EXTRA:+, $ALERTS_EXTRA}}
admin: {port: 0}
shutdown: {drain_timeout: 5s}
$extra
EOF
	"$bin" --check-config "$work/alerts.yaml" >/dev/null || lib_fail "test config invalid"
}

# Produces N events of KIND (recognition or recognition_revoked).
produce() {
	local kind=$1 n=$2 first=$((event_seq + 1)) i
	# The loop runs in a pipeline subshell: advance the sequence out here.
	event_seq=$((event_seq + n))
	for ((i = first; i < first + n; i++)); do
		printf '{"event_id":"ev-%d","age_s":60,"kind":"%s","actor_id":"emp-0001","target_ids":[]}\n' \
			"$i" "$kind"
	done | "$ADVOCACY_BUILD_DIR/advocacyd-produce" --brokers "$KAFKA_BOOTSTRAP" \
		--topic advocacy.events
}

# Prints the latest org value of recognition_count, or nothing.
org_count() {
	kcat -C -b "$KAFKA_BOOTSTRAP" -t advocacy.kpi -o beginning -e -q -f '%s\n' |
		python3 -c '
import json, sys
last = None
for line in sys.stdin:
    u = json.loads(line)
    if u["kpi"] == "recognition_count" and u["scope"] == "org":
        last = u["value"]
if last is not None:
    print("%g" % last)'
}

# Moves the count to VALUE with events and waits until a KPI update shows it,
# then lets TICKS more ticks (default 4) pass for the rule to see it.
count_to() {
	local want=$1 now
	now=$(org_count)
	now=${now:-0}
	if [ "$want" -gt "$now" ]; then
		produce recognition $((want - now))
	elif [ "$want" -lt "$now" ]; then
		produce recognition_revoked $((now - want))
	fi
	lib_wait_for "[ \"\$(org_count)\" = '$want' ]" 30 ||
		fail_with_logs "the org count did not reach $want: $(org_count)"
	sleep "$(awk -v t="${2:-4}" 'BEGIN { print t * 0.3 }')"
}

# The escalation records as kcat JSON envelopes, one a line.
escalations() {
	kcat -C -b "$KAFKA_BOOTSTRAP" -t advocacy.escalations -o beginning -e -q -J
}

# Prints how many escalation records have CloudEvents type ...escalation.STATE.
count_state() {
	escalations | python3 "$ADVOCACY_SOURCE_DIR/tests/alerts/ce_field.py" type |
		grep -c "^io.advocacyd.escalation.$1\$" || true
}

start_daemon() {
	local log=$1
	"$bin" --config "$work/alerts.yaml" 2>"$log" &
	daemon=$!
	lib_track "$daemon"
}

fail_with_logs() {
	local f
	for f in "$work"/daemon*.log; do
		echo "---- $f" >&2
		tail -n 40 "$f" >&2
	done
	lib_fail "$@"
}

# Waits until LOG shows that its instance evaluates escalations.
wait_evaluating() {
	lib_wait_for "grep -q 'msg=\"escalation state loaded' '$1'" "${2:-30}" ||
		fail_with_logs "$1: the instance never took the escalation lease"
}

outbox_len() {
	redis-cli -p "$REDIS_PORT" hlen '{alerts}:alerts:outbox'
}
