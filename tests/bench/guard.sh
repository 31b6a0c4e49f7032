#!/usr/bin/env bash
# The quick benchmark as a regression guard (ctest label "bench", registered
# in the normal build only, so tests/run.sh runs it there). Runs
# tests/bench/run.sh --quick, prints its JSON line and fails when ratio is
# below 0.25 or redis_cmds_per_event is above 0.1. These bounds catch
# regressions. The targets are stricter: ratio at least 0.5 and at most 0.05
# Redis commands per event on 1M events (README, "Benchmark").
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)

out=$(bash "$here/run.sh" --quick) || {
	echo "FAIL: tests/bench/run.sh --quick did not finish; see the output above" >&2
	exit 1
}
result=$(printf '%s\n' "$out" | tail -n 1)
echo "$result"
python3 - "$result" <<'EOF'
import json
import sys

r = json.loads(sys.argv[1])
problems = []
if r["ratio"] < 0.25:
    problems.append(f"ratio {r['ratio']} is below 0.25: advocacyd caught up at "
                    f"{r['events_per_s']} events/s, the raw consumer read "
                    f"{r['raw_consume_per_s']} messages/s")
if r["redis_cmds_per_event"] > 0.1:
    problems.append(f"redis_cmds_per_event {r['redis_cmds_per_event']} is above 0.1; "
                    f"commands by name: {r['redis_cmds_by_name']}")
for p in problems:
    print(f"FAIL: {p}", file=sys.stderr)
sys.exit(1 if problems else 0)
EOF
