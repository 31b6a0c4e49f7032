#!/usr/bin/env bash
# Instructions per event: advocacyd under valgrind's callgrind on a catch-up.
#
# Starts redis-server and the dev broker and generates N events (default
# 100000, 10% Slack) for M employees (default 10000). With the config of
# tests/bench/run.sh it runs the daemon under callgrind until the offsets of
# every message are in Redis, stops it with SIGTERM and prints:
#   - instructions_per_event: the total Ir of the daemon process (every
#     thread, start-up and shutdown included) divided by N;
#   - the 15 functions with the most inclusive Ir and the 15 with the most
#     self Ir, from callgrind_annotate.
# The callgrind output file is left in the folder named at the end when
# ADVOCACY_KEEP_TMP=1, for kcachegrind or callgrind_annotate --tree=both.
#
# Usage: tests/bench/callgrind.sh [--events N] [--employees M]
# With 100k events it took about a minute on a 2-core machine, where callgrind
# ran the daemon about 30 times slower than without it. Not part of
# tests/run.sh.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=../lib.sh
source "$here/../lib.sh"

events=100000 employees=10000
while [ $# -gt 0 ]; do
	case $1 in
	--events) events=$2; shift 2 ;;
	--employees) employees=$2; shift 2 ;;
	-h | --help) sed -n '2,18p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
	*) echo "tests/bench/callgrind.sh: unknown option '$1'; see --help" >&2; exit 2 ;;
	esac
done
[[ $events =~ ^[0-9]+$ && $events -ge 1000 && $events -le 1000000 ]] ||
	{ echo "tests/bench/callgrind.sh: --events must be a number from 1000 to 1000000" >&2; exit 2; }
command -v valgrind >/dev/null && command -v callgrind_annotate >/dev/null ||
	{ echo "tests/bench/callgrind.sh: valgrind is not installed (apt-get install valgrind)" >&2; exit 1; }

lib_init
daemon_bin=$(lib_bin advocacyd)
work=$LIB_TMP
slack=$((events / 10))

lib_start_redis --hll-sparse-max-bytes 1000
lib_start_devkafka advocacy.events:8 slack.events:4 advocacy.roster:1 \
	advocacy.kpi:1 advocacy.escalations:1 advocacy.dlq:1 advocacy.governance:1
head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$work/hmac.key"
python3 "$here/bench.py" config --reference "$ADVOCACY_SOURCE_DIR/config/advocacyd.yaml" \
	--brokers "$KAFKA_BOOTSTRAP" --redis-port "$REDIS_PORT" --key-file "$work/hmac.key" \
	--out "$work/bench.yaml"
"$(lib_bin advocacyd-gen)" --brokers "$KAFKA_BOOTSTRAP" --employees "$employees" --days 6 \
	--events $((events - slack)) --slack-events "$slack" --malformed 0 --seed 7 --quiet

lib_log "running advocacyd under callgrind until it has consumed $events messages"
valgrind --tool=callgrind --callgrind-out-file="$work/callgrind.out" \
	"$daemon_bin" --config "$work/bench.yaml" 2>"$work/daemon.log" &
daemon=$!
lib_track "$daemon"
python3 "$here/bench.py" catchup --redis-port "$REDIS_PORT" --key '{advocacy}:offsets' \
	--pid "$daemon" --total "$events" --interval 0.5 --stall-timeout 300 >"$work/catchup.json" ||
	lib_fail "catch-up under callgrind did not finish; see $work/daemon.log"

# The drain is slow under callgrind: wait for the output file, not 10 s.
kill -TERM "$daemon"
for _ in $(seq 600); do
	kill -0 "$daemon" 2>/dev/null || break
	sleep 0.2
done
lib_stop "$daemon" || true
[ -s "$work/callgrind.out" ] || lib_fail "callgrind wrote no output; see $work/daemon.log"

total=$(awk '/^(summary|totals):/ { print $2; exit }' "$work/callgrind.out")
[ -n "$total" ] || lib_fail "no instruction total in $work/callgrind.out"
echo "events: $events"
echo "total_ir: $total"
echo "instructions_per_event: $((total / events))"

# Prints the first 15 function lines of a callgrind_annotate report. awk
# reads to the end, so that callgrind_annotate gets no SIGPIPE.
top15() {
	callgrind_annotate "$@" "$work/callgrind.out" 2>/dev/null |
		awk '/^-+$/ { dashes++; next }
			dashes >= 3 && $1 ~ /^[0-9,]+$/ && !/PROGRAM TOTALS/ && n < 15 { print; n++ }'
}
echo
echo "top 15 by inclusive Ir:"
top15 --inclusive=yes
echo
echo "top 15 by self Ir:"
top15 --inclusive=no
