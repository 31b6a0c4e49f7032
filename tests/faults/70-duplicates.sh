#!/usr/bin/env bash
# Repeated event ids count once. About 50,000 generated events carry repeats
# in the same batch (right behind the original), in later batches, on
# another partition, and in a second wave that replays first-wave ids after
# one daemon was restarted. Two instances in one consumer group share the
# four input partitions. Totals must equal truth.py's (each id once), the id
# sets must hold each counted id once, and the daemons' duplicate_event
# counters must add up to the repeats produced. Prints the Redis memory of
# the id sets per million ids.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=lib_input_faults.sh
source "$here/lib_input_faults.sh"
faults_init

partitions=4
events=$(faults_event_count 50000)
repeats=$((events / 25))       # truth.py gen: later, same partition
adjacent=$((events / 100))     # right behind the original
cross=$((events / 100))        # later, another partition
second_wave=$((events / 50))   # after a restart, half on another partition

faults_start_stack "$partitions"
input_faults_config dup dup dup range
ADVOCACY_FAULTS_DUPLICATES=$repeats faults_gen --seed 70 --employees 400 --events "$events" \
	--late 20 --future 20 --unknown 300 --retracts 300
faults_produce_roster
"${INPUT_FAULTS_PY[@]}" replays --dir "$FAULTS_DATA" --config "$LIB_TMP/dup.yaml" --seed 70 \
	--partitions "$partitions" --adjacent "$adjacent" --cross "$cross" \
	--second-wave "$second_wave" >"$LIB_TMP/replays.json" || lib_fail "input_faults.py replays failed"
lib_log "replays: $(cat "$LIB_TMP/replays.json")"
meta=$FAULTS_DATA/meta.json
wave1=$(python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["waves"][0])' "$meta")
total=$(input_faults_field messages <"$meta")

# Two instances in one group: each reads half of the partitions.
faults_start_daemon dup
pid_a=$DAEMON_PID log_a=$DAEMON_LOG
faults_start_daemon dup
pid_b=$DAEMON_PID log_b=$DAEMON_LOG
input_faults_wait_claimed "$log_a" 60
input_faults_wait_claimed "$log_b" 60

start=$SECONDS
input_faults_produce "$FAULTS_DATA/wave1.jsonl"
input_faults_wait_consumed dup dup "$wave1" 180
lib_log "first wave of $wave1 messages consumed in $((SECONDS - start))s"
claimed_b=$(input_faults_claimed_partitions "$log_b")
[ -n "$claimed_b" ] || lib_fail "the second instance claimed no partition; log $log_b"
lib_log "second instance claimed partitions: $claimed_b"

# Restart one instance, then replay first-wave ids. The new process has an
# empty cache of known ids, so only Redis can tell the repeats.
faults_stop_clean "$pid_a" "$log_a"
faults_start_daemon dup
pid_a2=$DAEMON_PID log_a2=$DAEMON_LOG
input_faults_wait_claimed "$log_a2" 60
input_faults_produce "$FAULTS_DATA/wave2.jsonl"

faults_assert_topic_complete
"${INPUT_FAULTS_PY[@]}" spread --bootstrap "$KAFKA_BOOTSTRAP" --topic "$FAULTS_INPUT_TOPIC" \
	"$FAULTS_DATA/wave1.jsonl" "$FAULTS_DATA/wave2.jsonl" >"$LIB_TMP/spread.json" ||
	lib_fail "input_faults.py spread failed"
lib_log "partitions: $(cat "$LIB_TMP/spread.json")"
spread=$(input_faults_field ids_on_several_partitions <"$LIB_TMP/spread.json")
elsewhere=$(input_faults_field ids_keyed_to_another_partition <"$meta")
lib_assert_eq "$elsewhere" "$spread" "event ids on more than one partition (replay keys were chosen for another partition by CRC-32, librdkafka's default partitioner)"

faults_check dup --wait 180
lib_log "all $total messages consumed and checked $((SECONDS - start))s after the first produce"

"${INPUT_FAULTS_PY[@]}" dedup-memory --redis-port "$REDIS_PORT" --prefix dup \
	--expect-ids "$(input_faults_field expected_deduplicated_ids <"$meta")" >"$LIB_TMP/dedup.json" ||
	lib_fail "the event id sets do not hold each counted id once (see above)"
echo "dedup memory: $(cat "$LIB_TMP/dedup.json")"

faults_privacy_scan "$log_a" "$log_b" "$log_a2"
faults_stop_clean "$pid_a2" "$log_a2"
faults_stop_clean "$pid_b" "$log_b"

"${INPUT_FAULTS_PY[@]}" log-counters "$log_a" "$log_b" "$log_a2" >"$LIB_TMP/counters.json"
ignored=$(input_faults_field ignored.duplicate_event <"$LIB_TMP/counters.json")
refused=$(input_faults_field duplicate_batches <"$LIB_TMP/counters.json")
expected=$(input_faults_field expected_duplicate_events <"$meta")
echo "duplicate_event ignored: $ignored (repeats of counted events produced: $expected;" \
	"batches Redis refused for holding repeats: $refused)"
lib_assert_eq "$expected" "$ignored" "duplicate_event count summed over the daemons' final stats lines"
echo "PASS 70-duplicates"
