#!/usr/bin/env bash
# Every partition moves on during a catch-up through a small input buffer.
# The backlog is 12 partitions written in large batches, as a fast producer
# writes them. When the daemon has read 60% of it, each partition must have
# been read to at least 10% of its own backlog. A consumer that let
# librdkafka start every fetch at the same partition read them one after
# the other: then several partitions were still at 0 here. With this
# buffer, partitions with a backlog fetch in turns, 4 at a time. A turn is
# one batch of about 40% of a partition, so every partition has had its
# first turn by the time 40% of the total is read.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=../lib.sh
source "$here/../lib.sh"
lib_init

partitions=12 events=240000
lib_start_redis
# The 8 Slack partitions stay empty: started with no offset, they must not
# keep the fetch turns from the others.
lib_start_devkafka "advocacy.events:$partitions" slack.events:8 advocacy.roster:1 advocacy.kpi:1 \
	advocacy.escalations:1 advocacy.dlq:1 advocacy.governance:1
work=$LIB_TMP
cp "$ADVOCACY_SOURCE_DIR/tests/fixtures/hmac.key" "$work/hmac.key"
python3 "$ADVOCACY_SOURCE_DIR/tests/bench/bench.py" config \
	--reference "$ADVOCACY_SOURCE_DIR/config/advocacyd.yaml" --brokers "$KAFKA_BOOTSTRAP" \
	--redis-port "$REDIS_PORT" --key-file "$work/hmac.key" --out "$work/bench.yaml" --daily-cap 0
sed -i 's/^\(  *max_prefetch_kbytes:\).*/\1 1024/' "$work/bench.yaml"
grep -q 'max_prefetch_kbytes: 1024' "$work/bench.yaml" || lib_fail "cannot set max_prefetch_kbytes"

# advocacyd-gen sends batches of up to 10000 messages, so each partition
# is a few large message sets on the dev broker.
"$ADVOCACY_BUILD_DIR/advocacyd-gen" --brokers "$KAFKA_BOOTSTRAP" --employees 1000 --days 6 \
	--events "$events" --slack-events 0 --malformed 0 --seed 31 --quiet

offsets() { # one line per advocacy.events partition: partition offset
	redis-cli -p "$REDIS_PORT" hgetall '{advocacy}:offsets' |
		awk -F'|' 'NR % 2 == 1 { field = $2 "|" $3 } NR % 2 == 0 && field ~ /^advocacy\.events\|/ {
			split(field, f, "|"); print f[2], $1 }'
}

"$ADVOCACY_BUILD_DIR/advocacyd" --config "$work/bench.yaml" 2>"$work/daemon.log" &
daemon=$!
LIB_PIDS+=("$daemon")
: >"$work/samples"
for ((i = 0; i < 1200; i++)); do
	offsets | awk -v t="$i" '{ print t, $0 }' >>"$work/samples"
	total=$(offsets | awk '{ sum += $2 } END { print sum + 0 }')
	[ "$total" -lt "$events" ] || break
	sleep 0.1
done
[ "$total" -eq "$events" ] || lib_fail "$total of $events offsets written; see $work/daemon.log"

# The final offsets are each partition's backlog. Take the first sample at
# 60% or more of the total and compare each partition with its own backlog.
offsets >"$work/final"
verdict=$(python3 - "$work/final" "$work/samples" "$events" "$partitions" <<'CHECK'
import sys
final, samples, events, parts = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
size = dict(line.split() for line in open(final))
by_time = {}
for line in open(samples):
    t, p, offset = line.split()
    by_time.setdefault(int(t), {})[p] = int(offset)
at = next((s for t, s in sorted(by_time.items()) if sum(s.values()) >= 0.6 * events), None)
if len(size) != parts:
    print(f"offsets of {len(size)} of {parts} partitions")
elif at is None:
    print("no sample at 60% of the backlog or more")
else:
    low, part = min((at.get(p, 0) / int(n), p) for p, n in size.items())
    total = 100 * sum(at.values()) / events
    if low < 0.1:
        print(f"partition {part} at {100 * low:.0f}% of its backlog when the total was at {total:.0f}%")
    else:
        print(f"ok: every partition at {100 * low:.0f}% or more when the total was at {total:.0f}%")
CHECK
)
case $verdict in
ok:*) lib_log "$verdict" ;;
*) lib_fail "$verdict" ;;
esac

# The turns happened, and none is left waiting once the backlog is read.
port=$(sed -n 's/.*msg="admin server listening".* port=\([0-9]*\).*/\1/p' "$work/daemon.log" | head -n 1)
[ -n "$port" ] || lib_fail "the daemon never logged the admin port; see $work/daemon.log"
metric() {
	curl -s --max-time 5 "http://127.0.0.1:$port/metrics" | awk -v n="$1" '$1 == n { print $2 }'
}
turns=$(metric advocacyd_consumer_fetch_turns_total)
[ "${turns:-0}" -gt 0 ] || lib_fail "no fetch turn was counted (advocacyd_consumer_fetch_turns_total=${turns:-absent})"
lib_wait_for '[ "$(metric advocacyd_consumer_partitions_parked)" = 0 ]' 10 ||
	lib_fail "partitions still parked after the catch-up: $(metric advocacyd_consumer_partitions_parked)"
lib_log "$turns fetch turns; no partition parked at the end"
lib_stop "$daemon"
