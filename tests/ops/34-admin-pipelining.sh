#!/usr/bin/env bash
# Memory of the admin server under pipelined requests. One client sends
# GET /healthz requests back to back for 5 s and never reads a response.
# The daemon must stop reading that socket, so the client gets at most
# 16 MiB out (socket buffers) and the daemon's resident memory grows by
# less than 256 MiB. That bound is loose because AddressSanitizer keeps
# freed memory resident in its quarantine; without it growth stays under
# 1 MiB here.
# A client that pipelines 200 requests and reads the responses gets all 200
# in order, over plain HTTP and, in a second run, over TLS.
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
admin_feed_input

# Runs the two clients against the daemon started with config FILE; TLS is
# 1 when the admin port speaks HTTPS.
check_pipelining() {
	local config=$1 tls=$2 status=0
	"$ADVOCACY_BUILD_DIR/advocacyd" --config "$config" 2>"$work/daemon.log" &
	daemon=$!
	lib_track "$daemon"
	admin_wait_port "$work/daemon.log"

	python3 - "$ADMIN_PORT" "$daemon" "$tls" <<'PYTHON' || admin_fail_with_log "pipelining check failed (tls=$tls)"
import socket, ssl, sys, time
port, pid, tls = int(sys.argv[1]), sys.argv[2], sys.argv[3] == "1"
context = ssl.create_default_context()
context.check_hostname = False
context.verify_mode = ssl.CERT_NONE
request = b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"

def connect():
    conn = socket.create_connection(("127.0.0.1", port))
    conn.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    return context.wrap_socket(conn) if tls else conn

def rss_kib():
    for line in open("/proc/%s/status" % pid):
        if line.startswith("VmRSS:"):
            return int(line.split()[1])

time.sleep(1)
before = rss_kib()
flood = connect()
flood.settimeout(0.2)
sent = 0
deadline = time.time() + 5
while time.time() < deadline:
    try:
        sent += flood.send(request * 100)
    except (socket.timeout, ssl.SSLWantWriteError):
        pass
grown = rss_kib() - before
print("tls=%d: %d KiB sent without reading, daemon RSS grew by %d KiB" % (tls, sent >> 10, grown))
flood.close()
if sent > 16 << 20:
    sys.exit("the daemon read %d MiB from a client that read no response" % (sent >> 20))
if grown > 256 << 10:
    sys.exit("the daemon's RSS grew by %d KiB" % grown)

reader = connect()
reader.sendall(request * 200)
received = b""
while received.count(b"HTTP/1.1 200 OK") < 200 or not received.endswith(b"ok\n"):
    chunk = reader.recv(65536)
    if not chunk:
        break
    received += chunk
reader.close()
if received.count(b"HTTP/1.1 200 OK") != 200:
    sys.exit("got %d of 200 pipelined responses" % received.count(b"HTTP/1.1 200 OK"))
PYTHON

	lib_stop "$daemon" || status=$?
	[ "$status" -eq 0 ] || admin_fail_with_log "daemon exited $status on SIGTERM (tls=$tls)"
}

admin_write_config "$work/plain.yaml" "$work" ""
check_pipelining "$work/plain.yaml" 0
admin_write_config "$work/tls.yaml" "$work" "  tls: {cert_file: admin.crt, key_file: admin.key}"
check_pipelining "$work/tls.yaml" 1
lib_log "admin pipelining test passed"
