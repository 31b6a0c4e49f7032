#!/usr/bin/env bash
# The event generator against the dev broker. Every topic contains exactly
# the messages that advocacyd-gen reports as delivered, and that equals the
# requested counts. The roster is keyed by employee id and is the same in two
# runs with one seed. The Slack topic is JSON apart from the malformed
# messages, --ids-file lists every person, and --live produces at about --rate.
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"
lib_init

gen=$(lib_bin advocacyd-gen)

# Command line.
"$gen" --help | grep -q -- --schema-id || lib_fail "--help does not list --schema-id"
status=0
"$gen" --brokers 127.0.0.1:1 --events -3 2>/dev/null || status=$?
lib_assert_eq 2 "$status" "exit status for --events -3"

lib_start_devkafka advocacy.events:4 slack.events:4 advocacy.roster:2 \
	roster.a:1 roster.b:1 live.events:2 live.slack:2

# Returns the delivered count that gen reported in log for topic.
delivered() {
	sed -n "s/^advocacyd-gen: topic=$2 delivered=\([0-9]*\) failed=0$/\1/p" "$1"
}

# Backlog: 8 malformed messages are one of each kind, 4 Avro and 4 JSON.
"$gen" --brokers "$KAFKA_BOOTSTRAP" --employees 50 --events 800 --slack-events 300 \
	--malformed 8 --seed 7 --days 3 --ids-file "$LIB_TMP/ids.txt" 2>"$LIB_TMP/gen.log" ||
	lib_fail "advocacyd-gen failed: $(cat "$LIB_TMP/gen.log")"
cat "$LIB_TMP/gen.log" >&2
grep -q '^advocacyd-gen: malformed=8 ' "$LIB_TMP/gen.log" || lib_fail "gen did not report 8 malformed"

lib_assert_eq 50 "$(delivered "$LIB_TMP/gen.log" advocacy.roster)" "roster delivered"
lib_assert_eq 804 "$(delivered "$LIB_TMP/gen.log" advocacy.events)" "events delivered"
lib_assert_eq 304 "$(delivered "$LIB_TMP/gen.log" slack.events)" "slack delivered"
lib_assert_eq 50 "$(lib_kcat_count advocacy.roster)" "roster messages in Kafka"
lib_assert_eq 804 "$(lib_kcat_count advocacy.events)" "event messages in Kafka"
lib_assert_eq 304 "$(lib_kcat_count slack.events)" "slack messages in Kafka"

# Roster: one record per employee id, E000001..E000050.
keys=$(kcat -C -b "$KAFKA_BOOTSTRAP" -t advocacy.roster -e -q -f '%k\n' | sort)
lib_assert_eq "$(seq -f 'E%06g' 1 50)" "$keys" "roster keys"

# ids file: id, Slack id, name and e-mail per employee, plus 4 guest Slack ids.
lib_assert_eq 204 "$(wc -l <"$LIB_TMP/ids.txt" | tr -d ' ')" "lines in the ids file"
grep -q '^E000050$' "$LIB_TMP/ids.txt" || lib_fail "ids file misses E000050"
lib_assert_eq 50 "$(grep -c '@example\.com$' "$LIB_TMP/ids.txt")" "e-mails in the ids file"

# Slack topic: JSON envelopes keyed by event id, except the malformed ones.
kcat -C -b "$KAFKA_BOOTSTRAP" -t slack.events -e -q -f '%k\t%s\n' >"$LIB_TMP/slack.tsv"
python3 - "$LIB_TMP/slack.tsv" <<'EOF' || lib_fail "Slack topic content is not as generated"
import json, sys
invalid = not_object = oversized = callbacks = verifications = 0
for line in open(sys.argv[1], encoding="utf-8"):
    key, _, text = line.rstrip("\n").partition("\t")
    assert key.startswith("Ev"), key
    assert len(key) == 12, key
    if len(text) > 1 << 20:
        oversized += 1
    try:
        doc = json.loads(text)
    except ValueError:
        invalid += 1
        continue
    if not isinstance(doc, dict):
        not_object += 1
    elif doc["type"] == "url_verification":
        verifications += 1
    else:
        assert doc["type"] == "event_callback"
        assert doc["event_id"] == key, (doc["event_id"], key)
        callbacks += 1
print(f"invalid={invalid} not_object={not_object} oversized={oversized} "
      f"callbacks={callbacks} verifications={verifications}", file=sys.stderr)
assert invalid == 1, invalid
assert not_object == 1, not_object
assert oversized == 1, oversized
assert verifications == 1, verifications
# 299 events plus the oversized and the missing-event malformed envelopes.
assert callbacks == 300 - 1 + 2, callbacks
EOF

# The roster depends only on --seed and --employees.
for topic in roster.a roster.b; do
	"$gen" --brokers "$KAFKA_BOOTSTRAP" --roster-only --roster-topic "$topic" \
		--employees 20 --seed 11 --quiet 2>/dev/null || lib_fail "roster-only run failed"
done
roster_a=$(kcat -C -b "$KAFKA_BOOTSTRAP" -t roster.a -e -q -f '%k %s\n')
roster_b=$(kcat -C -b "$KAFKA_BOOTSTRAP" -t roster.b -e -q -f '%k %s\n')
lib_assert_eq 20 "$(wc -l <<<"$roster_a" | tr -d ' ')" "records in roster.a"
[ "$roster_a" = "$roster_b" ] || lib_fail "two roster-only runs with one seed differ"

# --live: about --rate events per second with event time now.
"$gen" --brokers "$KAFKA_BOOTSTRAP" --no-roster --events 0 --slack-events 0 --malformed 0 \
	--events-topic live.events --slack-topic live.slack --live 2 --rate 50 \
	2>"$LIB_TMP/live.log" || lib_fail "live run failed: $(cat "$LIB_TMP/live.log")"
live=$(($(lib_kcat_count live.events) + $(lib_kcat_count live.slack)))
[ "$live" -ge 80 ] && [ "$live" -le 101 ] ||
	lib_fail "live run at 50/s for 2 s produced $live messages, expected 80 to 101"

lib_log "PASS 02-gen"
