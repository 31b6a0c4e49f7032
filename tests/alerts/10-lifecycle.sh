#!/usr/bin/env bash
# Escalation lifecycle against real redis-server and the dev broker. The
# org count moves 6 5 6 4 6 3 4 around a rule that fires above 5 (for two
# ticks) and resolves at 3 or less. The flapping value gives exactly one
# firing and one resolve, with the same dedup key and start. While firing,
# repeats come every second with rising sequence numbers. Every record is a
# valid CloudEvent (binary mode, JSON data), keyed by its dedup key, and
# carries what PagerDuty and Alertmanager need.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=../lib.sh
source "$here/../lib.sh"
# shellcheck source=lib_alerts.sh
source "$here/lib_alerts.sh"
lib_init
alerts_setup

write_config "repeat_interval: 1s"
start_daemon "$work/daemon.log"
wait_evaluating "$work/daemon.log"

count_to 4
lib_assert_eq 0 "$(escalations | wc -l)" "escalations while the count is 4"
for value in 6 5 6 4 6 3 4; do
	count_to "$value"
done

lib_assert_eq 1 "$(count_state firing)" "firing records for a flapping value"
lib_assert_eq 1 "$(count_state resolved)" "resolved records for a flapping value"
repeats=$(count_state repeat)
[ "$repeats" -ge 2 ] || fail_with_logs "expected repeats every second while firing, got $repeats"

escalations | python3 -c '
import json, sys
sys.path.insert(0, sys.argv[1])
from ce_field import attributes
recs = []
for line in sys.stdin:
    env = json.loads(line)
    attrs = attributes(env)
    recs.append((env, attrs, json.loads(env["payload"])))
kinds = [a["type"].rsplit(".", 1)[1] for _, a, _ in recs]
assert kinds[0] == "firing", kinds
assert kinds[-1] == "resolved", kinds
assert set(kinds[1:-1]) == {"repeat"}, kinds
ids = [a["id"] for _, a, _ in recs]
assert len(set(ids)) == len(ids), ids
for env, attrs, data in recs:
    assert env["key"] == "recognition_high/org", env["key"]
    assert attrs["subject"] == "recognition_high/org", attrs
    assert attrs["source"] == "/advocacyd/test", attrs
    assert data["dedup_key"] == "recognition_high/org", data
    assert data["severity"] == "warning", data
    assert data["kpi"] == "recognition_count", data
    assert data["scope"] == "org", data
    assert data["runbook_url"] == "https://runbooks.invalid/recognition", data
    assert data["labels"] == {"programme": "pilot"}, data
    assert data["owner"] == "HR", data
    assert data["threshold"] == 5, data
    assert data["resolve_threshold"] == 3, data
    assert data["summary"], data
fire, res = recs[0][2], recs[-1][2]
assert fire["observed"] == 6, fire
assert fire["ends_at"] is None, fire
assert res["observed"] == 3, res
assert res["starts_at"] == fire["starts_at"], (fire, res)
assert res["ends_at"] >= res["starts_at"], res
seqs = [d["sequence"] for _, a, d in recs if a["type"].endswith(".repeat")]
assert seqs == list(range(1, len(seqs) + 1)), seqs
' "$here" || fail_with_logs "escalation records wrong: $(escalations)"

escalations >"$work/escalations.jsonl"
python3 "$here/cloudevents_check.py" <"$work/escalations.jsonl" >"$work/check.json" ||
	lib_fail "records are not valid CloudEvents: $(cat "$work/check.json")"

# Everything was delivered, so the outbox is empty and the stored state is inactive.
lib_wait_for "[ \"\$(outbox_len)\" = 0 ]" 10 || fail_with_logs "outbox not cleared: $(outbox_len)"
state=$(redis-cli -p "$REDIS_PORT" hget '{alerts}:alerts:state' recognition_high/org)
[[ $state == "a1 0 0 "* ]] || lib_fail "stored state is not inactive and unannounced: $state"

lib_stop "$daemon" || fail_with_logs "advocacyd exited non-zero"
grep -q 'msg="escalation lease given up"' "$work/daemon.log" ||
	fail_with_logs "the lease was not given up at stop"
lib_log "lifecycle: 1 firing, $repeats repeats, 1 resolve for 6 5 6 4 6 3 4"
