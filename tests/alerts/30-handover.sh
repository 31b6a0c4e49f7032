#!/usr/bin/env bash
# Two instances: exactly one evaluates (holds the lease). Killing it with
# SIGKILL while an alert fires hands the lease to the other after the time
# to live (5 s): the fence moves on, the firing alert is read back and not sent
# again, and its resolve comes exactly once, from the new holder. Avro data
# in CloudEvents binary mode.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=../lib.sh
source "$here/../lib.sh"
# shellcheck source=lib_alerts.sh
source "$here/lib_alerts.sh"
lib_init
alerts_setup
# A lease of 5 s: the holder renews it every 1.7 s. The test checks that the
# first holder keeps it, which a shorter lease risks on a loaded machine.
ESC_FORMAT=avro LEASE_TTL=5s write_config

start_daemon "$work/daemon-a.log"
pid_a=$daemon
wait_evaluating "$work/daemon-a.log"
start_daemon "$work/daemon-b.log"
pid_b=$daemon
lib_admin_port "$work/daemon-b.log" >/dev/null || fail_with_logs "instance b did not start"
sleep 2
grep -q 'msg="escalation state loaded' "$work/daemon-b.log" &&
	fail_with_logs "both instances evaluate escalations"

count_to 6
lib_wait_for "[ \"\$(count_state firing)\" = 1 ]" 10 || fail_with_logs "no firing"
lib_wait_for "[ \"\$(outbox_len)\" = 0 ]" 10 || fail_with_logs "outbox not cleared"

grep -q 'msg="escalation state loaded' "$work/daemon-b.log" &&
	fail_with_logs "instance b evaluates while instance a holds the lease"
# A holder whose loop stalls past the lease takes it again with a new fence,
# so compare with the fence at the kill rather than with 1.
fence_before=$(redis-cli -p "$REDIS_PORT" get '{alerts}:alerts:fence')
kill -KILL "$pid_a"
wait "$pid_a" 2>/dev/null || true
lib_untrack "$pid_a"
wait_evaluating "$work/daemon-b.log" 20
grep 'msg="escalation state loaded' "$work/daemon-b.log" | grep -q 'firing=1' ||
	fail_with_logs "instance b did not read the firing alert back"
fence_after=$(redis-cli -p "$REDIS_PORT" get '{alerts}:alerts:fence')
[ "$fence_after" -gt "$fence_before" ] ||
	fail_with_logs "the fence did not move on at the handover: $fence_before, then $fence_after"
grep 'msg="escalation lease taken"' "$work/daemon-b.log" | grep -q "fence=$fence_after" ||
	fail_with_logs "instance b does not hold the latest fence $fence_after"

count_to 2
lib_wait_for "[ \"\$(count_state resolved)\" = 1 ]" 20 || fail_with_logs "no resolve after the handover"
sleep 1
lib_assert_eq 1 "$(count_state firing)" "firing records"
lib_assert_eq 1 "$(count_state resolved)" "resolved records"
escalations | python3 "$here/cloudevents_check.py" >"$work/check.json" ||
	lib_fail "records are not valid CloudEvents: $(cat "$work/check.json")"
lib_stop "$pid_b" || fail_with_logs "advocacyd exited non-zero"
lib_log "handover: fence $fence_before -> $fence_after, one firing, one resolve"
