#!/usr/bin/env bash
# Admin API access against a running daemon with real redis-server and the
# dev broker. Bearer tokens: 401 without or with a wrong token, 403 for a
# role too low. GET /api/kpis shows a suppressed scope. POST /api/reload
# returns 202 for an unchanged file and 422 naming the key of a rejected
# one. /healthz is open. Tokens rotate by SIGHUP and by POST /api/reload,
# and a broken tokens file keeps the tokens in use. Each API request gets
# one audit line that names the holder and contains no token. A tokens file
# that group members may read is rejected at start.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=../lib.sh
source "$here/../lib.sh"
# shellcheck source=lib_admin.sh
source "$here/lib_admin.sh"
lib_init

command -v curl >/dev/null || lib_fail "curl not found; run scripts/install-deps.sh"
lib_start_redis
lib_start_devkafka advocacy.events:2 advocacy.roster:1 \
	advocacy.kpi:1 advocacy.escalations:1 advocacy.dlq:1
work=$LIB_TMP

admin_write_tokens "$work/tokens"
admin_write_config "$work/admin.yaml" "$work" "  tokens_file: tokens
  audit_log: audit.log"
"$ADVOCACY_BUILD_DIR/advocacyd" --check-config "$work/admin.yaml" || lib_fail "test config invalid"
admin_feed_input

"$ADVOCACY_BUILD_DIR/advocacyd" --config "$work/admin.yaml" 2>"$work/daemon.log" &
daemon=$!
lib_track "$daemon"
admin_wait_port "$work/daemon.log"
base=http://127.0.0.1:$ADMIN_PORT

# ---------------------------------------------------------------- tokens
lib_assert_eq 401 "$(admin_request GET /api/kpis)" "GET /api/kpis without a token"
admin_expect_header WWW-Authenticate 'Bearer realm="advocacyd"'
lib_assert_eq 401 "$(admin_request GET /api/kpis "$WRONG_TOKEN")" "GET /api/kpis with a wrong token"
admin_expect_header WWW-Authenticate 'Bearer realm="advocacyd", error="invalid_token"'
lib_assert_eq 200 "$(admin_request GET /healthz)" "/healthz without a token"

# ---------------------------------------------------------------- scorecard
# The org's count reaches 4 in the first tick after every event was consumed.
lib_wait_for "[ \"\$(admin_request GET '/api/kpis?kpi=recognition_count&scope=org' "$VIEWER_TOKEN")\" = 200 ] &&
	grep -q '\"count\":4' '$work/body'" 40 ||
	admin_fail_with_log "GET /api/kpis never showed the org's 4 recognitions; last body: $(cat "$work/body")"
lib_assert_eq 200 "$(admin_request GET /api/kpis "$VIEWER_TOKEN")" "viewer GET /api/kpis"
admin_expect_header Content-Type application/json
admin_check_scorecard "$work/body"

# ---------------------------------------------------------------- roles
lib_assert_eq 403 "$(admin_request POST /api/reload "$VIEWER_TOKEN")" "viewer POST /api/reload"
lib_assert_eq 202 "$(admin_request POST /api/reload "$ADMIN_TOKEN")" "admin POST /api/reload"
grep -q '"unchanged: version [0-9a-f]\{16\} is running"' "$work/body" ||
	lib_fail "202 body: $(cat "$work/body")"
# A restart-only key changed: refused with the key named, the daemon keeps running.
cp "$work/admin.yaml" "$work/admin.yaml.good"
sed -i 's/^  key_prefix: .*/  key_prefix: other/' "$work/admin.yaml"
lib_assert_eq 422 "$(admin_request POST /api/reload "$ADMIN_TOKEN")" "admin POST /api/reload, refused"
grep -q 'redis.key_prefix: changed, but takes effect only at restart' "$work/body" ||
	lib_fail "422 body: $(cat "$work/body")"
head -1 "$work/headers" | grep -q '^HTTP/1.1 422 Unprocessable Entity' ||
	lib_fail "422 status line: $(head -1 "$work/headers")"
cp "$work/admin.yaml.good" "$work/admin.yaml"
lib_assert_eq 200 "$(admin_request GET /api/kpis "$ADMIN_TOKEN")" "admin GET /api/kpis"
lib_assert_eq 405 "$(admin_request GET /api/reload "$ADMIN_TOKEN")" "admin GET /api/reload"
lib_assert_eq 404 "$(admin_request GET /api/nope "$VIEWER_TOKEN")" "viewer GET /api/nope"
lib_assert_eq 404 "$(admin_request GET '/api/kpis?kpi=unknown' "$VIEWER_TOKEN")" "unknown KPI id"
# A token in the query string is a bad parameter, and the audit line leaves it out.
lib_assert_eq 400 "$(admin_request GET "/api/kpis?access_token=$VIEWER_TOKEN" "$VIEWER_TOKEN")" \
	"token in the query string"
lib_assert_eq 401 "$(admin_request GET "/api/$ADMIN_TOKEN")" "token in the path, none in the header"
# Another holder's token inside a longer path piece or query value stays out of the audit log too.
lib_assert_eq 404 "$(admin_request GET "/api/x.$ADMIN_TOKEN" "$VIEWER_TOKEN")" "token inside a path piece"
lib_assert_eq 404 "$(admin_request GET "/api/kpis?kpi=$ADMIN_TOKEN%0A" "$VIEWER_TOKEN")" \
	"token inside a query value"

# ---------------------------------------------------------------- token rotation
# SIGHUP reads the tokens file again: the rotated token works, the old one not.
admin_write_tokens "$work/tokens" "$ROTATED_TOKEN"
kill -HUP "$daemon"
lib_wait_for "[ \$(grep -c 'msg=\"bearer tokens reloaded\"' '$work/daemon.log') -ge 1 ]" 10 ||
	admin_fail_with_log "SIGHUP did not reload the tokens"
REVOKED_TOKEN=$VIEWER_TOKEN
lib_assert_eq 401 "$(admin_request GET /api/kpis "$VIEWER_TOKEN")" "old viewer token after rotation"
lib_assert_eq 200 "$(admin_request GET /api/kpis "$ROTATED_TOKEN")" "rotated viewer token"
# POST /api/reload does the same after its response is sent.
admin_write_tokens "$work/tokens"
lib_assert_eq 202 "$(admin_request POST /api/reload "$ADMIN_TOKEN")" "admin POST /api/reload, tokens"
lib_wait_for "[ \$(grep -c 'msg=\"bearer tokens reloaded\"' '$work/daemon.log') -ge 2 ]" 10 ||
	admin_fail_with_log "POST /api/reload did not reload the tokens"
REVOKED_TOKEN=$ROTATED_TOKEN
lib_assert_eq 200 "$(admin_request GET /api/kpis "$VIEWER_TOKEN")" "viewer token back"
lib_assert_eq 401 "$(admin_request GET /api/kpis "$ROTATED_TOKEN")" "rotated token revoked"
# A tokens file that no longer loads keeps the tokens in use.
printf 'dashboard viewer short\n' >"$work/tokens"
kill -HUP "$daemon"
lib_wait_for "grep -q 'msg=\"bearer tokens not reloaded; the previous tokens stay in use\"' '$work/daemon.log'" 10 ||
	admin_fail_with_log "a broken tokens file was not reported"
lib_assert_eq 200 "$(admin_request GET /api/kpis "$VIEWER_TOKEN")" "viewer token after a broken file"
admin_write_tokens "$work/tokens"
REVOKED_TOKEN=

# ---------------------------------------------------------------- audit log
admin_check_audit "$work/audit.log" "$work/requests"
lib_assert_eq 600 "$(stat -c %a "$work/audit.log")" "audit log mode"
admin_expect_no_tokens "$work/daemon.log" "the daemon log"
grep -q 'msg="request without a valid bearer token rejected"' "$work/daemon.log" ||
	admin_fail_with_log "rejected requests were not logged"

status=0
lib_stop "$daemon" || status=$?
[ "$status" -eq 0 ] || admin_fail_with_log "daemon exited $status on SIGTERM"

# ---------------------------------------------------------------- file mode
chmod 640 "$work/tokens"
# Root may read any file and root-owned files may be group-readable, so the
# file needs another owner when the test runs as root.
[ "$(id -u)" -ne 0 ] || chown 65534 "$work/tokens"
if "$ADVOCACY_BUILD_DIR/advocacyd" --check-config "$work/admin.yaml" 2>"$work/check.err"; then
	lib_fail "--check-config accepted a tokens file that group members may read"
fi
grep -q "chmod 600 $work/tokens" "$work/check.err" ||
	lib_fail "--check-config does not say how to fix the mode: $(cat "$work/check.err")"
status=0
timeout 20 "$ADVOCACY_BUILD_DIR/advocacyd" --config "$work/admin.yaml" 2>"$work/refused.log" || status=$?
lib_assert_eq 1 "$status" "exit status with a group-readable tokens file"
grep -q 'msg="startup failed".*may access the tokens file (mode 0640' \
	"$work/refused.log" || lib_fail "no clear startup error: $(cat "$work/refused.log")"
admin_expect_no_tokens "$work/refused.log" "the refused daemon's log"
