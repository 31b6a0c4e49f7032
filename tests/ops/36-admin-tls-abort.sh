#!/usr/bin/env bash
# Clients that misuse the HTTPS admin port must not stop the daemon. The
# test sends 300 TLS handshakes that the client drops right after its
# ClientHello (the server's reply then hits a reset socket), plain HTTP,
# and a malformed TLS record. Afterwards GET /readyz over TLS still returns
# 200, and SIGTERM stops the daemon with exit status 0. Before SIGPIPE was
# ignored, the dropped handshakes killed it with status 141.
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

openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=127.0.0.1" \
	-addext "subjectAltName=IP:127.0.0.1" -keyout "$work/admin.key" -out "$work/admin.crt" \
	2>"$work/openssl.log" || lib_fail "openssl req failed: $(cat "$work/openssl.log")"
chmod 600 "$work/admin.key"
admin_write_config "$work/tls.yaml" "$work" "  tls: {cert_file: admin.crt, key_file: admin.key}"
admin_feed_input

"$ADVOCACY_BUILD_DIR/advocacyd" --config "$work/tls.yaml" 2>"$work/daemon.log" &
daemon=$!
lib_track "$daemon"
admin_wait_port "$work/daemon.log"
readyz() {
	curl -s --max-time 5 --cacert "$work/admin.crt" -o /dev/null -w '%{http_code}' \
		"https://127.0.0.1:$ADMIN_PORT/readyz" || true
}
lib_wait_for "[ \"\$(readyz)\" = 200 ]" 30 || admin_fail_with_log "the daemon never became ready"

python3 - "$ADMIN_PORT" <<'PYTHON' || admin_fail_with_log "the misbehaving TLS client failed"
import socket, ssl, sys
port = int(sys.argv[1])
context = ssl.create_default_context()
context.check_hostname = False
context.verify_mode = ssl.CERT_NONE

def send_and_close(data):
    conn = socket.create_connection(("127.0.0.1", port))
    conn.settimeout(2)
    conn.sendall(data)
    try:
        conn.recv(4096)
    except OSError:
        pass
    conn.close()

send_and_close(b"GET /readyz HTTP/1.1\r\nHost: x\r\n\r\n")
send_and_close(b"\x16\x03\x01\xff\xff" + b"A" * 100)
for attempt in range(300):
    try:
        conn = socket.create_connection(("127.0.0.1", port))
    except OSError as e:
        sys.exit("connection %d refused, so the daemon is gone: %s" % (attempt, e))
    tls = context.wrap_socket(conn, do_handshake_on_connect=False)
    tls.setblocking(False)
    try:
        tls.do_handshake()
    except (ssl.SSLWantReadError, OSError):
        pass
    conn.close()
PYTHON

kill -0 "$daemon" 2>/dev/null || {
	status=0
	wait "$daemon" || status=$?
	admin_fail_with_log "the daemon died during the dropped handshakes (exit status $status)"
}
lib_assert_eq 200 "$(readyz)" "GET /readyz over TLS after the dropped handshakes"

status=0
lib_stop "$daemon" || status=$?
[ "$status" -eq 0 ] || admin_fail_with_log "daemon exited $status on SIGTERM"
lib_log "admin TLS misuse test passed"
