#!/usr/bin/env bash
# End to end against real redis-server and the dev broker: a known roster and
# known events in, exact KPI values, dead letters, an escalation that fires
# and then resolves, and no raw id, name, e-mail or text anywhere it must not
# be (Redis keys and values, output topics, the daemon's log).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=../lib.sh
source "$here/../lib.sh"
lib_init

lib_start_redis
lib_start_devkafka advocacy.events:4 slack.events:2 advocacy.roster:1 \
	advocacy.kpi:1 advocacy.escalations:1 advocacy.dlq:1
produce="$ADVOCACY_BUILD_DIR/advocacyd-produce"
work=$LIB_TMP

# ---------------------------------------------------------------- config
cp "$ADVOCACY_SOURCE_DIR/tests/fixtures/hmac.key" "$work/hmac.key"
cat >"$work/e2e.yaml" <<EOF
kafka:
  bootstrap_servers: "$KAFKA_BOOTSTRAP"
  group_id: e2e
  inputs:
    - {topic: advocacy.events, format: avro}
    - {topic: slack.events, format: slack}
  roster_topic: advocacy.roster
redis:
  host: 127.0.0.1
  port: $REDIS_PORT
  key_prefix: e2e
privacy:
  key_file: hmac.key
  key_id: test-1
  min_group_size: 3
windows:
  granularities: [5m, 1h, 1d]
  retention: 35d
  allowed_lateness: 7d
  timezone: UTC
behaviours:
  recognition_given:
    rules:
      - {kinds: [recognition], credit: actor}
      - {kinds: [reaction_added], sources: [slack], reactions: [tada], credit: actor}
      - {kinds: [message_posted], sources: [slack], channels: [C0KUDOS01], requires_targets: true, credit: actor}
  recognition_received:
    rules:
      - {kinds: [recognition], credit: targets}
      - {kinds: [message_posted], sources: [slack], channels: [C0KUDOS01], requires_targets: true, credit: targets}
kpis:
  - id: recognition_count
    behaviours: [recognition_given]
    aggregation: count
    window: 24h
    quadrant: learning_growth
    indicator: leading
    weight: 0.5
    target: 10
    thresholds:
      - {id: recognition_count_low, direction: below, for_ticks: 2, severity: warning, scopes: [team]}
  - id: recognizer_share
    behaviours: [recognition_given]
    aggregation: participation
    window: 7d
    quadrant: learning_growth
    indicator: leading
    weight: 0.5
    target: 0.5
outputs:
  tick_interval: 1s
  kpi: {topic: advocacy.kpi, format: json}
  escalations: {topic: advocacy.escalations, format: json}
  dlq: {topic: advocacy.dlq, format: json}
admin:
  port: 0
EOF
"$ADVOCACY_BUILD_DIR/advocacyd" --check-config "$work/e2e.yaml" || lib_fail "test config invalid"

# ---------------------------------------------------------------- roster
# Alpha: 4 people, Beta: 3, Tiny: 2 (below the minimum group size of 3),
# Ledger: 3. Ledger's department Finance exists so that the small
# Operations is not the only department beside Engineering: otherwise org
# minus Engineering would give Operations away, and sibling suppression
# would hide Engineering with its teams.
roster_line() { # id department team segment aliases-json
	printf '%s\t{"department":"%s","team":"%s","segment":"%s","work_mode":"remote","employment_type":"full_time","region":"EMEA","aliases":%s}\n' "$@"
}
{
	roster_line emp-alpha-0001 Engineering Alpha knowledge '["U0ALPHA01","zephyrine.quackenbush@example.com"]'
	roster_line emp-alpha-0002 Engineering Alpha knowledge '[]'
	roster_line emp-alpha-0003 Engineering Alpha knowledge '[]'
	roster_line emp-alpha-0004 Engineering Alpha knowledge '[]'
	roster_line emp-beta-0005 Engineering Beta frontline '[]'
	roster_line emp-beta-0006 Engineering Beta frontline '[]'
	roster_line emp-beta-0007 Engineering Beta frontline '[]'
	roster_line emp-tiny-0008 Operations Tiny frontline '[]'
	roster_line emp-tiny-0009 Operations Tiny frontline '[]'
	roster_line emp-ledger-0010 Finance Ledger knowledge '[]'
	roster_line emp-ledger-0011 Finance Ledger knowledge '[]'
	roster_line emp-ledger-0012 Finance Ledger knowledge '[]'
} | kcat -P -b "$KAFKA_BOOTSTRAP" -t advocacy.roster -K $'\t'

# ---------------------------------------------------------------- events
rec() { # id actor target age_s
	printf '{"event_id":"%s","age_s":%s,"kind":"recognition","actor_id":"%s","target_ids":["%s"]}\n' "$1" "$4" "$2" "$3"
}
{
	rec r1 emp-alpha-0001 emp-beta-0005 60
	rec r2 emp-alpha-0001 emp-beta-0005 120
	rec r3 emp-alpha-0001 emp-beta-0006 180
	rec r4 emp-alpha-0002 emp-alpha-0001 240
	rec r5 emp-beta-0005 emp-alpha-0002 300
	rec r6 emp-beta-0005 emp-alpha-0003 360
	rec r7 emp-tiny-0008 emp-alpha-0001 420
	rec r8 outsider-x99 emp-alpha-0001 480
	rec r-late emp-alpha-0001 emp-beta-0005 $((10 * 86400))
} | "$produce" --brokers "$KAFKA_BOOTSTRAP" --topic advocacy.events

now=$(date +%s)
cat >"$work/slack.jsonl" <<EOF
{"type":"event_callback","team_id":"T0TEST","event_id":"Ev0E2E00001","event_time":$((now - 30)),"event":{"type":"reaction_added","user":"U0ALPHA01","reaction":"tada","item_user":"U0NOBODY1","item":{"type":"message","channel":"C0GENERAL","ts":"$((now - 100)).000100"},"event_ts":"$((now - 30)).000200"}}
{"type":"event_callback","team_id":"T0TEST","event_id":"Ev0E2E00002","event_time":$((now - 20)),"event":{"type":"message","subtype":"bot_message","bot_id":"B0BOT","text":"Zephyrine Quackenbush deployed the secret launch plan","channel":"C0KUDOS01","ts":"$((now - 20)).000300"}}
{"type":"url_verification","challenge":"challenge-e2e","token":"t0ken"}
{"type":"event_callback","team_id":"T0TEST","event_id":"Ev0E2E00003","event_time":$((now - 10)),"event":{"type":"message","user":"U0NOBODY1","text":"mentioning nobody in the secret launch plan","channel":"C0KUDOS01","ts":"$((now - 10)).000400"}}
{"type":"event_callback", "this is not json
EOF
"$produce" --brokers "$KAFKA_BOOTSTRAP" --topic slack.events --raw --key-field event_id <"$work/slack.jsonl"
printf 'not an avro record at all' | kcat -P -b "$KAFKA_BOOTSTRAP" -t advocacy.events -k bad-1
# 900 kB of garbage: its dead letter must fit the broker's 1 MB limit.
head -c 900000 /dev/zero | tr '\0' 'A' >"$work/huge.bin"
kcat -P -b "$KAFKA_BOOTSTRAP" -t advocacy.events -k huge-1 "$work/huge.bin"

# ---------------------------------------------------------------- run
"$ADVOCACY_BUILD_DIR/advocacyd" --config "$work/e2e.yaml" 2>"$work/daemon.log" &
daemon=$!
LIB_PIDS+=("$daemon")

expect_kpi() { # kpi scope window field value
	python3 "$here/kpi_check.py" "$work/kpi.json" "$@"
}
read_kpis() {
	kcat -C -b "$KAFKA_BOOTSTRAP" -t advocacy.kpi -e -q -f '%k\t%s\n' >"$work/kpi.json" || true
}

# Recognition given over 24h: Alpha 3 + 1 + 1 (Slack tada by U0ALPHA01) = 5,
# Beta 2, department Engineering 7, org 9 (incl. Tiny 1 and outsider 1).
lib_wait_for "read_kpis && expect_kpi recognition_count team:Alpha 24h count 5" 60 ||
	{ cat "$work/daemon.log"; lib_fail "KPI for team:Alpha never reached 5"; }
read_kpis
expect_kpi recognition_count team:Alpha 24h value 5
expect_kpi recognition_count team:Beta 24h value 2
expect_kpi recognition_count department:Engineering 24h value 7
expect_kpi recognition_count org 24h value 9
expect_kpi recognition_count org 24h headcount 12
expect_kpi recognition_count team:Alpha 24h headcount 4
expect_kpi recognizer_share team:Alpha 7d contributors 2
expect_kpi recognizer_share team:Alpha 7d value 0.5
# The outsider counts at org level but is no contributor: participation
# divides by roster headcount.
expect_kpi recognizer_share org 7d contributors 4
expect_kpi recognition_count segment:frontline 24h value 3
expect_kpi --absent recognition_count team:Tiny 24h
expect_kpi --absent recognition_count department:Operations 24h
# Finance, the smallest other department, is hidden as the sibling of
# Operations, and its only team with it, so that no sum gives Tiny away.
expect_kpi --absent recognition_count department:Finance 24h
expect_kpi --absent recognition_count team:Ledger 24h

# ---------------------------------------------------------------- dead letters
dlq_reasons=$(kcat -C -b "$KAFKA_BOOTSTRAP" -t advocacy.dlq -e -q -f '%h\n' | tr ',' '\n' |
	sed -n 's/^dlq.reason=//p' | sort | tr '\n' ' ')
[ "$dlq_reasons" = "invalid_avro invalid_avro invalid_json late " ] ||
	lib_fail "unexpected DLQ reasons: '$dlq_reasons'"
truncated=$(kcat -C -b "$KAFKA_BOOTSTRAP" -t advocacy.dlq -e -q -f '%h\n' |
	grep -c 'dlq.payload.truncated=true' || true)
[ "$truncated" -eq 1 ] || lib_fail "expected one truncated dead letter, found $truncated"
kcat -C -b "$KAFKA_BOOTSTRAP" -t advocacy.dlq -e -q | python3 -c '
import json, sys
for line in sys.stdin:
    r = json.loads(line)
    for f in ("reason", "detail", "source_topic", "source_partition", "source_offset", "payload"):
        assert f in r, "DLQ record lacks " + f
'

# ---------------------------------------------------------------- escalations
# recognition_count_low: team:Alpha (5) and team:Beta (2) are below 10.
lib_wait_for "kcat -C -b $KAFKA_BOOTSTRAP -t advocacy.escalations -e -q | grep -q '\"firing\"'" 30 ||
	lib_fail "no escalation fired"
# Eight more recognitions by Beta lift it to 10: not below any more.
for i in 1 2 3 4 5 6 7 8; do rec "more-$i" emp-beta-0007 emp-alpha-0004 30; done |
	"$produce" --brokers "$KAFKA_BOOTSTRAP" --topic advocacy.events
lib_wait_for "kcat -C -b $KAFKA_BOOTSTRAP -t advocacy.escalations -e -q | grep '\"resolved\"' | grep -q 'team:Beta'" 30 ||
	lib_fail "the escalation of team:Beta never resolved"
kcat -C -b "$KAFKA_BOOTSTRAP" -t advocacy.escalations -e -q -f '%k\t%s\n' >"$work/escalations.json"
python3 - "$work/escalations.json" <<'EOF'
import json, sys
events = {}
for line in open(sys.argv[1]):
    key, value = line.rstrip("\n").split("\t", 1)
    events.setdefault(key, []).append(json.loads(value)["status"])
beta = events.get("recognition_count_low/team:Beta")
assert beta == ["firing", "resolved"], "team:Beta lifecycle: %r" % beta
alpha = events.get("recognition_count_low/team:Alpha")
assert alpha == ["firing"], "team:Alpha lifecycle: %r" % alpha
assert not any(k.endswith("team:Tiny") for k in events), "suppressed scope escalated"
EOF

# ---------------------------------------------------------------- shutdown
kill -TERM "$daemon"
wait "$daemon" && status=0 || status=$?
[ "$status" -eq 0 ] || { cat "$work/daemon.log"; lib_fail "daemon exited $status on SIGTERM"; }
grep -q 'msg="stopped"' "$work/daemon.log" || lib_fail "no clean stop in the log"

# ---------------------------------------------------------------- privacy scan
secrets=(emp-alpha-0001 emp-beta-0005 emp-tiny-0008 outsider-x99 U0ALPHA01 U0NOBODY1
	zephyrine quackenbush "secret launch plan")
redis-cli -p "$REDIS_PORT" --scan >"$work/redis-keys.txt"
[ -s "$work/redis-keys.txt" ] || lib_fail "Redis holds no keys"
while read -r key; do
	case $(redis-cli -p "$REDIS_PORT" type "$key") in
	hash) redis-cli -p "$REDIS_PORT" hgetall "$key" ;;
	string) redis-cli -p "$REDIS_PORT" --no-raw get "$key" ;;
	esac
done <"$work/redis-keys.txt" >"$work/redis-values.txt"
kcat -C -b "$KAFKA_BOOTSTRAP" -t advocacy.kpi -e -q >"$work/out-kpi.txt"
kcat -C -b "$KAFKA_BOOTSTRAP" -t advocacy.escalations -e -q >"$work/out-esc.txt"
for s in "${secrets[@]}"; do
	for f in redis-keys.txt redis-values.txt out-kpi.txt out-esc.txt daemon.log; do
		if grep -qi -- "$s" "$work/$f"; then
			lib_fail "'$s' leaked into $f"
		fi
	done
done
echo "10-end-to-end: ok"
