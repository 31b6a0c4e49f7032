# tests/lib.sh - shell helpers for the integration tests and the demo.
#
# Source it, then call lib_init once:
#   . "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"
#   lib_init
#
# lib_init makes a temporary directory (LIB_TMP) and installs an EXIT trap
# that stops every process started through these helpers (or registered with
# lib_track) and removes the directory. Set ADVOCACY_KEEP_TMP=1 to keep it
# for debugging. Every server binds to 127.0.0.1 on a free port.
#
# Paths: ADVOCACY_SOURCE_DIR is the repository root (default: derived from
# this file's location), ADVOCACY_BUILD_DIR contains the binaries (default:
# $ADVOCACY_SOURCE_DIR/build).
#
# Known limit: lib_free_port returns a port that was free a moment ago, so
# another process may take it first. lib_start_redis retries with a new port
# when the server exits at start.

ADVOCACY_SOURCE_DIR=${ADVOCACY_SOURCE_DIR:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}
ADVOCACY_BUILD_DIR=${ADVOCACY_BUILD_DIR:-$ADVOCACY_SOURCE_DIR/build}
export ADVOCACY_SOURCE_DIR ADVOCACY_BUILD_DIR

LIB_PIDS=()
LIB_TMP=

lib_log() {
	echo "[$(date +%H:%M:%S)] $*" >&2
}

# Prints MSG as a failure and exits 1; the EXIT trap cleans up.
lib_fail() {
	echo "FAIL: $*" >&2
	exit 1
}

# Fails unless EXPECTED equals ACTUAL; MSG names what was compared.
lib_assert_eq() {
	local expected=$1 actual=$2 msg=$3
	[ "$expected" = "$actual" ] || lib_fail "$msg: expected '$expected', got '$actual'"
}

# Prints the path of a built binary, failing when it is missing.
lib_bin() {
	local path=$ADVOCACY_BUILD_DIR/$1
	[ -x "$path" ] || lib_fail "$path not found; build first (cmake --build build)"
	echo "$path"
}

lib_init() {
	LIB_TMP=$(mktemp -d "${TMPDIR:-/tmp}/advocacy-test.XXXXXX")
	export LIB_TMP
	trap lib_cleanup EXIT
	trap 'exit 130' INT
	trap 'exit 143' TERM
}

lib_cleanup() {
	local status=$?
	local pid
	for pid in "${LIB_PIDS[@]}"; do
		lib_stop "$pid" || true
	done
	LIB_PIDS=()
	if [ -n "$LIB_TMP" ] && [ -d "$LIB_TMP" ]; then
		if [ "${ADVOCACY_KEEP_TMP:-0}" = 1 ]; then
			lib_log "kept $LIB_TMP"
		else
			rm -rf "$LIB_TMP"
		fi
	fi
	exit "$status"
}

# Registers a background process (a child of this shell) for the EXIT trap.
lib_track() {
	LIB_PIDS+=("$1")
}

# Removes PID from the tracked list.
lib_untrack() {
	local pid kept=()
	for pid in "${LIB_PIDS[@]}"; do
		[ "$pid" = "$1" ] || kept+=("$pid")
	done
	LIB_PIDS=("${kept[@]}")
}

# Stops PID with SIGTERM, then SIGKILL after 20 s: the daemon's default
# shutdown.drain_timeout (15 s) plus 5 s, because closing the consumer while
# the group rebalances can take several seconds under load. Returns the
# process's exit status when it is a child of this shell, so a test can
# assert a clean exit (which includes the sanitizers' leak check). Returns
# 127 for a process that is not a child of this shell or was already waited
# for.
lib_stop() {
	local pid=$1 i status=0
	lib_untrack "$pid"
	if kill -0 "$pid" 2>/dev/null; then
		kill -TERM "$pid" 2>/dev/null || true
		for ((i = 0; i < 200; i++)); do
			kill -0 "$pid" 2>/dev/null || break
			sleep 0.1
		done
		if kill -0 "$pid" 2>/dev/null; then
			lib_log "pid $pid did not stop within 20 s of SIGTERM; sending SIGKILL"
			kill -KILL "$pid" 2>/dev/null || true
		fi
	fi
	wait "$pid" 2>/dev/null || status=$?
	return "$status"
}

# Runs CMD (a shell string) every 0.1 s until it succeeds; returns 1 after
# TIMEOUT_S seconds.
lib_wait_for() {
	local cmd=$1 timeout_s=$2
	local deadline=$((SECONDS + timeout_s))
	until eval "$cmd" >/dev/null 2>&1; do
		[ "$SECONDS" -lt "$deadline" ] || return 1
		sleep 0.1
	done
}

# Waits up to 30 s for the daemon logging to LOG to bind its admin port,
# then prints the port of the last such line. Returns 1, printing nothing,
# when no port was logged.
lib_admin_port() {
	local log=$1 port
	lib_wait_for "grep -q 'msg=\"admin server listening\"' '$log'" 30 || return 1
	port=$(sed -n 's/.*msg="admin server listening".* port=\([0-9]*\).*/\1/p' "$log" | tail -n 1)
	[[ $port =~ ^[1-9][0-9]*$ ]] || return 1
	echo "$port"
}

# Prints a TCP port that is free on 127.0.0.1 right now.
lib_free_port() {
	python3 -c 'import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])
s.close()'
}

# Starts redis-server on a free loopback port with its files in LIB_TMP.
# Pass "aof" to enable the append-only file (fsync on every write), for tests
# that kill Redis and expect the data back. Further arguments go to
# redis-server as they are (the bench passes its settings this way). Exports
# REDIS_PORT, REDIS_PID and REDIS_DIR; the log is $REDIS_DIR/redis.log.
lib_start_redis() {
	local appendonly=no attempt
	if [ "${1:-}" = aof ]; then
		appendonly=yes
		shift
	fi
	for attempt in 1 2 3; do
		REDIS_PORT=$(lib_free_port)
		REDIS_DIR=$LIB_TMP/redis-$REDIS_PORT
		mkdir -p "$REDIS_DIR"
		redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --save '' \
			--appendonly "$appendonly" --appendfsync always --dir "$REDIS_DIR" \
			--daemonize no "$@" >"$REDIS_DIR/redis.log" 2>&1 &
		REDIS_PID=$!
		lib_track "$REDIS_PID"
		if lib_wait_for "redis-cli -h 127.0.0.1 -p $REDIS_PORT ping | grep -q PONG" 10; then
			export REDIS_PORT REDIS_PID REDIS_DIR
			return 0
		fi
		lib_stop "$REDIS_PID" || true
		lib_log "redis-server did not start on port $REDIS_PORT (attempt $attempt):"
		tail -n 5 "$REDIS_DIR/redis.log" >&2 || true
	done
	lib_fail "cannot start redis-server"
}

# Starts advocacyd-devkafka with topics given as NAME:PARTITIONS. Exports
# KAFKA_BOOTSTRAP (the first line of its stdout), DEVKAFKA_PID and
# DEVKAFKA_LOG, then waits until kcat lists every topic.
lib_start_devkafka() {
	local bin out args=() topic
	bin=$(lib_bin advocacyd-devkafka)
	for topic in "$@"; do
		args+=(--topic "$topic")
	done
	out=$(mktemp "$LIB_TMP/devkafka.XXXXXX")
	DEVKAFKA_LOG=$out.log
	"$bin" "${args[@]}" >"$out" 2>"$DEVKAFKA_LOG" &
	DEVKAFKA_PID=$!
	lib_track "$DEVKAFKA_PID"

	lib_wait_for "[ \$(wc -l <'$out') -ge 1 ]" 10 ||
		lib_fail "advocacyd-devkafka printed no bootstrap address: $(cat "$DEVKAFKA_LOG")"
	KAFKA_BOOTSTRAP=$(head -n 1 "$out")
	export KAFKA_BOOTSTRAP DEVKAFKA_PID DEVKAFKA_LOG

	for topic in "$@"; do
		lib_wait_for "kcat -L -b '$KAFKA_BOOTSTRAP' -m 2 | grep -q 'topic \"${topic%%:*}\" '" 10 ||
			lib_fail "topic ${topic%%:*} not listed by the dev broker at $KAFKA_BOOTSTRAP"
	done
}

# Prints the number of messages in TOPIC on KAFKA_BOOTSTRAP (all partitions,
# from the beginning). Payloads may contain newlines, so each message is
# printed as one fixed character.
lib_kcat_count() {
	kcat -C -b "$KAFKA_BOOTSTRAP" -t "$1" -o beginning -e -q -f 'x\n' | wc -l | tr -d ' '
}
