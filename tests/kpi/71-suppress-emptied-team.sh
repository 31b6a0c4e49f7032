#!/usr/bin/env bash
# Sibling suppression of a team that has no current member, through a real
# daemon, redis-server and the dev broker (the emptied_team case of
# tests/unit/test_kpi_subtraction.c).
#
# Roster (16 people, privacy.min_group_size 5 by default), all in Sales:
#   team North 6 (emp-0001..0006), South 7 (emp-0007..0013),
#   Gone 3 (emp-0014..0016).
# Recognitions in the last minute: emp-0001 one, emp-0007 one, and Gone's
# three people 2 + 1 + 1 = 4. Once counted, a reorganisation moves Gone's
# people to North. Their 4 recognitions stay in the buckets of team:Gone and
# department:Sales, and team:Gone, now with current headcount 0, is
# suppressed. Were department:Sales (count 6), team:North (1) and team:South
# (1) all emitted after the move, 6 - 1 - 1 = 4 would be Gone's count. Gone
# keeps its figure and its department, so South is hidden as its sibling.
# Expected: North, South or Sales suppressed in the ticks after the move.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=../lib.sh
source "$here/../lib.sh"
lib_init

# shellcheck source=lib_suppress.sh
source "$here/lib_suppress.sh"

roster() {
	local n=0 spec dept team count
	for spec in "$@"; do
		IFS=: read -r dept team count <<<"$spec"
		for _ in $(seq "$count"); do
			n=$((n + 1))
			printf 'emp-%04d\t{"department":"%s","team":"%s","aliases":[]}\n' "$n" "$dept" "$team"
		done
	done | kcat -P -b "$KAFKA_BOOTSTRAP" -t advocacy.roster -K $'\t'
}
roster Sales:North:6 Sales:South:7 Sales:Gone:3
i=0
for actor in 1 7 14 14 15 16; do
	i=$((i + 1))
	printf '{"event_id":"r%d","age_s":60,"kind":"recognition","actor_id":"emp-%04d","target_ids":[]}\n' \
		"$i" "$actor"
done | "$ADVOCACY_BUILD_DIR/advocacyd-produce" --brokers "$KAFKA_BOOTSTRAP" --topic advocacy.events

"$bin" --config "$work/suppress.yaml" 2>"$work/daemon.log" &
LIB_PIDS+=("$!")

expect_kpi() { python3 "$ADVOCACY_SOURCE_DIR/tests/integration/kpi_check.py" "$work/kpi.json" "$@"; }
read_kpis() {
	kcat -C -b "$KAFKA_BOOTSTRAP" -t advocacy.kpi -e -q -f '%k\t%s\n' >"$work/kpi.json" || true
}
lib_wait_for "read_kpis && expect_kpi recognition_rate org 24h count 6" 120 ||
	{ cat "$work/daemon.log"; lib_fail "the KPIs never reached their counts"; }
# The reorganisation: Gone's three people join North (16 people again).
roster Sales:North:6 Sales:South:7 Sales:North:3
lib_wait_for "read_kpis && expect_kpi recognition_rate team:North 24h headcount 9" 120 ||
	{ cat "$work/daemon.log"; lib_fail "the move never reached the KPIs"; }
sleep 2
read_kpis
# Only the ticks after the move count: keep the records computed from the
# tick that first showed North with 9 people on.
python3 - "$work/kpi.json" >"$work/kpi.after" <<'PY'
import json, sys
rows = [l.rstrip("\n").split("\t", 1) for l in open(sys.argv[1]) if "\t" in l]
moved = min(json.loads(v)["computed_at"] for _, v in rows
            if json.loads(v)["scope"] == "team:North" and json.loads(v)["headcount"] == 9)
for k, v in rows:
    if json.loads(v)["computed_at"] >= moved:
        print(k + "\t" + v)
PY
mv "$work/kpi.after" "$work/kpi.json"
expect_kpi --absent recognition_rate team:Gone 24h
if expect_kpi recognition_rate department:Sales 24h count 6 >/dev/null &&
	expect_kpi recognition_rate team:North 24h count 1 >/dev/null &&
	expect_kpi recognition_rate team:South 24h count 1 >/dev/null; then
	lib_fail "department:Sales (count 6), team:North (1) and team:South (1) are all on the" \
		"KPI topic: 6 - 1 - 1 = 4 is the count of the suppressed team:Gone"
fi
lib_log "no suppressed figure given away"
