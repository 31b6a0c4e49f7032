#!/usr/bin/env bash
# Benchmark: advocacyd against the raw limit of the same broker and machine.
#
# Starts redis-server and the dev broker on free 127.0.0.1 ports, generates a
# roster of M employees and N events (90% canonical Avro, 10% Slack JSON)
# into multi-partition topics, then measures in one run:
#   raw_consume_per_s     advocacyd-rawconsume reading the same topics (median
#                         of nine runs), counted from its first message;
#   events_per_s          advocacyd from the first offset until the offsets of
#                         every message are in Redis ({advocacy}:offsets),
#                         counted after its first batch is in Redis, with all its
#                         work (decode, pseudonyms, classify, Redis, ticks);
#   redis_cmds_per_event  INFO commandstats over that catch-up, divided by N;
#                         commands run inside Lua scripts count one by one, the
#                         bench's own polling does not count;
#   freshness_p50/p99_ms  under background load (default 20k events/s), marker
#                         events at 20/s: time from a marker's production to
#                         the first org-scope update of the marker KPI (a count
#                         over 1h) that counts it, as received from the KPI
#                         topic; at the default tick interval (the config
#                         leaves outputs.tick_interval out), with the median
#                         gap between updates as tick_gap_s;
#   cpu_us_per_event      CPU time of advocacyd, redis-server and the dev
#                         broker during the timed catch-up, per event: on a
#                         2-core machine their sum bounds events_per_s;
#   peak_rss_mb           VmHWM of the daemon at the end;
#   rss_growth (--full)   VmRSS after N and after 10N consumed messages, with
#                         events produced in chunks while the daemon consumes,
#                         because the dev broker cannot hold 10N (DESIGN.md,
#                         "Dev broker limits").
# Progress goes to stderr; the last stdout line is the result as JSON.
#
# Topic sizes: the dev broker keeps the newest 5 MiB per partition, so the
# partition counts grow with N (about 30k canonical or 6k Slack events per
# partition) and the raw consumer's count is checked against N before any
# figure is taken.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=../lib.sh
source "$here/../lib.sh"

usage() {
	cat <<'EOF'
Usage: tests/bench/run.sh [--events N] [--employees M] [--quick] [--full]
                          [--load-rate R] [--freshness-seconds S] [--daily-cap C]

  --events N             events in the backlog, 10% of them Slack (default 1000000)
  --employees M          employees in the roster (default 10000)
  --quick                100000 events and a 10 s freshness phase
  --full                 also measure memory growth from N to 10N consumed events
  --load-rate R          background events per second in the freshness phase
                         (default 20000)
  --freshness-seconds S  length of the freshness phase (default 20, 0 skips it)
  --daily-cap C          behaviours.<id>.daily_cap of every behaviour that counts
                         events, credits per person and local day (default 0: none)
  -h, --help             show this help and exit

Prints progress to stderr and one JSON line to stdout. ADVOCACY_KEEP_TMP=1
keeps the working folder (daemon log, phase files).
EOF
}

events=1000000 employees=10000 full=0 load_rate=20000 fresh_s=20 daily_cap=0
while [ $# -gt 0 ]; do
	case $1 in
	--events) events=$2; shift 2 ;;
	--employees) employees=$2; shift 2 ;;
	--quick) events=100000 fresh_s=10; shift ;;
	--full) full=1; shift ;;
	--load-rate) load_rate=$2; shift 2 ;;
	--freshness-seconds) fresh_s=$2; shift 2 ;;
	--daily-cap) daily_cap=$2; shift 2 ;;
	-h | --help) usage; exit 0 ;;
	*) echo "tests/bench/run.sh: unknown option '$1'" >&2; usage >&2; exit 2 ;;
	esac
done
for n in "$events" "$employees" "$load_rate" "$fresh_s" "$daily_cap"; do
	[[ $n =~ ^[0-9]+$ ]] || { echo "tests/bench/run.sh: '$n' is not a whole number" >&2; exit 2; }
done
[ "$events" -ge 1000 ] || { echo "tests/bench/run.sh: --events must be at least 1000" >&2; exit 2; }

lib_init
daemon_bin=$(lib_bin advocacyd)
gen=$(lib_bin advocacyd-gen)
raw=$(lib_bin advocacyd-rawconsume)
produce=$(lib_bin advocacyd-produce)
probe="python3 $here/bench.py"
work=$LIB_TMP
slack=$((events / 10))
canonical=$((events - slack))
offsets_key='{advocacy}:offsets'

# ------------------------------------------------------------------ servers
events_parts=$(((canonical + 29999) / 30000))
slack_parts=$(((slack + 5999) / 6000))
[ "$events_parts" -ge 8 ] || events_parts=8
[ "$slack_parts" -ge 4 ] || slack_parts=4
# hll-sparse-max-bytes: the setting README "Redis settings" recommends.
lib_start_redis --hll-sparse-max-bytes 1000
lib_start_devkafka "advocacy.events:$events_parts" "slack.events:$slack_parts" advocacy.roster:1 \
	advocacy.kpi:1 advocacy.escalations:1 advocacy.dlq:1 advocacy.governance:1
lib_log "redis-server on port $REDIS_PORT, dev broker at $KAFKA_BOOTSTRAP" \
	"($events_parts + $slack_parts input partitions)"

head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$work/hmac.key"
$probe config --reference "$ADVOCACY_SOURCE_DIR/config/advocacyd.yaml" --brokers "$KAFKA_BOOTSTRAP" \
	--redis-port "$REDIS_PORT" --key-file "$work/hmac.key" --out "$work/bench.yaml" \
	--daily-cap "$daily_cap"
"$daemon_bin" --check-config "$work/bench.yaml" >&2 || lib_fail "the bench config is invalid"

# ------------------------------------------------------------------ backlog
lib_log "generating $employees employees, $canonical canonical and $slack Slack events"
"$gen" --brokers "$KAFKA_BOOTSTRAP" --employees "$employees" --days 6 --events "$canonical" \
	--slack-events "$slack" --malformed 0 --seed 7 --quiet

# ------------------------------------------------------------------ raw limit
raw_files=()
for run in 1 2 3 4 5 6 7 8 9; do
	"$raw" --brokers "$KAFKA_BOOTSTRAP" --topic advocacy.events --topic slack.events \
		--count "$events" >"$work/raw$run.json" ||
		lib_fail "advocacyd-rawconsume did not read $events messages: $(cat "$work/raw$run.json")"
	held=$(python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["messages"])' \
		"$work/raw$run.json")
	[ "$held" -ge "$events" ] || lib_fail "the dev broker holds $held of $events messages;" \
		"it drops the oldest beyond 5 MiB per partition: use fewer events"
	raw_files+=("$work/raw$run.json")
done
lib_log "raw consumer, messages/s of each run:" \
	"$(sed 's/.*"messages_per_s": \([0-9]*\).*/\1/' "${raw_files[@]}" | tr '\n' ' ')"

# ------------------------------------------------------------------ helpers
offset_sum() {
	redis-cli -p "$REDIS_PORT" hgetall "$offsets_key" |
		awk 'NR % 2 == 0 { sum += $1 } END { print sum + 0 }'
}

# Fails when the daemon skipped offsets because the dev broker had dropped
# their messages, so that the offsets in Redis count messages never read.
check_nothing_dropped() {
	! grep -q 'offset reset' "$work/daemon.log" ||
		lib_fail "the dev broker dropped messages before advocacyd read them:" \
			"$(grep -m 1 'offset reset' "$work/daemon.log")"
}

# Waits until the updates file counts COUNT markers, at most SECONDS.
wait_for_count() {
	local count=$1 seconds=$2
	lib_wait_for "tail -n 1 '$work/updates.txt' | awk '\$2 >= $count { ok = 1 } END { exit !ok }'" \
		"$seconds"
}

# ------------------------------------------------------------------ catch-up
redis-cli -p "$REDIS_PORT" config resetstat >/dev/null
started=$(date +%s.%N)
"$daemon_bin" --config "$work/bench.yaml" 2>"$work/daemon.log" &
daemon=$!
lib_track "$daemon"
lib_log "advocacyd started (pid $daemon); waiting until it has consumed $events messages"
$probe catchup --redis-port "$REDIS_PORT" --key "$offsets_key" --pid "$daemon" --total "$events" \
	--started "$started" --redis-pid "$REDIS_PID" --broker-pid "$DEVKAFKA_PID" >"$work/catchup.json" ||
	lib_fail "catch-up not finished; last daemon log lines: $(tail -n 5 "$work/daemon.log")"
lib_log "caught up: $(cat "$work/catchup.json")"
check_nothing_dropped

# ------------------------------------------------------------------ freshness
report_args=()
if [ "$fresh_s" -gt 0 ]; then
	lib_log "freshness: $load_rate events/s and 20 markers/s for ${fresh_s}s"
	$probe listen --brokers "$KAFKA_BOOTSTRAP" --topic advocacy.kpi --out "$work/updates.txt" &
	listener=$!
	lib_track "$listener"
	sleep 2
	"$gen" --brokers "$KAFKA_BOOTSTRAP" --employees "$employees" --roster-seed 7 --seed 8 \
		--no-roster --events 9 --slack-events 1 --malformed 0 --live "$fresh_s" \
		--rate "$load_rate" --quiet 2>"$work/load.log" &
	load=$!
	lib_track "$load"
	$probe markers --rate 20 --seconds "$fresh_s" --employees "$employees" --run-id "$$" \
		--log "$work/markers.txt" |
		"$produce" --brokers "$KAFKA_BOOTSTRAP" --topic advocacy.events --key-field key 2>&1 |
		sed 's/^/  /' >&2
	wait "$load" || lib_fail "the background load failed: $(cat "$work/load.log")"
	lib_untrack "$load"
	markers=$(wc -l <"$work/markers.txt")
	# The last markers show up at the next tick or the one after.
	wait_for_count "$markers" 40 || lib_log "not every marker was counted within 40 s"
	lib_stop "$listener" || true
	delivered=$(awk '/delivered=/ { sub(/.*delivered=/, ""); sum += $1 } END { print sum + 0 }' \
		"$work/load.log")
	report_args+=(--markers "$work/markers.txt" --updates "$work/updates.txt"
		--load-rate "$(awk -v n="$delivered" -v s="$fresh_s" 'BEGIN { printf "%.0f", n / s }')")
	check_nothing_dropped
fi

# ------------------------------------------------------------------ memory growth
# Chunks of N/2 events: chunk k is produced while the daemon reads chunk k-1,
# so the unread backlog stays below N, which the partitions are sized for.
if [ "$full" = 1 ]; then
	target=$((events * 10))
	chunk=$((events / 2))
	base=$(offset_sum)
	produced=$base
	lib_log "memory growth: chunks of $chunk events until $target messages are consumed"
	for ((k = 1; produced < target; k++)); do
		n=$((target - produced < chunk ? target - produced : chunk))
		"$gen" --brokers "$KAFKA_BOOTSTRAP" --employees "$employees" --roster-seed 7 \
			--seed $((100 + k)) --no-roster --days 6 --events $((n - n / 10)) \
			--slack-events $((n / 10)) --malformed 0 --quiet 2>>"$work/growth-load.log" &
		load=$!
		lib_track "$load"
		$probe catchup --redis-port "$REDIS_PORT" --key "$offsets_key" --pid "$daemon" \
			--total "$produced" --base "$base" --interval 0.2 >/dev/null ||
			lib_fail "the growth phase stalled at chunk $k"
		wait "$load" || lib_fail "producing chunk $k failed: $(tail -n 3 "$work/growth-load.log")"
		lib_untrack "$load"
		produced=$((produced + n))
	done
	$probe catchup --redis-port "$REDIS_PORT" --key "$offsets_key" --pid "$daemon" \
		--total "$target" --base "$base" --interval 0.2 >"$work/growth.json" ||
		lib_fail "the growth phase did not reach $target messages"
	check_nothing_dropped
	report_args+=(--growth "$work/growth.json")
fi

# ------------------------------------------------------------------ result
peak_kb=$(awk '/^VmHWM/ { print $2 }' "/proc/$daemon/status")
status=0
lib_stop "$daemon" || status=$?
[ "$status" -eq 0 ] || lib_fail "advocacyd exited with status $status; see the log: $(tail -n 5 "$work/daemon.log")"
errors=$(grep -c 'level=error' "$work/daemon.log" || true)
[ "$errors" -eq 0 ] || lib_log "the daemon logged $errors errors: $(grep -m 3 'level=error' "$work/daemon.log")"

$probe report --raw "${raw_files[@]}" --catchup "$work/catchup.json" --peak-hwm-kb "$peak_kb" \
	--employees "$employees" "${report_args[@]}"
