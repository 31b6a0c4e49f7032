#!/usr/bin/env bash
# advocacyd forget, with a daemon running on a roster of six people. Erasing
# one of them writes a tombstone to every roster partition, and the daemon
# logs the removal as a count. The person's keys in the per-person Redis
# space are deleted, while other people's keys and the aggregates stay. One
# governance record names the request without the raw id, an alias or the
# pseudonym. Running it again is harmless. Bad arguments, a bad config and
# an unreachable Redis give the documented exit codes and messages.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=../lib.sh
source "$here/../lib.sh"
lib_init

lib_start_redis
lib_start_devkafka advocacy.events:2 advocacy.roster:3 advocacy.kpi:1 \
	advocacy.escalations:1 advocacy.dlq:1 advocacy.governance:1
work=$LIB_TMP
bin=$(lib_bin advocacyd)

cp "$ADVOCACY_SOURCE_DIR/tests/fixtures/hmac.key" "$work/hmac.key"
write_config() { # FILE REDIS_PORT
	cat >"$1" <<EOF2
kafka:
  bootstrap_servers: "$KAFKA_BOOTSTRAP"
  group_id: forget
  inputs:
    - {topic: advocacy.events, format: avro}
  roster_topic: advocacy.roster
redis:
  host: 127.0.0.1
  port: $2
  key_prefix: fg
privacy:
  key_file: hmac.key
  key_id: test-1
behaviours:
  recognition_given:
    rules:
      - {kinds: [recognition], credit: actor}
kpis:
  - id: recognition_count
    behaviours: [recognition_given]
    aggregation: count
    window: 24h
    quadrant: learning_growth
    indicator: leading
    weight: 1
    target: 10
outputs:
  tick_interval: 1s
admin:
  port: 0
EOF2
}
write_config "$work/forget.yaml" "$REDIS_PORT"
"$bin" --check-config "$work/forget.yaml" >/dev/null || lib_fail "test config invalid"

# The person to erase, one of their aliases, and the pseudonyms the daemon
# derives from them with the test key.
target=emp-0003
target_alias=rosa.example@example.com
target_slack=U0TARGET3
pseudonym() {
	python3 -c 'import hmac, hashlib, sys
key = bytes.fromhex(open(sys.argv[1]).read().strip())
print(hmac.new(key, sys.argv[2].encode(), hashlib.sha256).digest()[:16].hex())' "$work/hmac.key" "$1"
}
target_ps=$(pseudonym "$target")
alias_ps=$(pseudonym "$target_alias")
slack_ps=$(pseudonym "$target_slack")
other_ps=$(pseudonym emp-0001)

for i in 1 2 3 4 5 6; do
	aliases='[]'
	[ "$i" = 3 ] && aliases="[\"$target_slack\", \"$target_alias\"]"
	printf 'emp-000%s\t{"department":"Eng","team":"A","segment":"knowledge","work_mode":"remote","employment_type":"full_time","region":"EMEA","aliases":%s}\n' \
		"$i" "$aliases"
done | kcat -P -b "$KAFKA_BOOTSTRAP" -t advocacy.roster -K $'\t'
for i in 1 2 3 4 5 6; do
	printf '{"event_id":"e%s","age_s":60,"kind":"recognition","actor_id":"emp-000%s","target_ids":[]}\n' "$i" "$i"
done | "$(lib_bin advocacyd-produce)" --brokers "$KAFKA_BOOTSTRAP" --topic advocacy.events

"$bin" --config "$work/forget.yaml" 2>"$work/daemon.log" &
daemon=$!
lib_track "$daemon"
fail_with_log() {
	cat "$work/daemon.log" >&2
	lib_fail "$@"
}
lib_wait_for "grep -q 'msg=\"roster loaded\" people=6' '$work/daemon.log'" 30 ||
	fail_with_log "the daemon did not load the six people of the roster"

rcli() { redis-cli -h 127.0.0.1 -p "$REDIS_PORT" "$@"; }
count_keys() { rcli --scan --pattern "$1" | wc -l | tr -d ' '; }
lib_wait_for "[ \$(count_keys '{fg}:n:*') -gt 0 ] && [ \$(count_keys '{fg}:u:*') -gt 0 ]" 30 ||
	fail_with_log "the daemon wrote no aggregates to Redis"
sleep 1 # let the last batch land, so the aggregate counts below are final
aggregates_before=$(count_keys '{fg}:[nud]:*')

# Per-person records in the reserved space: three of the target's, one of
# another person's, and 2500 of made-up people so that SCAN needs several
# steps to visit everything.
rcli set "{fg}:p:$target_ps:consent" external_sharing >/dev/null
rcli hset "{fg}:p:$target_ps:caps:7d" recognition_given 4 >/dev/null
rcli pfadd "{fg}:p:$target_ps:seen" x >/dev/null
rcli set "{fg}:p:$other_ps:consent" external_sharing >/dev/null
python3 -c 'import sys
for i in range(2500):
    sys.stdout.write("SET {fg}:p:%032x:caps 1\n" % (i + 1))' | rcli >/dev/null
lib_assert_eq 3 "$(count_keys "{fg}:p:$target_ps:*")" "target's per-person keys before"

# ---------------------------------------------------------------- forget
"$bin" forget --config "$work/forget.yaml" --employee "$target" --request-id DSR-2041 \
	>"$work/forget.out" 2>"$work/forget.err" ||
	{ cat "$work/forget.err" >&2; lib_fail "forget exited $?"; }
grep -q 'request DSR-2041 done: 3 roster tombstones' "$work/forget.out" ||
	lib_fail "unexpected forget output: $(cat "$work/forget.out")"
grep -q '3 per-person Redis keys deleted' "$work/forget.out" ||
	lib_fail "forget did not report 3 deleted keys: $(cat "$work/forget.out")"

# One tombstone (null value, printed as NULL by kcat -Z) per roster partition.
kcat -C -b "$KAFKA_BOOTSTRAP" -t advocacy.roster -o beginning -e -q -Z -f '%p|%k|%s\n' \
	>"$work/roster.txt"
lib_assert_eq 3 "$(grep -c "^[0-2]|$target|NULL\$" "$work/roster.txt")" "tombstones of $target"
lib_assert_eq "0 1 2" "$(grep "|$target|NULL\$" "$work/roster.txt" | cut -d'|' -f1 | sort | xargs)" \
	"roster partitions that got a tombstone"

# The daemon drops the person and logs a count, not who.
lib_wait_for "grep -q 'msg=\"people removed from the roster\" removed=1 removed_total=1 people=5' '$work/daemon.log'" 15 ||
	fail_with_log "the daemon did not log the removal"

# Redis: the target's per-person keys are gone; everything else stays.
lib_assert_eq 0 "$(count_keys "{fg}:p:$target_ps:*")" "target's per-person keys after"
lib_assert_eq 1 "$(count_keys "{fg}:p:$other_ps:*")" "another person's per-person keys"
lib_assert_eq 2501 "$(count_keys '{fg}:p:*')" "per-person keys of everyone else"
lib_assert_eq "$aggregates_before" "$(count_keys '{fg}:[nud]:*')" "aggregate and event id keys"

# The governance record.
# Prints the number of erasure records on the governance topic.
erasure_records() {
	kcat -C -b "$KAFKA_BOOTSTRAP" -t advocacy.governance -o beginning -e -q -f '%s\n' |
		grep -cE '"type": ?"erasure"' || true
}

# The daemon recorded its config at start; the erasure record follows it.
kcat -C -b "$KAFKA_BOOTSTRAP" -t advocacy.governance -o beginning -e -q -f '%k\t%s\n' |
	grep -E '"type": ?"erasure"' >"$work/governance.txt" || true
lib_assert_eq 1 "$(wc -l <"$work/governance.txt" | tr -d ' ')" "erasure records"
python3 - "$work/governance.txt" <<'PYTHON' || lib_fail "governance record: $(cat "$work/governance.txt")"
import json, sys
key, value = open(sys.argv[1]).read().rstrip("\n").split("\t", 1)
assert key == "DSR-2041", key
r = json.loads(value)
assert r["type"] == "erasure", r
assert r["request_id"] == "DSR-2041", r
assert r["key_id"] == "test-1", r
assert r["roster_topic"] == "advocacy.roster", r
assert r["redis_key_prefix"] == "fg", r
assert r["removed"] == {"roster_tombstones": 3, "roster_partitions": 3, "redis_person_keys": 3}, r
assert r["time"].endswith("Z"), r["time"]
assert len(r["time"]) == len("2026-01-04T10:15:00.250Z"), r["time"]
PYTHON

# Nothing that identifies the person anywhere advocacyd wrote.
for secret in "$target" "$target_alias" "$target_slack" "$target_ps" "$alias_ps" "$slack_ps"; do
	for file in governance.txt forget.out forget.err daemon.log; do
		if grep -qF "$secret" "$work/$file"; then
			lib_fail "$file contains an identifier of the erased person ($secret)"
		fi
	done
done

# ---------------------------------------------------------------- again, id from stdin
printf '%s\n' "$target" |
	"$bin" forget --config "$work/forget.yaml" --employee - --request-id DSR-2041.retry \
		>"$work/again.out" 2>"$work/again.err" ||
	{ cat "$work/again.err" >&2; lib_fail "forget run again exited $?"; }
grep -q '3 roster tombstones.*, 0 per-person Redis keys deleted' "$work/again.out" ||
	lib_fail "unexpected output of the second run: $(cat "$work/again.out")"
lib_assert_eq 2 "$(erasure_records)" "erasure records after the second run"
lib_assert_eq 2501 "$(count_keys '{fg}:p:*')" "per-person keys after the second run"

# ---------------------------------------------------------------- errors
expect_exit() { # CODE MESSAGE_PATTERN COMMAND...
	local code=$1 pattern=$2 status=0
	shift 2
	"$@" >"$work/err.out" 2>"$work/err.txt" </dev/null || status=$?
	lib_assert_eq "$code" "$status" "exit status of: ${*:2}"
	grep -q -- "$pattern" "$work/err.txt" ||
		lib_fail "stderr of '${*:2}' lacks '$pattern': $(cat "$work/err.txt")"
}
expect_exit 2 '--config and --employee are required' "$bin" forget --config "$work/forget.yaml"
expect_exit 2 'request id: character 4 is invalid' \
	"$bin" forget --config "$work/forget.yaml" --employee "$target" --request-id 'abc@example.com'
expect_exit 2 'employee id must have 1 to 1024 bytes' \
	"$bin" forget --config "$work/forget.yaml" --employee ''
expect_exit 2 'no line on standard input' \
	"$bin" forget --config "$work/forget.yaml" --employee -
expect_exit 2 'No such file' "$bin" forget --config "$work/missing.yaml" --employee "$target"
expect_exit 2 'unexpected argument' \
	"$bin" forget --config "$work/forget.yaml" --employee "$target" extra

write_config "$work/no-redis.yaml" "$(lib_free_port)"
expect_exit 1 'not deleted: no connection within the timeout.*run the same command again' \
	"$bin" forget --config "$work/no-redis.yaml" --employee "$target"
lib_assert_eq 2 "$(erasure_records)" "erasure records after a failed run"

status=0
lib_stop "$daemon" || status=$?
[ "$status" -eq 0 ] || fail_with_log "daemon exited $status on SIGTERM"
