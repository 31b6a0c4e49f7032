#!/usr/bin/env bash
# The admin HTTP server: status codes, bodies and headers of /healthz and
# /readyz, 404, 405 and HEAD. Then /readyz through a Redis outage: 200
# while consuming, 503 naming Redis within 8 s of redis-server stopping,
# and 200 again once Redis is back on the same port.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=../lib.sh
source "$here/../lib.sh"
lib_init

command -v curl >/dev/null || lib_fail "curl not found; run scripts/install-deps.sh"
lib_start_redis
lib_start_devkafka advocacy.events:2 advocacy.roster:1 \
	advocacy.kpi:1 advocacy.escalations:1 advocacy.dlq:1
work=$LIB_TMP

cp "$ADVOCACY_SOURCE_DIR/tests/fixtures/hmac.key" "$work/hmac.key"
cat >"$work/health.yaml" <<EOF
kafka:
  bootstrap_servers: "$KAFKA_BOOTSTRAP"
  group_id: health
  inputs:
    - {topic: advocacy.events, format: avro}
  roster_topic: advocacy.roster
redis:
  host: 127.0.0.1
  port: $REDIS_PORT
  key_prefix: health
privacy:
  key_file: hmac.key
  key_id: test-1
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
    weight: 1
    target: 10
outputs:
  tick_interval: 1s
admin:
  listen_host: 127.0.0.1
  port: 0
EOF
"$ADVOCACY_BUILD_DIR/advocacyd" --check-config "$work/health.yaml" || lib_fail "test config invalid"

printf 'emp-0001\t{"department":"Eng","team":"A","segment":"knowledge","work_mode":"remote","employment_type":"full_time","region":"EMEA","aliases":[]}\n' |
	kcat -P -b "$KAFKA_BOOTSTRAP" -t advocacy.roster -K $'\t'
printf '{"event_id":"e1","age_s":60,"kind":"recognition","actor_id":"emp-0001","target_ids":[]}\n' |
	"$ADVOCACY_BUILD_DIR/advocacyd-produce" --brokers "$KAFKA_BOOTSTRAP" --topic advocacy.events

"$ADVOCACY_BUILD_DIR/advocacyd" --config "$work/health.yaml" 2>"$work/daemon.log" &
daemon=$!
lib_track "$daemon"

fail_with_log() {
	cat "$work/daemon.log" >&2
	lib_fail "$@"
}

# ---------------------------------------------------------------- port
port=$(lib_admin_port "$work/daemon.log") || fail_with_log "the daemon never logged the admin port"
base=http://127.0.0.1:$port
lib_log "admin server at $base"

# Writes the body of METHOD PATH to $work/body and the headers to
# $work/headers, and prints the status code.
request() {
	curl -s --max-time 5 -X "$1" -D "$work/headers" -o "$work/body" -w '%{http_code}' \
		"$base$2" || true
}

# Fails unless the last response carries HEADER with VALUE.
expect_header() {
	grep -qi "^$1: $2"$'\r'"\$" "$work/headers" ||
		lib_fail "expected '$1: $2' in the response headers, got: $(cat "$work/headers")"
}

# ---------------------------------------------------------------- healthz
lib_wait_for "[ \"\$(request GET /healthz)\" = 200 ]" 30 ||
	fail_with_log "/healthz never returned 200"
lib_assert_eq 200 "$(request GET /healthz)" "/healthz status"
lib_assert_eq ok "$(cat "$work/body")" "/healthz body"
expect_header Content-Type 'text/plain; charset=utf-8'
expect_header Cache-Control no-store

# ---------------------------------------------------------------- errors
lib_assert_eq 404 "$(request GET /nope)" "status of an unknown path"
grep -q '/healthz /readyz' "$work/body" || lib_fail "404 body lists no endpoints: $(cat "$work/body")"
expect_header Cache-Control no-store
lib_assert_eq 404 "$(request GET /healthz/)" "status of /healthz/"
lib_assert_eq 405 "$(request POST /healthz)" "status of POST /healthz"
expect_header Allow 'GET, HEAD'
expect_header Content-Type 'text/plain; charset=utf-8'
lib_assert_eq 405 "$(request DELETE /readyz)" "status of DELETE /readyz"
lib_assert_eq 405 "$(request OPTIONS /readyz)" "status of OPTIONS /readyz"
# HEAD: the status and headers of GET and no body, so that a GET sent on
# the same kept-alive connection gets a response that starts right after
# the HEAD response's headers.
python3 - "$port" <<'PYTHON' || lib_fail "HEAD /healthz followed by GET on one connection failed"
import socket, sys
conn = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=5)
conn.sendall(b"HEAD /healthz HTTP/1.1\r\nHost: admin\r\n\r\n"
             b"GET /healthz HTTP/1.1\r\nHost: admin\r\nConnection: close\r\n\r\n")
data = b""
while True:
    chunk = conn.recv(4096)
    if not chunk:
        break
    data += chunk
head, rest = data.split(b"\r\n\r\n", 1)
assert head.startswith(b"HTTP/1.1 200 "), "HEAD status line: %r" % head
assert b"\r\nContent-Length: 3" in head, "HEAD lacks the GET body's length: %r" % head
assert rest.startswith(b"HTTP/1.1 200 "), "bytes after the HEAD headers: %r" % rest[:40]
assert rest.endswith(b"\r\n\r\nok\n"), "GET after HEAD: %r" % rest
PYTHON

# ---------------------------------------------------------------- readyz
lib_wait_for "[ \"\$(request GET /readyz)\" = 200 ]" 30 ||
	fail_with_log "/readyz never returned 200; last body: $(cat "$work/body")"
lib_assert_eq ready "$(cat "$work/body")" "/readyz body when ready"
expect_header Cache-Control no-store
lib_wait_for "redis-cli -p $REDIS_PORT hlen '{health}:offsets' | grep -qx 1" 30 ||
	fail_with_log "the daemon stored no offsets in Redis, so it is not consuming"

# ---------------------------------------------------------------- Redis outage
lib_log "stopping redis-server on port $REDIS_PORT"
lib_stop "$REDIS_PID" || true
! redis-cli -p "$REDIS_PORT" ping >/dev/null 2>&1 || lib_fail "redis-server still answers"
stopped_at=$SECONDS
lib_wait_for "[ \"\$(request GET /readyz)\" = 503 ]" 8 ||
	fail_with_log "/readyz did not turn 503 within 8 s of stopping Redis; body: $(cat "$work/body")"
lib_log "/readyz returned 503 after $((SECONDS - stopped_at)) s"
grep -qx 'not ready: redis disconnected' "$work/body" ||
	lib_fail "503 body lacks the Redis reason: $(cat "$work/body")"
if grep -v '^not ready: ' "$work/body" | grep -q .; then
	lib_fail "503 body has a line that is no reason: $(cat "$work/body")"
fi
expect_header Content-Type 'text/plain; charset=utf-8'
lib_assert_eq 200 "$(request GET /healthz)" "/healthz status while Redis is down"

lib_log "starting redis-server again on port $REDIS_PORT"
redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --save '' --appendonly no \
	--dir "$REDIS_DIR" --daemonize no >>"$REDIS_DIR/redis.log" 2>&1 &
REDIS_PID=$!
lib_track "$REDIS_PID"
lib_wait_for "redis-cli -p $REDIS_PORT ping | grep -q PONG" 10 ||
	lib_fail "redis-server did not start again on port $REDIS_PORT: $(tail -n 5 "$REDIS_DIR/redis.log")"
lib_wait_for "[ \"\$(request GET /readyz)\" = 200 ]" 20 ||
	fail_with_log "/readyz did not return to 200 after Redis came back; body: $(cat "$work/body")"
lib_assert_eq ready "$(cat "$work/body")" "/readyz body after the outage"

# ---------------------------------------------------------------- shutdown
status=0
lib_stop "$daemon" || status=$?
[ "$status" -eq 0 ] || fail_with_log "daemon exited $status on SIGTERM"
grep -q 'msg="stopped"' "$work/daemon.log" || fail_with_log "no clean stop in the log"
