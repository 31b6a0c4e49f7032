# tests/ops/lib_admin.sh - helpers shared by the admin access tests.
#
# Source it after tests/lib.sh and before lib_init. It sets three random
# tokens per run: VIEWER_TOKEN of "dashboard", ADMIN_TOKEN of "oncall" and
# WRONG_TOKEN, which is in no tokens file. admin_request records every /api/ request it makes
# in $work/requests, one JSON line each, so that admin_check_audit can
# compare the daemon's audit log with what the test sent. Requests go to
# $base with the extra curl options in CURL_TLS (e.g. --cacert FILE).

VIEWER_TOKEN=$(openssl rand -hex 32)
ADMIN_TOKEN=$(openssl rand -hex 32)
WRONG_TOKEN=$(openssl rand -hex 32)
# A second token of "dashboard", for rotation, and the one token the daemon
# no longer accepts after a rotation (admin_who then names no holder).
ROTATED_TOKEN=$(openssl rand -hex 32)
REVOKED_TOKEN=
CURL_TLS=()

# Writes the tokens file FILE with mode 0600; "dashboard" gets TOKEN when
# given, VIEWER_TOKEN otherwise.
admin_write_tokens() {
	printf '# test tokens\ndashboard viewer %s\noncall admin %s\n' \
		"${2:-$VIEWER_TOKEN}" "$ADMIN_TOKEN" >"$1"
	chmod 600 "$1"
}

# Writes the daemon config FILE into folder DIR with the lines ADMIN_LINES
# (indented by two spaces) added under admin:, and copies the test HMAC key.
admin_write_config() {
	local file=$1 dir=$2 admin_lines=$3
	cp "$ADVOCACY_SOURCE_DIR/tests/fixtures/hmac.key" "$dir/hmac.key"
	cat >"$file" <<YAML
kafka:
  bootstrap_servers: "$KAFKA_BOOTSTRAP"
  group_id: admin-access
  inputs:
    - {topic: advocacy.events, format: avro}
  roster_topic: advocacy.roster
redis:
  host: 127.0.0.1
  port: $REDIS_PORT
  key_prefix: admin
privacy:
  key_file: hmac.key
  key_id: test-1
  min_group_size: 3
behaviours:
  recognition_given:
    rules:
      - {kinds: [recognition], credit: actor}
kpis:
  - id: recognition_count
    behaviours: [recognition_given]
    aggregation: count
    window: 24h
    quadrant: learning_growth
    indicator: leading
    weight: 0.5
    target: 10
  - id: recognizer_share
    behaviours: [recognition_given]
    aggregation: participation
    window: 7d
    quadrant: customer
    indicator: lagging
    weight: 0.5
    target: 0.4
outputs:
  tick_interval: 1s
  kpi: {topic: advocacy.kpi, format: json}
admin:
  port: 0
$admin_lines
YAML
}

# Produces the roster (team:A of 5 people, team:Tiny of 2, below the
# minimum group size of 3, and team:B of 3, who do nothing) and 4
# recognitions: 3 in team:A, 1 in team:Tiny. Without team:B, team:A would be
# hidden as the sibling of team:Tiny: their department minus team:A would
# give team:Tiny away. team:B, the smallest other team, is hidden instead.
admin_feed_input() {
	local i team
	for i in 1 2 3 4 5 6 7 8 9 10; do
		team=A
		[ "$i" -le 5 ] || team=Tiny
		[ "$i" -le 7 ] || team=B
		printf 'emp-%04d\t{"department":"Eng","team":"%s","segment":"knowledge","work_mode":"remote","employment_type":"full_time","region":"EMEA","aliases":[]}\n' \
			"$i" "$team"
	done | kcat -P -b "$KAFKA_BOOTSTRAP" -t advocacy.roster -K $'\t'
	printf '%s\n' \
		'{"event_id":"e1","age_s":60,"kind":"recognition","actor_id":"emp-0001","target_ids":[]}' \
		'{"event_id":"e2","age_s":60,"kind":"recognition","actor_id":"emp-0001","target_ids":[]}' \
		'{"event_id":"e3","age_s":60,"kind":"recognition","actor_id":"emp-0002","target_ids":[]}' \
		'{"event_id":"e4","age_s":60,"kind":"recognition","actor_id":"emp-0006","target_ids":[]}' |
		"$ADVOCACY_BUILD_DIR/advocacyd-produce" --brokers "$KAFKA_BOOTSTRAP" --topic advocacy.events
}

admin_fail_with_log() {
	cat "$work/daemon.log" >&2
	lib_fail "$@"
}

# Waits for the daemon logging to LOG to bind its admin port; sets ADMIN_PORT.
admin_wait_port() {
	ADMIN_PORT=$(lib_admin_port "$1") || admin_fail_with_log "the daemon never logged the admin port"
}

# Prints the token holder's name for TOKEN, or anonymous.
admin_who() {
	case "${1:-}" in
	"") echo anonymous ;;
	"$REVOKED_TOKEN") echo anonymous ;;
	"$VIEWER_TOKEN" | "$ROTATED_TOKEN") echo dashboard ;;
	"$ADMIN_TOKEN") echo oncall ;;
	*) echo anonymous ;;
	esac
}

# Sends METHOD PATH with the bearer TOKEN (none when empty), writes the body
# to $work/body and the headers to $work/headers, and prints the status.
admin_request() {
	local method=$1 path=$2 token=${3:-} code auth=()
	[ -z "$token" ] || auth=(-H "Authorization: Bearer $token")
	code=$(curl -s --max-time 5 "${CURL_TLS[@]}" -X "$method" "${auth[@]}" \
		-D "$work/headers" -o "$work/body" -w '%{http_code}' "$base$path" || true)
	if [[ $path == /api/* ]]; then
		printf '{"who":"%s","method":"%s","path":"%s","status":%s}\n' \
			"$(admin_who "$token")" "$method" "$path" "${code:-0}" >>"$work/requests"
	fi
	echo "$code"
}

# Fails unless the last response carries HEADER with exactly VALUE.
admin_expect_header() {
	grep -qiF "$1: $2"$'\r' "$work/headers" ||
		lib_fail "expected '$1: $2' in the response headers, got: $(cat "$work/headers")"
}

# Fails when FILE (described by WHAT) contains any of the three tokens.
admin_expect_no_tokens() {
	local token
	for token in "$VIEWER_TOKEN" "$ADMIN_TOKEN" "$WRONG_TOKEN" "$ROTATED_TOKEN"; do
		if grep -qF "$token" "$1"; then
			lib_fail "$2 contains a bearer token"
		fi
	done
}

# Checks the scorecard JSON in FILE against the input of admin_feed_input.
admin_check_scorecard() {
	python3 - "$1" <<'PYTHON' || lib_fail "unexpected scorecard: $(cat "$1")"
import json, re, sys
text = open(sys.argv[1]).read()
card = json.loads(text)
noisy = re.findall(r"[0-9]\.[0-9]{16,}", text)
assert not noisy, "numbers printed with more than 15 digits: %r" % noisy
kpis = {k["id"]: k for k in card["kpis"]}
assert list(kpis) == ["recognition_count", "recognizer_share"], list(kpis)
assert card["min_group_size"] == 3
count = kpis["recognition_count"]
assert (count["quadrant"], count["indicator"], count["weight"], count["target"],
        count["window"], count["aggregation"]) == ("learning_growth", "leading", 0.5, 10, "24h",
                                                   "count"), count
scopes = {s["scope"]: s for s in count["scopes"]}
assert scopes["org"]["count"] == 4, scopes["org"]
assert scopes["org"]["suppressed"] is False, scopes["org"]
assert scopes["team:A"]["count"] == 3, scopes["team:A"]
assert scopes["team:A"]["headcount"] == 5, scopes["team:A"]
tiny = scopes["team:Tiny"]
assert tiny["suppressed"] is True, tiny
for figure in ("value", "count", "contributors", "headcount", "rate"):
    assert figure not in tiny, "suppressed scope shows %s: %r" % (figure, tiny)
for scope in scopes.values():
    assert scope["window_start"] < scope["window_end"], scope
    assert scope["computed_at"] > 0, scope
share = {s["scope"]: s for s in kpis["recognizer_share"]["scopes"]}
assert share["team:Tiny"]["suppressed"] is True, share["team:Tiny"]
assert "value" not in share["team:Tiny"], share["team:Tiny"]
assert abs(share["team:A"]["value"] - 2 / 5) < 1e-9, share["team:A"]
PYTHON
}

# Compares the audit log AUDIT with the requests recorded in REQUESTS, line
# by line, and fails when the log contains a token.
admin_check_audit() {
	admin_expect_no_tokens "$1" "the audit log"
	python3 - "$1" "$2" "$VIEWER_TOKEN" "$ADMIN_TOKEN" "$WRONG_TOKEN" "$ROTATED_TOKEN" <<'PYTHON' ||
import json, sys
audit = [json.loads(line) for line in open(sys.argv[1])]
sent = [json.loads(line) for line in open(sys.argv[2])]
tokens = sys.argv[3:]
roles = {"dashboard": "viewer", "oncall": "admin", "anonymous": "none"}
assert len(audit) == len(sent), "%d audit lines for %d requests" % (len(audit), len(sent))
for got, want in zip(audit, sent):
    path = want["path"]
    if any(t in path.split("?")[0] for t in tokens):
        path = "/api/"
    elif any(t in path for t in tokens):
        path = path.split("?")[0]
    status = want["status"]
    result = ("unauthenticated" if status == 401 else "forbidden" if status == 403
              else "allowed" if status < 400 else "error")
    expected = {"who": want["who"], "role": roles[want["who"]], "method": want["method"],
                "path": path, "status": status, "result": result}
    for key, value in expected.items():
        assert got[key] == value, "%s: expected %r, got %r in %r" % (key, value, got[key], got)
    assert got.get("redacted", False) == (path != want["path"]), got
    assert got["remote_addr"] == "127.0.0.1", got
    assert got["time"].endswith("Z"), got
print("audit log: %d lines match the requests sent" % len(audit))
PYTHON
		lib_fail "the audit log does not match the requests: $(cat "$1")"
}
