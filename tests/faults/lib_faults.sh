# tests/faults/lib_faults.sh - shell helpers of the fault tests.
#
# Source it, then call faults_init once; it sources tests/lib.sh and calls
# lib_init, so the EXIT trap stops every tracked process. The helpers start a
# Redis and a dev broker, write configs from advocacyd-faults.yaml, generate
# data with truth.py, produce it, start and kill daemons, and check the result
# with truth.py check. Everything listens on 127.0.0.1.
#
# Data lands in $FAULTS_DATA (roster, events, secrets) and daemon logs in
# $LIB_TMP/<name>.<run>.log. Set ADVOCACY_KEEP_TMP=1 to keep them.

FAULTS_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=../lib.sh
source "$FAULTS_DIR/../lib.sh"

# -B: write no __pycache__ into the source tree.
FAULTS_TRUTH=(python3 -B "$FAULTS_DIR/truth.py")
FAULTS_INPUT_TOPIC=advocacy.events
FAULTS_RUN=0
DAEMON_PID=
DAEMON_LOG=

faults_init() {
	lib_init
	FAULTS_DATA=$LIB_TMP/data
	export FAULTS_DATA
	cp "$ADVOCACY_SOURCE_DIR/tests/fixtures/hmac.key" "$LIB_TMP/hmac.key"
	chmod 600 "$LIB_TMP/hmac.key"
}

# Prints the number of events a test should generate: ADVOCACY_FAULTS_EVENTS
# when set, else DEFAULT, divided by 3 for the sanitizer build (about three
# times slower).
faults_event_count() {
	local n=${ADVOCACY_FAULTS_EVENTS:-$1}
	if [ -z "${ADVOCACY_FAULTS_EVENTS:-}" ] && [[ $ADVOCACY_BUILD_DIR == *build-sanitize ]]; then
		n=$((n / 3))
	fi
	echo "$n"
}

# Starts Redis and the dev broker with the input topic cut into PARTITIONS.
faults_start_stack() {
	FAULTS_PARTITIONS=$1
	lib_start_redis
	lib_start_devkafka "$FAULTS_INPUT_TOPIC:$FAULTS_PARTITIONS" advocacy.roster:1 advocacy.kpi:2 \
		advocacy.escalations:1 advocacy.dlq:2
}

# Writes $LIB_TMP/NAME.yaml for consumer group GROUP, Redis key prefix PREFIX
# and the librdkafka partition.assignment.strategy ASSIGNOR, and validates it.
faults_config() {
	local name=$1 group=$2 prefix=$3 assignor=$4
	local out=$LIB_TMP/$name.yaml
	sed -e "s|@KAFKA_BOOTSTRAP@|$KAFKA_BOOTSTRAP|" -e "s|@REDIS_PORT@|$REDIS_PORT|" \
		-e "s|@GROUP_ID@|$group|" -e "s|@KEY_PREFIX@|$prefix|" -e "s|@ASSIGNOR@|$assignor|" \
		"$FAULTS_DIR/advocacyd-faults.yaml" >"$out"
	"$ADVOCACY_BUILD_DIR/advocacyd" --check-config "$out" >/dev/null ||
		lib_fail "fault test config $out is invalid"
}

# Runs truth.py gen into $FAULTS_DATA with the given options. Every data set
# carries replayed event ids, as a connector replay would send them, which
# must count once: ADVOCACY_FAULTS_DUPLICATES of them (default 1000).
faults_gen() {
	"${FAULTS_TRUTH[@]}" gen --out "$FAULTS_DATA" \
		--duplicates "${ADVOCACY_FAULTS_DUPLICATES:-1000}" "$@" >"$LIB_TMP/gen.json" ||
		lib_fail "truth.py gen failed"
	lib_log "generated $(cat "$LIB_TMP/gen.json")"
}

faults_produce_roster() {
	kcat -P -b "$KAFKA_BOOTSTRAP" -t advocacy.roster -K $'\t' <"$FAULTS_DATA/roster.kcat" ||
		lib_fail "cannot produce the roster"
}

# Produces the events of FILE (default: all generated events) and waits until
# they are delivered.
faults_produce() {
	local file=${1:-$FAULTS_DATA/events.jsonl}
	"$ADVOCACY_BUILD_DIR/advocacyd-produce" --brokers "$KAFKA_BOOTSTRAP" \
		--topic "$FAULTS_INPUT_TOPIC" <"$file" 2>>"$LIB_TMP/produce.log" ||
		lib_fail "advocacyd-produce failed: $(tail -n 3 "$LIB_TMP/produce.log")"
}

# Splits the generated events into $FAULTS_DATA/events.head.jsonl (the first
# PERCENT percent) and events.tail.jsonl (the rest).
faults_split_events() {
	local percent=$1 head_lines
	head_lines=$(($(faults_messages) * percent / 100))
	head -n "$head_lines" "$FAULTS_DATA/events.jsonl" >"$FAULTS_DATA/events.head.jsonl"
	tail -n "+$((head_lines + 1))" "$FAULTS_DATA/events.jsonl" >"$FAULTS_DATA/events.tail.jsonl"
}

# Starts producing the events of FILE (default: all generated events) in the
# background over about SECONDS seconds; sets PACE_PID and PRODUCER_PID.
# faults_wait_producer waits for both.
faults_start_producer() {
	local seconds=$1 file=${2:-$FAULTS_DATA/events.jsonl} rate
	rate=$(($(wc -l <"$file") / seconds + 1))
	rm -f "$LIB_TMP/events.fifo"
	mkfifo "$LIB_TMP/events.fifo"
	"$ADVOCACY_BUILD_DIR/advocacyd-produce" --brokers "$KAFKA_BOOTSTRAP" \
		--topic "$FAULTS_INPUT_TOPIC" <"$LIB_TMP/events.fifo" 2>>"$LIB_TMP/produce.log" &
	PRODUCER_PID=$!
	lib_track "$PRODUCER_PID"
	"${FAULTS_TRUTH[@]}" pace --rate "$rate" "$file" >"$LIB_TMP/events.fifo" &
	PACE_PID=$!
	lib_track "$PACE_PID"
}

# True while the paced producer is still feeding events.
faults_producing() {
	kill -0 "$PACE_PID" 2>/dev/null
}

faults_wait_producer() {
	local status=0
	lib_untrack "$PACE_PID"
	wait "$PACE_PID" || status=$?
	[ "$status" -eq 0 ] || lib_fail "truth.py pace exited $status"
	lib_untrack "$PRODUCER_PID"
	wait "$PRODUCER_PID" || status=$?
	[ "$status" -eq 0 ] || lib_fail "advocacyd-produce exited $status: $(tail -n 3 "$LIB_TMP/produce.log")"
}

# Starts advocacyd on config NAME; sets DAEMON_PID and DAEMON_LOG.
faults_start_daemon() {
	local name=$1
	FAULTS_RUN=$((FAULTS_RUN + 1))
	DAEMON_LOG=$LIB_TMP/$name.$FAULTS_RUN.log
	"$ADVOCACY_BUILD_DIR/advocacyd" --config "$LIB_TMP/$name.yaml" 2>"$DAEMON_LOG" &
	DAEMON_PID=$!
	lib_track "$DAEMON_PID"
}

# Kills PID with SIGKILL and reaps it.
faults_kill9() {
	lib_untrack "$1"
	kill -KILL "$1" 2>/dev/null || true
	wait "$1" 2>/dev/null || true
}

# Stops PID with SIGTERM and fails unless it exits 0 and logs a clean stop.
faults_stop_clean() {
	local pid=$1 log=$2 status=0
	lib_stop "$pid" || status=$?
	[ "$status" -eq 0 ] || { tail -n 30 "$log" >&2; lib_fail "advocacyd (pid $pid) exited $status on SIGTERM; log $log"; }
	grep -q 'msg="stopped"' "$log" || lib_fail "no clean stop in $log"
}

# Prints the sum of the next offsets Redis holds for GROUP under PREFIX.
faults_consumed() {
	local prefix=$1 group=$2
	redis-cli -p "$REDIS_PORT" hgetall "{$prefix}:offsets" |
		awk -v g="$group|$FAULTS_INPUT_TOPIC|" 'NR % 2 == 1 { f = $0 }
			NR % 2 == 0 && index(f, g) == 1 { sum += $1 } END { print sum + 0 }'
}

# Fails unless every partition of the input topic still starts at offset 0:
# the dev broker silently drops the oldest data of a partition past 5 MiB,
# and events it dropped would look like events the daemon lost.
faults_assert_topic_complete() {
	local p first
	for ((p = 0; p < FAULTS_PARTITIONS; p++)); do
		first=$(kcat -C -b "$KAFKA_BOOTSTRAP" -t "$FAULTS_INPUT_TOPIC" -p "$p" -o beginning \
			-c 1 -e -q -f '%o\n')
		[ "${first:-0}" = 0 ] ||
			lib_fail "the dev broker dropped the start of $FAULTS_INPUT_TOPIC partition $p (it now starts at offset $first); produce fewer or smaller events"
	done
}

# Prints the number of messages truth.py gen wrote (and the tests produce).
faults_messages() {
	python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["messages"])' \
		"$FAULTS_DATA/meta.json"
}

# Runs truth.py check for config NAME against Redis and the topics; extra
# options are passed on. Prints the summary line and fails on a mismatch.
faults_check() {
	local name=$1
	shift
	"${FAULTS_TRUTH[@]}" check --config "$LIB_TMP/$name.yaml" --dir "$FAULTS_DATA" \
		--redis-port "$REDIS_PORT" --bootstrap "$KAFKA_BOOTSTRAP" "$@" ||
		lib_fail "truth.py check found mismatches for $name (see above)"
}

# Fails when a raw id, alias or name of the generated roster appears in Redis,
# the KPI or escalation topics or any of the given log files.
faults_privacy_scan() {
	local f
	"${FAULTS_TRUTH[@]}" dump --redis-port "$REDIS_PORT" >"$LIB_TMP/redis-dump.txt" 2>/dev/null ||
		lib_fail "cannot dump Redis for the privacy scan"
	kcat -C -b "$KAFKA_BOOTSTRAP" -t advocacy.kpi -e -q >"$LIB_TMP/out-kpi.txt"
	kcat -C -b "$KAFKA_BOOTSTRAP" -t advocacy.escalations -e -q >"$LIB_TMP/out-esc.txt"
	for f in "$LIB_TMP/redis-dump.txt" "$LIB_TMP/out-kpi.txt" "$LIB_TMP/out-esc.txt" "$@"; do
		if grep -a -i -F -o -f "$FAULTS_DATA/secrets.txt" "$f" >"$LIB_TMP/leak.txt"; then
			lib_fail "raw identifiers leaked into $f: $(sort -u "$LIB_TMP/leak.txt" | head -n 5 | tr '\n' ' ')"
		fi
	done
	[ -s "$LIB_TMP/redis-dump.txt" ] || lib_fail "the Redis dump is empty"
}
