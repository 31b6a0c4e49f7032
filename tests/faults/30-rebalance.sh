#!/usr/bin/env bash
# Rebalance and scale-out: two, then three advocacyd instances in one
# consumer group share the input partitions while events are produced, and
# instances join and leave mid-stream: one stops with SIGTERM, one is killed
# with SIGKILL and started again. This runs once with the eager assignors
# (range,roundrobin) and once with cooperative-sticky, each on a fresh Redis
# and dev broker. After each run, the Redis buckets, the latest KPI updates
# and the dead letters must equal truth.py's ground truth exactly.
#
# Then the input topic of the second run serves as a backlog for a
# throughput measurement: one instance, then two instances in a new group,
# each reading the whole topic. The test prints both rates; it does not
# assert a speed-up, because both instances write to the one Redis.
#
# Environment: ADVOCACY_FAULTS_EVENTS (the test uses a third of it; default
# 300000, and a third of that in the sanitizer build), ADVOCACY_FAULTS_SEED
# (default random; printed).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=lib_faults.sh
source "$here/lib_faults.sh"
faults_init

seed=${ADVOCACY_FAULTS_SEED:-$((RANDOM * 32768 + RANDOM))}
RANDOM=$seed
events=$(($(faults_event_count 300000) / 3))
produce_seconds=30
lib_log "30-rebalance: seed $seed, $events events over ${produce_seconds}s per run"
faults_gen --seed "$seed" --employees 200 --events "$events" --late 100 --future 50 \
	--unknown 1000 --retracts 1000
total=$(faults_messages)
faults_split_events 85

# Logs of the instances of the current run; pids by instance name.
declare -A pid_of log_of

start_instance() { # name config
	faults_start_daemon "$2"
	pid_of[$1]=$DAEMON_PID
	log_of[$1]=$DAEMON_LOG
	lib_log "$1 started (pid $DAEMON_PID, config $2)"
}

# Waits until the instance logged a partition assignment.
wait_assigned() { # name
	lib_wait_for "grep -q 'msg=\"partition assigned\"' '${log_of[$1]}'" 60 ||
		lib_fail "$1 got no partition within 60 s; log ${log_of[$1]}"
}

# Sleeps 2 to 4 s while events normally keep arriving. The last 15% of the
# events are held back until every membership change is done. So each change
# happens mid-stream even when group joins are slow.
pause_mid_stream() { # what comes next
	sleep "$((2 + RANDOM % 3))"
	faults_producing || lib_log "paced production has ended before: $1"
}

# One run: fresh Redis and broker, instances join and leave mid-stream.
rebalance_run() { # name assignor
	local name=$1 assignor=$2 at
	faults_start_stack 8
	faults_config "$name" "$name" "$name" "$assignor"
	faults_produce_roster
	faults_start_producer "$produce_seconds" "$FAULTS_DATA/events.head.jsonl"

	start_instance a "$name"
	start_instance b "$name"
	wait_assigned a
	wait_assigned b
	pause_mid_stream "the third instance joins"
	start_instance c "$name"
	wait_assigned c
	pause_mid_stream "instance a leaves with SIGTERM"
	faults_stop_clean "${pid_of[a]}" "${log_of[a]}"
	lib_log "a stopped with SIGTERM"
	pause_mid_stream "instance b is killed"
	at=$(faults_consumed "$name" "$name")
	faults_kill9 "${pid_of[b]}"
	lib_log "b killed with SIGKILL; Redis offsets at $at of $total"
	pause_mid_stream "instance b comes back"
	start_instance b2 "$name"
	wait_assigned b2

	faults_wait_producer
	faults_produce "$FAULTS_DATA/events.tail.jsonl"
	faults_assert_topic_complete
	faults_check "$name" --wait 180
	faults_stop_clean "${pid_of[c]}" "${log_of[c]}"
	faults_stop_clean "${pid_of[b2]}" "${log_of[b2]}"
	faults_privacy_scan "$LIB_TMP/$name".*.log
	lib_log "$name: totals exact with $assignor"
}

# Sets RATE to the events per second of INSTANCES instances in a new group
# reading the whole input topic. The clock starts when the last instance got
# its partitions (so the group join is left out) and stops when Redis holds
# the offsets of every message.
measure_backlog() { # name instances
	local name=$1 n=$2 i start done_at consumed_at_start
	faults_config "$name" "$name" "$name" range
	for ((i = 1; i <= n; i++)); do
		start_instance "$name-$i" "$name"
	done
	for ((i = 1; i <= n; i++)); do
		wait_assigned "$name-$i"
	done
	start=$(date +%s.%N)
	consumed_at_start=$(faults_consumed "$name" "$name")
	lib_wait_for "[ \$(faults_consumed $name $name) -ge $total ]" 300 ||
		lib_fail "$name did not consume the backlog within 300 s"
	done_at=$(date +%s.%N)
	for ((i = 1; i <= n; i++)); do
		faults_stop_clean "${pid_of[$name-$i]}" "${log_of[$name-$i]}"
	done
	RATE=$(python3 -c 'import sys
events, start, end = int(sys.argv[1]), float(sys.argv[2]), float(sys.argv[3])
print(round(events / (end - start)))' "$((total - consumed_at_start))" "$start" "$done_at")
}

rebalance_run eager range,roundrobin
lib_stop "$DEVKAFKA_PID" || true
lib_stop "$REDIS_PID" || true
rebalance_run cooperative cooperative-sticky

measure_backlog backlog1 1
one=$RATE
measure_backlog backlog2 2
two=$RATE
echo "30-rebalance: backlog of $total events: one instance $one events/s, two instances $two events/s combined"
echo "30-rebalance: ok (seed $seed)"
