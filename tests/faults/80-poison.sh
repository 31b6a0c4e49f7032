#!/usr/bin/env bash
# Poison records: Redis rejects the writes of a known set of events. Before
# the daemon starts, one 5m HyperLogLog key is set to a plain string and
# one field of a 5m count hash to a non-integer. input_faults.py picks keys
# that two to four generated events touch. The daemon must retry each
# rejected batch kafka.poison_attempts times, find the rejected events one
# message at a time, dead-letter exactly those with reason redis_rejected,
# consume every offset, and count everything else exactly.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=lib_input_faults.sh
source "$here/lib_input_faults.sh"
faults_init

events=$(faults_event_count 20000)
attempts=3

faults_start_stack 4
input_faults_config poison poison poison range "poison_attempts=$attempts"
# No replays: a replay of a poisoned event is a poison record of its own and
# is dead-lettered too, while this test expects each poisoned event once.
faults_gen --seed 80 --employees 300 --events "$events" --unknown 200 --retracts 200 \
	--late 10 --future 10 --duplicates 0
faults_produce_roster
messages=$(faults_messages)
"${INPUT_FAULTS_PY[@]}" poison-pick --dir "$FAULTS_DATA" --config "$LIB_TMP/poison.yaml" \
	--seed 80 >"$LIB_TMP/poison.json" || lib_fail "input_faults.py poison-pick failed"
lib_log "poisoned keys: $(cat "$LIB_TMP/poison.json")"

poison_value() {
	python3 -c 'import json, sys; print(json.load(sys.stdin)[sys.argv[1]][sys.argv[2]])' "$1" "$2" \
		<"$LIB_TMP/poison.json"
}
hll_key=$(poison_value hll key)
count_key=$(poison_value count key)
count_field=$(poison_value count field)
redis-cli -p "$REDIS_PORT" SET "$hll_key" "not a hyperloglog" >/dev/null
redis-cli -p "$REDIS_PORT" HSET "$count_key" "$count_field" "not-a-number" >/dev/null
lib_assert_eq string "$(redis-cli -p "$REDIS_PORT" TYPE "$hll_key")" "type of the poisoned HyperLogLog key"

faults_start_daemon poison
input_faults_wait_claimed "$DAEMON_LOG" 60
start=$SECONDS
faults_produce
faults_assert_topic_complete
input_faults_wait_consumed poison poison "$messages" 180
lib_log "all $messages messages consumed in $((SECONDS - start))s"

"${INPUT_FAULTS_PY[@]}" poison-check --dir "$FAULTS_DATA" --config "$LIB_TMP/poison.yaml" \
	--attempts "$attempts" --redis-port "$REDIS_PORT" --bootstrap "$KAFKA_BOOTSTRAP" --wait 30 ||
	lib_fail "the dead letters or the totals do not match the poisoned keys (see above)"

faults_privacy_scan "$DAEMON_LOG"
faults_stop_clean "$DAEMON_PID" "$DAEMON_LOG"
"${INPUT_FAULTS_PY[@]}" log-counters "$DAEMON_LOG" >"$LIB_TMP/counters.json"
lib_log "daemon counters: $(cat "$LIB_TMP/counters.json")"
poisoned=$(python3 -c 'import json, sys; p = json.load(sys.stdin)
print(len(set(p["hll"]["events"]) | set(p["count"]["events"])))' <"$LIB_TMP/poison.json")
lib_assert_eq "$poisoned" "$(input_faults_field dead_lettered.redis_rejected <"$LIB_TMP/counters.json")" \
	"dead-lettered redis_rejected count in the daemon's final stats line"
echo "PASS 80-poison"
