#!/usr/bin/env bash
# advocacyd demo on one machine: installs what is missing, builds, starts
# redis-server and the dev Kafka broker on free loopback ports, generates a
# week of events for a few hundred employees, runs the daemon on the shipped
# configuration and prints the KPI updates and escalations it produces. Stops
# everything it started on exit.
#
# Usage: deploy/dev/demo.sh [--keep-seconds N]
#   --keep-seconds N   keep the stack running N more seconds at the end
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
keep=0
[ "${1:-}" = "--keep-seconds" ] && keep=${2:?--keep-seconds needs a number}

echo "== installing packages (no-op when present)"
"$root/scripts/install-deps.sh"
echo "== building"
cmake -S "$root" -B "$root/build" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$root/build" -j"$(nproc)" >/dev/null

export ADVOCACY_SOURCE_DIR=$root ADVOCACY_BUILD_DIR=$root/build
# shellcheck source=../../tests/lib.sh
source "$root/tests/lib.sh"
lib_init

echo "== starting redis-server and the dev Kafka broker on 127.0.0.1"
lib_start_redis
lib_start_devkafka advocacy.events:6 slack.events:3 advocacy.roster:1 \
	advocacy.kpi:3 advocacy.escalations:1 advocacy.dlq:1 advocacy.bias:1
echo "   redis 127.0.0.1:$REDIS_PORT, kafka $KAFKA_BOOTSTRAP"

# The shipped configuration, pointed at this stack. Outputs are JSON so that
# this script can print them; the tick is short so that escalations show soon.
head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$LIB_TMP/hmac.key"
sed -e "s|bootstrap_servers: .*|bootstrap_servers: \"$KAFKA_BOOTSTRAP\"|" \
	-e "/^redis:/,/^[a-z]/s|^\(  port:\) .*|\1 $REDIS_PORT|" \
	-e "/^admin:/,/^[a-z]/s|^\(  port:\) .*|\1 0|" \
	-e "s|key_file: .*|key_file: $LIB_TMP/hmac.key|" \
	-e "s|tick_interval: .*|tick_interval: 2s|" \
	-e "/^  \(kpi\|escalations\|dlq\):/s|format: avro|format: json|" \
	"$root/config/advocacyd.yaml" >"$LIB_TMP/demo.yaml"
cp "$root/config/kpis.yaml" "$LIB_TMP/kpis.yaml" # kpi_catalog, next to demo.yaml
"$ADVOCACY_BUILD_DIR/advocacyd" --check-config "$LIB_TMP/demo.yaml"

echo "== generating a roster of 300 employees and a week of events"
"$ADVOCACY_BUILD_DIR/advocacyd-gen" --brokers "$KAFKA_BOOTSTRAP" --employees 300 --days 7 \
	--events 3000 --slack-events 1500 --malformed 5 --seed 42 --quiet

echo "== running advocacyd"
"$ADVOCACY_BUILD_DIR/advocacyd" --config "$LIB_TMP/demo.yaml" 2>"$LIB_TMP/daemon.log" &
daemon=$!
LIB_PIDS+=("$daemon")
started=$(date +%s.%N)

kpi_count() { kcat -C -b "$KAFKA_BOOTSTRAP" -t advocacy.kpi -e -q 2>/dev/null | wc -l; }
escalation_count() { kcat -C -b "$KAFKA_BOOTSTRAP" -t advocacy.escalations -e -q 2>/dev/null | wc -l; }
lib_wait_for '[ "$(kpi_count)" -gt 0 ] && [ "$(escalation_count)" -gt 0 ]' 60 ||
	{ tail -20 "$LIB_TMP/daemon.log"; lib_fail "no KPI update or escalation within 60 s"; }
sleep 3
kill -TERM "$daemon"
wait "$daemon" || lib_fail "advocacyd did not stop cleanly"

kcat -C -b "$KAFKA_BOOTSTRAP" -t advocacy.kpi -e -q -f '%s\n' >"$LIB_TMP/kpi.jsonl"
kcat -C -b "$KAFKA_BOOTSTRAP" -t advocacy.escalations -e -q -f '%s\n' >"$LIB_TMP/esc.jsonl"
python3 "$root/deploy/dev/show.py" "$LIB_TMP/kpi.jsonl" "$LIB_TMP/esc.jsonl" "$LIB_TMP/daemon.log" \
	"$started"

if [ "$keep" -gt 0 ]; then
	echo "== keeping the stack for $keep s (redis 127.0.0.1:$REDIS_PORT, kafka $KAFKA_BOOTSTRAP)"
	sleep "$keep"
fi
echo "== stopping everything the demo started"
