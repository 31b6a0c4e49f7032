#!/usr/bin/env bash
# Dynamic targets, the index against targets and a benchmark range, and
# sibling suppression, through a real daemon, redis-server and the dev broker.
#
# Roster (30 people, privacy.min_group_size 5 by default):
#   department Eng:     team Alpha 6, team Beta 5, team Gamma 2   (knowledge)
#   department Support: team Desk 7, team Field 5                 (frontline)
#   department Ops:     team Yard 5                               (frontline)
# Recognitions in the last minute, each by a different person: Alpha 3,
# Beta 2, Gamma 1, Desk 2, Field 1. So org has 9 of 30 people (rate and
# participation 0.3) and Alpha 3 of 6 (0.5).
#
# programme: {maturity: growth, scopes: {department:Eng: pilot,
# department:Ops: mature}}. recognition_rate (weight 0.6, target 1) gives
# scopes {team:Alpha: 0.9}, segments {frontline: 0.4}, maturity {pilot:
# 0.25, growth: 0.5} and industry 0.8. Effective targets:
#   team:Alpha 0.9 (scope); team:Desk and department:Support 0.4 (their
#   members are frontline); department:Eng 0.25 (pilot); org and
#   segment:knowledge 0.5 (growth); department:Ops without a segment 0.8
#   (mature has no target, so industry; --check-config only, because the
#   daemon sees Ops as frontline).
# recognizers (participation, weight 0.4, target 0.5) has the benchmark
# range 0.2..0.6, which the index uses instead of the target.
#
# Index by hand:
#   team:Alpha  0.6 * (0.5 / 0.9) + 0.4 * (0.5 - 0.2) / 0.4
#               = 0.333333... + 0.3 = 0.633333...
#   org         0.6 * (0.3 / 0.5) + 0.4 * (0.3 - 0.2) / 0.4 = 0.36 + 0.1 = 0.46
# Suppression per KPI: Gamma (2) is small and Eng's only small team, so
# Beta (5, smaller than Alpha's 6) is hidden as its sibling. Two KPIs make
# advocacyd_kpi_suppressed_scopes 2 for small_group and 2 for sibling.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=../lib.sh
source "$here/../lib.sh"
lib_init

lib_start_redis
lib_start_devkafka advocacy.events:1 advocacy.roster:1 advocacy.kpi:1 advocacy.escalations:1 \
	advocacy.dlq:1
work=$LIB_TMP
token=$(openssl rand -hex 32)
printf 'dashboard viewer %s\n' "$token" >"$work/tokens"
chmod 600 "$work/tokens"
cp "$ADVOCACY_SOURCE_DIR/tests/fixtures/hmac.key" "$work/hmac.key"
cat >"$work/targets.yaml" <<YAML
kafka:
  bootstrap_servers: "$KAFKA_BOOTSTRAP"
  group_id: kpi-targets
  inputs: [{topic: advocacy.events, format: avro}]
  roster_topic: advocacy.roster
redis: {host: 127.0.0.1, port: $REDIS_PORT, key_prefix: targets}
privacy: {key_file: hmac.key, key_id: test-1}
programme:
  maturity: growth
  scopes: {"department:Eng": pilot, "department:Ops": mature}
behaviours:
  recognition_given: {rules: [{kinds: [recognition], credit: actor}]}
kpis:
  - id: recognition_rate
    behaviours: [recognition_given]
    aggregation: rate
    window: 24h
    quadrant: learning_growth
    indicator: leading
    weight: 0.6
    target: 1
    targets:
      scopes: {"team:Alpha": 0.9}
      segments: {frontline: 0.4}
      maturity: {pilot: 0.25, growth: 0.5}
      industry: 0.8
  - id: recognizers
    behaviours: [recognition_given]
    aggregation: participation
    window: 24h
    quadrant: customer
    indicator: lagging
    weight: 0.4
    target: 0.5
    benchmark: {low: 0.2, high: 0.6}
outputs:
  tick_interval: 1s
  kpi: {topic: advocacy.kpi, format: json}
  escalations: {topic: advocacy.escalations, format: json}
  dlq: {topic: advocacy.dlq, format: json}
admin: {port: 0, tokens_file: tokens}
YAML
bin=$(lib_bin advocacyd)

# --check-config prints the effective target and the key it came from.
check() { "$bin" --check-config "$work/targets.yaml" --target "$@"; }
expect_line() {
	local expected=$1
	shift
	check "$@" >"$work/check.out" || lib_fail "--check-config --target $* failed"
	grep -qxF -- "$expected" "$work/check.out" ||
		lib_fail "--target $*: expected '$expected', got: $(cat "$work/check.out")"
}
expect_line "kpi=recognition_rate scope=team:Alpha target=0.9 source=scope key=kpis[0].targets.scopes.team:Alpha" \
	recognition_rate --scope team:Alpha
expect_line "kpi=recognition_rate scope=team:Desk target=0.4 source=segment key=kpis[0].targets.segments.frontline" \
	recognition_rate --scope team:Desk --segment frontline
expect_line "kpi=recognition_rate scope=segment:frontline target=0.4 source=segment key=kpis[0].targets.segments.frontline" \
	recognition_rate --scope segment:frontline
expect_line "kpi=recognition_rate scope=department:Eng target=0.25 source=maturity key=kpis[0].targets.maturity.pilot" \
	recognition_rate --scope department:Eng
expect_line "kpi=recognition_rate scope=org target=0.5 source=maturity key=kpis[0].targets.maturity.growth" \
	recognition_rate
expect_line "kpi=recognition_rate scope=department:Ops target=0.8 source=industry key=kpis[0].targets.industry" \
	recognition_rate --scope department:Ops
expect_line "kpi=recognizers scope=team:Alpha target=0.5 source=base key=kpis[1].target" \
	recognizers --scope team:Alpha
grep -q "benchmark_low=0.2 benchmark_high=0.6" "$work/check.out" || lib_fail "no benchmark line"
status=0
check nope >/dev/null 2>"$work/check.err" || status=$?
lib_assert_eq 2 "$status" "exit status of --target with an unknown KPI"
grep -q "unknown KPI id 'nope'" "$work/check.err" || lib_fail "unclear error: $(cat "$work/check.err")"
status=0
check recognition_rate --scope Alpha >/dev/null 2>"$work/check.err" || status=$?
lib_assert_eq 2 "$status" "exit status of --scope without a kind"
grep -q "invalid scope name 'Alpha'" "$work/check.err" || lib_fail "unclear error: $(cat "$work/check.err")"

# The roster: Alpha is emp-0001..0006, Beta 0007..0011, Gamma 0012..0013,
# Desk 0014..0020, Field 0021..0025, Yard 0026..0030.
n=0
for spec in Eng:Alpha:knowledge:6 Eng:Beta:knowledge:5 Eng:Gamma:knowledge:2 \
	Support:Desk:frontline:7 Support:Field:frontline:5 Ops:Yard:frontline:5; do
	IFS=: read -r dept team segment count <<<"$spec"
	for _ in $(seq "$count"); do
		n=$((n + 1))
		printf 'emp-%04d\t{"department":"%s","team":"%s","segment":"%s","aliases":[]}\n' \
			"$n" "$dept" "$team" "$segment"
	done
done | kcat -P -b "$KAFKA_BOOTSTRAP" -t advocacy.roster -K $'\t'
# One recognition by each listed person.
for actor in 1 2 3 7 8 12 14 15 21; do
	printf '{"event_id":"r%d","age_s":60,"kind":"recognition","actor_id":"emp-%04d","target_ids":[]}\n' \
		"$actor" "$actor"
done | "$ADVOCACY_BUILD_DIR/advocacyd-produce" --brokers "$KAFKA_BOOTSTRAP" --topic advocacy.events

"$bin" --config "$work/targets.yaml" 2>"$work/daemon.log" &
LIB_PIDS+=("$!")
port=$(lib_admin_port "$work/daemon.log") || { cat "$work/daemon.log"; lib_fail "no admin port"; }

expect_kpi() { python3 "$ADVOCACY_SOURCE_DIR/tests/integration/kpi_check.py" "$work/kpi.json" "$@"; }
read_kpis() {
	kcat -C -b "$KAFKA_BOOTSTRAP" -t advocacy.kpi -e -q -f '%k\t%s\n' >"$work/kpi.json" || true
}
lib_wait_for "read_kpis && expect_kpi recognition_rate org 24h count 9 \
	&& expect_kpi recognizers team:Desk 24h contributors 2" 60 ||
	{ cat "$work/daemon.log"; lib_fail "the KPIs never reached their counts"; }
read_kpis

# The effective target in each update.
expect_kpi recognition_rate team:Alpha 24h value 0.5
expect_kpi recognition_rate team:Alpha 24h target 0.9
expect_kpi recognition_rate team:Desk 24h value "$(python3 -c 'print(2 / 7)')"
expect_kpi recognition_rate team:Desk 24h target 0.4
expect_kpi recognition_rate department:Support 24h target 0.4
expect_kpi recognition_rate segment:frontline 24h target 0.4
expect_kpi recognition_rate department:Eng 24h target 0.25
expect_kpi recognition_rate segment:knowledge 24h target 0.5
expect_kpi recognition_rate org 24h value 0.3
expect_kpi recognition_rate org 24h target 0.5
expect_kpi recognizers team:Alpha 24h target 0.5

# Gamma is small and Beta its hidden sibling, on the KPI topic too.
for kpi in recognition_rate recognizers; do
	expect_kpi --absent "$kpi" team:Gamma 24h
	expect_kpi --absent "$kpi" team:Beta 24h
done
expect_kpi recognition_rate team:Field 24h value 0.2
expect_kpi recognition_rate team:Yard 24h value 0

# The gauge counts both reasons for the latest tick.
curl -s --max-time 5 "http://127.0.0.1:$port/metrics" >"$work/metrics.txt"
grep -qxF 'advocacyd_kpi_suppressed_scopes{reason="small_group"} 2' "$work/metrics.txt" ||
	lib_fail "small_group gauge: $(grep suppressed_scopes "$work/metrics.txt")"
grep -qxF 'advocacyd_kpi_suppressed_scopes{reason="sibling"} 2' "$work/metrics.txt" ||
	lib_fail "sibling gauge: $(grep suppressed_scopes "$work/metrics.txt")"

# The index, its quadrants and contributions in GET /api/kpis.
curl -s --max-time 5 -H "Authorization: Bearer $token" \
	"http://127.0.0.1:$port/api/kpis" >"$work/kpis.json"
python3 - "$work/kpis.json" <<'PY' || lib_fail "GET /api/kpis: index or suppression wrong"
import json, sys
card = json.load(open(sys.argv[1]))
index = {s["scope"]: s for s in card["scopes_index"]}
def near(a, b, what):
    if a is None or abs(a - b) > 1e-9:
        sys.exit("%s is %r, expected %r" % (what, a, b))
alpha, org = index["team:Alpha"], index["org"]
near(alpha["index"], 0.6 * 0.5 / 0.9 + 0.4 * 0.75, "team:Alpha index")
near(alpha["quadrants"]["learning_growth"], 0.5 / 0.9, "team:Alpha learning_growth")
near(alpha["quadrants"]["customer"], 0.75, "team:Alpha customer")
parts = {c["kpi"]: c["contribution"] for c in alpha["contributions"]}
near(parts["recognition_rate"], 0.6 * 0.5 / 0.9, "team:Alpha recognition_rate part")
near(parts["recognizers"], 0.3, "team:Alpha recognizers part")
near(org["index"], 0.46, "org index")
for kpi in card["kpis"]:
    scopes = {s["scope"]: s for s in kpi["scopes"]}
    if scopes["team:Gamma"].get("suppressed_reason") != "small_group":
        sys.exit("team:Gamma of %s: %r" % (kpi["id"], scopes["team:Gamma"]))
    if scopes["team:Beta"].get("suppressed_reason") != "sibling":
        sys.exit("team:Beta of %s: %r" % (kpi["id"], scopes["team:Beta"]))
    if "value" in scopes["team:Beta"]:
        sys.exit("team:Beta of %s shows a value" % kpi["id"])
    alpha_scope = scopes["team:Alpha"]
    if kpi["id"] == "recognition_rate" and (alpha_scope["target"] != 0.9 or
                                            alpha_scope["target_source"] != "scope"):
        sys.exit("team:Alpha target: %r" % alpha_scope)
PY

# No employee id reaches the outputs or the log.
for f in kpi.json kpis.json metrics.txt daemon.log; do
	! grep -q 'emp-0' "$work/$f" || lib_fail "an employee id reached $f"
done
lib_log "targets, index and sibling suppression test passed"
