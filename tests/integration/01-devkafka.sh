#!/usr/bin/env bash
# The dev broker: topics with their partition counts, a keyed produce and
# consume round trip through kcat, loopback-only addresses, the bootstrap
# file, brokers taken down and up by SIGUSR1/SIGUSR2, and a clean exit.
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"
lib_init

bin=$(lib_bin advocacyd-devkafka)

# Command line.
"$bin" --help | grep -q SIGUSR1 || lib_fail "--help does not document SIGUSR1"
status=0
"$bin" --topic 'bad:0' 2>/dev/null || status=$?
lib_assert_eq 2 "$status" "exit status for a topic with 0 partitions"

lib_start_devkafka devkafka.a:3 devkafka.b:2
lib_log "dev broker at $KAFKA_BOOTSTRAP"

# Loopback only, and no warning from the broker's own bind check.
[[ $KAFKA_BOOTSTRAP =~ ^127\.0\.0\.1:[0-9]+(,127\.0\.0\.1:[0-9]+)*$ ]] ||
	lib_fail "bootstrap address '$KAFKA_BOOTSTRAP' is not on 127.0.0.1"
if grep -q warning "$DEVKAFKA_LOG"; then
	lib_fail "dev broker warned: $(cat "$DEVKAFKA_LOG")"
fi

# Partition counts as requested.
metadata=$(kcat -L -b "$KAFKA_BOOTSTRAP")
grep -q 'topic "devkafka.a" with 3 partitions' <<<"$metadata" ||
	lib_fail "devkafka.a does not have 3 partitions: $metadata"
grep -q 'topic "devkafka.b" with 2 partitions' <<<"$metadata" ||
	lib_fail "devkafka.b does not have 2 partitions: $metadata"

# 1000 keyed messages round trip, spread over every partition.
seq 1 1000 | awk '{ printf "key-%d\tvalue-%d\n", $1, $1 }' |
	kcat -P -b "$KAFKA_BOOTSTRAP" -t devkafka.a -K '\t'
lib_assert_eq 1000 "$(lib_kcat_count devkafka.a)" "messages consumed from devkafka.a"
lib_assert_eq 0 "$(lib_kcat_count devkafka.b)" "messages consumed from devkafka.b"

consumed=$(kcat -C -b "$KAFKA_BOOTSTRAP" -t devkafka.a -e -q -f '%p %k %s\n')
lib_assert_eq 1000 "$(cut -d' ' -f2 <<<"$consumed" | sort -u | wc -l)" "distinct keys"
lib_assert_eq 3 "$(cut -d' ' -f1 <<<"$consumed" | sort -u | wc -l)" "partitions holding messages"
bad_pairs=$(awk '{ sub("key-", "", $2); sub("value-", "", $3); if ($2 != $3) n++ } END { print n + 0 }' \
	<<<"$consumed")
lib_assert_eq 0 "$bad_pairs" "messages whose value does not match their key"

# SIGUSR1 takes the brokers down: clients are refused, the process lives on.
kill -USR1 "$DEVKAFKA_PID"
lib_wait_for "! kcat -L -b '$KAFKA_BOOTSTRAP' -m 1" 10 ||
	lib_fail "brokers still answer after SIGUSR1"
kill -0 "$DEVKAFKA_PID" || lib_fail "dev broker exited after SIGUSR1"

# SIGUSR2 brings them back, with the data intact.
kill -USR2 "$DEVKAFKA_PID"
lib_wait_for "kcat -L -b '$KAFKA_BOOTSTRAP' -m 1" 10 ||
	lib_fail "brokers do not answer after SIGUSR2"
lib_assert_eq 1000 "$(lib_kcat_count devkafka.a)" "messages after the brokers came back"
seq 1 10 | awk '{ printf "late-%d\tv\n", $1 }' | kcat -P -b "$KAFKA_BOOTSTRAP" -t devkafka.a -K '\t'
lib_assert_eq 1010 "$(lib_kcat_count devkafka.a)" "messages after producing 10 more"

# SIGTERM: exit 0 (under the sanitizers this includes the leak check).
status=0
lib_stop "$DEVKAFKA_PID" || status=$?
lib_assert_eq 0 "$status" "dev broker exit status after SIGTERM"

# --bootstrap-file contains the same address as stdout and is removed at exit.
bootstrap_file=$LIB_TMP/bootstrap
"$bin" --brokers 2 --topic devkafka.c --bootstrap-file "$bootstrap_file" \
	>"$LIB_TMP/second.out" 2>"$LIB_TMP/second.log" &
second=$!
lib_track "$second"
lib_wait_for "[ -s '$bootstrap_file' ] && [ -s '$LIB_TMP/second.out' ]" 10 ||
	lib_fail "no bootstrap file: $(cat "$LIB_TMP/second.log")"
lib_assert_eq "$(head -n 1 "$LIB_TMP/second.out")" "$(cat "$bootstrap_file")" \
	"bootstrap file content"
[[ $(cat "$bootstrap_file") =~ ^127\.0\.0\.1:[0-9]+,127\.0\.0\.1:[0-9]+$ ]] ||
	lib_fail "two brokers expected in '$(cat "$bootstrap_file")'"
status=0
lib_stop "$second" || status=$?
lib_assert_eq 0 "$status" "second dev broker exit status"
[ ! -e "$bootstrap_file" ] || lib_fail "bootstrap file left behind after exit"

lib_log "PASS 01-devkafka"
