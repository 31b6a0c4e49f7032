#!/usr/bin/env bash
# The ground-truth checker itself. truth.py check passes on an undisturbed
# run of advocacyd (Redis buckets, KPI updates and dead letters). Then each
# change to Redis must make it fail and name the key: a count off by one, an
# unexpected field, an extra contributor in a HyperLogLog and a missing
# HyperLogLog. Undoing each change makes it pass again.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=lib_faults.sh
source "$here/lib_faults.sh"
faults_init

faults_start_stack 4
faults_config selftest selftest selftest range
faults_gen --seed 42 --employees 60 --events 4000 --late 10 --future 10 --unknown 50 \
	--retracts 50
faults_produce_roster
faults_produce
faults_start_daemon selftest
faults_check selftest --wait 60
faults_stop_clean "$DAEMON_PID" "$DAEMON_LOG"

redis() {
	redis-cli -p "$REDIS_PORT" "$@"
}

# Runs the Redis part of the check, with its mismatch lines in check.err.
check_redis() {
	"${FAULTS_TRUTH[@]}" check --config "$LIB_TMP/selftest.yaml" --dir "$FAULTS_DATA" \
		--redis-port "$REDIS_PORT" >/dev/null 2>"$LIB_TMP/check.err"
}

# Fails unless the check fails (status 1) and names KEY.
expect_mismatch() { # what key
	local status=0
	check_redis || status=$?
	[ "$status" -eq 1 ] || lib_fail "$1: truth.py check exited $status, expected 1: $(cat "$LIB_TMP/check.err")"
	grep -qF -- "$2" "$LIB_TMP/check.err" ||
		lib_fail "$1: the mismatches do not name $2: $(cat "$LIB_TMP/check.err")"
}

expect_match() { # after what
	check_redis || lib_fail "truth.py check fails after $1: $(cat "$LIB_TMP/check.err")"
}

count_key=$(redis --scan --pattern '{selftest}:n:1d:*' | sed -n 1p)
hll_key=$(redis --scan --pattern '{selftest}:u:1h:*' | grep -F '|org' | sed -n 1p)
[ -n "$count_key" ] && [ -n "$hll_key" ] || lib_fail "no day bucket or hourly HyperLogLog in Redis"

redis hincrby "$count_key" 'recognition_given|org' 1 >/dev/null
expect_mismatch "count off by one" "$count_key recognition_given|org"
redis hincrby "$count_key" 'recognition_given|org' -1 >/dev/null
expect_match "restoring the count"

redis hset "$count_key" 'recognition_given|team:Nowhere' 3 >/dev/null
expect_mismatch "unexpected field" "recognition_given|team:Nowhere"
redis hdel "$count_key" 'recognition_given|team:Nowhere' >/dev/null
expect_match "removing the field"

redis copy "$hll_key" '{selftest}:backup' >/dev/null
# Several pseudonyms: one alone may fall into a register that is already higher.
redis pfadd "$hll_key" 0123456789abcdef0123456789abcdef fedcba9876543210fedcba9876543210 \
	00112233445566778899aabbccddeeff ffeeddccbbaa99887766554433221100 >/dev/null
expect_mismatch "extra contributor" "$hll_key"
redis rename '{selftest}:backup' "$hll_key" >/dev/null
expect_match "restoring the HyperLogLog"

redis rename "$hll_key" '{selftest}:backup' >/dev/null
expect_mismatch "missing HyperLogLog" "$hll_key"
redis rename '{selftest}:backup' "$hll_key" >/dev/null
expect_match "restoring the HyperLogLog key"

faults_privacy_scan "$DAEMON_LOG"
echo "10-checker: ok"
