# tests/faults/lib_outage.sh - helpers of the outage and back-pressure tests.
# shellcheck shell=bash
#
# Source it instead of lib_faults.sh, which it sources. It adds config
# overrides (admin port 0, output queue size, prefetch size, session
# timeout) and reads the admin port, /readyz and the resident memory of a
# running daemon. A watch loop samples /readyz, memory and the Redis offsets
# twice a second during an outage. Redis can be stopped and restarted on the
# same port and dir.
#
# The watch loop writes one line per sample to a file:
#   <seconds since start> <readyz status> <VmRSS kB> <consumed offsets>
# and the /readyz body of the last 503 to <file>.body.

# shellcheck source=lib_faults.sh
source "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/lib_faults.sh"

OUTAGE_ADMIN_PORT=

# These tests bound the daemon's resident memory. In a sanitizer build ASan
# keeps freed blocks in a quarantine of 256 MB by default, so RSS grows with
# every buffer freed and allocated again, and would measure the quarantine
# rather than what the daemon holds. 16 MB keeps use-after-free detection
# for recent frees; an ASAN_OPTIONS from the caller still wins.
export ASAN_OPTIONS="quarantine_size_mb=16${ASAN_OPTIONS:+:$ASAN_OPTIONS}"

# Writes $LIB_TMP/NAME.yaml like faults_config, with the admin server on a
# free port. Options: --max-queued N sets outputs.max_queued_messages,
# --prefetch-kbytes N sets kafka.max_prefetch_kbytes, --session-timeout-ms N
# replaces the librdkafka session.timeout.ms of the fault config.
outage_config() {
	local name=$1 group=$2 prefix=$3
	shift 3
	local out=$LIB_TMP/$name.yaml
	faults_config "$name" "$group" "$prefix" range
	while [ $# -gt 0 ]; do
		case $1 in
		--max-queued)
			sed -i "/^outputs:/a\\  max_queued_messages: $2" "$out" ;;
		--prefetch-kbytes)
			sed -i "/^kafka:/a\\  max_prefetch_kbytes: $2" "$out" ;;
		--session-timeout-ms)
			grep -q '^ *session\.timeout\.ms:' "$out" ||
				lib_fail "outage_config: no session.timeout.ms in $out to replace"
			sed -i "s/^\( *session\.timeout\.ms:\).*/\1 $2/" "$out" ;;
		*) lib_fail "outage_config: unknown option $1" ;;
		esac
		shift 2
	done
	# Every daemon needs its own admin port, or they collide on 9464.
	grep -q '^admin:' "$out" || printf 'admin: {port: 0}\n' >>"$out"
	"$ADVOCACY_BUILD_DIR/advocacyd" --check-config "$out" >/dev/null ||
		lib_fail "outage test config $out is invalid"
}

# Waits for the admin port in DAEMON_LOG and sets OUTAGE_ADMIN_PORT.
outage_admin_port() {
	OUTAGE_ADMIN_PORT=$(lib_admin_port "$DAEMON_LOG") ||
		lib_fail "advocacyd logged no admin port in $DAEMON_LOG"
}

# Prints the status code of GET /readyz (000 when the request failed) and
# writes the body to $LIB_TMP/readyz.body.
outage_readyz() {
	curl -s --max-time 2 -o "$LIB_TMP/readyz.body" -w '%{http_code}' \
		"http://127.0.0.1:$OUTAGE_ADMIN_PORT/readyz" || true
}

# Prints the resident set size of PID in kB.
outage_rss_kb() {
	awk '/^VmRSS:/ { print $2 }' "/proc/$1/status" 2>/dev/null || echo 0
}

# Samples /readyz, DAEMON_PID's memory and the Redis offsets of GROUP under
# PREFIX every 0.5 s for SECONDS seconds, appending to FILE (see the header).
# Redis may be down: the offsets are then printed as -1.
outage_watch() {
	local seconds=$1 file=$2 prefix=$3 group=$4
	local start=$SECONDS code consumed
	while [ $((SECONDS - start)) -lt "$seconds" ]; do
		code=$(outage_readyz)
		[ "$code" != 503 ] || cp "$LIB_TMP/readyz.body" "$file.body"
		consumed=$(faults_consumed "$prefix" "$group" 2>/dev/null) || consumed=-1
		redis-cli -p "$REDIS_PORT" ping >/dev/null 2>&1 || consumed=-1
		echo "$((SECONDS - start)) $code $(outage_rss_kb "$DAEMON_PID") $consumed" >>"$file"
		sleep 0.5
	done
}

# Prints the largest VmRSS (kB) of the samples in FILE.
outage_max_rss_kb() {
	awk '$3 > max { max = $3 } END { print max + 0 }' "$1"
}

# Stops redis-server with SIGTERM (it writes its append-only file and exits)
# and fails unless it exited 0 and the port no longer accepts PING.
outage_redis_stop() {
	local status=0
	lib_stop "$REDIS_PID" || status=$?
	[ "$status" -eq 0 ] || lib_fail "redis-server exited $status on SIGTERM; see $REDIS_DIR/redis.log"
	! redis-cli -p "$REDIS_PORT" ping >/dev/null 2>&1 ||
		lib_fail "redis-server still answers on port $REDIS_PORT after SIGTERM"
}

# Starts redis-server again on REDIS_PORT and REDIS_DIR with the append-only
# file on, as lib_start_redis aof does, and waits until it replies to PING
# (it loads the append-only file first).
outage_redis_start() {
	redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --save '' \
		--appendonly yes --appendfsync always --dir "$REDIS_DIR" \
		--daemonize no >>"$REDIS_DIR/redis.log" 2>&1 &
	REDIS_PID=$!
	lib_track "$REDIS_PID"
	lib_wait_for "redis-cli -p $REDIS_PORT ping | grep -q PONG" 20 ||
		lib_fail "redis-server did not start again on port $REDIS_PORT: $(tail -n 5 "$REDIS_DIR/redis.log")"
}

# Prints the counters line of DAEMON_LOG written at stop (the last one).
outage_final_counters() {
	grep 'msg="counters"' "$DAEMON_LOG" | tail -n 1
}

# Prints the value of FIELD in the logfmt line LINE.
outage_field() {
	sed -n "s/.* $2=\\([^ ]*\\).*/\\1/p" <<<"$1"
}

# Waits for the producer and the daemon, stops the daemon, and fails unless
# the totals equal truth.py's, no delivery failed and nothing leaked.
outage_check_totals() {
	local counters
	faults_wait_producer
	faults_assert_topic_complete
	faults_check outage --wait 120
	faults_stop_clean "$DAEMON_PID" "$DAEMON_LOG"
	counters=$(outage_final_counters)
	lib_log "final $counters"
	lib_assert_eq 0 "$(outage_field "$counters" produce_failed)" "produce_failed at stop"
	faults_privacy_scan "$DAEMON_LOG"
}
