# shellcheck shell=bash
# tests/faults/lib_input_faults.sh - shell helpers of the fault tests about
# faulty input (repeated ids, late and future events, poison records).
#
# Source it instead of lib_faults.sh: it sources lib_faults.sh and adds
# configs with a free admin port and extra kafka settings, waits on claims
# and consumption, and runs input_faults.py (see its docstring).

# shellcheck source=lib_faults.sh
source "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/lib_faults.sh"

# shellcheck disable=SC2034 # used by the tests that source this file
INPUT_FAULTS_PY=(python3 "$FAULTS_DIR/input_faults.py")

# Like faults_config NAME GROUP PREFIX ASSIGNOR, and then sets each further
# argument KEY=VALUE in the kafka section and lets the admin server pick a
# free port, so that several daemons and tests can run at once.
input_faults_config() {
	local name=$1 group=$2 prefix=$3 assignor=$4
	shift 4
	faults_config "$name" "$group" "$prefix" "$assignor"
	local out=$LIB_TMP/$name.yaml setting
	for setting in "$@"; do
		sed -i "s|^kafka:\$|kafka:\n  ${setting%%=*}: ${setting#*=}|" "$out"
	done
	grep -q '^admin:' "$out" || printf 'admin:\n  port: 0\n' >>"$out"
	"$ADVOCACY_BUILD_DIR/advocacyd" --check-config "$out" >/dev/null ||
		lib_fail "fault test config $out is invalid after adding $* and the admin port"
}

# Produces FILE (JSON lines) to the input topic, keyed by each line's
# kafka_key field where it has one and else by its event id.
input_faults_produce() {
	"$ADVOCACY_BUILD_DIR/advocacyd-produce" --brokers "$KAFKA_BOOTSTRAP" \
		--topic "$FAULTS_INPUT_TOPIC" --key-field kafka_key <"$1" 2>>"$LIB_TMP/produce.log" ||
		lib_fail "cannot produce $1 (see $LIB_TMP/produce.log)"
}

# Waits until LOG shows a claimed input partition, failing after TIMEOUT_S.
input_faults_wait_claimed() {
	local log=$1 timeout_s=$2
	lib_wait_for "grep -q 'msg=\"partition claimed\" topic=$FAULTS_INPUT_TOPIC ' '$log'" \
		"$timeout_s" || { tail -n 20 "$log" >&2; lib_fail "no input partition claimed in $log within ${timeout_s}s"; }
}

# Prints the input partitions LOG shows claimed, sorted and unique.
input_faults_claimed_partitions() {
	sed -n "s/.*msg=\"partition claimed\" topic=$FAULTS_INPUT_TOPIC partition=\([0-9]*\) .*/\1/p" "$1" |
		sort -un | tr '\n' ' '
}

# Waits until the offsets in Redis add up to COUNT for GROUP under PREFIX,
# failing after TIMEOUT_S with the count reached.
input_faults_wait_consumed() {
	local prefix=$1 group=$2 count=$3 timeout_s=$4
	local deadline=$((SECONDS + timeout_s)) done=0
	while [ "$SECONDS" -lt "$deadline" ]; do
		done=$(faults_consumed "$prefix" "$group")
		[ "$done" -ge "$count" ] && break
		sleep 0.5
	done
	[ "$done" -eq "$count" ] ||
		lib_fail "Redis offsets of group $group add up to $done after ${timeout_s}s; $count messages were produced"
}

# Prints field NAME of the JSON object on stdin, or 0 when it has none (a
# counter that stayed zero is not logged).
input_faults_field() {
	python3 -c 'import json, sys; print(json.load(sys.stdin).get(sys.argv[1], 0))' "$1"
}
