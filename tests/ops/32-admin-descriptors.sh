#!/usr/bin/env bash
# The admin server when the daemon runs out of file descriptors: the daemon
# runs with a limit of 128 open files and a client opens 200 idle admin
# connections. accept() then fails with EMFILE, and the listener must pause
# instead of spinning the event loop (at most 30% of one CPU over 3 s). Once
# the clients close, /readyz returns 200 again and the daemon stops cleanly.
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

admin_write_config "$work/fd.yaml" "$work" ""
admin_feed_input

(
	ulimit -n 128
	exec "$ADVOCACY_BUILD_DIR/advocacyd" --config "$work/fd.yaml"
) 2>"$work/daemon.log" &
daemon=$!
lib_track "$daemon"
admin_wait_port "$work/daemon.log"
lib_wait_for "[ \"\$(curl -s -o /dev/null -w '%{http_code}' http://127.0.0.1:$ADMIN_PORT/readyz)\" = 200 ]" 30 ||
	admin_fail_with_log "the daemon never became ready"

# Prints the CPU ticks the daemon used while 200 connections were held open.
python3 - "$ADMIN_PORT" "$daemon" >"$work/ticks" <<'PYTHON' || admin_fail_with_log "the connection client failed"
import os, socket, sys, time
port, pid = int(sys.argv[1]), sys.argv[2]

def cpu_ticks():
    fields = open("/proc/%s/stat" % pid).read().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])

idle_connections = []
for _ in range(200):
    conn = socket.create_connection(("127.0.0.1", port))
    conn.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")
    idle_connections.append(conn)
time.sleep(0.5)
before = cpu_ticks()
time.sleep(3)
print(cpu_ticks() - before)
for conn in idle_connections:
    conn.close()
PYTHON

ticks=$(cat "$work/ticks")
max_ticks=$(($(getconf CLK_TCK) * 3 * 30 / 100))
lib_log "daemon CPU with descriptors exhausted: $ticks ticks in 3 s (max $max_ticks)"
[ "$ticks" -le "$max_ticks" ] ||
	admin_fail_with_log "the daemon used $ticks CPU ticks in 3 s while accept() failed (max $max_ticks)"
grep -q 'msg="accepting an admin connection failed" error="Too many open files" paused_ms=' "$work/daemon.log" ||
	admin_fail_with_log "the failed accept() was not logged"

lib_wait_for "[ \"\$(curl -s -o /dev/null -w '%{http_code}' http://127.0.0.1:$ADMIN_PORT/readyz)\" = 200 ]" 15 ||
	admin_fail_with_log "/readyz did not answer 200 after the connections closed"

status=0
lib_stop "$daemon" || status=$?
[ "$status" -eq 0 ] || admin_fail_with_log "daemon exited $status on SIGTERM"
lib_log "admin descriptor exhaustion test passed"
