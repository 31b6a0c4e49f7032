#!/usr/bin/env bash
# Late, future and out-of-order events. A first wave of recent events (at
# most 4 hours old) carries events older than windows.allowed_lateness (2d)
# and further ahead than windows.max_future (5m). Once it is consumed and
# checked, a second wave of older events arrives out of order. Its events
# are 4.5 to 21 hours old (5m, 1h and 1d buckets) or 27 to 46 hours old
# (1d buckets only), and one is at exactly local midnight in Europe/Berlin.
#
# Totals must equal truth.py's after each wave, the KPI topic must carry
# updated windows with new counts after the second, the DLQ must hold
# exactly the late events with dlq.reason=late and the future ones with
# dlq.reason=future_event_time, and the midnight event must count in the
# day bucket that starts at that midnight.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=lib_input_faults.sh
source "$here/lib_input_faults.sh"
faults_init

events=$(faults_event_count 20000)
older=$((events / 2))
late=$((events / 100))
future=$((events / 150))

faults_start_stack 4
input_faults_config late late late range
"${INPUT_FAULTS_PY[@]}" waves --dir "$FAULTS_DATA" --config "$LIB_TMP/late.yaml" --seed 75 \
	--employees 300 --events "$events" --older-events "$older" --late "$late" \
	--future "$future" >"$LIB_TMP/waves.json" || lib_fail "input_faults.py waves failed"
lib_log "waves: $(cat "$LIB_TMP/waves.json")"
wave1=$(input_faults_field messages <"$FAULTS_DATA/wave1/meta.json")
faults_produce_roster

faults_start_daemon late
input_faults_wait_claimed "$DAEMON_LOG" 60

# First wave: recent events with late and future ones among them.
start=$SECONDS
input_faults_produce "$FAULTS_DATA/wave1.jsonl"
input_faults_wait_consumed late late "$wave1" 120
"${FAULTS_TRUTH[@]}" check --config "$LIB_TMP/late.yaml" --dir "$FAULTS_DATA/wave1" \
	--redis-port "$REDIS_PORT" --bootstrap "$KAFKA_BOOTSTRAP" ||
	lib_fail "truth.py check found mismatches after the first wave (see above)"
lib_log "first wave consumed and checked in $((SECONDS - start))s"
kcat -C -b "$KAFKA_BOOTSTRAP" -t advocacy.kpi -e -q >"$LIB_TMP/kpi-before.txt"

# Second wave: older events, out of order, within the allowed lateness.
input_faults_produce "$FAULTS_DATA/wave2.jsonl"
faults_assert_topic_complete
faults_check late --wait 120
lib_log "both waves consumed and checked in $((SECONDS - start))s"

kcat -C -b "$KAFKA_BOOTSTRAP" -t advocacy.kpi -e -q >"$LIB_TMP/kpi-after.txt"
"${INPUT_FAULTS_PY[@]}" kpi-diff --before "$LIB_TMP/kpi-before.txt" --after "$LIB_TMP/kpi-after.txt" \
	--windows 22h 24h 7d || lib_fail "the KPI topic did not update the windows the older events fall into"

"${INPUT_FAULTS_PY[@]}" midnight-check --dir "$FAULTS_DATA" --config "$LIB_TMP/late.yaml" \
	--redis-port "$REDIS_PORT" || lib_fail "the event at local midnight is not in the new day's bucket"

"${INPUT_FAULTS_PY[@]}" dlq-reasons --bootstrap "$KAFKA_BOOTSTRAP" >"$LIB_TMP/dlq.json" ||
	lib_fail "cannot read the DLQ"
echo "dead letters by reason: $(cat "$LIB_TMP/dlq.json") (generated: late=$late future=$future)"
lib_assert_eq "$late" "$(input_faults_field late <"$LIB_TMP/dlq.json")" "DLQ records with dlq.reason=late"
lib_assert_eq "$future" "$(input_faults_field future_event_time <"$LIB_TMP/dlq.json")" \
	"DLQ records with dlq.reason=future_event_time"
lib_assert_eq "$((late + future))" \
	"$(python3 -c 'import json, sys; print(sum(json.load(sys.stdin).values()))' <"$LIB_TMP/dlq.json")" \
	"DLQ records of any reason"

faults_privacy_scan "$DAEMON_LOG"
faults_stop_clean "$DAEMON_PID" "$DAEMON_LOG"
"${INPUT_FAULTS_PY[@]}" log-counters "$DAEMON_LOG" >"$LIB_TMP/counters.json"
lib_log "daemon counters: $(cat "$LIB_TMP/counters.json")"
lib_assert_eq "$late" "$(input_faults_field dead_lettered.late <"$LIB_TMP/counters.json")" \
	"dead-lettered late count in the daemon's final stats line"
lib_assert_eq "$future" "$(input_faults_field dead_lettered.future_event_time <"$LIB_TMP/counters.json")" \
	"dead-lettered future_event_time count in the daemon's final stats line"
lib_assert_eq "$late" "$(input_faults_field late <"$LIB_TMP/counters.json")" \
	"late counter in the daemon's final counters line"
echo "PASS 75-late-future"
