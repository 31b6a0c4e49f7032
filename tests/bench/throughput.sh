#!/usr/bin/env bash
# Catch-up throughput of advocacyd: generates a backlog of events into the dev
# broker, starts the daemon and measures how long it takes until Redis contains
# the offsets of every message. Prints one JSON line with events_per_s
# (counted from the first applied batch, so start-up and the consumer group
# join are left out; seconds_from_start includes them),
# redis_cmds_per_event (from INFO commandstats; commands run inside the batch
# script count individually) and peak_rss_mb of the daemon.
#
# Usage: tests/bench/throughput.sh [--events N] [--slack-events N] [--employees M]
# Not part of tests/run.sh: it measures, it does not assert.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=../lib.sh
source "$here/../lib.sh"

events=200000 slack=20000 employees=2000
while [ $# -gt 0 ]; do
	case $1 in
	--events) events=$2; shift 2 ;;
	--slack-events) slack=$2; shift 2 ;;
	--employees) employees=$2; shift 2 ;;
	*) echo "usage: $0 [--events N] [--slack-events N] [--employees M]" >&2; exit 2 ;;
	esac
done

lib_init
lib_start_redis
lib_start_devkafka advocacy.events:8 slack.events:4 advocacy.roster:1 \
	advocacy.kpi:1 advocacy.escalations:1 advocacy.dlq:1
head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$LIB_TMP/hmac.key"
sed -e "s|bootstrap_servers: .*|bootstrap_servers: \"$KAFKA_BOOTSTRAP\"|" \
	-e "/^redis:/,/^[a-z]/s|^\(  port:\) .*|\1 $REDIS_PORT|" \
	-e "/^admin:/,/^[a-z]/s|^\(  port:\) .*|\1 0|" \
	-e "s|key_file: .*|key_file: $LIB_TMP/hmac.key|" \
	"$ADVOCACY_SOURCE_DIR/config/advocacyd.yaml" >"$LIB_TMP/bench.yaml"

"$ADVOCACY_BUILD_DIR/advocacyd-gen" --brokers "$KAFKA_BOOTSTRAP" --employees "$employees" \
	--days 6 --events "$events" --slack-events "$slack" --malformed 0 --seed 7 --quiet
total=$((events + slack))
redis-cli -p "$REDIS_PORT" config resetstat >/dev/null

start=$(date +%s.%N)
"$ADVOCACY_BUILD_DIR/advocacyd" --config "$LIB_TMP/bench.yaml" 2>"$LIB_TMP/daemon.log" &
daemon=$!
LIB_PIDS+=("$daemon")

consumed() {
	redis-cli -p "$REDIS_PORT" hgetall '{advocacy}:offsets' |
		awk 'NR % 2 == 0 { sum += $1 } END { print sum + 0 }'
}
peak_kb=0 first=""
while :; do
	rss=$(awk '/VmHWM/ { print $2 }' "/proc/$daemon/status" 2>/dev/null || echo 0)
	[ "${rss:-0}" -gt "$peak_kb" ] && peak_kb=$rss
	done_now=$(consumed)
	[ -z "$first" ] && [ "$done_now" -gt 0 ] && first=$(date +%s.%N)
	[ "$done_now" -ge "$total" ] && break
	kill -0 "$daemon" 2>/dev/null || lib_fail "advocacyd exited early; see $LIB_TMP/daemon.log"
	sleep 0.05
done
end=$(date +%s.%N)
cmds=$(redis-cli -p "$REDIS_PORT" info commandstats |
	awk -F'[=,]' '/^cmdstat_/ && !/cmdstat_(config|info|hgetall|ping)/ { sum += $2 } END { print sum + 0 }')
kill -TERM "$daemon"
wait "$daemon" || true

python3 - "$total" "$start" "$end" "$cmds" "$peak_kb" "$first" <<'EOF'
import json, sys
total, start, end, cmds, peak_kb = int(sys.argv[1]), float(sys.argv[2]), float(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
first = float(sys.argv[6])
print(json.dumps({
    "events": total,
    "seconds_from_start": round(end - start, 3),
    "seconds_from_first_batch": round(end - first, 3),
    "events_per_s": round(total / (end - first)),
    "redis_cmds_per_event": round(cmds / total, 4),
    "peak_rss_mb": round(peak_kb / 1024, 1),
}))
EOF
