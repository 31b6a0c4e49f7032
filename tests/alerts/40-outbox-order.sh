#!/usr/bin/env bash
# The outbox keeps each alert's order. While the brokers are down, one alert
# fires, repeats, is resolved by a reload that raises its bound, and fires
# again, so the outbox contains six or more records of one dedup key. After
# kill -9 and the brokers' return, the next lease holder sends them again
# in the order they were decided: firing, repeats, resolved, firing again.
# Redis returns a hash in no particular order, so this fails without the
# order stored in each outbox record.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=../lib.sh
source "$here/../lib.sh"
# shellcheck source=lib_alerts.sh
source "$here/lib_alerts.sh"
lib_init
alerts_setup
write_config "repeat_interval: 1s, for: 2s"

start_daemon "$work/daemon-1.log"
wait_evaluating "$work/daemon-1.log"
count_to 6 1
kill -USR1 "$DEVKAFKA_PID"
sleep 5
sed -i 's/value: 5, resolve_value: 3/value: 5.5, resolve_value: 3/' "$work/alerts.yaml"
kill -HUP "$daemon"
sleep 4
stored=$(outbox_len)
[ "$stored" -ge 6 ] || fail_with_logs "expected at least 6 records in the outbox, got $stored"

kill -KILL "$daemon"
wait "$daemon" 2>/dev/null || true
lib_untrack "$daemon"
kill -USR2 "$DEVKAFKA_PID"
start_daemon "$work/daemon-2.log"
wait_evaluating "$work/daemon-2.log" 20
lib_wait_for "[ \"\$(outbox_len)\" = 0 ]" 20 || fail_with_logs "outbox not cleared: $(outbox_len)"

escalations >"$work/escalations.jsonl"
sent=$(wc -l <"$work/escalations.jsonl")
[ "$sent" -ge "$stored" ] || fail_with_logs "$stored records were in the outbox, $sent sent"
check=$(cat <<'PY'
import json, sys
sys.path.insert(0, sys.argv[1])
from ce_field import attributes

RANK = {"firing": 0, "repeat": 1, "escalated": 1, "resolved": 2}


def position(event_id):
    """(started_at, rank of the state, repeat sequence) from "<key>/<start>/<state>[/<seq>]"."""
    parts = event_id.split("/")
    if parts[-2] == "repeat":
        return (int(parts[-3]), RANK["repeat"], int(parts[-1]))
    return (int(parts[-2]), RANK[parts[-1]], 0)


ids = [attributes(json.loads(line))["id"] for line in sys.stdin]
print("\n".join(ids), file=sys.stderr)
states = [i.split("/")[-2] if i.split("/")[-2] == "repeat" else i.split("/")[-1] for i in ids]
assert states.count("resolved") == 1, "one resolve expected"
assert states.count("firing") == 2, "two firings expected"
positions = [position(i) for i in ids]
assert positions == sorted(positions), "records of one alert out of order"
PY
)
python3 -c "$check" "$here" <"$work/escalations.jsonl" || fail_with_logs "records sent again wrong (ids above)"
lib_stop "$daemon" || fail_with_logs "advocacyd exited non-zero"
lib_log "outbox order: $stored records of one alert sent again in order"
