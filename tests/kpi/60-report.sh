#!/usr/bin/env bash
# advocacyd report, through two real daemons, a real Redis and the dev broker.
#
# Crafted data set (min_group_size 3): department Sales has team North
# (n1..n4) and team South (s1..s3). Department Ops has team Tiny1 (t1, t2)
# and team Tiny2 (t3, t4), both below the minimum group size. Org has 11
# people, Sales 7, Ops 4. Events in the last hour:
#   recognition: n1 x2, n2, s1, t1, t3     shares: n1 x3, s2 x2
#   contributions: n3, s3
# KPIs (window 24h): recognition_rate (rate, learning_growth, weight 0.5,
# target 0.5), shares (count, customer, weight 0.5, target 10),
# contributions (count, internal_process, weight 0, target 2).
# By hand, score = min(value / target, 1), index = sum(weight * score):
#   org:   rate 6/11 = 0.5454 (on, score 1), shares 5 (below, 0.5),
#          contributions 2 (on, weight 0: no contribution)
#          index 0.5 + 0.25 = 0.75; learning_growth 1, customer 0.5,
#          internal_process null (no KPI with weight counted)
#   team:North: rate 3/4 = 0.75 (on, 1), shares 3 (below, 0.3),
#          contributions 1 (below); index 0.5 + 0.15 = 0.65
#   team:South: rate 1/3 (below, score 2/3), shares 2 (0.2);
#          index 1/3 + 0.1 = 0.4333
#   department:Ops: rate 2/4 = 0.5 (on, 1), shares 0 (0); index 0.5
#   team:Tiny1, team:Tiny2: suppressed, no figure.
#
# Also checked: the report before any scorecard exists (exit 3), with Redis
# unreachable (exit 1, host:port named), for an unknown scope (exit 4) and
# with an invalid --format (exit 2). It warns about an old scorecard and
# another config version. Only one of the two daemons, the alert lease
# holder, writes the key, with one SET per tick. The stored key contains no
# employee id, alias, pseudonym or suppressed figure.
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
rcli() { redis-cli -h 127.0.0.1 -p "$REDIS_PORT" "$@"; }

cp "$ADVOCACY_SOURCE_DIR/tests/fixtures/hmac.key" "$work/hmac.key"
write_config() { # FILE REDIS_PORT
	cat >"$1" <<EOF
kafka:
  bootstrap_servers: "$KAFKA_BOOTSTRAP"
  group_id: report
  inputs:
    - {topic: advocacy.events, format: avro}
  roster_topic: advocacy.roster
redis: {host: 127.0.0.1, port: $2, key_prefix: rp}
privacy: {key_file: hmac.key, key_id: test-1, min_group_size: 3}
windows: {granularities: [5m, 1h, 1d], retention: 35d, allowed_lateness: 7d, timezone: UTC}
behaviours:
  recognition_given: {rules: [{kinds: [recognition], credit: actor}]}
  content_shared: {rules: [{kinds: [share], credit: actor}]}
  contribution: {rules: [{kinds: [post], credit: actor}]}
kpis:
  - {id: recognition_rate, behaviours: [recognition_given], aggregation: rate, window: 24h,
     quadrant: learning_growth, indicator: leading, weight: 0.5, target: 0.5}
  - {id: shares, behaviours: [content_shared], aggregation: count, window: 24h,
     quadrant: customer, indicator: leading, weight: 0.5, target: 10}
  - {id: contributions, behaviours: [contribution], aggregation: count, window: 24h,
     quadrant: internal_process, indicator: leading, weight: 0, target: 2}
outputs:
  tick_interval: 1s
  kpi: {topic: advocacy.kpi, format: json}
  escalations: {topic: advocacy.escalations, format: json}
  dlq: {topic: advocacy.dlq, format: json}
admin: {port: 0}
EOF
}
write_config "$work/report.yaml" "$REDIS_PORT"
"$bin" --check-config "$work/report.yaml" >/dev/null || lib_fail "test config invalid"

# report ARGS...: runs the report on the test config; sets out, err and rc.
report() {
	rc=0
	"$bin" report --config "$work/report.yaml" "$@" >"$work/out.txt" 2>"$work/err.txt" || rc=$?
	out=$(cat "$work/out.txt")
	err=$(cat "$work/err.txt")
}

# ---------------------------------------------------------------- before any daemon
report
lib_assert_eq 3 "$rc" "exit code without a scorecard"
[[ $err == *"no scorecard in Redis yet"*"{rp}:scorecard"* ]] || lib_fail "no-scorecard message: $err"
[ -z "$out" ] || lib_fail "output without a scorecard: $out"

closed_port=$(lib_free_port)
write_config "$work/closed.yaml" "$closed_port"
rc=0
"$bin" report --config "$work/closed.yaml" >/dev/null 2>"$work/err.txt" || rc=$?
lib_assert_eq 1 "$rc" "exit code with Redis unreachable"
grep -q "cannot connect to Redis at 127.0.0.1:$closed_port" "$work/err.txt" ||
	lib_fail "unreachable message: $(cat "$work/err.txt")"

report --format xml
lib_assert_eq 2 "$rc" "exit code of an invalid --format"
[[ $err == *"invalid --format 'xml'"* ]] || lib_fail "invalid format message: $err"

# ---------------------------------------------------------------- data
{
	for i in 1 2 3 4; do printf 'n%s\t{"department":"Sales","team":"North","aliases":["north%s@corp.example.com"]}\n' "$i" "$i"; done
	for i in 1 2 3; do printf 's%s\t{"department":"Sales","team":"South"}\n' "$i"; done
	for i in 1 2; do printf 't%s\t{"department":"Ops","team":"Tiny1"}\n' "$i"; done
	for i in 3 4; do printf 't%s\t{"department":"Ops","team":"Tiny2"}\n' "$i"; done
} | kcat -P -b "$KAFKA_BOOTSTRAP" -t advocacy.roster -K $'\t'
ev() { # id kind actor age_s
	printf '{"event_id":"%s","age_s":%s,"kind":"%s","actor_id":"%s"}\n' "$1" "$4" "$2" "$3"
}
{
	ev r1 recognition n1 60; ev r2 recognition n1 120; ev r3 recognition n2 180
	ev r4 recognition s1 240; ev r5 recognition t1 300; ev r6 recognition t3 360
	ev h1 share n1 400; ev h2 share n1 500; ev h3 share n1 600
	ev h4 share s2 700; ev h5 share s2 800
	ev p1 post n3 900; ev p2 post s3 1000
} | "$ADVOCACY_BUILD_DIR/advocacyd-produce" --brokers "$KAFKA_BOOTSTRAP" --topic advocacy.events

# ---------------------------------------------------------------- two daemons
"$bin" --config "$work/report.yaml" 2>"$work/daemon1.log" &
LIB_PIDS+=("$!")
daemon1=$!
"$bin" --config "$work/report.yaml" 2>"$work/daemon2.log" &
LIB_PIDS+=("$!")
daemon2=$!

# Waits until the stored org figures count every event.
org_complete() {
	report --scope org --format json && python3 -c '
import json, sys
d = json.loads(sys.argv[1])
v = {k["kpi"]: k.get("value") for q in d["quadrants"] for k in q["kpis"]}
# The JSON carries 15 significant digits, so the rate is compared within 1e-12.
ok = v.get("shares") == 5 and v.get("contributions") == 2 and \
    v.get("recognition_rate") is not None and abs(v["recognition_rate"] - 6 / 11) < 1e-12
sys.exit(0 if ok else 1)' "$out"
}
lib_wait_for org_complete 120 ||
	{ cat "$work/daemon1.log" "$work/daemon2.log"; lib_fail "the report never showed every event: rc=$rc $out $err"; }

# ---------------------------------------------------------------- JSON against hand values
check_json() { # SCOPE PYTHON-CHECKS
	report --scope "$1" --format json
	lib_assert_eq 0 "$rc" "exit code of the report of $1"
	python3 - "$out" "$1" "$2" <<'EOF' || lib_fail "report of $1: $out"
import json, math, sys
d, scope = json.loads(sys.argv[1]), sys.argv[2]
def close(a, b):
    return a is not None and b is not None and math.isclose(a, b, rel_tol=0, abs_tol=1e-9)
quadrants = {q["quadrant"]: q for q in d.get("quadrants", [])}
kpi = {k["kpi"]: k for q in d.get("quadrants", []) for k in q["kpis"]}
checks = eval(sys.argv[3])
assert d["scope"] == scope, d["scope"]
for i, ok in enumerate(checks):
    if not ok:
        sys.exit("check %d failed" % i)
EOF
}
check_json org '[
	d["scope_kind"] == "org", d["suppressed"] is False, close(d["index"], 0.75),
	[q["quadrant"] for q in d["quadrants"]] == ["customer", "internal_process", "learning_growth"],
	close(quadrants["learning_growth"]["sub_index"], 1.0),
	close(quadrants["customer"]["sub_index"], 0.5),
	quadrants["internal_process"]["sub_index"] is None,
	close(kpi["recognition_rate"]["value"], 6 / 11), kpi["recognition_rate"]["state"] == "on_target",
	close(kpi["recognition_rate"]["target"], 0.5), close(kpi["recognition_rate"]["contribution"], 0.5),
	kpi["shares"]["value"] == 5, kpi["shares"]["state"] == "below_target",
	close(kpi["shares"]["contribution"], 0.25), kpi["shares"]["window"] == "24h",
	kpi["contributions"]["value"] == 2, kpi["contributions"]["state"] == "on_target",
	kpi["contributions"]["contribution"] is None, close(kpi["contributions"]["weight"], 0),
	0 <= d["age_seconds"] <= 10, d["min_group_size"] == 3, len(d["config_version"]) == 16]'
check_json team:North '[
	close(d["index"], 0.65), close(kpi["recognition_rate"]["value"], 0.75),
	kpi["recognition_rate"]["state"] == "on_target", kpi["shares"]["value"] == 3,
	close(kpi["shares"]["contribution"], 0.15), close(quadrants["customer"]["sub_index"], 0.3),
	kpi["contributions"]["value"] == 1, kpi["contributions"]["state"] == "below_target"]'
check_json team:South '[
	close(d["index"], 1 / 3 + 0.1), close(kpi["recognition_rate"]["value"], 1 / 3),
	kpi["recognition_rate"]["state"] == "below_target",
	close(kpi["recognition_rate"]["contribution"], 1 / 3),
	close(quadrants["learning_growth"]["sub_index"], 2 / 3), kpi["shares"]["value"] == 2]'
check_json department:Ops '[
	close(d["index"], 0.5), close(kpi["recognition_rate"]["value"], 0.5),
	kpi["recognition_rate"]["state"] == "on_target", kpi["shares"]["value"] == 0,
	close(kpi["shares"]["contribution"], 0), kpi["shares"]["state"] == "below_target"]'
check_json team:Tiny1 '[
	d["suppressed"] is True, "index" not in d, "quadrants" not in d, d["scope_kind"] == "team"]'

# ---------------------------------------------------------------- table
report --scope team:North
lib_assert_eq 0 "$rc" "exit code of the table of team:North"
[[ $(sed -n 1p "$work/out.txt") == "Scorecard of team:North (team)" ]] || lib_fail "table title: $out"
[[ $(sed -n 2p "$work/out.txt") =~ ^Computed\ [0-9-]{10}\ [0-9:]{8}\ UTC,\ [0-9]+\ s\ ago,\ config\ version\ [0-9a-f]{16}$ ]] ||
	lib_fail "table time line: $(sed -n 2p "$work/out.txt")"
cat >"$work/expected.txt" <<'EOF'
Advocacy index: 0.650

Customer: sub-index 0.300
  KPI                    value      target  state         contribution
  shares                     3          10  below target         0.150

Internal process: sub-index -
  KPI                    value      target  state         contribution
  contributions              1           2  below target             -

Learning & growth: sub-index 1.000
  KPI                    value      target  state         contribution
  recognition_rate        0.75         0.5  on target            0.500
EOF
tail -n +3 "$work/out.txt" | diff -u "$work/expected.txt" - || lib_fail "table of team:North differs"

report --scope team:Tiny2
lib_assert_eq 0 "$rc" "exit code of the table of a suppressed scope"
[[ $out == *"Suppressed: the scope or one of its siblings has fewer people than the minimum group size (3), so no figure is shown."* ]] ||
	lib_fail "suppressed table: $out"
! grep -q "index\|target" "$work/out.txt" || lib_fail "suppressed table shows figures: $out"

report --scope team:Nobody
lib_assert_eq 4 "$rc" "exit code of an unknown scope"
[[ $err == *"scope 'team:Nobody' is not in the scorecard, which has 7 scopes: org,"* ]] ||
	lib_fail "unknown scope message: $err"

# ---------------------------------------------------------------- one writer, one SET per tick
timeout 4 redis-cli -h 127.0.0.1 -p "$REDIS_PORT" monitor >"$work/monitor.txt" 2>/dev/null || true
grep -F '"{rp}:scorecard"' "$work/monitor.txt" >"$work/writes.txt" || true
writes=$(wc -l <"$work/writes.txt")
((writes >= 2 && writes <= 5)) || lib_fail "expected 2 to 5 writes of the key in 4 s of 1 s ticks, got $writes"
! grep -v '"SET" "{rp}:scorecard"' "$work/writes.txt" | grep -q . ||
	lib_fail "commands other than SET on the key: $(cat "$work/writes.txt")"
writers=$(sed -n 's/.*\[[0-9]* \([0-9.:]*\)\].*/\1/p' "$work/writes.txt" | sort -u | wc -l)
lib_assert_eq 1 "$writers" "connections writing the scorecard (only the lease holder's)"
ttl=$(rcli pttl '{rp}:scorecard')
((ttl > 0 && ttl <= 35 * 86400000)) || lib_fail "scorecard key expiry $ttl ms, expected within windows.retention"

# ---------------------------------------------------------------- privacy of the stored key
rcli --raw get '{rp}:scorecard' >"$work/stored.json"
python3 - "$work/stored.json" "$work/hmac.key" <<'EOF' || lib_fail "the stored scorecard leaks"
import hashlib, hmac, json, sys
text = open(sys.argv[1]).read()
key = bytes.fromhex(open(sys.argv[2]).read().strip())
doc = json.loads(text)
people = ["n1", "n2", "n3", "n4", "s1", "s2", "s3", "t1", "t2", "t3", "t4", "north1@corp.example.com"]
for p in people:
    digest = hmac.new(key, p.encode(), hashlib.sha256).hexdigest()
    for needle in ('"%s"' % p, digest[:16], digest[:32]):
        if needle in text:
            sys.exit("found %r" % needle)
assert "corp.example.com" not in text
for scope in doc["scopes"]:
    if scope["scope"].startswith("team:Tiny"):
        assert scope == {"scope": scope["scope"], "scope_kind": "team", "suppressed": True}, scope
    else:
        assert scope["suppressed"] is False, scope
names = sorted(s["scope"] for s in doc["scopes"])
assert names == ["department:Ops", "department:Sales", "org", "team:North", "team:South",
                 "team:Tiny1", "team:Tiny2"], names
EOF

# ---------------------------------------------------------------- warnings
# Another config file (one more comment line): the report notes the version.
{ cat "$work/report.yaml"; echo "# edited"; } >"$work/edited.yaml"
rc=0
"$bin" report --config "$work/edited.yaml" >/dev/null 2>"$work/err.txt" || rc=$?
lib_assert_eq 0 "$rc" "exit code with another config version"
grep -q "note: the scorecard was computed with config version [0-9a-f]\{16\}, .*edited.yaml is version" \
	"$work/err.txt" || lib_fail "no config version note: $(cat "$work/err.txt")"

lib_stop "$daemon1" || lib_fail "daemon 1 did not stop cleanly"
lib_stop "$daemon2" || lib_fail "daemon 2 did not stop cleanly"
# With no daemon left, the scorecard grows older than three 1 s ticks.
sleep 4
report
lib_assert_eq 0 "$rc" "exit code of an old scorecard"
[[ $err == *"warning: the scorecard is "*" s old, more than three ticks of 1000 ms"* ]] ||
	lib_fail "no warning for an old scorecard: $err"
[[ $out == *"Advocacy index: 0.750"* ]] || lib_fail "old scorecard not printed: $out"
lib_log "report test passed"
