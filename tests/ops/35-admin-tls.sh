#!/usr/bin/env bash
# HTTPS on the admin port, with a self-signed certificate made by openssl
# req. curl --cacert works, and plain HTTP to the TLS port gets no HTTP
# response. The server rejects TLS 1.1. Bearer tokens still apply over TLS,
# and /readyz, left out of admin.open_paths, needs a token. A key that does
# not match the certificate is rejected at start.
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

# ---------------------------------------------------------------- certificate
make_cert() {
	openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=127.0.0.1" \
		-addext "subjectAltName=IP:127.0.0.1" -keyout "$work/$1.key" -out "$work/$1.crt" \
		2>"$work/openssl.log" || lib_fail "openssl req failed: $(cat "$work/openssl.log")"
	chmod 600 "$work/$1.key"
}
make_cert admin
make_cert other

admin_write_tokens "$work/tokens"
admin_write_config "$work/tls.yaml" "$work" "  tokens_file: tokens
  audit_log: audit.log
  open_paths: [/healthz]
  tls: {cert_file: admin.crt, key_file: admin.key}"
"$ADVOCACY_BUILD_DIR/advocacyd" --check-config "$work/tls.yaml" || lib_fail "test config invalid"
admin_feed_input

"$ADVOCACY_BUILD_DIR/advocacyd" --config "$work/tls.yaml" 2>"$work/daemon.log" &
daemon=$!
lib_track "$daemon"
admin_wait_port "$work/daemon.log"
grep -q 'msg="admin server listening".* tls=on' "$work/daemon.log" ||
	admin_fail_with_log "the daemon does not log TLS as on"
base=https://127.0.0.1:$ADMIN_PORT
CURL_TLS=(--cacert "$work/admin.crt")

# ---------------------------------------------------------------- HTTPS
lib_wait_for "[ \"\$(admin_request GET /healthz)\" = 200 ]" 30 ||
	admin_fail_with_log "GET /healthz over HTTPS never returned 200"
lib_assert_eq ok "$(cat "$work/body")" "/healthz body over HTTPS"
lib_assert_eq 401 "$(admin_request GET /api/kpis)" "GET /api/kpis over HTTPS without a token"
admin_expect_header WWW-Authenticate 'Bearer realm="advocacyd"'
lib_assert_eq 401 "$(admin_request GET /api/kpis "$WRONG_TOKEN")" "a wrong token over HTTPS"
lib_assert_eq 200 "$(admin_request GET /api/kpis "$VIEWER_TOKEN")" "viewer GET /api/kpis over HTTPS"
python3 -c 'import json, sys; json.load(open(sys.argv[1]))["kpis"]' "$work/body" ||
	lib_fail "GET /api/kpis over HTTPS returned no scorecard: $(cat "$work/body")"
lib_assert_eq 403 "$(admin_request POST /api/reload "$VIEWER_TOKEN")" "viewer POST /api/reload"
lib_assert_eq 202 "$(admin_request POST /api/reload "$ADMIN_TOKEN")" "admin POST /api/reload"

# /readyz is not in open_paths here, so it needs a token of any role.
lib_assert_eq 401 "$(admin_request GET /readyz)" "/readyz without a token when closed"
admin_expect_header WWW-Authenticate 'Bearer realm="advocacyd"'
code=$(admin_request GET /readyz "$VIEWER_TOKEN")
[ "$code" = 200 ] || [ "$code" = 503 ] || lib_fail "/readyz with a viewer token: status $code"

# ---------------------------------------------------------------- not HTTPS
# A client that does not trust the certificate stops at the handshake.
code=$(curl -s --max-time 5 -o /dev/null -w '%{http_code}' "$base/healthz" || true)
lib_assert_eq 000 "$code" "status for a client without the CA certificate"
# Plain HTTP to the TLS port: no HTTP response comes back.
code=$(curl -s --max-time 5 -o /dev/null -w '%{http_code}' \
	"http://127.0.0.1:$ADMIN_PORT/healthz" || true)
lib_assert_eq 000 "$code" "status of plain HTTP on the TLS port"
python3 - "$ADMIN_PORT" <<'PYTHON' || lib_fail "plain HTTP on the TLS port got an HTTP response"
import socket, sys
conn = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=5)
conn.sendall(b"GET /healthz HTTP/1.1\r\nHost: admin\r\nConnection: close\r\n\r\n")
data = b""
try:
    while True:
        chunk = conn.recv(4096)
        if not chunk:
            break
        data += chunk
except (ConnectionResetError, socket.timeout):
    pass
assert not data.startswith(b"HTTP/"), "plain HTTP answered: %r" % data[:60]
PYTHON
# TLS 1.1 is refused by the server: SECLEVEL=0 lets the client offer it.
if openssl s_client -connect "127.0.0.1:$ADMIN_PORT" -tls1_1 -cipher "DEFAULT@SECLEVEL=0" </dev/null >"$work/tls11.log" 2>&1; then
	lib_fail "a TLS 1.1 handshake succeeded: $(tail -n 5 "$work/tls11.log")"
fi
grep -q 'alert protocol version' "$work/tls11.log" ||
	lib_fail "the TLS 1.1 handshake failed, but not by the server's alert: $(tail -n 5 "$work/tls11.log")"
openssl s_client -connect "127.0.0.1:$ADMIN_PORT" -tls1_2 -CAfile "$work/admin.crt" \
	</dev/null >"$work/tls12.log" 2>&1 || lib_fail "a TLS 1.2 handshake failed: $(tail -n 5 "$work/tls12.log")"

admin_check_audit "$work/audit.log" "$work/requests"
admin_expect_no_tokens "$work/daemon.log" "the daemon log"
status=0
lib_stop "$daemon" || status=$?
[ "$status" -eq 0 ] || admin_fail_with_log "daemon exited $status on SIGTERM"

# ---------------------------------------------------------------- bad files
admin_write_config "$work/mismatch.yaml" "$work" "  tokens_file: tokens
  tls: {cert_file: admin.crt, key_file: other.key}"
if "$ADVOCACY_BUILD_DIR/advocacyd" --check-config "$work/mismatch.yaml" 2>"$work/check.err"; then
	lib_fail "--check-config accepted a key that does not match the certificate"
fi
grep -q 'admin.tls.key_file: the private key does not match the certificate' "$work/check.err" ||
	lib_fail "unclear error for a mismatched key: $(cat "$work/check.err")"
cp "$work/tokens" "$work/not-a-cert.pem"
admin_write_config "$work/garbage.yaml" "$work" "  tokens_file: tokens
  tls: {cert_file: not-a-cert.pem, key_file: admin.key}"
status=0
timeout 20 "$ADVOCACY_BUILD_DIR/advocacyd" --config "$work/garbage.yaml" 2>"$work/refused.log" || status=$?
lib_assert_eq 1 "$status" "exit status with a certificate file that contains no certificate"
grep -q 'msg="startup failed".*admin.tls.cert_file: cannot load the certificate chain' \
	"$work/refused.log" || lib_fail "no clear startup error: $(cat "$work/refused.log")"
admin_expect_no_tokens "$work/refused.log" "the refused daemon's log"
