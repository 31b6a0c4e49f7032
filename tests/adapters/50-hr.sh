#!/usr/bin/env bash
# Referrals, training and eNPS surveys, end to end: a greenhouse, an xapi and
# a typeform input topic get web hooks and statements made now from the
# fixtures of tests/fixtures/hr (referrals, a hire, an agency application, a
# retried web hook, completions, eNPS answers of two teams, a repeated
# answer, an anonymous one and one with an invalid score). Checks the counts
# on the KPI topic, the eNPS of each scope against hand-computed values, the
# suppression of a team with fewer respondents than privacy.min_respondents,
# the dead letter of the invalid answer (reason, no payload bytes), and that
# no respondent, candidate or score data reaches Redis, the outputs or the log.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=../lib.sh
source "$here/../lib.sh"
lib_init

lib_start_redis
lib_start_devkafka greenhouse.webhooks:1 lrs.statements:2 typeform.responses:2 \
	advocacy.roster:1 advocacy.kpi:1 advocacy.escalations:1 advocacy.dlq:1
work=$LIB_TMP
fixtures=$ADVOCACY_SOURCE_DIR/tests/fixtures/hr

cp "$ADVOCACY_SOURCE_DIR/tests/fixtures/hmac.key" "$work/hmac.key"
cat >"$work/hr.yaml" <<EOF
kafka:
  bootstrap_servers: "$KAFKA_BOOTSTRAP"
  group_id: hr-test
  inputs:
    - {topic: greenhouse.webhooks, format: greenhouse}
    - {topic: lrs.statements, format: xapi}
    - {topic: typeform.responses, format: typeform}
  roster_topic: advocacy.roster
redis: {host: 127.0.0.1, port: $REDIS_PORT, key_prefix: hr}
privacy: {key_file: hmac.key, key_id: test-1, min_group_size: 3, min_respondents: 5}
windows: {granularities: [5m, 1h, 1d], retention: 35d, allowed_lateness: 7d, timezone: UTC}
behaviours:
  referral_made: {rules: [{kinds: [referral_made]}]}
  referral_hired: {rules: [{kinds: [referral_hired]}]}
  training_completed: {rules: [{kinds: [training_completed]}]}
  enps_promoter: {rules: [{kinds: [enps_promoter]}]}
  enps_passive: {rules: [{kinds: [enps_passive]}]}
  enps_detractor: {rules: [{kinds: [enps_detractor]}]}
kpis:
  - {id: referrals, behaviours: [referral_made], aggregation: count, window: 24h,
     quadrant: financial, indicator: lagging, weight: 0.3, target: 1}
  - {id: referral_hires, behaviours: [referral_hired], aggregation: count, window: 24h,
     quadrant: financial, indicator: lagging, weight: 0.2, target: 1}
  - {id: trainings, behaviours: [training_completed], aggregation: count, window: 24h,
     quadrant: learning_growth, indicator: lagging, weight: 0.3, target: 1}
  - {id: enps, behaviours: [enps_promoter, enps_passive, enps_detractor], aggregation: enps,
     window: 24h, quadrant: learning_growth, indicator: lagging, weight: 0.2, target: 20}
outputs:
  tick_interval: 1s
  kpi: {topic: advocacy.kpi, format: json}
  escalations: {topic: advocacy.escalations, format: json}
  dlq: {topic: advocacy.dlq, format: json}
admin: {port: 0}
EOF
"$ADVOCACY_BUILD_DIR/advocacyd" --check-config "$work/hr.yaml" || lib_fail "test config invalid"

# Sales/North: E01..E06; Ops/South: E07..E09; Legal/Counsel: E010..E012. E07
# and E08 are known by other ids. Legal, like Ops, has fewer respondents than
# min_respondents: with Ops the only small department, org minus Sales would
# give Ops away, and sibling suppression would hide Sales and North.
for n in 1 2 3 4 5 6 7 8 9 10 11 12; do
	if [ "$n" -le 6 ]; then dept=Sales team=North
	elif [ "$n" -le 9 ]; then dept=Ops team=South
	else dept=Legal team=Counsel; fi
	printf 'E0%s\t{"department":"%s","team":"%s","aliases":["person%s@corp.example.com"]}\n' \
		"$n" "$dept" "$team" "$n"
done | kcat -P -b "$KAFKA_BOOTSTRAP" -t advocacy.roster -K $'\t'

# Messages made now from the fixtures, one JSON document per line and topic.
python3 - "$fixtures" "$work" <<'EOF'
import copy, json, os, sys, time
fixtures, work = sys.argv[1], sys.argv[2]
def load(name):
    with open(os.path.join(fixtures, name)) as f:
        return json.load(f)
def iso(age_s):
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() - age_s))
def write(topic, docs):
    with open(os.path.join(work, topic + ".jsonl"), "w") as out:
        for doc in docs:
            out.write(json.dumps(doc) + "\n")

# Greenhouse: E01 refers candidate 1001, who is hired; person7@ (E07) refers
# 1002, and that web hook is retried; an agency application credits E03.
applied = load("greenhouse_referral_application.json")
applied["payload"]["application"].update(id=1001, applied_at=iso(3600))
applied["payload"]["application"]["credited_to"]["employee_id"] = "E01"
hired = load("greenhouse_referral_hired.json")
hired["payload"]["application"]["id"] = 1001
hired["payload"]["application"]["credited_to"]["email"] = "person1@corp.example.com"
hired["payload"]["application"]["offer"]["resolved_at"] = iso(1800)
second = copy.deepcopy(applied)
second["payload"]["application"].update(id=1002, applied_at=iso(1200))
second["payload"]["application"]["credited_to"] = {"id": 77, "email": "person7@corp.example.com"}
agency = load("greenhouse_agency_application.json")
agency["payload"]["application"].update(applied_at=iso(600),
                                        credited_to={"id": 3, "employee_id": "E03"})
write("greenhouse", [applied, hired, second, second, agency, load("greenhouse_ping.json")])

# xAPI: E02 completes and passes one attempt (counts once), E08 completes
# another course, someone attempts one (ignored).
batch = load("xapi_completed_and_passed.json")
for st in batch:
    st["timestamp"] = iso(900)
    st["actor"]["mbox"] = "mailto:person2@corp.example.com"
single = load("xapi_statement_account.json")
single["actor"]["account"]["name"] = "E08"
single["stored"] = iso(800)
write("xapi", [batch, single])

# Typeform: North answers 10, 9, 8, 6, 3, 10; South answers 9, 2, 7;
# Counsel answers 10, 0, 8.
answers = []
scores = {"E01": 10, "E02": 9, "E03": 8, "E04": 6, "E05": 3, "E06": 10,
          "E07": 9, "E08": 2, "E09": 7, "E010": 10, "E011": 0, "E012": 8}
for i, (who, score) in enumerate(scores.items()):
    doc = load("typeform_promoter.json")
    fr = doc["form_response"]
    fr.update(token="resp%02d" % i, submitted_at=iso(300 + i), hidden={"employee_id": who})
    fr["answers"][1]["number"] = score
    answers.append(doc)
answers.append(copy.deepcopy(answers[0]))  # delivered again: counts once
bad = load("typeform_invalid_score.json")
bad["form_response"]["submitted_at"] = iso(200)
anonymous = load("typeform_anonymous.json")
anonymous["form_response"]["submitted_at"] = iso(200)
write("typeform", answers + [bad, anonymous])
EOF
for pair in greenhouse:greenhouse.webhooks xapi:lrs.statements typeform:typeform.responses; do
	"$ADVOCACY_BUILD_DIR/advocacyd-produce" --brokers "$KAFKA_BOOTSTRAP" --topic "${pair#*:}" \
		--raw <"$work/${pair%%:*}.jsonl"
done

"$ADVOCACY_BUILD_DIR/advocacyd" --config "$work/hr.yaml" 2>"$work/daemon.log" &
LIB_PIDS+=("$!")

expect_kpi() { python3 "$ADVOCACY_SOURCE_DIR/tests/integration/kpi_check.py" "$work/kpi.json" "$@"; }
read_kpis() {
	kcat -C -b "$KAFKA_BOOTSTRAP" -t advocacy.kpi -e -q -f '%k\t%s\n' >"$work/kpi.json" || true
}
lib_wait_for "read_kpis && expect_kpi enps org 24h count 12 && expect_kpi trainings org 24h value 2 \
	&& expect_kpi referrals org 24h value 2" 60 ||
	{ cat "$work/daemon.log"; lib_fail "the HR KPIs never reached their counts"; }
read_kpis
expect_kpi referrals org 24h value 2
expect_kpi referrals team:North 24h value 1
expect_kpi referrals team:South 24h value 1
expect_kpi referral_hires org 24h value 1
expect_kpi referral_hires team:North 24h value 1
expect_kpi trainings team:North 24h value 1
expect_kpi trainings team:South 24h value 1

# eNPS by hand: org 5 promoters, 3 passives, 4 detractors of 12 answers;
# North 3, 1, 2 of 6; South and Counsel have 3 respondents each, fewer than
# min_respondents.
expect_kpi enps org 24h value "$(python3 -c 'print((5 - 4) / 12 * 100)')"
expect_kpi enps org 24h contributors 12
expect_kpi enps team:North 24h value "$(python3 -c 'print((3 - 2) / 6 * 100)')"
expect_kpi enps department:Sales 24h value "$(python3 -c 'print((3 - 2) / 6 * 100)')"
expect_kpi enps team:North 24h count 6
expect_kpi --absent enps team:South 24h
expect_kpi --absent enps department:Ops 24h
expect_kpi --absent enps team:Counsel 24h
expect_kpi --absent enps department:Legal 24h

# The invalid answer is dead-lettered without its bytes.
kcat -C -b "$KAFKA_BOOTSTRAP" -t advocacy.dlq -e -q -f '%h\t%s\n' >"$work/dlq.txt"
lib_assert_eq 1 "$(wc -l <"$work/dlq.txt")" "dead letters"
grep -q 'dlq.reason=invalid_score' "$work/dlq.txt" || lib_fail "no invalid_score dead letter"
python3 - "$work/dlq.txt" <<'EOF' || lib_fail "the dead letter holds payload bytes"
import json, sys
record = json.loads(open(sys.argv[1]).read().split("\t", 1)[1])
payload = record.get("payload")
sys.exit(0 if payload in ("", None) else 1)
EOF

# Privacy scan: no respondent id, candidate or answer data in Redis, outputs or log.
lib_stop "${LIB_PIDS[-1]}"
redis-cli -h 127.0.0.1 -p "$REDIS_PORT" --scan >"$work/redis-keys.txt"
: >"$work/redis-values.txt"
while read -r key; do
	case $(redis-cli -h 127.0.0.1 -p "$REDIS_PORT" type "$key") in
	hash) redis-cli -h 127.0.0.1 -p "$REDIS_PORT" hgetall "$key" ;;
	set) redis-cli -h 127.0.0.1 -p "$REDIS_PORT" smembers "$key" ;;
	string) redis-cli -h 127.0.0.1 -p "$REDIS_PORT" --no-raw get "$key" ;;
	zset) redis-cli -h 127.0.0.1 -p "$REDIS_PORT" zrange "$key" 0 -1 ;;
	esac >>"$work/redis-values.txt"
done <"$work/redis-keys.txt"
kcat -C -b "$KAFKA_BOOTSTRAP" -t advocacy.escalations -e -q >"$work/escalations.txt" || true
for needle in E01 E07 person1@ person7@ resp0 Lindqvist tomas "555 0199" Souza \
	"main reason" "The people" '"number"' qE7mW2 advocacy-101; do
	for f in redis-keys.txt redis-values.txt kpi.json dlq.txt escalations.txt daemon.log; do
		! grep -qF -- "$needle" "$work/$f" || lib_fail "'$needle' reached $f"
	done
done
for reason in not_a_referral ping duplicate_event unsupported_verb anonymous_response; do
	grep -q "ignored by reason.*$reason=" "$work/daemon.log" ||
		{ cat "$work/daemon.log"; lib_fail "no ignored count for $reason"; }
done
lib_log "HR adapters test passed"
