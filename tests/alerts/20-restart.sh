#!/usr/bin/env bash
# A restart while an alert fires neither fires it again nor loses it:
# after a graceful stop and after kill -9 (the lease then expires first),
# the next instance reads the state back, sends no second firing, and sends
# exactly one resolve when the count drops. CloudEvents structured mode.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=../lib.sh
source "$here/../lib.sh"
# shellcheck source=lib_alerts.sh
source "$here/lib_alerts.sh"
lib_init
alerts_setup

ALERTS_EXTRA="cloudevents_mode: structured" write_config

start_daemon "$work/daemon-1.log"
wait_evaluating "$work/daemon-1.log"
count_to 6
lib_wait_for "[ \"\$(count_state firing)\" = 1 ]" 10 || fail_with_logs "no firing"
lib_wait_for "[ \"\$(outbox_len)\" = 0 ]" 10 || fail_with_logs "outbox not cleared"

# Graceful stop: the lease is given up and taken at once by the next start.
lib_stop "$daemon" || fail_with_logs "advocacyd exited non-zero"
start_daemon "$work/daemon-2.log"
wait_evaluating "$work/daemon-2.log" 10
grep 'msg="escalation state loaded' "$work/daemon-2.log" | grep -q 'firing=1' ||
	fail_with_logs "the restarted instance did not read the firing alert back"
count_to 7 6
lib_assert_eq 1 "$(count_state firing)" "firing records after a graceful restart"

# kill -9: the lease stays until it expires (4 s), then the next start takes it.
kill -KILL "$daemon"
wait "$daemon" 2>/dev/null || true
lib_untrack "$daemon"
start_daemon "$work/daemon-3.log"
wait_evaluating "$work/daemon-3.log" 20
grep 'msg="escalation state loaded' "$work/daemon-3.log" | grep -q 'firing=1' ||
	fail_with_logs "the instance after kill -9 did not read the firing alert back"
count_to 8 6
lib_assert_eq 1 "$(count_state firing)" "firing records after kill -9"

count_to 2
lib_wait_for "[ \"\$(count_state resolved)\" = 1 ]" 10 || fail_with_logs "no resolve"
sleep 1
lib_assert_eq 1 "$(count_state resolved)" "resolved records"
lib_assert_eq 1 "$(count_state firing)" "firing records at the end"
escalations | python3 -c '
import json, sys
recs = [json.loads(json.loads(l)["payload"]) for l in sys.stdin]
assert all(r["specversion"] == "1.0" for r in recs), recs
assert all(r["datacontenttype"].startswith("application/json") for r in recs), recs
fire, res = recs[0], recs[-1]
assert fire["data"]["starts_at"] == res["data"]["starts_at"], (fire, res)
assert fire["id"] != res["id"], (fire, res)
' || fail_with_logs "structured records wrong: $(escalations)"
escalations | python3 "$here/cloudevents_check.py" >"$work/check.json" ||
	lib_fail "records are not valid CloudEvents: $(cat "$work/check.json")"
lib_stop "$daemon" || fail_with_logs "advocacyd exited non-zero"
lib_log "restart: one firing across a graceful restart and kill -9, one resolve"
