#!/usr/bin/env bash
# Sibling suppression of a team that spans two departments, through a real
# daemon, redis-server and the dev broker (tests/unit/test_kpi_subtraction.c
# has the same case as a unit test).
#
# Roster (18 people, privacy.min_group_size 5 by default):
#   department Sales: team North 5, team South 5, team Float 2
#   department Ops:   team Depot 5, team Float 1 (emp-0018)
# team:Float has 3 people, 2 of them in Sales, so its parent is Sales and
# North is hidden there as its sibling. Ops (6 people) and Depot (5) have
# no suppressed child, so both are emitted. Recognitions in the last
# minute: Depot's emp-0013 and emp-0014 one each, emp-0018 (Float, in Ops)
# three. Ops's count 5 minus Depot's count 2 would be 3, the count of
# emp-0018 alone, while team:Float is suppressed. emp-0018 is a member of
# Ops outside Ops's teams, fewer than 5 people, so Depot is hidden as well.
# Expected: department:Ops or team:Depot suppressed.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=../lib.sh
source "$here/../lib.sh"
lib_init

# shellcheck source=lib_suppress.sh
source "$here/lib_suppress.sh"

n=0
for spec in Sales:North:5 Sales:South:5 Sales:Float:2 Ops:Depot:5 Ops:Float:1; do
	IFS=: read -r dept team count <<<"$spec"
	for _ in $(seq "$count"); do
		n=$((n + 1))
		printf 'emp-%04d\t{"department":"%s","team":"%s","aliases":[]}\n' "$n" "$dept" "$team"
	done
done | kcat -P -b "$KAFKA_BOOTSTRAP" -t advocacy.roster -K $'\t'
i=0
for actor in 13 14 18 18 18; do
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
lib_wait_for "read_kpis && expect_kpi recognition_rate org 24h count 5" 120 ||
	{ cat "$work/daemon.log"; lib_fail "the KPIs never reached their counts"; }
read_kpis
expect_kpi --absent recognition_rate team:Float 24h
expect_kpi --absent recognition_rate team:North 24h
if expect_kpi recognition_rate department:Ops 24h count 5 >/dev/null &&
	expect_kpi recognition_rate team:Depot 24h count 2 >/dev/null; then
	lib_fail "department:Ops (count 5) and team:Depot (count 2) are both on the KPI topic:" \
		"their difference 3 is the count of one person of the suppressed team:Float"
fi
lib_log "no suppressed figure given away"
