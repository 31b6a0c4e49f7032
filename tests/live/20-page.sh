#!/usr/bin/env bash
# The live page in headless chromium against a daemon with real
# redis-server and the dev broker, on a known data set:
# - the page and its assets come from the daemon's port only, with no request
#   to any other origin, and raise no script error or CSP violation;
# - after connecting with a viewer token, team:Alpha shows its hand-computed
#   KPI values, states and composite index, and /api/kpis the same index and
#   customer sub-index;
# - team:Tiny, below the minimum group size, shows "suppressed", never 0;
# - three more shares show on the page within 2 s of the KPI update reaching
#   the KPI topic;
# - a wrong token shows "unauthorized";
# - at 375 px wide no element reaches past the viewport.
# Screenshots go to LIB_TMP (and to ADVOCACY_LIVE_ARTIFACTS when set); the log
# prints the page weight.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=../lib.sh
source "$here/../lib.sh"
# shellcheck source=lib_live.sh
source "$here/lib_live.sh"
lib_init
live_require

lib_start_redis
lib_start_devkafka advocacy.events:2 advocacy.roster:1 \
	advocacy.kpi:1 advocacy.escalations:1 advocacy.dlq:1
work=$LIB_TMP
produce="$ADVOCACY_BUILD_DIR/advocacyd-produce"
VIEWER_TOKEN=$(openssl rand -hex 32)
WRONG_TOKEN=$(openssl rand -hex 32)

# ---------------------------------------------------------------- config
# Weights sum to 1. Scores of team:Alpha (score = min(value / target, 1)):
#   shares       count 4 / 10          = 0.4   x 0.30 = 0.120  (customer)
#   advocates    participation 2/4 = 0.5 / 0.4 -> 1 x 0.20 = 0.200  (customer)
#   recognitions count 3 / 4           = 0.75  x 0.20 = 0.150  (learning_growth)
#   forum_rate   rate 4/4 = 1 / 2      = 0.5   x 0.15 = 0.075  (internal_process)
#   referrals    count 1 / 2           = 0.5   x 0.15 = 0.075  (financial)
# index 0.62; customer sub-index (0.12 + 0.2) / 0.5 = 0.64. Three more
# shares make shares 7 (score 0.7): index 0.71.
cp "$ADVOCACY_SOURCE_DIR/tests/fixtures/hmac.key" "$work/hmac.key"
printf 'comms viewer %s\n' "$VIEWER_TOKEN" >"$work/tokens"
chmod 600 "$work/tokens"
cat >"$work/live.yaml" <<EOF
kafka:
  bootstrap_servers: "$KAFKA_BOOTSTRAP"
  group_id: live
  inputs: [{topic: advocacy.events, format: avro}]
  roster_topic: advocacy.roster
redis: {host: 127.0.0.1, port: $REDIS_PORT, key_prefix: live}
privacy: {key_file: hmac.key, key_id: test-1, min_group_size: 3}
behaviours:
  content_shared: {rules: [{kinds: [share_external], credit: actor}]}
  recognition_given: {rules: [{kinds: [recognition], credit: actor}]}
  forum_participation: {rules: [{kinds: [forum_post], credit: actor}]}
  referral_made: {rules: [{kinds: [referral], credit: actor}]}
kpis:
  - {id: shares, behaviours: [content_shared], aggregation: count, window: 24h,
     quadrant: customer, indicator: leading, weight: 0.3, target: 10}
  - {id: advocates, behaviours: [content_shared], aggregation: participation, window: 7d,
     quadrant: customer, indicator: leading, weight: 0.2, target: 0.4}
  - {id: recognitions, behaviours: [recognition_given], aggregation: count, window: 24h,
     quadrant: learning_growth, indicator: leading, weight: 0.2, target: 4}
  - {id: forum_rate, behaviours: [forum_participation], aggregation: rate, window: 7d,
     quadrant: internal_process, indicator: leading, weight: 0.15, target: 2}
  - {id: referrals, behaviours: [referral_made], aggregation: count, window: 7d,
     quadrant: financial, indicator: lagging, weight: 0.15, target: 2}
outputs:
  tick_interval: 500ms
  kpi: {topic: advocacy.kpi, format: json}
  escalations: {topic: advocacy.escalations, format: json}
  dlq: {topic: advocacy.dlq, format: json}
admin: {port: 0, tokens_file: tokens}
EOF
"$ADVOCACY_BUILD_DIR/advocacyd" --check-config "$work/live.yaml" >/dev/null ||
	lib_fail "test config invalid"

# ---------------------------------------------------------------- data set
# Alpha: 4 people, Beta: 4, Tiny: 2 (below the minimum group size of 3, and so
# is its department Operations), Ledger: 3 in Finance, who do nothing. With
# Operations as the only department beside Engineering, org minus
# Engineering would give Operations away, and sibling suppression would
# hide Engineering with Alpha and Beta; Finance is hidden instead.
roster_line() { # id department team segment
	printf '%s\t{"department":"%s","team":"%s","segment":"%s","work_mode":"remote","employment_type":"full_time","region":"EMEA","aliases":[]}\n' "$@"
}
{
	for i in 1 2 3 4; do roster_line "emp-a$i" Engineering Alpha knowledge; done
	for i in 1 2 3 4; do roster_line "emp-b$i" Engineering Beta frontline; done
	for i in 1 2; do roster_line "emp-t$i" Operations Tiny frontline; done
	for i in 1 2 3; do roster_line "emp-l$i" Finance Ledger knowledge; done
} | kcat -P -b "$KAFKA_BOOTSTRAP" -t advocacy.roster -K $'\t'

event_seq=0
# Prints N events of KIND by ACTOR as advocacyd-produce input lines.
events() { # kind actor n
	local i
	for ((i = 0; i < $3; i++)); do
		event_seq=$((event_seq + 1))
		printf '{"event_id":"live-%d","age_s":120,"kind":"%s","actor_id":"%s","target_ids":[]}\n' \
			"$event_seq" "$1" "$2"
	done
}
{
	events share_external emp-a1 3
	events share_external emp-a2 1
	events recognition emp-a1 3
	events forum_post emp-a1 2
	events forum_post emp-a3 2
	events referral emp-a2 1
	events share_external emp-b1 1
	events share_external emp-t1 2
} >"$work/events.jsonl"
"$produce" --brokers "$KAFKA_BOOTSTRAP" --topic advocacy.events <"$work/events.jsonl"

"$ADVOCACY_BUILD_DIR/advocacyd" --config "$work/live.yaml" 2>"$work/daemon.log" &
daemon=$!
lib_track "$daemon"

fail_with_log() {
	tail -n 30 "$work/daemon.log" >&2
	lib_fail "$@"
}

port=$(lib_admin_port "$work/daemon.log") || fail_with_log "the daemon never logged the admin port"
origin=http://127.0.0.1:$port

# Prints the JSON lines of the KPI topic as "TIMESTAMP_MS<TAB>JSON".
kpi_records() {
	kcat -C -b "$KAFKA_BOOTSTRAP" -t advocacy.kpi -o beginning -e -q -f '%T\t%s\n'
}

# Prints the Kafka timestamp and computed_at of the first record of KPI and
# SCOPE with VALUE, or nothing.
first_record() { # kpi scope value
	kpi_records | python3 -c '
import json, sys
kpi, scope, value = sys.argv[1], sys.argv[2], float(sys.argv[3])
for line in sys.stdin:
    ts, _, text = line.rstrip("\n").partition("\t")
    u = json.loads(text)
    if u["kpi"] == kpi and u["scope"] == scope and abs(u["value"] - value) < 1e-9:
        print(ts, u["computed_at"])
        break' "$@"
}

lib_wait_for "[ -n \"\$(first_record referrals team:Alpha 1)\" ]" 60 ||
	fail_with_log "the KPI topic never showed the data set (referrals of team:Alpha = 1)"

# ---------------------------------------------------------------- /api/kpis index
curl -s --max-time 5 -H "Authorization: Bearer $VIEWER_TOKEN" "$origin/api/kpis" >"$work/kpis.json"
python3 - "$work/kpis.json" <<'EOF' || fail_with_log "/api/kpis scopes_index is not as computed by hand"
import json, sys
doc = json.load(open(sys.argv[1]))
index = {e["scope"]: e for e in doc.get("scopes_index", [])}
assert "team:Alpha" in index, "no scopes_index entry for team:Alpha: %r" % sorted(index)
alpha = index["team:Alpha"]
assert abs(alpha["index"] - 0.62) < 1e-9, "team:Alpha index %r, expected 0.62" % alpha["index"]
customer = alpha["quadrants"]["customer"]
assert abs(customer - 0.64) < 1e-9, "team:Alpha customer sub-index %r, expected 0.64" % customer
shares = [c for c in alpha["contributions"] if c["kpi"] == "shares"]
assert len(shares) == 1, "team:Alpha contributions: %r" % alpha["contributions"]
tiny = index.get("team:Tiny")
assert tiny is None or tiny["index"] is None, "suppressed team:Tiny has an index: %r" % tiny
EOF

# ---------------------------------------------------------------- load
live_start "$origin"
status=$(live_must goto /)
lib_assert_eq 200 "$status" "GET / in the browser"
live_check_origin
weight=$(live_must weight)
python3 -c '
import json, sys
w = json.loads(sys.argv[1])
print("page weight at load: %d bytes in %d responses" % (w["bytes"], w["responses"]))
for s in w["sizes"]:
    print("  %8d  %s" % (s["bytes"], s["url"]))' "$weight"

# With a tokens file and no token in the tab, the page cannot be live.
[ "$(live_must text '#status')" != live ] || lib_fail "#status is 'live' before any token was given"

# ---------------------------------------------------------------- connect
live_must fill '#token' "$VIEWER_TOKEN" >/dev/null
live_must click '#connect' >/dev/null
live_expect_text '#status' live >/dev/null
options=$(live_must options 'select#scope')
for scope in org team:Alpha team:Beta team:Tiny; do
	grep -q "\"$scope\"" <<<"$options" || lib_fail "select#scope lacks $scope: $options"
done

# ---------------------------------------------------------------- known values
kpi_sel() { # kpi quadrant
	echo "#quadrant-$2 [data-kpi=\"$1\"]"
}
# Fails unless KPI in QUADRANT shows VALUE, STATE and a target equal to TARGET.
expect_kpi() { # kpi quadrant value state target
	local sel target
	sel=$(kpi_sel "$1" "$2")
	live_expect_text "$sel .value" "$3" >/dev/null
	live_expect_attr "$sel" data-state "$4"
	target=$(live_must text "$sel .target")
	python3 -c '
import re, sys
numbers = re.findall(r"[0-9]+(?:\.[0-9]+)?", sys.argv[1])
sys.exit(0 if numbers and abs(float(numbers[0]) - float(sys.argv[2])) < 1e-9 else 1)' "$target" "$5" ||
		lib_fail "$sel .target shows '$target', expected $5"
}

live_must select 'select#scope' team:Alpha >/dev/null
expect_kpi shares customer 4.00 below 10
expect_kpi advocates customer 0.50 ok 0.4
expect_kpi recognitions learning_growth 3.00 below 4
expect_kpi forum_rate internal_process 1.00 below 2
expect_kpi referrals financial 1.00 below 2
live_expect_text '#index' 0.62 >/dev/null
live_must wait_for '#amplification .uplot' >/dev/null
options=$(live_must options 'select#amplification-scope')
grep -q '"org"' <<<"$options" || lib_fail "select#amplification-scope does not offer org: $options"

live_must select 'select#scope' team:Beta >/dev/null
expect_kpi shares customer 1.00 below 10

# ---------------------------------------------------------------- suppressed
live_must select 'select#scope' team:Tiny >/dev/null
live_expect_text '#index' suppressed >/dev/null
for kpi in shares:customer advocates:customer recognitions:learning_growth \
	forum_rate:internal_process referrals:financial; do
	sel=$(kpi_sel "${kpi%%:*}" "${kpi#*:}")
	live_expect_text "$sel .value" suppressed >/dev/null
	live_expect_attr "$sel" data-state suppressed
done
values=$(live_must texts '[data-kpi] .value')
if grep -Eq '"0(\.0*)?"' <<<"$values"; then
	lib_fail "team:Tiny shows a zero: $values"
fi
live_must screenshot "$work/page-suppressed.png" >/dev/null

# ---------------------------------------------------------------- live update
live_must select 'select#scope' team:Alpha >/dev/null
live_expect_text "$(kpi_sel shares customer) .value" 4.00 >/dev/null
events share_external emp-a3 3 | "$produce" --brokers "$KAFKA_BOOTSTRAP" --topic advocacy.events
shown_at=$(live_expect_text "$(kpi_sel shares customer) .value" 7.00 30000)
live_expect_text '#index' 0.71 >/dev/null
lib_wait_for "[ -n \"\$(first_record shares team:Alpha 7)\" ]" 10 ||
	fail_with_log "the page shows 7.00 but the KPI topic has no such update"
read -r topic_at computed_at <<<"$(first_record shares team:Alpha 7)"
delay=$((shown_at - topic_at))
lib_log "shares of team:Alpha = 7: on the KPI topic at $topic_at, on the page at $shown_at ($delay ms later)"
[ "$delay" -le 2000 ] || lib_fail "the page showed the update $delay ms after the KPI topic, more than 2000"
last_update=$(live_must dataset lastUpdate)
[[ $last_update =~ ^[0-9]+$ ]] || lib_fail "body data-last-update is '$last_update', expected ms"
[ "$last_update" -ge "$computed_at" ] ||
	lib_fail "body data-last-update $last_update is older than the update shown ($computed_at)"
live_must screenshot "$work/page.png" >/dev/null

# ---------------------------------------------------------------- wrong token
live_must new_page 1280 900 >/dev/null
live_must goto / >/dev/null
live_must fill '#token' "$WRONG_TOKEN" >/dev/null
live_must click '#connect' >/dev/null
live_expect_text '#status' unauthorized >/dev/null

# ---------------------------------------------------------------- narrow screen
live_must new_page 375 812 >/dev/null
live_must goto / >/dev/null
live_must fill '#token' "$VIEWER_TOKEN" >/dev/null
live_must click '#connect' >/dev/null
live_expect_text '#status' live >/dev/null
live_must select 'select#scope' team:Alpha >/dev/null
live_expect_text "$(kpi_sel shares customer) .value" 7.00 >/dev/null
overflow=$(live_must overflow)
python3 -c '
import json, sys
o = json.loads(sys.argv[1])
problems = list(o["offenders"])
if o["scroll_width"] > o["viewport"]:
    problems.append("the document is %dpx wide" % o["scroll_width"])
if problems:
    sys.exit("at %dpx wide: %s" % (o["viewport"], "; ".join(problems[:10])))' "$overflow" ||
	lib_fail "elements overflow a 375 px wide viewport"
live_must screenshot "$work/page-375.png" >/dev/null

# ---------------------------------------------------------------- wrap up
live_check_origin
live_check_errors
live_stop
lib_log "screenshots: $work/page.png $work/page-suppressed.png $work/page-375.png"
if [ -n "${ADVOCACY_LIVE_ARTIFACTS:-}" ]; then
	mkdir -p "$ADVOCACY_LIVE_ARTIFACTS"
	cp "$work"/page*.png "$ADVOCACY_LIVE_ARTIFACTS/"
fi
lib_stop "$daemon" || fail_with_log "the daemon did not stop cleanly"
echo "20-page: ok"
