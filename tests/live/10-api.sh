#!/usr/bin/env bash
# The live view's server side against a real daemon, redis-server and the
# dev broker, with curl and raw sockets, no browser. Checks: the page and its
# files with a strict Content-Security-Policy and no external URL, and the
# token rules. Then the scorecard's composite index, and the event stream:
# KPI events within 2 s of a tick, suppressed scopes without figures. Then
# /api/history and the 64-stream limit. A stream that never reads is
# dropped while /healthz stays fast. Last, the KPI gauges on /metrics and
# the Grafana dashboard's metric names, and, without a tokens file, the
# viewer endpoints open and the others closed.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=../lib.sh
source "$here/../lib.sh"
# shellcheck source=lib_dataset.sh
source "$here/lib_dataset.sh"
lib_init

command -v curl >/dev/null || lib_fail "curl not found; run scripts/install-deps.sh"
viewer=$(openssl rand -hex 32)
admin=$(openssl rand -hex 32)
LIVE_DIR=$LIB_TMP
printf 'wall viewer %s\noncall admin %s\n' "$viewer" "$admin" >"$LIB_TMP/tokens"
chmod 600 "$LIB_TMP/tokens"
live_start_daemon "  tokens_file: tokens
  kpi_gauges: true"
base=$LIVE_BASE
work=$LIB_TMP

# Prints the status of GET PATH with the bearer TOKEN (none when empty);
# body in $work/body, headers in $work/headers.
get() {
	local auth=()
	[ -z "${2:-}" ] || auth=(-H "Authorization: Bearer $2")
	curl -s --max-time 5 "${auth[@]}" -D "$work/headers" -o "$work/body" -w '%{http_code}' \
		"$base$1" || true
}

expect_header() {
	grep -qiF "$1: $2"$'\r' "$work/headers" ||
		lib_fail "expected '$1: $2' in the headers: $(cat "$work/headers")"
}

# ---------------------------------------------------------------- page and files
lib_assert_eq 200 "$(get /)" "GET / without a token"
expect_header Content-Type "text/html; charset=utf-8"
expect_header Cache-Control no-cache
grep -qi "^Content-Security-Policy: default-src 'self';" "$work/headers" ||
	lib_fail "no strict Content-Security-Policy on /: $(cat "$work/headers")"
for id in token connect status scope index amplification amplification-scope; do
	grep -q "id=\"$id\"" "$work/body" || lib_fail "the page has no #$id"
done
etag=$(sed -n 's/^ETag: \(.*\)\r$/\1/Ip' "$work/headers")
[ -n "$etag" ] || lib_fail "GET / has no ETag"
code=$(curl -s -o /dev/null -w '%{http_code}' -H "If-None-Match: $etag" "$base/")
lib_assert_eq 304 "$code" "GET / with its ETag"
declare -A types=([app.js]=text/javascript [app.css]=text/css [uplot.js]=text/javascript
	[uplot.css]=text/css)
for name in "${!types[@]}"; do
	lib_assert_eq 200 "$(get "/assets/$name")" "GET /assets/$name"
	expect_header Content-Type "${types[$name]}; charset=utf-8"
	[ -s "$work/body" ] || lib_fail "/assets/$name is empty"
	cp "$work/body" "$work/asset-$name"
done
lib_assert_eq 404 "$(get /assets/nope.js)" "GET /assets/nope.js"
lib_assert_eq 405 "$(curl -s -o /dev/null -w '%{http_code}' -X POST "$base/")" "POST /"
# No script, style, font or fetch from another host: only /assets/ and /api/ paths.
curl -s "$base/" >"$work/index.html"
if grep -Eo '(src|href)="[^"]*"' "$work/index.html" | grep -Ev '"/assets/[a-z.]+"'; then
	lib_fail "the page references something other than /assets/"
fi
if grep -Eo "https?://[^\"' )]*" "$work/index.html" "$work/asset-app.js" "$work/asset-app.css" \
	"$work/asset-uplot.css"; then
	lib_fail "the page or its files contain an external URL"
fi

# ---------------------------------------------------------------- token rules
lib_assert_eq 401 "$(get /api/stream)" "GET /api/stream without a token"
lib_assert_eq 401 "$(get '/api/history?kpi=shares_count&scope=org')" "GET /api/history without a token"
lib_assert_eq 401 "$(get /api/kpis "$(openssl rand -hex 32)")" "GET /api/kpis with a wrong token"
code=$(curl -s -I --max-time 5 -H "Authorization: Bearer $viewer" -D "$work/headers" \
	-o /dev/null -w '%{http_code}' "$base/api/stream")
lib_assert_eq 200 "$code" "HEAD /api/stream with a viewer token"
expect_header Content-Type "text/event-stream; charset=utf-8"

# ---------------------------------------------------------------- scorecard and index
live_wait_for_data "$viewer"
lib_assert_eq 200 "$(get /api/kpis "$viewer")" "GET /api/kpis"
python3 - "$work/body" <<'PYTHON' || lib_fail "wrong composite index: $(head -c 2000 "$work/body")"
import json, sys
card = json.load(open(sys.argv[1]))
kpis = {k["id"]: k for k in card["kpis"]}
index = {s["scope"]: s for s in card["scopes_index"]}
def figure(kpi, scope):
    return next(s for s in kpis[kpi]["scopes"] if s["scope"] == scope)
# org: 6 shares of 602 people by 4 people (one in team:Tiny), 2 kudos by 2.
org = {k: figure(k, "org") for k in kpis}
assert org["shares_count"]["value"] == 6, org["shares_count"]
assert org["kudos_count"]["value"] == 2, org["kudos_count"]
def score(kpi):
    return min(max(org[kpi]["value"], 0) / kpis[kpi]["target"], 1)
weights = {k: kpis[k]["weight"] for k in kpis}
expected = sum(weights[k] * score(k) for k in kpis) / sum(weights.values())
assert abs(index["org"]["index"] - expected) < 1e-9, (index["org"], expected)
customer = (weights["shares_count"] * score("shares_count") +
            weights["shares_reach"] * score("shares_reach")) / 0.6
assert abs(index["org"]["quadrants"]["customer"] - customer) < 1e-9, index["org"]
assert index["org"]["quadrants"]["financial"] is None, index["org"]
total = sum(c["contribution"] for c in index["org"]["contributions"])
assert abs(total - expected) < 1e-9, index["org"]["contributions"]
tiny = index["team:Tiny"]
assert tiny["suppressed"] is True, tiny
assert tiny["index"] is None, tiny
assert tiny["contributions"] == [], tiny
# team:T0 (emp-0000..2): 5 shares by all 3 people, so shares_count scores
# 5/10 and shares_reach 1; it has no kudos.
t0 = index["team:T0"]
assert abs(t0["quadrants"]["customer"] - (0.4 * 0.5 + 0.2 * 1) / 0.6) < 1e-9, t0
print("index of org %.4f, team:Tiny suppressed" % expected)
PYTHON

# ---------------------------------------------------------------- stream
python3 "$here/sse_client.py" watch "$base" "$viewer" 4 >"$work/stream.jsonl" ||
	live_fail "reading /api/stream failed"
python3 - "$work/stream.jsonl" <<'PYTHON' || live_fail "unexpected event stream: $(head -c 3000 "$work/stream.jsonl")"
import json, sys
lines = [json.loads(l) for l in open(sys.argv[1])]
head = lines[0]["head"]
assert "Content-Type: text/event-stream; charset=utf-8" in head, head
blocks = lines[1:]
assert blocks[0]["block"] == "retry: 2000", blocks[0]
events = []
for b in blocks[1:]:
    fields = dict(line.split(": ", 1) for line in b["block"].split("\n") if not line.startswith(":"))
    if fields.get("event") == "kpi":
        events.append((b["arrived_ms"], json.loads(fields["data"])))
ticks = sorted({e["computed_at"] for _, e in events})
assert len(ticks) >= 2, "fewer than 2 ticks in 4 s: %r" % ticks
late = [(arrived - e["computed_at"], e["kpi"], e["scope"]) for arrived, e in events
        if arrived - e["computed_at"] > 2000]
assert not late, "events later than 2 s after their tick: %r" % late[:5]
for _, e in events:
    assert set(["kpi", "scope", "scope_kind", "suppressed", "computed_at", "window_start",
                "window_end"]) <= set(e), e
tick = [e for _, e in events if e["computed_at"] == ticks[-1]]
assert len(tick) == 4 * 217, "%d events in the last tick" % len(tick)
tiny = [e for e in tick if e["scope"] == "team:Tiny"]
assert len(tiny) == 4 and all(e["suppressed"] is True and "value" not in e for e in tiny), tiny
org = {e["kpi"]: e for e in tick if e["scope"] == "org"}
assert org["shares_count"]["value"] == 6, org
assert org["shares_count"]["suppressed"] is False, org
print("%d KPI events over %d ticks, at most %d ms after their tick" % (
    len(events), len(ticks), max(a - e["computed_at"] for a, e in events)))
PYTHON

# ---------------------------------------------------------------- history
lib_assert_eq 200 "$(get '/api/history?kpi=shares_count&scope=org' "$viewer")" "GET /api/history"
expect_header Content-Type application/json
python3 - "$work/body" <<'PYTHON' || lib_fail "unexpected history: $(cat "$work/body")"
import json, sys
h = json.load(open(sys.argv[1]))
assert (h["kpi"], h["scope"]) == ("shares_count", "org"), h
points = h["points"]
# Ticks every second, thinned to one point a minute: one or two points so far.
assert 1 <= len(points) <= 2, points
assert points[-1][1] == 6, points
assert all(b[0] // 60000 > a[0] // 60000 for a, b in zip(points, points[1:])), points
PYTHON
lib_assert_eq 200 "$(get '/api/history?kpi=shares_count&scope=team:T0' "$viewer")" "team history"
grep -q '"points":\[\]' "$work/body" || lib_fail "a team scope has history: $(cat "$work/body")"
lib_assert_eq 400 "$(get '/api/history?kpi=shares_count' "$viewer")" "history without scope"
lib_assert_eq 404 "$(get '/api/history?kpi=nope&scope=org' "$viewer")" "history of an unknown KPI"
lib_assert_eq 400 "$(get '/api/history?kpi=shares_count&scope=org&x=1' "$viewer")" "unknown parameter"

# ---------------------------------------------------------------- stream limit
result=$(python3 "$here/sse_client.py" fill "$base" "$viewer" 64) || live_fail "opening 65 streams failed"
lib_assert_eq "opened=200x64 extra=503" "$result" "64 streams, then one more"
# The closed streams are noticed and their slots freed.
lib_wait_for "grep -q '^advocacyd_stream_clients 0$' <<<\"\$(curl -s '$base/metrics')\"" 10 ||
	live_fail "closed streams still counted: $(curl -s "$base/metrics" | grep stream_clients)"
curl -s "$base/metrics" >"$work/metrics"
grep -q '^advocacyd_stream_clients_rejected_total 1$' "$work/metrics" ||
	lib_fail "the rejected stream was not counted: $(grep stream_clients "$work/metrics")"

# ---------------------------------------------------------------- a client that never reads
result=$(python3 "$here/sse_client.py" stall "$base" "$viewer" 40) || live_fail "the stalled stream test failed"
lib_log "stalled stream: $result"
[[ $result == *"dropped=True closed=True"* ]] || live_fail "the non-reading client was not dropped: $result"
slowest=$(sed -n 's/.*slowest_healthz_ms=\([0-9]*\).*/\1/p' <<<"$result")
[ "$slowest" -lt 1000 ] || live_fail "/healthz took $slowest ms while a client did not read"
grep -q 'msg="event stream dropped: the client does not read"' "$LIVE_LOG" ||
	live_fail "the drop was not logged"

# ---------------------------------------------------------------- gauges
curl -s "$base/metrics" >"$work/metrics"
grep -q '^advocacyd_kpi_value{kpi="shares_count",scope="org"} 6$' "$work/metrics" ||
	lib_fail "no advocacyd_kpi_value for the org: $(grep kpi_value "$work/metrics" | head -5)"
grep -q '^advocacyd_kpi_index{scope="org"} 0\.' "$work/metrics" ||
	lib_fail "no advocacyd_kpi_index for the org"
if grep -q 'scope="team:Tiny"' "$work/metrics"; then
	lib_fail "a suppressed scope is exported as a gauge"
fi

# The Grafana dashboard queries only metrics that the daemon exports.
python3 - "$ADVOCACY_SOURCE_DIR/deploy/grafana/advocacyd-dashboard.json" "$work/metrics" <<'PYTHON' ||
import json, re, sys
dashboard = json.load(open(sys.argv[1]))
exported = set(re.findall(r"(?m)^# TYPE (\w+) ", open(sys.argv[2]).read()))
exprs = [t["expr"] for p in dashboard["panels"] for t in p.get("targets", [])]
exprs += [v["definition"] for v in dashboard["templating"]["list"] if "definition" in v]
used = {re.sub(r"_(bucket|sum|count)$", "", m) for e in exprs for m in re.findall(r"advocacyd_\w+", e)}
missing = sorted(used - exported)
assert used and not missing, "the dashboard uses metrics that /metrics lacks: %r" % missing
print("dashboard: %d panels, %d metrics, all exported" % (len(dashboard["panels"]), len(used)))
PYTHON
	lib_fail "deploy/grafana/advocacyd-dashboard.json does not match /metrics"

# ---------------------------------------------------------------- clean stop
for token in "$viewer" "$admin"; do
	if grep -qF "$token" "$LIVE_LOG"; then lib_fail "the daemon log contains a token"; fi
done

# ---------------------------------------------------------------- no tokens file
# The viewer endpoints open up, as the page expects; everything else stays closed.
cp "$LIVE_LOG" "$work/daemon-with-tokens.log"
live_restart_daemon ""
base=$LIVE_BASE
lib_assert_eq 200 "$(get /api/kpis)" "GET /api/kpis without a tokens file"
lib_assert_eq 200 "$(get '/api/history?kpi=shares_count&scope=org')" "GET /api/history without a tokens file"
lib_assert_eq 403 "$(curl -s -o /dev/null -w '%{http_code}' -X POST "$base/api/reload")" \
	"POST /api/reload without a tokens file"
lib_assert_eq 403 "$(get /api/nope)" "an unknown /api/ path without a tokens file"
python3 "$here/sse_client.py" watch "$base" "" 1 >"$work/open-stream.jsonl" ||
	live_fail "GET /api/stream without a tokens file failed"
grep -q '"block": "retry: 2000"' "$work/open-stream.jsonl" ||
	live_fail "GET /api/stream without a tokens file did not start: $(cat "$work/open-stream.jsonl")"
status=0
lib_stop "$LIVE_PID" || status=$?
[ "$status" -eq 0 ] || live_fail "the daemon exited $status on SIGTERM"
echo "live API: page, stream, history, limits and gauges checked"
