#!/usr/bin/env bash
# A firing alert whose rule is removed, or whose bound changes, while no
# instance runs still gets its resolve: the next instance reads the stored
# description of the rule and sends the resolve in its place. After a bound
# change the alert starts over under the new bound.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=../lib.sh
source "$here/../lib.sh"
# shellcheck source=lib_alerts.sh
source "$here/lib_alerts.sh"
lib_init
alerts_setup
write_config

start_daemon "$work/daemon-1.log"
wait_evaluating "$work/daemon-1.log"
count_to 6
lib_wait_for "[ \"\$(count_state firing)\" = 1 ]" 10 || fail_with_logs "no firing"
lib_stop "$daemon" || fail_with_logs "advocacyd exited non-zero"

# A bound change while stopped: one resolve of the old alert, then a new firing.
sed -i 's/value: 5, resolve_value: 3/value: 4, resolve_value: 3/' "$work/alerts.yaml"
"$bin" --check-config "$work/alerts.yaml" >/dev/null || lib_fail "changed config invalid"
start_daemon "$work/daemon-2.log"
wait_evaluating "$work/daemon-2.log" 10
lib_wait_for "[ \"\$(count_state firing)\" = 2 ]" 10 || fail_with_logs "no new firing under the new bound"
lib_assert_eq 1 "$(count_state resolved)" "resolved records after a bound change"
lib_stop "$daemon" || fail_with_logs "advocacyd exited non-zero"

# The rule removed while stopped: the firing alert still resolves, once.
sed -i '/^    thresholds:/,/^         }$/d' "$work/alerts.yaml"
if grep -q recognition_high "$work/alerts.yaml"; then lib_fail "the rule was not removed"; fi
"$bin" --check-config "$work/alerts.yaml" >/dev/null || lib_fail "config without the rule invalid"
start_daemon "$work/daemon-3.log"
wait_evaluating "$work/daemon-3.log" 10
lib_wait_for "[ \"\$(count_state resolved)\" = 2 ]" 10 || fail_with_logs "the removed rule's alert never resolved"
lib_wait_for "[ \"\$(redis-cli -p $REDIS_PORT hlen '{alerts}:alerts:state')\" = 0 ]" 10 ||
	fail_with_logs "the removed rule's state was not deleted"
sleep 1
lib_assert_eq 2 "$(count_state firing)" "firing records at the end"
lib_assert_eq 2 "$(count_state resolved)" "resolved records at the end"
escalations | python3 -c '
import json, sys
recs = [json.loads(json.loads(l)["payload"]) for l in sys.stdin]
starts = {}
for r in recs:
    starts.setdefault(r["starts_at"], []).append(r["status"])
assert sorted(starts.values()) == [["firing", "resolved"]] * 2, starts
last = recs[-1]
assert last["rule_id"] == "recognition_high", last
assert last["kpi"] == "recognition_count", last
assert last["runbook_url"] == "https://runbooks.invalid/recognition", last
assert last["labels"] == {"programme": "pilot"}, last
' || fail_with_logs "records wrong: $(escalations)"
escalations | python3 "$here/cloudevents_check.py" >"$work/check.json" ||
	lib_fail "records are not valid CloudEvents: $(cat "$work/check.json")"
lib_stop "$daemon" || fail_with_logs "advocacyd exited non-zero"
lib_log "rule removed or changed while stopped: each firing got its resolve"
