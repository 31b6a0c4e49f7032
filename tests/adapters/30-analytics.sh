#!/usr/bin/env bash
# Intranet analytics end to end, counted with the shipped behaviour rules.
# Two analytics inputs, one with its own event map and one with the
# defaults, get a batch of track, page, screen and identify calls. One call
# is sent twice, one is anonymous and one is not mapped on its input. A
# second batch contains a call without a messageId. Checks the net count of each behaviour in Redis,
# the event ids counted, that the bad batch is dead-lettered once while its
# valid call counts, the ignored reasons, and that no raw person id reaches
# Redis or the log.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=../lib.sh
source "$here/../lib.sh"
lib_init

lib_start_redis
lib_start_devkafka intranet.news:2 intranet.wiki:1 advocacy.roster:1 advocacy.kpi:1 \
	advocacy.escalations:1 advocacy.dlq:1 advocacy.governance:1
work=$LIB_TMP
prefix=analytics

cp "$ADVOCACY_SOURCE_DIR/tests/fixtures/hmac.key" "$work/hmac.key"
python3 "$here/reference_config.py" "$ADVOCACY_SOURCE_DIR/config/advocacyd.yaml" \
	"$work/analytics.yaml" "$KAFKA_BOOTSTRAP" "$REDIS_PORT" "$prefix" '[
	  {"topic": "intranet.news", "format": "analytics",
	   "analytics": {"events": {"Article Published": "content_published",
	                            "Comment Added": "content_commented",
	                            "Article Liked": "content_liked"}}},
	  {"topic": "intranet.wiki", "format": "analytics"}]'
"$ADVOCACY_BUILD_DIR/advocacyd" --check-config "$work/analytics.yaml" ||
	lib_fail "test config invalid"

for n in 1 2 3 4; do
	printf 'emp-000%s\t{"department":"Sales","team":"North","segment":"knowledge","work_mode":"remote","employment_type":"full_time","region":"EMEA","aliases":["intranet-user-%s"]}\n' \
		"$n" "$n"
done | kcat -P -b "$KAFKA_BOOTSTRAP" -t advocacy.roster -K $'\t'

python3 - "$work" <<'EOF'
import json, os, sys, time
work = sys.argv[1]
def iso(age_s):
    return time.strftime("%Y-%m-%dT%H:%M:%S.120Z", time.gmtime(time.time() - age_s))
def call(kind, mid, age, user=None, event=None, **props):
    c = {"type": kind, "messageId": mid, "timestamp": iso(age), "properties": props}
    if user:
        c["userId"] = "intranet-user-%d" % user
    else:
        c["anonymousId"] = "anon-7f3e"
    if event:
        c["event"] = event
    return c
author = "intranet-user-1"
news = [
    call("track", "news-1", 3000, 1, "Article Published", content_id="article-1"),
    call("track", "news-2", 2900, 2, "Comment Added", content_id="article-1", author_id=author),
    call("track", "news-3", 2800, 3, "Article Liked", content_id="article-1", author_id=author),
    call("page", "news-4", 2700, 4, path="/news/article-1?from=mail", author_id=author),
    call("page", "news-5", 2600, None, content_id="article-1", author_id=author),
    call("track", "news-6", 2500, None, "Article Liked", content_id="article-1"),
    call("track", "news-7", 2400, 2, "Content Published", content_id="article-2"),
    {"type": "identify", "userId": "intranet-user-2", "messageId": "news-8",
     "traits": {"name": "Invented Person"}},
]
wiki = [call("track", "wiki-1", 2000, 2, "Content Published", contentId="page-9"),
        call("track", "wiki-2", 1900, 3, "Article Published", content_id="page-10")]
bad = [call("screen", "wiki-3", 1800, 3, content_id="page-9"),
       {"type": "track", "event": "Content Liked", "userId": "intranet-user-4",
        "timestamp": iso(1700), "properties": {"content_id": "page-9"}}]
with open(os.path.join(work, "news.jsonl"), "w") as out:
    out.write(json.dumps({"batch": news, "sentAt": iso(0)}) + "\n")
    out.write(json.dumps(news[0]) + "\n")  # the first call, sent again on its own
with open(os.path.join(work, "wiki.jsonl"), "w") as out:
    out.write(json.dumps({"batch": wiki}) + "\n")
    out.write(json.dumps({"batch": bad}) + "\n")
EOF
for topic in news wiki; do
	"$ADVOCACY_BUILD_DIR/advocacyd-produce" --brokers "$KAFKA_BOOTSTRAP" --topic "intranet.$topic" \
		--raw <"$work/$topic.jsonl"
done

"$ADVOCACY_BUILD_DIR/advocacyd" --config "$work/analytics.yaml" 2>"$work/daemon.log" &
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
lib_wait_for '[ "$(count content_reach)" = 2 ] && [ "$(count content_contribution)" = 2 ]' 60 ||
	{ cat "$work/daemon.log"; lib_fail "the analytics events were not all counted"; }

# Published: news-1 (mapped on news) and wiki-1 (a default name on wiki).
lib_assert_eq 2 "$(count content_contribution)" "content_contribution"
lib_assert_eq 1 "$(count forum_participation)" "forum_participation (the comment)"
lib_assert_eq 1 "$(count recognition_given)" "recognition_given (the like of a known author)"
lib_assert_eq 1 "$(count recognition_received)" "recognition_received (by the author)"
# Reach of the author's article: a signed-in and an anonymous view. The
# screen view of wiki-3 names no author, so it credits no one.
lib_assert_eq 2 "$(count content_reach)" "content_reach"

ids=0
for key in $(redis-cli -h 127.0.0.1 -p "$REDIS_PORT" --scan --pattern "{$prefix}:d:*"); do
	ids=$((ids + $(redis-cli -h 127.0.0.1 -p "$REDIS_PORT" scard "$key")))
done
lib_assert_eq 7 "$ids" "event ids counted in Redis"

dlq=$(kcat -C -b "$KAFKA_BOOTSTRAP" -t advocacy.dlq -e -q -f '%h\n' | tr ',' '\n' |
	sed -n 's/^dlq.reason=//p' | sort | tr '\n' ' ')
lib_assert_eq "missing_field " "$dlq" "dead-letter reasons"

lib_stop "${LIB_PIDS[-1]}"
for reason in unknown_event anonymous_event unsupported_call duplicate_event; do
	grep -q "ignored by reason.*$reason=" "$work/daemon.log" ||
		{ cat "$work/daemon.log"; lib_fail "no ignored count for $reason"; }
done
for raw in intranet-user-1 intranet-user-4 anon-7f3e "Invented Person"; do
	! grep -qF "$raw" "$work/daemon.log" || lib_fail "a raw id or name reached the log"
	[ -z "$(redis-cli -h 127.0.0.1 -p "$REDIS_PORT" --scan --pattern "*$raw*")" ] ||
		lib_fail "a raw id reached a Redis key"
done
lib_log "analytics adapter test passed"
