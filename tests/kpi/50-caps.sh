#!/usr/bin/env bash
# Daily caps through a real daemon, Redis and dev broker. recognition_given
# has daily_cap 3; days are local days in Asia/Tokyo (UTC+9, no DST), and
# the events fall on the two local days before today, A and B.
#
# The crafted stream, in two parts (credits per person and day):
#   part 1:  E01 A 3, E02 A 2, E03 A 1
#   part 2:  E01 A 2, E01 B 2, E02 A 2, E03 B 4
# By hand: E01 counts 3 on A (its 2 later credits are capped) and 2 on B;
# E02 counts 3 on A (1 capped); E03 counts 1 on A, and 3 on B (1 capped).
#   count     org 12, team:North (E01, E02, E05) 8, team:South (E03, E04, E06) 4
#   capped    org 4,  team:North 3,                 team:South 1
#   capped_share = capped / (count + capped): org 4/16, North 3/11, South 1/5
#   per day at org: A counted 7 capped 3, B counted 5 capped 1
# E04, E05 and E06 send nothing. They bring each team to 3 people, the
# least privacy.min_group_size the loader accepts, so no figure is suppressed.
#
# The daemon is killed with SIGKILL after part 1 is written, and part 2 is
# produced while it is down. The restarted daemon has no day counts cached,
# so its first batches assume 0 and Redis rejects them (caps_changed). It is
# killed again at that point, and a third start must reach the same totals.
# Day counts live in one hash per local day, {cp}:caps:<day start>, with a
# field per pseudonym. Finally advocacyd forget erases E01's day counts and
# nobody else's.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=../lib.sh
source "$here/../lib.sh"
lib_init

lib_start_redis
lib_start_devkafka advocacy.events:2 advocacy.roster:1 advocacy.kpi:1 \
	advocacy.escalations:1 advocacy.dlq:1 advocacy.governance:1
work=$LIB_TMP
bin=$(lib_bin advocacyd)
produce=$(lib_bin advocacyd-produce)

cp "$ADVOCACY_SOURCE_DIR/tests/fixtures/hmac.key" "$work/hmac.key"
cat >"$work/caps.yaml" <<EOF
kafka:
  bootstrap_servers: "$KAFKA_BOOTSTRAP"
  group_id: caps
  inputs: [{topic: advocacy.events, format: avro}]
  roster_topic: advocacy.roster
  batch_max_messages: 2
  batch_max_ms: 50
  # A member killed with SIGKILL leaves the group when its session times out.
  properties: {session.timeout.ms: 3000, heartbeat.interval.ms: 300}
redis: {host: 127.0.0.1, port: $REDIS_PORT, key_prefix: cp}
privacy: {key_file: hmac.key, key_id: test-1, min_group_size: 3}
windows:
  granularities: [1h, 1d]
  timezone: Asia/Tokyo
  rolling: [{length: 7d}]
behaviours:
  recognition_given:
    daily_cap: 3
    rules: [{kinds: [recognition], credit: actor}]
kpis:
  - {id: recognition, behaviours: [recognition_given], aggregation: count, window: 7d,
     quadrant: learning_growth, indicator: leading, weight: 0.5, target: 10}
  - {id: recognition_capped, behaviours: [recognition_given], aggregation: capped_share,
     window: 7d, quadrant: internal_process, indicator: leading, weight: 0.5, target: 0}
outputs:
  tick_interval: 1s
  kpi: {topic: advocacy.kpi, format: json}
  escalations: {topic: advocacy.escalations, format: json}
  dlq: {topic: advocacy.dlq, format: json}
admin: {port: 0}
EOF
"$bin" --check-config "$work/caps.yaml" >/dev/null || lib_fail "test config invalid"

for n in 1 2 3 4 5 6; do
	case $n in 1 | 2 | 5) team=North ;; *) team=South ;; esac
	printf 'E0%s\t{"department":"Eng","team":"%s"}\n' "$n" "$team"
done | kcat -P -b "$KAFKA_BOOTSTRAP" -t advocacy.roster -K $'\t'

# Starts of the local days A and B (epoch ms), two and one days before today in Tokyo.
read -r day_a day_b < <(python3 -c '
import datetime, zoneinfo
tz = zoneinfo.ZoneInfo("Asia/Tokyo")
today = datetime.datetime.now(tz).replace(hour=0, minute=0, second=0, microsecond=0)
a, b = today - datetime.timedelta(days=2), today - datetime.timedelta(days=1)
print(int(a.timestamp()) * 1000, int(b.timestamp()) * 1000)')

# Writes canonical events: PERSON DAY_START COUNT FIRST_ID, one minute apart from 01:00 local.
events() {
	local person=$1 day=$2 count=$3 first=$4 i
	for ((i = 0; i < count; i++)); do
		printf '{"event_id":"%s-%d","event_time_ms":%d,"kind":"recognition","actor_id":"%s","target_ids":[]}\n' \
			"$person" $((first + i)) $((day + 3600000 + (first + i) * 60000)) "$person"
	done
}
send() { "$produce" --brokers "$KAFKA_BOOTSTRAP" --topic advocacy.events --key-field event_id; }
{ events E01 "$day_a" 3 0; events E02 "$day_a" 2 0; events E03 "$day_a" 1 0; } | send

rcli() { redis-cli -h 127.0.0.1 -p "$REDIS_PORT" "$@"; }
pseudonym() {
	python3 -c 'import hmac, hashlib, sys
key = bytes.fromhex(open(sys.argv[1]).read().strip())
print(hmac.new(key, sys.argv[2].encode(), hashlib.sha256).digest()[:16].hex())' "$work/hmac.key" "$1"
}
# Sum of the next offsets Redis holds: the events written so far.
written() { rcli hvals '{cp}:offsets' | awk '{s += $1} END {print s + 0}'; }
start_daemon() { # LOG
	"$bin" --config "$work/caps.yaml" 2>"$1" &
	daemon=$!
	lib_track "$daemon"
}
fail_with_log() {
	cat "$work"/daemon*.log >&2
	lib_fail "$@"
}
kill_daemon() {
	kill -KILL "$daemon"
	wait "$daemon" 2>/dev/null || true
	lib_untrack "$daemon"
}

# ---------------------------------------------------------------- part 1, then SIGKILL
start_daemon "$work/daemon1.log"
lib_wait_for '[ "$(written)" = 6 ]' 60 || fail_with_log "part 1 was not written (written: $(written))"
kill_daemon

# ---------------------------------------------------------------- part 2 while down
# E03's field on B already contains another behaviour's count, as the field
# of a person with several capped behaviours does. The flush script must keep
# it in front of the count it adds.
rcli hset "{cp}:caps:$((day_b / 1000))" "$(pseudonym E03)" other_behaviour=4 >/dev/null
{
	events E01 "$day_a" 2 3
	events E01 "$day_b" 2 0
	events E02 "$day_a" 2 2
	events E03 "$day_b" 4 0
} | send

# The restart assumes day counts of 0, so Redis rejects a batch: kill it right then.
start_daemon "$work/daemon2.log"
lib_wait_for "grep -q 'reason=caps_changed' '$work/daemon2.log'" 60 ||
	fail_with_log "no batch was read again for changed day counts after the restart"
kill_daemon

start_daemon "$work/daemon3.log"
lib_wait_for '[ "$(written)" = 16 ]' 60 || fail_with_log "part 2 was not written (written: $(written))"

# ---------------------------------------------------------------- totals by hand
day_a_s=$((day_a / 1000))
day_b_s=$((day_b / 1000))
field() { rcli hget "{cp}:n:1d:$1" "$2"; }
lib_assert_eq 7 "$(field "$day_a_s" 'recognition_given|org')" "counted on day A at org"
lib_assert_eq 3 "$(field "$day_a_s" 'capped:recognition_given|org')" "capped on day A at org"
lib_assert_eq 5 "$(field "$day_b_s" 'recognition_given|org')" "counted on day B at org"
lib_assert_eq 1 "$(field "$day_b_s" 'capped:recognition_given|org')" "capped on day B at org"
lib_assert_eq 3 "$(field "$day_a_s" 'capped:recognition_given|team:North')" "capped on A, North"
lib_assert_eq 1 "$(field "$day_b_s" 'capped:recognition_given|team:South')" "capped on B, South"

# A person's day counts: "<behaviour>=<n>" in the day hash, under the pseudonym.
day_count() { rcli hget "{cp}:caps:$2" "$(pseudonym "$1")"; }
lib_assert_eq recognition_given=3 "$(day_count E01 "$day_a_s")" "E01's day count on A"
lib_assert_eq recognition_given=2 "$(day_count E01 "$day_b_s")" "E01's day count on B"
lib_assert_eq recognition_given=3 "$(day_count E02 "$day_a_s")" "E02's day count on A"
lib_assert_eq recognition_given=1 "$(day_count E03 "$day_a_s")" "E03's day count on A"
lib_assert_eq "other_behaviour=4 recognition_given=3" "$(day_count E03 "$day_b_s")" "E03's day counts on B"
# The expiry is windows.retention (35d) after the end of the day, not later.
ttl=$(rcli ttl "{cp}:caps:$day_b_s")
max_ttl=$(((day_b_s + 86400 + 35 * 86400) - $(date +%s) + 1))
[ "$ttl" -gt 0 ] && [ "$ttl" -le "$max_ttl" ] && [ "$ttl" -gt $((max_ttl - 120)) ] ||
	lib_fail "the day hash of B expires in $ttl s, expected about $max_ttl s"

expect_kpi() { python3 "$ADVOCACY_SOURCE_DIR/tests/integration/kpi_check.py" "$work/kpi.json" "$@"; }
read_kpis() {
	kcat -C -b "$KAFKA_BOOTSTRAP" -t advocacy.kpi -e -q -f '%k\t%s\n' >"$work/kpi.json" || true
}
lib_wait_for "read_kpis && expect_kpi recognition org 7d value 12 && \
	expect_kpi recognition_capped org 7d value 0.25" 30 ||
	fail_with_log "the KPIs never reached the totals: $(expect_kpi recognition org 7d value 12)"
expect_kpi recognition team:North 7d value 8
expect_kpi recognition team:South 7d value 4
expect_kpi recognition_capped team:North 7d value "$(python3 -c 'print(3 / 11)')"
expect_kpi recognition_capped team:South 7d value 0.2
expect_kpi recognition_capped department:Eng 7d value 0.25
expect_kpi recognition_capped org 7d count 12

# ---------------------------------------------------------------- forget
"$bin" forget --config "$work/caps.yaml" --employee E01 --request-id DSR-7 \
	>"$work/forget.out" 2>"$work/forget.err" ||
	{ cat "$work/forget.err" >&2; lib_fail "forget exited with an error"; }
# The count covers keys in the per-person space and entries of the day hashes.
grep -q '2 per-person Redis keys deleted' "$work/forget.out" ||
	lib_fail "forget did not report E01's 2 day counts: $(cat "$work/forget.out")"
lib_assert_eq "" "$(day_count E01 "$day_a_s")" "E01's day count on A after forget"
lib_assert_eq "" "$(day_count E01 "$day_b_s")" "E01's day count on B after forget"
lib_assert_eq 2 "$(rcli hlen "{cp}:caps:$day_a_s")" "people in the day hash of A after forget"
lib_assert_eq 1 "$(rcli hlen "{cp}:caps:$day_b_s")" "people in the day hash of B after forget"
lib_assert_eq recognition_given=3 "$(day_count E02 "$day_a_s")" "E02's day count after forget"
lib_assert_eq "other_behaviour=4 recognition_given=3" "$(day_count E03 "$day_b_s")" \
	"E03's day counts after forget"

# No raw employee id in Redis keys or values, the KPI topic or the logs.
lib_stop "$daemon" || fail_with_log "the daemon did not exit cleanly"
rcli --scan >"$work/redis-keys.txt"
while read -r key; do
	[ "$(rcli type "$key")" = hash ] && rcli hgetall "$key"
done <"$work/redis-keys.txt" >"$work/redis-values.txt"
for needle in E01 E02 E03 E04 E05 E06; do
	for f in redis-keys.txt redis-values.txt kpi.json daemon1.log daemon2.log daemon3.log; do
		! grep -qF -- "$needle" "$work/$f" || lib_fail "'$needle' reached $f"
	done
done
lib_log "daily caps test passed"
