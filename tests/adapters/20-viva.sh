#!/usr/bin/env bash
# Viva Engage end to end, counted with the shipped behaviour rules. The input
# is a message list (a post with likes, a praise, a reply under
# threaded_extended, and a system, a bot and a private message), the same
# post delivered again with one more like, a Graph notification that adds two
# members to a community and removes one, and two malformed messages. Checks the net count of each
# behaviour in Redis, the event ids counted, the dead-letter reasons, the
# ignored reasons, and that no raw person id reaches Redis or the log.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=../lib.sh
source "$here/../lib.sh"
lib_init

lib_start_redis
lib_start_devkafka viva.engage:2 advocacy.roster:1 advocacy.kpi:1 advocacy.escalations:1 \
	advocacy.dlq:1 advocacy.governance:1
work=$LIB_TMP
prefix=viva

cp "$ADVOCACY_SOURCE_DIR/tests/fixtures/hmac.key" "$work/hmac.key"
python3 "$here/reference_config.py" "$ADVOCACY_SOURCE_DIR/config/advocacyd.yaml" \
	"$work/viva.yaml" "$KAFKA_BOOTSTRAP" "$REDIS_PORT" "$prefix" \
	'[{"topic": "viva.engage", "format": "viva"}]'
"$ADVOCACY_BUILD_DIR/advocacyd" --check-config "$work/viva.yaml" || lib_fail "test config invalid"

# Four employees: Yammer user ids 1500000001..4 and Entra ids for the community.
member() { echo "2c7e1f00-0000-4a1b-8c2d-00000000001$1"; }
for n in 1 2 3 4; do
	printf 'emp-000%s\t{"department":"Sales","team":"North","segment":"knowledge","work_mode":"remote","employment_type":"full_time","region":"EMEA","aliases":["150000000%s","%s"]}\n' \
		"$n" "$n" "$(member "$n")"
done | kcat -P -b "$KAFKA_BOOTSTRAP" -t advocacy.roster -K $'\t'

# The fixture messages with their times moved to the last hour.
python3 - "$ADVOCACY_SOURCE_DIR/tests/fixtures/viva" "$work" <<'EOF'
import json, os, sys, time
fixtures, work = sys.argv[1], sys.argv[2]
def yammer_time(age_s):
    return time.strftime("%Y/%m/%d %H:%M:%S +0000", time.gmtime(time.time() - age_s))
with open(os.path.join(fixtures, "message-list.json")) as f:
    doc = json.load(f)
for age, msg in zip((3000, 2400, 2300, 2200, 2100), doc["messages"]):
    msg["created_at"] = yammer_time(age)
for replies in doc["threaded_extended"].values():
    for msg in replies:
        msg["created_at"] = yammer_time(1800)
again = json.loads(json.dumps(doc["messages"][0]))
again["liked_by"]["names"].append({"full_name": "Dov Invented", "user_id": 1500000004})
with open(os.path.join(fixtures, "membership.json")) as f:
    members = json.load(f)
members["value"][0]["resourceData"]["members@delta"] = [
    {"id": "2c7e1f00-0000-4a1b-8c2d-000000000011"},
    {"id": "2c7e1f00-0000-4a1b-8c2d-000000000012"},
    {"id": "2c7e1f00-0000-4a1b-8c2d-000000000013", "@removed": {"reason": "deleted"}}]
bad_time = {"id": 3100000000000099, "sender_id": 1500000001, "created_at": "soon"}
with open(os.path.join(work, "viva.jsonl"), "w") as out:
    for d in (doc, again, members, bad_time):
        out.write(json.dumps(d) + "\n")
    out.write('{"messages": [\n')
EOF
"$ADVOCACY_BUILD_DIR/advocacyd-produce" --brokers "$KAFKA_BOOTSTRAP" --topic viva.engage \
	--raw <"$work/viva.jsonl"
lib_log "topic holds $(lib_kcat_count viva.engage) messages"

"$ADVOCACY_BUILD_DIR/advocacyd" --config "$work/viva.yaml" 2>"$work/daemon.log" &
LIB_PIDS+=("$!")

# Net count of a behaviour at org scope, summed over the day buckets.
count() {
	local total=0 key n
	for key in $(redis-cli -h 127.0.0.1 -p "$REDIS_PORT" --scan --pattern "{$prefix}:n:1d:*"); do
		n=$(redis-cli -h 127.0.0.1 -p "$REDIS_PORT" hget "$key" "$1|org")
		total=$((total + ${n:-0}))
	done
	echo "$total"
}
lib_wait_for '[ "$(count community_membership)" = 1 ] && [ "$(count recognition_given)" = 4 ]' 60 ||
	{ cat "$work/daemon.log"; lib_fail "the Viva Engage events were not all counted"; }

# Praise by 3 and likes by 2, 1 and (delivered again) 4; received by 1 and 2
# (praise), 1 (two likes) and 4 (a like of the reply).
lib_assert_eq 4 "$(count recognition_given)" "recognition_given"
lib_assert_eq 5 "$(count recognition_received)" "recognition_received"
lib_assert_eq 1 "$(count content_contribution)" "content_contribution (the post)"
lib_assert_eq 2 "$(count forum_participation)" "forum_participation (post and reply)"
lib_assert_eq 1 "$(count community_membership)" "community_membership (two joins, one leave)"

# Counted: post, praise, reply, four likes, two joins and a leave; the
# post and its first like delivered again were dropped.
ids=0
for key in $(redis-cli -h 127.0.0.1 -p "$REDIS_PORT" --scan --pattern "{$prefix}:d:*"); do
	ids=$((ids + $(redis-cli -h 127.0.0.1 -p "$REDIS_PORT" scard "$key")))
done
lib_assert_eq 9 "$ids" "event ids counted in Redis"

dlq=$(kcat -C -b "$KAFKA_BOOTSTRAP" -t advocacy.dlq -e -q -f '%h\n' | tr ',' '\n' |
	sed -n 's/^dlq.reason=//p' | sort | tr '\n' ' ')
lib_assert_eq "invalid_event_time invalid_json " "$dlq" "dead-letter reasons"

lib_stop "${LIB_PIDS[-1]}"
for reason in self_reaction system_message bot_message direct_message lifecycle_event \
	unsupported_resource unsupported_change duplicate_event; do
	grep -q "ignored by reason.*$reason=" "$work/daemon.log" ||
		{ cat "$work/daemon.log"; lib_fail "no ignored count for $reason"; }
done
for raw in 1500000001 1500000004 "$(member 1)" "Ada Invented"; do
	! grep -qF "$raw" "$work/daemon.log" || lib_fail "a raw id or name reached the log"
	[ -z "$(redis-cli -h 127.0.0.1 -p "$REDIS_PORT" --scan --pattern "*$raw*")" ] ||
		lib_fail "a raw id reached a Redis key"
done
lib_log "viva adapter test passed"
