#!/usr/bin/env bash
# advocacyd backfill of the fixture Slack export (tests/fixtures/slack_export)
# into a running daemon, against real redis-server and the dev broker. The
# totals per behaviour in Redis must equal the ones computed by hand from the
# fixture. Running the backfill a second time, and a third time after a
# daemon restart with broken files added to the export, must leave them
# unchanged. The third run reports each broken file and exits 1. Also: the
# exit codes of bad arguments, --since/--until, events older than the
# allowed lateness, no raw id or name in Redis or the output, and a dry run
# of the published slackdump export when ../shared/data/realworld exists.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=../lib.sh
source "$here/../lib.sh"
lib_init

lib_start_redis
lib_start_devkafka advocacy.events:4 slack.events:1 advocacy.roster:1 advocacy.kpi:1 \
	advocacy.escalations:1 advocacy.dlq:1 advocacy.governance:1
work=$LIB_TMP
bin=$(lib_bin advocacyd)
export_dir=$ADVOCACY_SOURCE_DIR/tests/fixtures/slack_export

# ---------------------------------------------------------------- config
# The fixture's messages are from March 2025, so the lateness and the
# retention are ten years. The rules follow the shipped ones for Slack.
cp "$ADVOCACY_SOURCE_DIR/tests/fixtures/hmac.key" "$work/hmac.key"
write_config() { # FILE LATENESS
	cat >"$1" <<EOF
kafka:
  bootstrap_servers: "$KAFKA_BOOTSTRAP"
  group_id: backfill
  inputs:
    - {topic: slack.events, format: slack}
    - {topic: advocacy.events, format: avro}
  roster_topic: advocacy.roster
  # A restarted daemon rejoins the group within seconds on the dev broker.
  properties: {session.timeout.ms: 3000, heartbeat.interval.ms: 300}
redis:
  host: 127.0.0.1
  port: $REDIS_PORT
  key_prefix: bf
privacy:
  key_file: hmac.key
  key_id: test-1
windows:
  granularities: [1h, 1d]
  retention: 3650d
  allowed_lateness: $2
  rolling:
    - {length: 7d}
behaviours:
  recognition_given:
    rules:
      - {kinds: [reaction_added], sources: [slack], reactions: [tada, clap, heart], credit: actor}
      - {kinds: [message_posted], sources: [slack], channels: [C0KUDOS01], requires_targets: true, credit: actor}
  recognition_received:
    rules:
      - {kinds: [reaction_added], sources: [slack], reactions: [tada, clap, heart], credit: targets}
      - {kinds: [message_posted], sources: [slack], channels: [C0KUDOS01], requires_targets: true, credit: targets}
  content_contribution:
    rules:
      - {kinds: [message_posted, file_shared], sources: [slack], channels: [C0COMMUNITY1]}
  forum_participation:
    rules:
      - {kinds: [reply_posted, message_posted], sources: [slack], channels: [C0COMMUNITY1]}
  posts:
    rules:
      - {kinds: [message_posted], sources: [slack]}
  replies:
    rules:
      - {kinds: [reply_posted], sources: [slack]}
  reactions:
    rules:
      - {kinds: [reaction_added], sources: [slack]}
  files:
    rules:
      - {kinds: [file_shared], sources: [slack]}
  joins:
    rules:
      - {kinds: [channel_joined], sources: [slack]}
kpis:
  - id: posts_count
    behaviours: [posts]
    aggregation: count
    window: 7d
    quadrant: learning_growth
    indicator: leading
    weight: 1
    target: 10
outputs:
  tick_interval: 1s
admin:
  port: 0
EOF
}
write_config "$work/backfill.yaml" 3650d
write_config "$work/week.yaml" 7d
"$bin" --check-config "$work/backfill.yaml" >/dev/null || lib_fail "test config invalid"

# Totals computed by hand from the 19 events of the fixture, which
# tests/unit/test_slack_export.c lists. Recognition given is three tada, a
# clap, a heart and two kudos messages that name people. Recognition
# received counts one per person named or reacted to.
expected="content_contribution=5 files=2 forum_participation=4 joins=2 posts=7
reactions=6 recognition_given=7 recognition_received=6 replies=2"
expected=$(echo "$expected" | tr ' \n' '\n\n' | grep . | sort)

rcli() { redis-cli -h 127.0.0.1 -p "$REDIS_PORT" "$@"; }

# Prints behaviour=total at org scope, summed over the day buckets.
totals() {
	local key behaviour
	for behaviour in content_contribution files forum_participation joins posts reactions \
		recognition_given recognition_received replies; do
		local sum=0 v
		for key in $(rcli --scan --pattern '{bf}:n:1d:*'); do
			v=$(rcli hget "$key" "$behaviour|org")
			sum=$((sum + ${v:-0}))
		done
		echo "$behaviour=$sum"
	done
}

# Sum of the next offsets the daemon stored for advocacy.events.
consumed() {
	rcli hgetall '{bf}:offsets' | paste - - | awk -F'\t' '$1 ~ /\|advocacy.events\|/ {s += $2} END {print s + 0}'
}

start_daemon() {
	"$bin" --config "$work/backfill.yaml" 2>>"$work/daemon.log" &
	daemon=$!
	lib_track "$daemon"
	lib_wait_for "grep -q 'msg=\"roster loaded\"' '$work/daemon.log'" 30 ||
		fail_with_log "the daemon did not load the roster"
}
fail_with_log() {
	tail -n 40 "$work/daemon.log" >&2
	lib_fail "$@"
}

# Runs the backfill with ARGS; stores stdout, stderr and the exit code.
backfill() {
	rc=0
	"$bin" backfill --config "$work/backfill.yaml" "$@" >"$work/out" 2>"$work/err" || rc=$?
}

# ---------------------------------------------------------------- arguments
backfill
lib_assert_eq 2 "$rc" "exit code without --export"
grep -q -- '--config and --export are required' "$work/err" || lib_fail "no usage message"
backfill --export "$export_dir" --since 2025-02-30
lib_assert_eq 2 "$rc" "exit code of an invalid --since date"
grep -q "not a date; use YYYY-MM-DD" "$work/err" || lib_fail "no date message: $(cat "$work/err")"
backfill --export "$export_dir" --since 2025-03-12 --until 2025-03-11
lib_assert_eq 2 "$rc" "exit code of --since after --until"
backfill --export "$export_dir" --topic slack.events
lib_assert_eq 2 "$rc" "exit code of a topic of format slack"
grep -q "format slack" "$work/err" || lib_fail "no topic message: $(cat "$work/err")"
backfill --export "$work/no-such-export"
lib_assert_eq 2 "$rc" "exit code of a missing export folder"
grep -q -- "--export $work/no-such-export: cannot open the folder" "$work/err" ||
	lib_fail "no folder message: $(cat "$work/err")"

# No broker listening: exit 1 before anything is read or produced.
sed "s/$KAFKA_BOOTSTRAP/127.0.0.1:$(lib_free_port)/" "$work/backfill.yaml" >"$work/nobroker.yaml"
rc=0
"$bin" backfill --config "$work/nobroker.yaml" --export "$export_dir" >"$work/out" \
	2>"$work/err" || rc=$?
lib_assert_eq 1 "$rc" "exit code without a broker"
grep -q "Nothing was produced" "$work/err" || lib_fail "no broker message: $(cat "$work/err")"

# Dry runs: date filters, and the shipped 7d lateness that leaves March 2025 out.
backfill --export "$export_dir" --dry-run --since 2025-03-11
lib_assert_eq 0 "$rc" "exit code of a dry run with --since"
grep -q "events to produce: 2$" "$work/out" || lib_fail "--since: $(cat "$work/out")"
backfill --export "$export_dir" --dry-run --until 2025-03-10
grep -q "events to produce: 17$" "$work/out" || lib_fail "--until: $(cat "$work/out")"
grep -q "not produced: after_until 2$" "$work/out" || lib_fail "--until count: $(cat "$work/out")"
rc=0
"$bin" backfill --config "$work/week.yaml" --export "$export_dir" --dry-run >"$work/out" \
	2>"$work/err" || rc=$?
lib_assert_eq 0 "$rc" "exit code when every event is older than the lateness"
grep -q "not produced: older_than_allowed_lateness 19$" "$work/out" ||
	lib_fail "lateness: $(cat "$work/out")"
grep -q "raise windows.allowed_lateness" "$work/out" || lib_fail "no lateness note"
lib_assert_eq 0 "$(lib_kcat_count advocacy.events)" "messages after the dry runs"

# ---------------------------------------------------------------- first run
start_daemon
backfill --export "$export_dir"
[ "$rc" = 0 ] || lib_fail "first backfill exited $rc: $(cat "$work/out" "$work/err")"
cat "$work/out" >&2
grep -q "events produced: 19$" "$work/out" || lib_fail "first run: $(cat "$work/out")"
grep -q "by kind: message_posted 7, reply_posted 2, reaction_added 6, file_shared 2, channel_joined 2$" \
	"$work/out" || lib_fail "first run kinds: $(cat "$work/out")"
grep -q "delivery: 0 not delivered$" "$work/out" || lib_fail "first run delivery"
lib_assert_eq 19 "$(lib_kcat_count advocacy.events)" "messages on advocacy.events"
lib_wait_for "[ \$(consumed) -eq 19 ]" 30 || fail_with_log "the daemon consumed $(consumed) of 19"
sleep 1
lib_assert_eq "$expected" "$(totals)" "totals after the first run"

# ---------------------------------------------------------------- second run
backfill --export "$export_dir"
lib_assert_eq 0 "$rc" "exit code of the second run"
grep -q "events produced: 19$" "$work/out" || lib_fail "second run: $(cat "$work/out")"
lib_wait_for "[ \$(consumed) -eq 38 ]" 30 || fail_with_log "the daemon consumed $(consumed) of 38"
sleep 1
lib_assert_eq "$expected" "$(totals)" "totals after the second run"

# ---------------------------------------------------------------- third run
# A restarted daemon (no cache of ids in memory) and an export with a
# malformed day file, a day file over the 64 MiB limit (sparse) and a folder
# no listing names.
lib_stop "$daemon" || fail_with_log "the daemon did not stop cleanly"
start_daemon
broken=$work/broken-export
cp -r "$export_dir" "$broken"
printf '[{"type": "message", "user": "U0ALICE01", "ts": "1741700000.000100"},\r\n{"text": ' \
	>"$broken/kudos/2025-03-12.json"
truncate -s 65M "$broken/community-lounge/2025-03-12.json"
mkdir "$broken/orphan"
echo '[]' >"$broken/orphan/2025-03-10.json"
backfill --export "$broken"
lib_assert_eq 1 "$rc" "exit code with broken files"
cat "$work/out" "$work/err" >&2
grep -q "channel C0KUDOS01/2025-03-12.json: invalid_json: not valid JSON (line 2, column" \
	"$work/err" || lib_fail "no message for the malformed file"
grep -q "channel C0COMMUNITY1/2025-03-12.json: file_too_large: 68157440 bytes" "$work/err" ||
	lib_fail "no message for the large file"
grep -q "folder orphan: not listed in channels.json" "$work/err" ||
	lib_fail "no message for the unlisted folder"
grep -q "files: 4 channel folders, 8 day files read, 0 outside --since/--until, 3 failed" \
	"$work/out" || lib_fail "third run files: $(cat "$work/out")"
grep -q "errors: 3$" "$work/out" || lib_fail "third run errors"
grep -q "events produced: 19$" "$work/out" || lib_fail "third run events"
lib_wait_for "[ \$(consumed) -eq 57 ]" 30 || fail_with_log "the daemon consumed $(consumed) of 57"
sleep 1
lib_assert_eq "$expected" "$(totals)" "totals after the third run"
lib_assert_eq 0 "$(lib_kcat_count advocacy.dlq)" "dead letters"
[ "$(rcli --scan --pattern '{bf}:d:*' | wc -l)" -gt 0 ] || lib_fail "no event id sets in Redis"

# ---------------------------------------------------------------- privacy
# No raw Slack user id, name or e-mail address in Redis or the output.
rcli --scan >"$work/redis.txt"
while read -r key; do
	case $(rcli type "$key") in
	hash) rcli hgetall "$key" ;;
	string) rcli get "$key" ;;
	esac
done <"$work/redis.txt" >>"$work/redis.txt"
for word in U0ALICE01 U0BOB0002 U0CAROL03 "Ana Example" ana.example example.com; do
	! grep -q "$word" "$work/redis.txt" || lib_fail "Redis contains '$word'"
	! grep -q "$word" "$work/out" "$work/err" || lib_fail "the backfill output contains '$word'"
	! grep -q "$word" "$work/daemon.log" || lib_fail "the daemon log contains '$word'"
done

# ---------------------------------------------------------------- real-world export
realworld=${ADVOCACY_REALWORLD_DIR:-$ADVOCACY_SOURCE_DIR/../shared/data/realworld}/slackdump-export
if [ -d "$realworld" ]; then
	backfill --export "$realworld" --dry-run
	lib_assert_eq 0 "$rc" "exit code on the slackdump export: $(cat "$work/err")"
	grep -q "events to produce: 14$" "$work/out" || lib_fail "slackdump: $(cat "$work/out")"
	grep -q "by kind: message_posted 7, reply_posted 4, file_shared 2, channel_joined 1$" \
		"$work/out" || lib_fail "slackdump kinds: $(cat "$work/out")"
	grep -q "ignored: tombstone 1$" "$work/out" || lib_fail "slackdump ignored"
else
	lib_log "no $realworld; the published export is not checked"
fi

lib_stop "$daemon" || fail_with_log "the daemon did not stop cleanly"
echo "PASS: slack backfill"
