#!/usr/bin/env bash
# Social sharing end to end: a social input topic gets share, statistics and
# batch webhooks (made now, times in the last hours), a report sent twice,
# shares of a person without consent and two malformed messages. Checks that
# the KPIs count shares only of people whose consent is in the roster, sum
# their clicks and reach and count a repeated report once. After the roster
# withdraws one person's consent, nothing more of theirs counts, while the
# others' shares still do. Ignored events are counted by reason; the
# malformed messages are dead-lettered with theirs. No raw id reaches Redis
# or the log.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=../lib.sh
source "$here/../lib.sh"
lib_init

lib_start_redis
lib_start_devkafka social.events:2 advocacy.roster:1 advocacy.kpi:1 \
	advocacy.escalations:1 advocacy.dlq:1
work=$LIB_TMP

cp "$ADVOCACY_SOURCE_DIR/tests/fixtures/hmac.key" "$work/hmac.key"
cat >"$work/social.yaml" <<EOF
kafka:
  bootstrap_servers: "$KAFKA_BOOTSTRAP"
  group_id: social-test
  inputs:
    - {topic: social.events, format: social}
  roster_topic: advocacy.roster
redis: {host: 127.0.0.1, port: $REDIS_PORT, key_prefix: social}
privacy: {key_file: hmac.key, key_id: test-1, min_group_size: 3}
windows: {granularities: [5m, 1h, 1d], retention: 35d, allowed_lateness: 7d, timezone: UTC}
behaviours:
  content_shared:
    rules:
      - {kinds: [content_shared_external], sources: [social], requires_consent: external_sharing}
      - {kinds: [content_share_deleted], sources: [social], requires_consent: external_sharing,
         effect: retract}
  share_clicks:
    rules:
      - {kinds: [share_clicks], sources: [social], requires_consent: external_sharing,
         amount_attribute: clicks}
  share_reach:
    rules:
      - {kinds: [share_reach], sources: [social], requires_consent: external_sharing,
         amount_attribute: reach}
kpis:
  - {id: shares, behaviours: [content_shared], aggregation: count, window: 24h,
     quadrant: customer, indicator: leading, weight: 0.5, target: 10}
  - {id: clicks, behaviours: [share_clicks], aggregation: count, window: 24h,
     quadrant: customer, indicator: lagging, weight: 0.25, target: 100}
  - {id: reach, behaviours: [share_reach], aggregation: count, window: 24h,
     quadrant: customer, indicator: lagging, weight: 0.25, target: 1000}
outputs:
  tick_interval: 1s
  kpi: {topic: advocacy.kpi, format: json}
  escalations: {topic: advocacy.escalations, format: json}
  dlq: {topic: advocacy.dlq, format: json}
admin: {port: 0}
EOF
"$ADVOCACY_BUILD_DIR/advocacyd" --check-config "$work/social.yaml" || lib_fail "test config invalid"

# Raw ids, distinctive so that a scan of Redis and the log can find them.
consenting=emp-sx-7731
declining=emp-sx-7732
numeric=90017733 # the third person's id on the platform, an alias in the roster
roster() { kcat -P -b "$KAFKA_BOOTSTRAP" -t advocacy.roster -K $'\t'; }
attrs='"department":"Marketing","team":"Brand","segment":"knowledge","work_mode":"remote","employment_type":"full_time","region":"EMEA"'
{
	printf '%s\t{%s,"consent":{"external_sharing":true}}\n' "$consenting" "$attrs"
	printf '%s\t{%s,"consent":{"external_sharing":false}}\n' "$declining" "$attrs"
	printf 'emp-sx-7733\t{%s,"aliases":["%s"],"consent":{"external_sharing":{"given":true,"since":"2020-01-01T00:00:00Z"}}}\n' \
		"$attrs" "$numeric"
} | roster

# Webhooks with times in the last hours; PHASE 2 are sent after the withdrawal.
python3 - "$work" "$consenting" "$declining" "$numeric" <<'EOF'
import json, os, sys, time
work, consenting, declining, numeric = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
now = time.time()
hour = int(now // 3600) * 3600 * 1000
def iso(age_s):
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(now - age_s))
def share(emp, sid, age_s, **extra):
    body = {"id": sid, "created_at": iso(age_s), "content_id": "cms:article:q1-launch"}
    body.update(extra)
    return {"type": "share.created", "network": "LinkedIn", "employee_id": emp, "share": body}
def stats(emp, sid, hours_back, clicks, impressions):
    return {"type": "share.statistics", "network": "linkedin", "employee_id": emp,
            "share": {"id": sid},
            "timeRange": {"start": hour - hours_back * 3600000,
                          "end": hour - (hours_back - 1) * 3600000},
            "statistics": {"clickCount": clicks, "impressionCount": impressions,
                           "likeCount": 3}}
post = {"lifecycleState": "PUBLISHED", "created": {"time": int((now - 1800) * 1000)},
        "specificContent": {"com.linkedin.ugc.ShareContent": {
            "shareCommentary": {"text": "A sentence nobody may store"},
            "media": [{"media": "urn:li:linkedInArticle:5550001"}]}}}
one = {"type": "share.created", "network": "linkedin", "employee_id": consenting,
       "share": {"id": "urn:li:share:7300000000000000001", "post": post}}
phase1 = [
    one,
    share(declining, "urn:li:share:7300000000000000002", 1700),
    share(numeric, "urn:li:share:7300000000000000003", 1600),
    stats(consenting, "urn:li:share:7300000000000000001", 2, 37, 1284),
    stats(consenting, "urn:li:share:7300000000000000001", 2, 37, 1284),  # sent again
    stats(declining, "urn:li:share:7300000000000000002", 2, 50, 500),
    {"events": [stats(numeric, "urn:li:share:7300000000000000003", 3, 5, "16"),
                {**stats(numeric, "urn:li:share:7300000000000000003", 1, 9, 9),
                 "timeRange": None},
                {"type": "campaign.created", "network": "linkedin", "employee_id": numeric}]},
    stats(consenting, "urn:li:share:7300000000000000001", 1, -4, 10),
]
phase2 = [
    share(consenting, "urn:li:share:7300000000000000004", 600),
    stats(consenting, "urn:li:share:7300000000000000001", 1, 10, 100),
    share(numeric, "urn:li:share:7300000000000000005", 500),
]
for name, docs in (("phase1", phase1), ("phase2", phase2)):
    with open(os.path.join(work, name + ".jsonl"), "w") as out:
        for doc in docs:
            out.write(json.dumps(doc) + "\n")
    if name == "phase1":
        with open(os.path.join(work, name + ".jsonl"), "a") as out:
            out.write('{"type": "share.created", "network": \n')
EOF
produce() {
	"$ADVOCACY_BUILD_DIR/advocacyd-produce" --brokers "$KAFKA_BOOTSTRAP" --topic social.events \
		--raw <"$1"
}
produce "$work/phase1.jsonl"
lib_log "topic holds $(lib_kcat_count social.events) messages"

"$ADVOCACY_BUILD_DIR/advocacyd" --config "$work/social.yaml" 2>"$work/daemon.log" &
LIB_PIDS+=("$!")
daemon=${LIB_PIDS[-1]}

expect_kpi() { python3 "$ADVOCACY_SOURCE_DIR/tests/integration/kpi_check.py" "$work/kpi.json" "$@"; }
read_kpis() {
	kcat -C -b "$KAFKA_BOOTSTRAP" -t advocacy.kpi -e -q -f '%k\t%s\n' >"$work/kpi.json" || true
}
# The two partitions may reach Redis in different batches, and a tick may
# fall between them: wait for every figure, then check them again two ticks
# later.
lib_wait_for "read_kpis && expect_kpi reach org 24h value 1300 &&
	expect_kpi shares org 24h value 2 && expect_kpi clicks org 24h value 42" 60 ||
	{ cat "$work/daemon.log"; lib_fail "the KPIs never reached 2 shares, 42 clicks, reach 1300"; }
sleep 2
read_kpis
# Shares of the two people with consent; 37 + 5 clicks and 1284 + 16
# impressions, the repeated report once, nothing of the person without consent.
expect_kpi shares org 24h value 2
expect_kpi clicks org 24h value 42
expect_kpi reach team:Brand 24h value 1300
expect_kpi shares team:Brand 24h contributors 2

# The withdrawal, then one more person: once the roster contains four people,
# the withdrawal before it is applied too (one partition, in order).
port=$(lib_admin_port "$work/daemon.log") || lib_fail "no admin port in the log"
{
	printf '%s\t{%s}\n' "$consenting" "$attrs"
	printf 'emp-sx-7734\t{%s}\n' "$attrs"
} | roster
people() { curl -s "http://127.0.0.1:$port/metrics" | sed -n 's/^advocacyd_roster_people \([0-9]*\).*/\1/p'; }
lib_wait_for '[ "$(people)" = 4 ]' 30 || lib_fail "the roster never held 4 people"
produce "$work/phase2.jsonl"

lib_wait_for "read_kpis && expect_kpi shares org 24h value 3" 60 ||
	{ cat "$work/daemon.log"; lib_fail "the share after the withdrawal never counted"; }
sleep 2 # two more ticks: nothing else of phase 2 may arrive late
read_kpis
expect_kpi shares org 24h value 3
expect_kpi clicks org 24h value 42
expect_kpi reach org 24h value 1300

dlq=$(kcat -C -b "$KAFKA_BOOTSTRAP" -t advocacy.dlq -e -q -f '%h\n' | tr ',' '\n' |
	sed -n 's/^dlq.reason=//p' | sort | tr '\n' ' ')
lib_assert_eq "invalid_count invalid_json " "$dlq" "dead-letter reasons"

lib_stop "$daemon"
for reason in no_consent duplicate_event lifetime_statistics unsupported_event_type; do
	grep -q "ignored by reason.*$reason=" "$work/daemon.log" ||
		{ cat "$work/daemon.log"; lib_fail "no ignored count for $reason"; }
done
for raw in "$consenting" "$declining" "$numeric" "A sentence nobody may store"; do
	! grep -qF "$raw" "$work/daemon.log" || lib_fail "a raw id or text reached the log"
	[ -z "$(redis-cli -h 127.0.0.1 -p "$REDIS_PORT" --scan --pattern "*$raw*")" ] ||
		lib_fail "a raw id reached a Redis key"
	! kcat -C -b "$KAFKA_BOOTSTRAP" -t advocacy.kpi -e -q | grep -qF "$raw" ||
		lib_fail "a raw id reached the KPI topic"
done
lib_log "social adapter test passed"
