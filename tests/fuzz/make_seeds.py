#!/usr/bin/env python3
"""Writes the seed corpus and dictionary of each fuzz harness.

Usage: make_seeds.py OUT_DIR [--realworld DIR]

For every harness in HARNESSES it writes OUT_DIR/<harness>/ (seed files) and
OUT_DIR/<harness>.dict (a libFuzzer dictionary). Seeds come from the
project's own fixtures (tests/fixtures/...) plus hostile inputs built here:
truncated Avro, negative and huge varint lengths, invalid UTF-8, deep JSON
nesting, wrong types, numbers in exponent form, repeated keys, JSON inside
JSON strings, CRLF line endings, 4-byte emoji and multi-megabyte payloads.
Nothing large is committed; everything is generated on each run. With
--realworld, the published payloads of that folder are added to the seeds
of the harnesses whose formats they are in, in OUT_DIR only; they are read,
never copied into the tree. The encrypted Graph seeds are encrypted on each
run with the TEST-ONLY key tests/fixtures/graph/test-key.pem, using the
openssl command-line tool.

To seed a new harness, add an entry to HARNESSES (see tests/fuzz/README.md).
"""
import argparse
import base64
import glob
import hashlib
import hmac
import json
import os
import struct
import subprocess
import sys

ROOT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
FIXTURES = os.path.join(ROOT, "tests", "fixtures")
MIB = 1024 * 1024

# ---------------------------------------------------------------------------
# Canonical Avro (schemas/advocacy_event.avsc), encoded by hand
# ---------------------------------------------------------------------------


def zigzag(n):
    """Avro long: zigzag, then base-128 varint, low group first."""
    z = (n << 1) ^ (n >> 63)
    z &= (1 << 64) - 1
    out = bytearray()
    while True:
        b = z & 0x7F
        z >>= 7
        if z:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def avro_str(s):
    b = s if isinstance(s, bytes) else s.encode()
    return zigzag(len(b)) + b


def avro_opt(s):
    return zigzag(0) if s is None else zigzag(1) + avro_str(s)


def avro_array(items, blocked=False):
    if not items:
        return zigzag(0)
    body = b"".join(avro_str(i) for i in items)
    if blocked:  # negative count, then the block's size in bytes
        return zigzag(-len(items)) + zigzag(len(body)) + body + zigzag(0)
    return zigzag(len(items)) + body + zigzag(0)


def avro_map(pairs, blocked=False):
    if not pairs:
        return zigzag(0)
    body = b"".join(avro_str(k) + avro_str(v) for k, v in pairs)
    if blocked:
        return zigzag(-len(pairs)) + zigzag(len(body)) + body + zigzag(0)
    return zigzag(len(pairs)) + body + zigzag(0)


def avro_event(event_id="evt-0001", time=1714560000123, source="canonical",
               kind="message_posted", actor="U0AUTHOR01", targets=(), content=None,
               channel="C0LAUNCH01", attrs=(), blocked=False):
    return (avro_str(event_id) + zigzag(time) + avro_str(source) + avro_str(kind) +
            avro_opt(actor) + avro_array(list(targets), blocked) + avro_opt(content) +
            avro_opt(channel) + avro_map(list(attrs), blocked))


def confluent(datum, schema_id=1):
    return b"\x00" + struct.pack(">I", schema_id) + datum


def avro_seeds():
    full = avro_event(targets=["U0TEAM0002", "W0TEAM0003"], content="1714560000.000100",
                      attrs=[("reaction", "tada"), ("channel_type", "channel")])
    seeds = {
        "minimal": avro_event(actor=None, channel=None, source=""),
        "full": full,
        "full_confluent": confluent(full, 42),
        "blocked_arrays": avro_event(targets=["U1", "U2"], attrs=[("k", "v")], blocked=True),
        "at_limits": avro_event(event_id="e" * 256, actor="a" * 256,
                                targets=["t%03d" % i + "x" * 252 for i in range(16)],
                                attrs=[("k%d" % i, "v" * 256) for i in range(8)]),
        "too_many_targets": avro_event(targets=["U%d" % i for i in range(17)]),
        "too_many_attrs": avro_event(attrs=[("k%d" % i, "v") for i in range(9)]),
        "id_too_long": avro_event(event_id="e" * 257),
        "empty_target_and_key": avro_event(targets=["", "U1"], attrs=[("", "v"), ("k", "")]),
        "repeated_map_keys": avro_event(attrs=[("reaction", "tada"), ("reaction", "heart")]),
        "zero_time": avro_event(time=0),
        "negative_time": avro_event(time=-1),
        "max_time": avro_event(time=(1 << 63) - 1),
        "invalid_utf8": avro_event(event_id=b"evt-\xff\xfe", actor=b"U\xc3\x28"),
        "emoji_4byte": avro_event(attrs=[("reaction", "\U0001F389\U0001F680")]),
        "trailing_bytes": full + b"\x00",
        "empty": b"",
        "frame_only": confluent(b"")[:5],
        "frame_short": b"\x00\x00\x00",
        "negative_length": zigzag(-5) + b"abcde",
        "huge_length": zigzag((1 << 62)) + b"abc",
        "varint_too_long": b"\xff" * 11,
        "varint_tenth_byte": b"\xff" * 9 + b"\x7f",
        "union_branch_2": avro_event()[:0] + avro_str("e") + zigzag(1) + avro_str("s") +
        avro_str("k") + zigzag(2),
        "block_count_min": avro_str("e") + zigzag(1) + avro_str("s") + avro_str("k") +
        zigzag(0) + b"\x81" + b"\x80" * 8 + b"\x01",
        "negative_block_size": avro_str("e") + zigzag(1) + avro_str("s") + avro_str("k") +
        zigzag(0) + zigzag(-1) + zigzag(-7) + avro_str("U1") + zigzag(0),
        # A multi-megabyte message: a string that declares and contains 3 MiB.
        "multi_megabyte": avro_str("e" * (3 * MIB)) + zigzag(1) + avro_str("s") +
        avro_str("k") + zigzag(0) * 5,
        "multi_megabyte_claimed": zigzag(3 * MIB) + b"e" * 64,
    }
    for cut in (1, 5, 9, 17, len(full) // 2, len(full) - 1):
        seeds["truncated_%d" % cut] = full[:cut]
        seeds["truncated_confluent_%d" % cut] = confluent(full)[:cut + 5]
    return seeds


def resolved_seeds():
    """Framed datums of the writer schemas in tests/fixtures/schemas.

    fuzz_decode_avro_resolved maps the low two bits of the schema id to
    101, 102, 103 and 104.avsc.
    """
    time = 1714560000123
    evolved = (avro_str("recognition") + avro_str("evt-0101") + zigzag(12) + zigzag(time) +
               avro_str("hr-portal") + avro_opt("E-1001") + avro_array(["E-1002"]) +
               avro_opt("post-9") + avro_opt(None) + avro_map([("badge", "mentor")]) +
               zigzag(1) + avro_str("de") + zigzag(1) + b"\x00" * 8 + zigzag(0) + zigzag(0))
    removed = (avro_str("evt-0102") + zigzag(time) + avro_str("canonical") +
               avro_str("forum_post") + avro_str("E-2001"))
    promoted = (avro_str("evt-0103") + zigzag(2000000000) + avro_opt("legacy") +
                avro_str("referral") + avro_opt(None) + avro_array(["E-3001"], blocked=True))
    return {
        "evolved_added_fields": confluent(evolved, 0),
        "evolved_removed_fields": confluent(removed, 1),
        "evolved_int_to_long": confluent(promoted, 2),
        "incompatible_writer": confluent(removed, 3),
        "int_out_of_range": confluent(avro_str("e") + zigzag(1 << 40), 2),
        "huge_string": confluent(zigzag(1 << 40) + avro_str("rest"), 1),
        "many_empty_entries": confluent(evolved[:-2] + zigzag(5000000), 0),
        "truncated": confluent(removed[:-3], 1),
        "trailing_byte": confluent(removed + b"\x07", 1),
    }


def avro_dict():
    return [b"\x00\x00\x00\x00\x01", zigzag(-1), zigzag(1), zigzag(-(1 << 62)),
            zigzag(1 << 62), zigzag(256), zigzag(257), zigzag(16), zigzag(17),
            b"message_posted", b"reaction", b"canonical"]


# ---------------------------------------------------------------------------
# JSON: hostile documents shared by every JSON harness
# ---------------------------------------------------------------------------


def deep(n, open_="[", close="]"):
    return (open_ * n + close * n).encode()


def json_hostile(base):
    """Hostile variants of base, a valid document (bytes) of the harness."""
    text = base.decode("utf-8", "replace")
    seeds = {
        "deep_arrays": deep(5000),
        "deep_objects": ('{"a":' * 3000 + "1" + "}" * 3000).encode(),
        "deep_unclosed": b"[" * 100000,
        "crlf": text.replace("\n", "\r\n").encode(),
        "bom": b"\xef\xbb\xbf" + base,
        "truncated_half": base[: len(base) // 2],
        "truncated_last": base[:-1],
        "trailing_garbage": base + b"}}",
        "two_documents": base + b"\n" + base,
        "nul_byte": base.replace(b":", b":\x00", 1),
        "invalid_utf8": base.replace(b'"', b'"\xff\xfe', 3),
        "overlong_utf8": base.replace(b'"', b'"\xc0\xaf', 3),
        "lone_surrogate": base.replace(b'"', b'"\\ud800', 3),
        "escaped_nul": base.replace(b'"', b'"\\u0000', 3),
        "scalar_string": b'"event_callback"',
        "scalar_number": b"1e309",
        "array_top": b"[" + base + b"]",
        "empty": b"",
        "whitespace": b" \r\n\t ",
        # A multi-megabyte document: valid JSON, far above any real payload.
        "multi_megabyte": b'{"type":"event_callback","pad":"' + b"x" * (3 * MIB) + b'"}',
        "many_keys": ("{" + ",".join('"k%d":%d' % (i, i) for i in range(50000)) + "}").encode(),
    }
    return seeds


def json_dict(keys):
    tokens = ['"', "{", "}", "[", "]", ":", ",", "null", "true", "false", "-", "1e9", "1.5E+3",
              "\\u0000", "\\ud83c\\udf89", '\\"', "\\n", "\r\n", "\U0001F389"]
    return [t.encode() for t in tokens] + [('"%s"' % k).encode() for k in keys]


def dict_entry(token):
    """One libFuzzer dictionary line: the bytes quoted, with \\xNN escapes."""
    out = []
    for b in token:
        c = chr(b)
        if c in '\\"':
            out.append("\\" + c)
        elif 0x20 <= b < 0x7F:
            out.append(c)
        else:
            out.append("\\x%02x" % b)
    return '"%s"' % "".join(out)


# ---------------------------------------------------------------------------
# Slack Events API
# ---------------------------------------------------------------------------

SLACK_KEYS = ["type", "event", "event_id", "event_time", "event_ts", "ts", "thread_ts", "user",
              "channel", "channel_type", "subtype", "text", "blocks", "elements", "user_id",
              "rich_text", "message", "edited", "previous_message", "deleted_ts", "item",
              "item_user", "reaction", "files", "file", "file_id", "channel_id", "bot_id",
              "event_callback", "url_verification", "message_changed", "message_deleted",
              "reaction_added", "reaction_removed", "file_shared", "member_joined_channel",
              "file_share", "thread_broadcast", "me_message", "bot_message", "<@U", "<@W", "|"]


def slack_callback(inner, event_id="Ev0SEED0001", event_time=1714560000):
    doc = {"type": "event_callback", "event_id": event_id, "event": inner}
    if event_time is not None:
        doc["event_time"] = event_time
    return doc


def slack_message(**extra):
    inner = {"type": "message", "user": "U0AUTHOR01", "channel": "C0SEED0001",
             "ts": "1714560000.000100", "text": "thanks <@U0TEAM0002>"}
    inner.update(extra)
    return inner


def dumps(doc):
    return json.dumps(doc, ensure_ascii=False).encode()


def slack_seeds():
    base = dumps(slack_callback(slack_message()))
    mentions = " ".join("<@U%07d>" % i for i in range(40))
    seeds = {
        "base": base,
        "time_as_string": dumps(slack_callback(slack_message(), event_time="1714560000")),
        "time_exponent": base.replace(b"1714560000,", b"1.71456e9,", 1),
        "time_huge": dumps(slack_callback(slack_message(), event_time=10 ** 19)),
        "time_negative": dumps(slack_callback(slack_message(), event_time=-5)),
        "ts_exponent": dumps(slack_callback(slack_message(ts="1.7145600001e9"), event_time=None)),
        "ts_long": dumps(slack_callback(slack_message(ts="9" * 40), event_time=None)),
        "user_as_number": dumps(slack_callback(slack_message(user=12345))),
        "event_as_string": dumps({"type": "event_callback", "event_id": "Ev1",
                                  "event": json.dumps(slack_message())}),
        "text_holds_json": dumps(slack_callback(slack_message(text=json.dumps(
            slack_callback(slack_message()))))),
        "repeated_keys": b'{"type":"event_callback","event_id":"Ev1","event_id":"Ev2",'
                         b'"event":{"type":"message","user":"U1","user":"U2","channel":"C1",'
                         b'"ts":"1714560000.1"},"event_time":1714560000}',
        "emoji_4byte": dumps(slack_callback(slack_message(
            text="\U0001F389 <@U0TEAM0002> \U0001F680"))),
        "reaction_emoji": dumps(slack_callback({"type": "reaction_added", "user": "U1",
                                                "reaction": "\U0001F389" * 70,
                                                "item_user": "U2", "item": {
                                                    "type": "message", "channel": "C1",
                                                    "ts": "1714560000.1"}})),
        "many_mentions": dumps(slack_callback(slack_message(text=mentions))),
        "long_user": dumps(slack_callback(slack_message(user="U" * 300))),
        "long_mention": dumps(slack_callback(slack_message(text="<@U%s>" % ("A" * 400)))),
        "deep_blocks": dumps(slack_callback(slack_message(blocks=[{
            "type": "rich_text", "elements": [{"elements": [{"elements": [{"elements": [
                {"elements": [{"type": "user", "user_id": "U9"}]}]}]}]}]}]))),
        "bare_no_ts": dumps(slack_message(ts=None)),
        "bare_long_channel": dumps(slack_message(channel="C" * 300)),
        "just_under_limit": dumps(slack_callback(slack_message(
            text="x" * (MIB - 400)))),
    }
    seeds.update(json_hostile(base))
    return seeds


# ---------------------------------------------------------------------------
# Viva Engage (Yammer) messages and community membership notifications
# ---------------------------------------------------------------------------

VIVA_KEYS = ["messages", "references", "threaded_extended", "id", "sender_id", "sender_type",
             "replied_to_id", "thread_id", "group_id", "created_at", "message_type",
             "system_message", "direct_message", "notified_user_ids", "attachments", "praise",
             "praised_user_ids", "liked_by", "names", "user_id", "value", "changeType",
             "lifecycleEvent", "resource", "resourceData", "@odata.type",
             "#Microsoft.Graph.Group", "Groups/", "members@delta", "@removed", "user", "bot",
             "system", "update", "announcement", "2025/11/03 09:15:42 +0000"]


def viva_message(**extra):
    msg = {"id": 3100000000000101, "sender_id": 1500000101, "replied_to_id": None,
           "created_at": "2025/11/03 09:15:42 +0000", "message_type": "update",
           "sender_type": "user", "group_id": 4400000101, "thread_id": 3100000000000101,
           "body": {"plain": "seed"}, "notified_user_ids": [1500000102],
           "attachments": [], "liked_by": {"count": 1, "names": [{"user_id": 1500000103}]}}
    msg.update(extra)
    return msg


def viva_members(*members):
    return {"value": [{"changeType": "updated", "resource": "Groups/g-seed-1",
                       "resourceData": {"@odata.type": "#Microsoft.Graph.Group",
                                        "id": "g-seed-1", "members@delta": list(members)}}]}


def viva_seeds():
    base = dumps(viva_message())
    praise = viva_message(attachments=[{"type": "praise", "praised_user_ids": [1, "2", 3.0]}])
    seeds = {
        "base": base,
        "list": dumps({"messages": [viva_message(), praise], "references": [],
                       "threaded_extended": {"3100000000000101": [viva_message(
                           id=3100000000000102, replied_to_id=3100000000000101)]}}),
        "array": dumps([viva_message(), praise]),
        "praise": dumps(praise),
        "members": dumps(viva_members({"id": "u1"}, {"id": "u2", "@removed": {"reason": "x"}})),
        "members_wrong_types": dumps(viva_members(7, None, {"id": ["u"]}, {"id": 1.5})),
        "time_iso": dumps(viva_message(created_at="2025-11-03T09:15:42.5+01:00")),
        "time_number": dumps(viva_message(created_at=1762161342)),
        "time_exponent": dumps(viva_message(created_at=1.762161342e12)),
        "time_bad_date": dumps(viva_message(created_at="2025/02/30 09:15:42 +0000")),
        "time_huge": dumps(viva_message(created_at=1e300)),
        "ids_exponent": dumps(viva_message(id=3.1e15, sender_id=1.5e9, group_id=-4)),
        "ids_long": dumps(viva_message(id="9" * 300, sender_id="8" * 260)),
        "ids_just_fit": dumps(viva_message(id="9" * 248, sender_id="8" * 256)),
        "many_targets": dumps(viva_message(notified_user_ids=list(range(1, 60)))),
        "many_likes": dumps(viva_message(liked_by={"names": [{"user_id": i} for i in
                                                             range(1, 5000)]})),
        "repeated_keys": b'{"id":1,"id":2,"sender_id":3,"sender_id":"4",'
                         b'"created_at":1762161342,"created_at":"2025/11/03 09:15:42 +0000"}',
        "emoji_4byte": dumps(viva_message(message_type="\U0001F389" * 80,
                                          body={"plain": "\U0001F680"})),
        "string_wrapped": dumps(json.dumps(viva_message())),
        "string_twice": dumps(json.dumps(json.dumps(viva_message()))),
    }
    seeds.update(json_hostile(base))
    return seeds


# ---------------------------------------------------------------------------
# Intranet analytics track/page calls
# ---------------------------------------------------------------------------

ANALYTICS_KEYS = ["batch", "type", "track", "page", "screen", "identify", "group", "alias",
                  "event", "userId", "user_id", "anonymousId", "messageId", "timestamp",
                  "originalTimestamp", "receivedAt", "sentAt", "properties", "content_id",
                  "contentId", "path", "author_id", "authorId", "Content Published",
                  "Article Published", "Comment Added", "Content Liked"]


def analytics_call(**extra):
    call = {"type": "track", "event": "Article Published", "userId": "emp-seed-1",
            "messageId": "ajs-seed-0001", "timestamp": "2025-11-04T08:30:00.120Z",
            "properties": {"content_id": "article-1", "author_id": "emp-seed-2"}}
    call.update(extra)
    return call


def analytics_seeds():
    base = dumps(analytics_call())
    page = analytics_call(type="page", event=None,
                          properties={"path": "/news/a?who=someone#c", "author_id": 7})
    seeds = {
        "base": base,
        "base_even": base + b" ",
        "batch": dumps({"batch": [analytics_call(), page, analytics_call(type="identify")],
                        "sentAt": "2025-11-04T08:30:01Z"}),
        "array": dumps([analytics_call(), page]),
        "anonymous": dumps(analytics_call(userId=None, anonymousId="a-1")),
        "anonymous_page": dumps(dict(page, userId=None, anonymousId="a-1")),
        "properties_string": dumps(analytics_call(properties=json.dumps({"content_id": 5}))),
        "properties_bad": dumps(analytics_call(properties="{")),
        "time_number": dumps(analytics_call(timestamp=1762245000)),
        "time_exponent": dumps(analytics_call(timestamp=1.762245e12)),
        "time_digits": dumps(analytics_call(timestamp="1762245000.5")),
        "time_fallbacks": dumps(analytics_call(timestamp=None, receivedAt="2025-11-04 08:30:00")),
        "ids_numbers": dumps(analytics_call(userId=20470, properties={"content_id": 1e3})),
        "ids_long": dumps(analytics_call(messageId="m" * 300)),
        "event_long": dumps(analytics_call(event="E" * 5000)),
        "repeated_keys": b'{"type":"track","type":"page","event":"Article Published",'
                         b'"userId":"u1","messageId":"m1","messageId":"m2","timestamp":1762245000,'
                         b'"properties":{"path":"/a","path":"/b"}}',
        "emoji_4byte": dumps(analytics_call(event="Article \U0001F680 Viewed",
                                            properties={"content_id": "\U0001F389" * 70})),
        "string_wrapped": dumps(json.dumps(analytics_call())),
        "batch_of_10000": dumps({"batch": [analytics_call(messageId="m%d" % i)
                                           for i in range(10000)]}),
    }
    seeds.update(json_hostile(base))
    return seeds


# ---------------------------------------------------------------------------
# Roster records: first byte = key length, then the key, then the JSON value
# ---------------------------------------------------------------------------

ROSTER_KEYS = ["department", "team", "segment", "work_mode", "employment_type", "region",
               "aliases", "frontline", "remote", "full_time", "EMEA", "consent",
               "external_sharing", "given", "since"]


def roster_input(key, value):
    k = key.encode() if isinstance(key, str) else key
    v = value if isinstance(value, bytes) else dumps(value)
    return bytes([len(k)]) + k + v


def roster_seeds():
    record = {"department": "Engineering", "team": "Payments", "segment": "frontline",
              "work_mode": "remote", "employment_type": "full_time", "region": "EMEA",
              "aliases": ["U0AUTHOR01", "author01@example.com"]}
    base = dumps(record)
    seeds = {
        "full": roster_input("E1001", record),
        "minimal": roster_input("E1002", {}),
        "nulls": roster_input("E1003", {k: None for k in ROSTER_KEYS[:7]}),
        "tombstone": roster_input("E1001", b""),
        "no_key": roster_input("", record),
        "nine_aliases": roster_input("E1004", {"aliases": ["A%d" % i for i in range(9)]}),
        "alias_empty": roster_input("E1005", {"aliases": [""]}),
        "alias_number": roster_input("E1006", {"aliases": [7]}),
        "value_200": roster_input("E1007", {"team": "t" * 200}),
        "value_201": roster_input("E1008", {"team": "t" * 201}),
        "team_number": roster_input("E1009", {"team": 1.5e3}),
        "team_object": roster_input("E1010", {"team": {"name": "Payments"}}),
        "repeated_keys": roster_input("E1011", b'{"team":"A","team":"B"}'),
        "json_in_string": roster_input("E1012", {"team": base.decode()}),
        "emoji_4byte": roster_input("E1013", {"team": "\U0001F680 Rockets", "region": "\U0001F30D"}),
        "colon_in_value": roster_input("E1014", {"team": "a:b", "department": ""}),
        "long_key": roster_input("K" * 255, record),
        "key_invalid_utf8": roster_input(b"\xff\xfeE", record),
        "consent_given": roster_input("E1015", {"consent": {"external_sharing": True}}),
        "consent_since": roster_input("E1016", {"consent": {"external_sharing": {
            "given": True, "since": "2026-03-01T09:00:00+01:00"}}}),
        "consent_since_number": roster_input("E1017", {"consent": {"external_sharing": {
            "given": True, "since": 1.7723e12}}}),
        "consent_wrong_types": roster_input("E1018", {"consent": {"external_sharing": "yes",
                                                                  "other": [1]}}),
        "consent_array": roster_input("E1019", {"consent": ["external_sharing"]}),
    }
    for name, doc in json_hostile(base).items():
        seeds[name] = roster_input("E2000", doc)
    return seeds


# ---------------------------------------------------------------------------
# YAML config files
# ---------------------------------------------------------------------------

CONFIG_KEYS = ["kafka:", "redis:", "privacy:", "key_file: hmac.key", "windows:", "kpis:",
               "behaviours:", "alerts:", "admin:", "&a", "*a", "<<:", "---", "- ", ": ", "!!str",
               "1e3", "0x10", "~", "null", "30s", "5m", "\t", "|", ">", "'", "\""]


def config_seeds():
    with open(os.path.join(FIXTURES, "advocacyd-test.yaml"), "rb") as f:
        base = f.read()
    laughs = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    laughs += ["a%d: &a%d [%s]" % (i, i, ", ".join(["*a%d" % (i - 1)] * 10)) for i in range(1, 9)]
    seeds = {
        "minimal": b"privacy:\n  key_file: hmac.key\n",
        "crlf": base.replace(b"\n", b"\r\n"),
        "bom": b"\xef\xbb\xbf" + base,
        "truncated_half": base[: len(base) // 2],
        "tab_indent": base.replace(b"  ", b"\t", 20),
        "invalid_utf8": base.replace(b"#", b"#\xff\xfe", 5).replace(b": ", b": \xc3\x28", 3),
        "emoji_4byte": base.replace(b"key_id: ", "key_id: \U0001F511".encode(), 1),
        "duplicate_keys": b"privacy:\n  key_file: hmac.key\n  key_file: other.key\n",
        "two_documents": base + b"\n---\n" + base,
        "exponent_numbers": b"privacy:\n  key_file: hmac.key\n  min_group_size: 1e3\n",
        "huge_number": b"privacy:\n  key_file: hmac.key\n  min_group_size: " + b"9" * 400 + b"\n",
        "wrong_types": b"privacy: [1, 2]\nkafka: 7\nredis: {url: [x]}\n",
        "self_alias": b"privacy: &p\n  key_file: hmac.key\n  nested: *p\n",
        "recursive_alias": b"kpis: &k [*k]\n",
        "billion_laughs": ("\n".join(laughs) + "\nprivacy:\n  key_file: hmac.key\n").encode(),
        "deep_sequences": b"a: " + b"[" * 5000 + b"]" * 5000 + b"\n",
        "deep_mappings": "".join("%sk:\n" % (" " * i) for i in range(2000)).encode(),
        "json_in_string": b"privacy:\n  key_file: hmac.key\n  key_id: '{\"a\": [1]}'\n",
        "nul_byte": base.replace(b": ", b": \x00", 1),
        "multi_megabyte": b"# " + b"x" * (3 * MIB) + b"\n" + base,
        "empty": b"",
    }
    return seeds


# ---------------------------------------------------------------------------
# HR adapters: Greenhouse referrals, xAPI training, Typeform eNPS
# ---------------------------------------------------------------------------

GREENHOUSE_KEYS = ["action", "payload", "application", "id", "source", "public_name", "name",
                   "referrer", "credited_to", "employee_id", "email", "jobs", "job", "offer",
                   "resolved_at", "applied_at", "last_activity_at", "candidate",
                   "new_candidate_application", "new_prospect_application", "hire_candidate",
                   "candidate_hired", "ping", "Referral"]
XAPI_KEYS = ["statements", "more", "id", "actor", "objectType", "Agent", "Group", "mbox",
             "mailto:", "account", "homePage", "name", "openid", "mbox_sha1sum", "verb",
             "http://adlnet.gov/expapi/verbs/completed", "http://adlnet.gov/expapi/verbs/passed",
             "object", "Activity", "context", "registration", "timestamp", "stored", "result"]
TYPEFORM_KEYS = ["event_id", "event_type", "form_response", "form_id", "token", "submitted_at",
                 "hidden", "employee_id", "email", "answers", "type", "number", "field", "ref",
                 "enps", "nps", "opinion_scale"]


def greenhouse_hook(action="new_candidate_application", **app):
    application = {"id": 4001, "applied_at": "2026-03-02T09:15:04Z",
                   "source": {"id": 7, "public_name": "Employee Referral"},
                   "credited_to": {"id": 11, "employee_id": "E0SEED01"},
                   "jobs": [{"id": 900, "name": "Seed job"}],
                   "candidate": {"id": 5, "first_name": "Seed", "last_name": "Candidate"}}
    application.update(app)
    return {"action": action, "payload": {"application": application}}


def greenhouse_seeds():
    base = dumps(greenhouse_hook())
    seeds = json_hostile(base)
    seeds.update({
        "hired": dumps(greenhouse_hook("hire_candidate", offer={"resolved_at": "2026-04-10T16:00:00+02:00"})),
        "id_exponent": dumps(greenhouse_hook(id=4.001e3)),
        "id_negative": dumps(greenhouse_hook(id=-1)),
        "id_huge": dumps(greenhouse_hook(id=10 ** 30)),
        "id_long": dumps(greenhouse_hook(id="9" * 400)),
        "time_number": dumps(greenhouse_hook(applied_at=1772442904)),
        "time_garbage": dumps(greenhouse_hook(applied_at="2026-13-45T99:99:99Z")),
        "credited_number_only": dumps(greenhouse_hook(credited_to={"id": 11})),
        "credited_wrong_type": dumps(greenhouse_hook(credited_to=[1, 2])),
        "source_null": dumps(greenhouse_hook(source=None)),
        "jobs_not_array": dumps(greenhouse_hook(jobs={"id": 1})),
        "as_string": dumps(json.dumps(greenhouse_hook())),
        "ping": dumps({"action": "ping", "payload": {"web_hook_id": 1}}),
    })
    return seeds


def xapi_statement(**extra):
    st = {"id": "00000000-0000-4000-8000-000000000001",
          "actor": {"objectType": "Agent", "mbox": "mailto:seed@example.com"},
          "verb": {"id": "http://adlnet.gov/expapi/verbs/completed"},
          "object": {"objectType": "Activity", "id": "https://lms.example.com/courses/seed"},
          "context": {"registration": "00000000-0000-4000-8000-0000000000aa"},
          "timestamp": "2026-03-05T14:20:31.250Z"}
    st.update(extra)
    return st


def xapi_seeds():
    base = dumps(xapi_statement())
    seeds = json_hostile(base)
    seeds.update({
        "array": dumps([xapi_statement(), xapi_statement(verb={"id": "x/passed"})]),
        "result": dumps({"statements": [xapi_statement()] * 3, "more": ""}),
        "many": dumps([xapi_statement(id=str(i)) for i in range(2000)]),
        "group": dumps(xapi_statement(actor={"objectType": "Group", "member": []})),
        "account": dumps(xapi_statement(actor={"account": {"homePage": "h", "name": "E1"}})),
        "verb_slash": dumps(xapi_statement(verb={"id": "/"})),
        "verb_empty_tail": dumps(xapi_statement(verb={"id": "http://x/"})),
        "mailto_only": dumps(xapi_statement(actor={"mbox": "mailto:"})),
        "long_object": dumps(xapi_statement(object={"id": "o" * 300})),
        "long_registration": dumps(xapi_statement(context={"registration": "r" * 300})),
        "time_offset": dumps(xapi_statement(timestamp="2026-03-05T14:20:31.25+0530")),
        "time_number": dumps(xapi_statement(timestamp=1.7727204e12)),
        "mixed_array": dumps([1, "x", None, xapi_statement(), [xapi_statement()]]),
    })
    return seeds


def typeform_hook(number=9, **fr):
    form = {"form_id": "SEED01", "token": "tok0seed", "submitted_at": "2026-03-09T09:01:47Z",
            "hidden": {"employee_id": "E0SEED01"},
            "answers": [{"type": "text", "text": "free text", "field": {"id": "a", "type": "long_text"}},
                        {"type": "number", "number": number, "field": {"id": "b", "type": "nps", "ref": "enps"}}]}
    form.update(fr)
    return {"event_id": "01SEED", "event_type": "form_response", "form_response": form}


def typeform_seeds():
    base = dumps(typeform_hook())
    seeds = json_hostile(base)
    seeds.update({
        "score_%s" % n: dumps(typeform_hook(number=n)) for n in (0, 6, 7, 8, 10)
    })
    seeds.update({
        "score_negative": dumps(typeform_hook(number=-1)),
        "score_eleven": dumps(typeform_hook(number=11)),
        "score_half": dumps(typeform_hook(number=8.5)),
        "score_exponent": dumps(typeform_hook(number=9e0)),
        "score_huge": b'{"event_type":"form_response","form_response":{"answers":[{"number":1e400,"field":{"ref":"enps"}}]}}',
        "score_string": dumps(typeform_hook(number="9")),
        "anonymous": dumps(typeform_hook(hidden={})),
        "hidden_array": dumps(typeform_hook(hidden=[1])),
        "answers_object": dumps(typeform_hook(answers={"number": 9})),
        "long_token": dumps(typeform_hook(token="t" * 300)),
        "as_string": dumps(json.dumps(typeform_hook())),
    })
    return seeds


# ---------------------------------------------------------------------------
# Microsoft Graph change notifications about Teams chatMessages
# ---------------------------------------------------------------------------

GRAPH_DIR = os.path.join(FIXTURES, "graph")
GRAPH_CERT_ID = "advocacyd-test-2025"  # the id the harness gives test-key.pem
GRAPH_TEAM = "7a1b2c3d-0000-4e5f-8a9b-0c1d2e3f4a01"
GRAPH_CHANNEL = "19:5a4b3c2d1e0f5a4b3c2d1e0f5a4b3c2d@thread.tacv2"
GRAPH_CHAT = "19:seedchat0001_seedchat0002@unq.gbl.spaces"
GRAPH_KEYS = ["value", "validationTokens", "changeType", "lifecycleEvent", "resource",
              "resourceData", "encryptedContent", "data", "dataKey", "dataSignature",
              "encryptionCertificateId", "@odata.type", "#Microsoft.Graph.chatMessage",
              "messageType", "message", "systemEventMessage", "id", "replyToId", "from", "user",
              "application", "device", "createdDateTime", "lastEditedDateTime",
              "deletedDateTime", "lastModifiedDateTime", "channelIdentity", "teamId",
              "channelId", "chatId", "mentions", "mentioned", "reactions", "reactionType",
              "created", "updated", "deleted", "Created", "/messages('", "/replies('",
              "teams('", "channels('", "chats('", "2025-12-05T08:00:00.123Z", "-08:00",
              GRAPH_CERT_ID]


def graph_user(uid):
    return {"application": None, "device": None,
            "user": {"id": uid, "displayName": "Seed Person", "userIdentityType": "aadUser"}}


def graph_message(mid="1765000000001", chat=False, reply_to=None, mentions=(), reactions=(),
                  **extra):
    """A chatMessage with invented ids in a channel, or in a chat."""
    msg = {"id": mid, "replyToId": reply_to, "messageType": "message",
           "createdDateTime": "2025-12-06T09:00:00.001Z",
           "lastModifiedDateTime": "2025-12-06T09:00:00.001Z", "lastEditedDateTime": None,
           "deletedDateTime": None, "from": graph_user("seed-user-0001"),
           "body": {"contentType": "html", "content": "seed text \U0001F389"},
           "channelIdentity": None if chat else {"teamId": GRAPH_TEAM,
                                                 "channelId": GRAPH_CHANNEL},
           "chatId": GRAPH_CHAT if chat else None,
           "mentions": [{"id": i, "mentionText": "x", "mentioned": graph_user(u)}
                        for i, u in enumerate(mentions)],
           "reactions": [{"reactionType": t, "createdDateTime": "2025-12-06T09:05:00Z",
                          "user": graph_user(u)} for t, u in reactions]}
    msg.update(extra)
    return msg


def graph_path(mid, chat=False):
    if chat:
        return "chats('%s')/messages('%s')" % (GRAPH_CHAT, mid)
    return "teams('%s')/channels('%s')/messages('%s')" % (GRAPH_TEAM, GRAPH_CHANNEL, mid)


def graph_notification(msg, change="created", chat=False, encrypted=None):
    """A notification whose resourceData is the message, or with its encryptedContent."""
    note = {"subscriptionId": "00000000-5eed-4000-8000-000000000001", "changeType": change,
            "clientState": "seed", "resource": graph_path(msg.get("id", "1"), chat),
            "tenantId": "00000000-5eed-4000-8000-000000000002"}
    if encrypted is None:
        note["resourceData"] = msg
    else:
        note["resourceData"] = {"id": msg.get("id", "1"),
                                "@odata.type": "#Microsoft.Graph.chatMessage"}
        note["encryptedContent"] = encrypted
    return note


def graph_collection(*notes):
    return dumps({"value": list(notes), "validationTokens": ["eyJ0eXAiOiJKV1QifQ.e30.c2Vk"]})


def openssl(args, data):
    return subprocess.run(["openssl"] + args, input=data, check=True,
                          capture_output=True).stdout


def graph_encrypt(plain, key_len=32, wrapped=None, pad=True):
    """encryptedContent for plain under test-key.pem, signed, the way Graph encrypts it."""
    key = os.urandom(key_len)
    cipher = {16: "-aes-128-cbc", 24: "-aes-192-cbc", 32: "-aes-256-cbc"}[key_len]
    data = openssl(["enc", cipher, "-K", key.hex(), "-iv", key[:16].hex()] +
                   ([] if pad else ["-nopad"]), plain)
    wrapped = key if wrapped is None else wrapped
    data_key = openssl(["pkeyutl", "-encrypt", "-inkey", os.path.join(GRAPH_DIR, "test-key.pem"),
                        "-pkeyopt", "rsa_padding_mode:oaep", "-pkeyopt", "rsa_oaep_md:sha1",
                        "-pkeyopt", "rsa_mgf1_md:sha1"], wrapped)
    sig = hmac.new(key, data, hashlib.sha256).digest()
    return {"data": base64.b64encode(data).decode(), "dataKey": base64.b64encode(data_key).decode(),
            "dataSignature": base64.b64encode(sig).decode(),
            "encryptionCertificateId": GRAPH_CERT_ID,
            "encryptionCertificateThumbprint": "00" * 20}


def graph_encrypted_seeds():
    """Validly signed notifications whose decrypted plaintexts are hostile."""
    msg = graph_message(mentions=["seed-user-0002"], reactions=[("like", "seed-user-0003")])
    plain = dumps(msg)
    plaintexts = {
        "plain": plain,
        "plain_chat_edited": dumps(graph_message(chat=True,
                                                 lastEditedDateTime="2025-12-06T09:10:00Z")),
        "plain_deep": deep(5000, "[", "]"),
        "plain_deep_object": ('{"a":' * 3000 + "1" + "}" * 3000).encode(),
        "plain_string_of_json": dumps(plain.decode()),
        "plain_not_json": b"\x00\x01 not json \xff",
        "plain_invalid_utf8": plain.replace(b'"seed', b'"\xff\xfeseed', 2),
        "plain_array": b"[" + plain + b"]",
        "plain_empty_object": b"{}",
        "plain_bot": dumps(graph_message(**{"from": {"application": {"id": "app"}, "user": None}})),
        "plain_many_reactions": dumps(graph_message(reactions=[
            ("\U0001F44D", "seed-user-%04d" % i) for i in range(300)])),
        "plain_time_number": dumps(graph_message(createdDateTime=1765011600123)),
        "plain_repeated_keys": plain.replace(b'"id": "1765000000001"',
                                             b'"id": "1765000000001", "id": "2"', 1),
    }

    seeds = {}
    for name, text in plaintexts.items():
        seeds["enc_" + name] = graph_collection(graph_notification(msg, encrypted=graph_encrypt(text)))

    enc = graph_encrypt(plain)
    seeds["enc_aes128"] = graph_collection(graph_notification(msg, encrypted=graph_encrypt(plain, 16)))
    seeds["enc_aes192"] = graph_collection(graph_notification(msg, encrypted=graph_encrypt(plain, 24)))
    seeds["enc_wrapped_17_bytes"] = graph_collection(graph_notification(
        msg, encrypted=graph_encrypt(plain, wrapped=os.urandom(17))))
    # Whole AES blocks that end in a zero byte, which no PKCS7 padding does.
    unpadded = plain + b" " * (-(len(plain) + 1) % 16) + b"\x00"
    seeds["enc_unpadded"] = graph_collection(graph_notification(
        msg, encrypted=graph_encrypt(unpadded, pad=False)))
    seeds["enc_deleted"] = dumps(graph_notification(msg, "deleted", encrypted=enc))
    seeds["enc_updated"] = graph_collection(graph_notification(msg, "updated", encrypted=enc))
    seeds["enc_as_string"] = dumps(graph_collection(
        graph_notification(msg, encrypted=enc)).decode())

    # Broken encryptedContent: base64, lengths, key sizes and types.
    variants = {
        "enc_data_truncated": dict(enc, data=enc["data"][: len(enc["data"]) // 2]),
        "enc_data_len_mod4_1": dict(enc, data=enc["data"][:-3]),
        "enc_key_truncated": dict(enc, dataKey=enc["dataKey"][:100]),
        "enc_sig_truncated": dict(enc, dataSignature=enc["dataSignature"][:20]),
        "enc_bad_base64": dict(enc, data="!!" + enc["data"][2:]),
        "enc_padding_inside": dict(enc, dataKey=enc["dataKey"][:8] + "==" + enc["dataKey"][10:]),
        "enc_three_pads": dict(enc, dataSignature=enc["dataSignature"].rstrip("=") + "==="),
        "enc_url_safe": dict(enc, data=enc["data"].replace("+", "-").replace("/", "_")),
        "enc_huge_key": dict(enc, dataKey="QUFB" * 200000),
        "enc_key_4096_bits": dict(enc, dataKey=base64.b64encode(os.urandom(512)).decode()),
        "enc_key_too_long": dict(enc, dataKey=base64.b64encode(os.urandom(513)).decode()),
        "enc_empty_data": dict(enc, data=""),
        "enc_no_signature": {k: v for k, v in enc.items() if k != "dataSignature"},
        "enc_key_number": dict(enc, dataKey=12345),
        "enc_cert_long": dict(enc, encryptionCertificateId="c" * 300),
        "enc_cert_other": dict(enc, encryptionCertificateId="advocacyd-other-2025"),
    }
    for name, content in variants.items():
        seeds[name] = graph_collection(graph_notification(msg, encrypted=content))
    seeds["enc_content_string"] = graph_collection(
        graph_notification(msg, encrypted=json.dumps(enc)))
    seeds["enc_content_null"] = graph_collection(dict(graph_notification(msg), encryptedContent=None))
    return seeds


def graph_seeds():
    mentions = ["seed-user-%04d" % i for i in range(2, 40)]
    full = graph_message(mentions=mentions[:3], reactions=[("like", "seed-user-0003"),
                                                           ("\U0001F4AF", "seed-user-0004"),
                                                           ("custom", "seed-user-0001")])
    base = graph_collection(graph_notification(full))
    seeds = {
        "base": base,
        "single": dumps(graph_notification(full)),
        "reply": graph_collection(graph_notification(graph_message(reply_to="1765000000000"))),
        "chat_edited": graph_collection(graph_notification(graph_message(
            chat=True, lastEditedDateTime="2025-12-06T09:10:00.1234567-08:00"), "updated",
            chat=True)),
        "chat_deleted": graph_collection(graph_notification(graph_message(
            chat=True, deletedDateTime="2025-12-06T09:20:00Z"), "deleted", chat=True)),
        "updated_reactions_only": graph_collection(graph_notification(full, "Updated")),
        "many_mentions": graph_collection(graph_notification(graph_message(mentions=mentions))),
        "many_notifications": graph_collection(*[graph_notification(graph_message(
            mid="17650000%05d" % i, reactions=[("heart", "seed-user-0009")])) for i in range(500)]),
        "lifecycle": dumps({"value": [{"lifecycleEvent": "reauthorizationRequired",
                                       "subscriptionId": "s"}]}),
        "tokens_only": dumps({"validationTokens": ["t"]}),
        "empty_value": dumps({"value": []}),
        "value_object": dumps({"value": {"changeType": "created"}}),
        "value_scalars": dumps({"value": [1, "x", None, [], {}]}),
        "no_resource_data": graph_collection({"changeType": "created",
                                              "resource": graph_path("1")}),
        "membership": graph_collection({"changeType": "created",
                                        "resource": "chats('x')/members('y')",
                                        "resourceData": {"@odata.type": "#Microsoft.Graph.aadUserConversationMember"}}),
        "system_message": graph_collection(graph_notification(graph_message(
            messageType="systemEventMessage", **{"from": None}))),
        "bot_message": graph_collection(graph_notification(graph_message(
            **{"from": {"application": {"id": "bot"}, "user": None}}))),
        "path_only_place": graph_collection(graph_notification(graph_message(
            channelIdentity=None))),
        "reply_path": graph_collection(dict(graph_notification(graph_message()),
                                            resource=graph_path("1") + "/replies('2')")),
        "path_unterminated": graph_collection(dict(graph_notification(graph_message(
            channelIdentity=None)), resource="teams('t')/channels('19:abc")),
        "resource_data_string": graph_collection(dict(graph_notification(full),
                                                      resourceData=json.dumps(full))),
        "doubly_wrapped": dumps(json.dumps(graph_collection(graph_notification(full)).decode())),
        "string_wrapped_crlf": dumps(base.decode().replace(",", ",\r\n")),
        "deep_value": ('{"value":' + "[" * 4000 + "]" * 4000 + "}").encode(),
        "deep_resource": dumps({"value": [dict(graph_notification(full))]}).replace(
            b'"body": {', b'"body": ' + b'{"a":' * 2000 + b'{}' + b'}' * 2000 + b', "x": {', 1),
        "deep_reactions": graph_collection(graph_notification(graph_message(
            reactions=[]), "created")).replace(b'"reactions": []', b'"reactions": ' +
                                               b"[" * 3000 + b"]" * 3000, 1),
        "id_257": graph_collection(graph_notification(graph_message(mid="9" * 257))),
        "author_257": graph_collection(graph_notification(graph_message(
            **{"from": graph_user("u" * 257)}))),
        "reaction_type_257": graph_collection(graph_notification(graph_message(
            reactions=[("r" * 257, "seed-user-0003")]))),
        "reactor_256": graph_collection(graph_notification(graph_message(
            mid="9" * 256, channelIdentity={"teamId": "t" * 256, "channelId": "c" * 256},
            reactions=[("r" * 256, "u" * 256)]))),
        "team_257": graph_collection(graph_notification(graph_message(
            channelIdentity={"teamId": "t" * 257, "channelId": GRAPH_CHANNEL}))),
        "edit_time_41": graph_collection(graph_notification(graph_message(
            lastEditedDateTime="2025-12-06T09:10:00.12345678901234567890Z"), "updated")),
        "reaction_time_number": graph_collection(graph_notification(graph_message(
            reactions=[("like", "seed-user-0003")]))).replace(b'"2025-12-06T09:05:00Z"',
                                                              b"1.7650107e12"),
        "time_exponent": graph_collection(graph_notification(graph_message(createdDateTime=1.7650107e9))),
        "time_huge": graph_collection(graph_notification(graph_message(createdDateTime=9.3e15))),
        "time_negative": graph_collection(graph_notification(graph_message(createdDateTime=-1))),
        "time_leap_second": graph_collection(graph_notification(graph_message(
            createdDateTime="2016-12-31T23:59:60Z"))),
        "time_1969": graph_collection(graph_notification(graph_message(
            createdDateTime="1969-12-31T23:59:59Z"))),
        "time_offset_far": graph_collection(graph_notification(graph_message(
            createdDateTime="1970-01-01T00:00:00.5+23:59"))),
        "time_feb_31": graph_collection(graph_notification(graph_message(
            createdDateTime="2025-02-31T10:00:00Z"))),
        "time_year_9999": graph_collection(graph_notification(graph_message(
            createdDateTime="9999-12-31T23:59:59.9999999-23:59"))),
        "change_unknown": graph_collection(graph_notification(full, "undeleted")),
        "oversized": b'{"value":[],"pad":"' + b"x" * MIB + b'"}',
    }
    seeds.update(json_hostile(base))
    try:
        seeds.update(graph_encrypted_seeds())
    except (OSError, subprocess.CalledProcessError) as e:
        print("make_seeds.py: no encrypted Graph seeds, the openssl command failed: %s" % e,
              file=sys.stderr)
    return seeds


def graph_realworld(realworld):
    """The published Graph and Teams payloads, as the daemon would receive them."""
    return realworld_files(realworld, ["msgraph-docs/*.json", "msteams-docs/**/*.json"])


# ---------------------------------------------------------------------------
# Slack export: control byte, users.json, listing, folder name, day file
# ---------------------------------------------------------------------------

EXPORT_LISTINGS = ["channels.json", "groups.json", "mpims.json", "dms.json"]
EXPORT_KEYS = ["type", "message", "subtype", "user", "ts", "thread_ts", "reactions", "name",
               "users", "count", "files", "id", "mode", "tombstone", "hidden_by_limit",
               "bot_id", "is_bot", "deleted", "channel_join", "group_join", "file_share",
               "thread_broadcast", "me_message", "bot_message", "USLACKBOT", "text", "blocks",
               "rich_text", "elements", "user_id", "<@U", "1741680000.000300"]


def export_input(day, users=b"[]", listing=b"[]", folder="kudos", listing_index=0,
                 small_limit=False):
    """One harness input; see fuzz_slack_export.c for the layout."""
    control = listing_index | (4 if small_limit else 0)
    parts = [users, listing, folder.encode() if isinstance(folder, str) else folder, day]
    return bytes([control]) + b"\x00".join(parts)


def export_fixture_inputs(root, prefix):
    """An input per day file of the export folder root, with its users and listing."""
    def read(name):
        path = os.path.join(root, name)
        if not os.path.isfile(path):
            return b""
        with open(path, "rb") as f:
            return f.read()

    users, seeds = read("users.json"), {}
    listings = [read(name) for name in EXPORT_LISTINGS]
    for path in sorted(glob.glob(os.path.join(root, "*", "*.json"))):
        folder = os.path.basename(os.path.dirname(path))
        index = next((i for i, text in enumerate(listings) if folder.encode() in text), 0)
        with open(path, "rb") as f:
            day = f.read()
        name = "%s-%s-%s" % (prefix, folder, os.path.basename(path))
        seeds[name] = export_input(day, users, listings[index], folder, index)
    return seeds


def export_record(ts="1741680000.000300", user="U0SEED0001", **extra):
    record = {"type": "message", "text": "thanks <@U0SEED0002>", "user": user, "ts": ts}
    record.update(extra)
    return record


def export_seeds():
    users = dumps([{"id": "U0SEED0001"}, {"id": "U0SEEDBOT1", "is_bot": True},
                   {"id": "U0SEEDGONE", "deleted": True}, {"name": "no id"},
                   {"id": "U0SEED0002", "is_bot": "yes", "deleted": 1}])
    channels = dumps([{"id": "C0SEED0001", "name": "seed-room"},
                      {"id": "C0SEED0002", "name": "C0SEED0001"},
                      {"id": "C" * 257, "name": "long"}, {"name": "no id"}, 7])
    reactions = [{"name": "tada", "users": ["U0SEED0002", "U0SEEDBOT1", "U0SEEDGONE",
                                            "U0SEED0001", 5, ""], "count": 6},
                 {"users": ["U0SEED0002"]}, {"name": "\U0001F389" * 70, "users": ["U0SEED0003"]}]
    records = [
        export_record(reactions=reactions),
        export_record(ts="1741680060.000400", thread_ts="1741680000.000300"),
        export_record(ts="1741680060.000400"),
        export_record(ts=1741680120.0005, subtype="file_share",
                      files=[{"id": "F0SEED0001"}, {"id": "F0SEED0002", "mode": "tombstone"},
                             {"mode": "hidden_by_limit"}, {"id": "F" * 257}]),
        export_record(ts="1741680180.000600", subtype="channel_join"),
        export_record(ts="1741680240.000700", subtype="group_join"),
        export_record(ts="1741680300.000800", subtype="tombstone", user="USLACKBOT"),
        export_record(ts="1741680360.000900", subtype="channel_topic"),
        export_record(ts="1741680420.001000", subtype="huddle_unknown"),
        export_record(ts="1741680480.001100", bot_id="B0SEED0001"),
        export_record(ts="1741680540.001200", user="U0SEEDBOT1"),
        export_record(ts="1741680600.001300", user="U0SEEDGONE"),
        export_record(ts="1741680660.001400", user=None),
        export_record(ts="1741680720.001500", type="reaction_added"),
        export_record(ts="not a ts"), export_record(ts=-1), export_record(ts=1e300),
        export_record(ts="1.7416808e9"), export_record(ts="9" * 40),
        export_record(ts="1741680780.001600", user="U" * 257),
        export_record(ts="1741680840.001700", thread_ts=1741680000.0003),
        export_record(ts="1741680900.001800", thread_ts="x" * 300),
        "a string record", 17, None, [export_record()],
    ]

    day = dumps(records)
    base = export_input(day, users, channels, "seed-room")
    seeds = {
        "base": base,
        "by_id": export_input(day, users, channels, "C0SEED0002", 1),
        "unknown_folder": export_input(day, users, channels, "nowhere", 2),
        "dms": export_input(day, users, dumps([{"id": "D0SEED0001"}]), "D0SEED0001", 3),
        "no_users_no_listing": export_input(day, b"", b"", "", 0),
        "small_limit": export_input(day + b" " * 4096, users, channels, "seed-room", 0, True),
        "small_limit_users": export_input(day, users + b" " * 4096, channels, "seed-room", 0, True),
        "users_not_array": export_input(day, b'{"id":"U1"}', channels, "seed-room"),
        "listing_invalid": export_input(day, users, b"[{", "seed-room"),
        "folder_long": export_input(day, users, channels, "f" * 600),
        "day_nul_inside": export_input(day.replace(b'"thanks', b'"\x00thanks', 1), users,
                                       channels, "seed-room"),
        "many_reactors": export_input(dumps([export_record(reactions=[
            {"name": "+1", "users": ["U%08d" % i for i in range(3000)]}])]), users, channels,
            "seed-room"),
        "many_records_same_ts": export_input(dumps([export_record()] * 2000), users, channels,
                                             "seed-room"),
        "multi_megabyte": export_input(dumps([export_record(
            ts="1741%06d.000100" % i, text="x" * 300) for i in range(9000)]), users,
            channels, "seed-room"),
    }

    for name, doc in json_hostile(day).items():
        seeds["day_" + name] = export_input(doc, users, channels, "seed-room")
    seeds["users_deep"] = export_input(day, deep(5000), channels, "seed-room")
    seeds["users_repeated_keys"] = export_input(
        day, b'[{"id":"U0SEED0001","id":"U0SEEDBOT1","is_bot":false,"is_bot":true}]',
        channels, "seed-room")
    seeds.update(export_fixture_inputs(os.path.join(FIXTURES, "slack_export"), "fixture"))
    return seeds


def export_realworld(realworld):
    """The published slackdump export, one input per day file."""
    root = os.path.join(realworld, "slackdump-export")
    return export_fixture_inputs(root, "realworld") if os.path.isdir(root) else {}


# ---------------------------------------------------------------------------
# Harnesses
# ---------------------------------------------------------------------------

# ---------------------------------------------------------------------------
# Social-sharing webhooks (processors/decode_social.h)
# ---------------------------------------------------------------------------

SOCIAL_KEYS = ["type", "events", "network", "employee_id", "occurred_at", "share", "id",
               "content_id", "created_at", "post", "lifecycleState", "PUBLISHED", "created",
               "time", "specificContent", "com.linkedin.ugc.ShareContent", "media",
               "statistics", "clickCount", "impressionCount", "timeRange", "start", "end",
               "share.created", "share.deleted", "share.statistics", "linkedin"]


def social_share(**extra):
    doc = {"type": "share.created", "network": "linkedin", "employee_id": "emp-seed-1",
           "share": {"id": "urn:li:share:1", "content_id": "cms:seed",
                     "created_at": "2026-03-02T09:00:00Z"}}
    doc.update(extra)
    return doc


def social_stats(clicks=12, impressions=340, start=1772409600000, end=1772496000000):
    return {"type": "share.statistics", "network": "linkedin", "employee_id": "emp-seed-1",
            "share": {"id": "urn:li:share:1"}, "timeRange": {"start": start, "end": end},
            "statistics": {"clickCount": clicks, "impressionCount": impressions}}


def social_seeds():
    base = dumps({"events": [social_share(), social_stats()]})
    post = {"lifecycleState": "PUBLISHED", "created": {"time": 1772442000000},
            "specificContent": {"com.linkedin.ugc.ShareContent": {
                "media": [{"media": "urn:li:linkedInArticle:1"}]}}}
    seeds = {
        "base": base,
        "single_share": dumps(social_share()),
        "linkedin_post": dumps(social_share(share={"id": "urn:li:share:2", "post": post})),
        "deleted": dumps(social_share(type="share.deleted", occurred_at=1772442000)),
        "string_wrapped": dumps(json.dumps(social_share())),
        "counts_exponent": dumps(social_stats(clicks=1.2e3, impressions="99")),
        "counts_huge": dumps(social_stats(clicks=10 ** 19, impressions=-1)),
        "counts_fraction": dumps(social_stats(clicks=0.5, impressions=1e9)),
        "range_reversed": dumps(social_stats(start=1772496000000, end=1772409600000)),
        "range_strings": dumps(social_stats(start="2026-03-02T00:00:00+01:00",
                                            end="2026-03-03T00:00:00-00:30")),
        "range_huge": dumps(social_stats(start=1, end=9.2e15)),
        "employee_number": dumps(social_share(employee_id=2 ** 62)),
        "employee_negative": dumps(social_share(employee_id=-7)),
        "network_long": dumps(social_share(network="L" * 65)),
        "network_emoji": dumps(social_share(network="linked🎉in")),
        "share_id_long": dumps(social_share(share={"id": "s" * 300, "content_id": "c"})),
        "many_events": dumps({"events": [social_stats()] * 5000}),
        "events_wrong_types": dumps({"events": [1, "x", None, [], {"type": None}]}),
        "repeated_keys": b'{"type":"share.created","type":"share.statistics","network":"x",'
                         b'"employee_id":"e","share":{"id":"s","id":"t"},'
                         b'"timeRange":{"start":1,"end":2},"statistics":{"clickCount":1}}',
        "nested_string": dumps(json.dumps(json.dumps(social_share()))),
    }
    seeds.update(json_hostile(base))
    return seeds



def realworld_files(realworld, patterns):
    """The files of the realworld folder that match patterns, by seed name."""
    seeds = {}
    for pattern in patterns:
        for path in sorted(glob.glob(os.path.join(realworld, pattern), recursive=True)):
            with open(path, "rb") as f:
                name = os.path.relpath(path, realworld).replace(os.sep, "-")
                seeds["realworld-" + name] = f.read()
    return seeds


def realworld_json(realworld):
    """Every published JSON payload, for decoders that must reject the foreign ones."""
    return realworld_files(realworld, ["**/*.json"])


# harness -> (fixture globs under tests/fixtures, seed builder, dictionary,
#             builder of seeds from the realworld folder or None)
HARNESSES = {
    "fuzz_decode_avro": ([], avro_seeds, avro_dict(), None),
    "fuzz_decode_avro_resolved": ([], resolved_seeds, avro_dict(), None),
    "fuzz_decode_slack": (["slack/*.json"], slack_seeds, json_dict(SLACK_KEYS), realworld_json),
    "fuzz_decode_greenhouse": (["hr/greenhouse_*.json"], greenhouse_seeds,
                               json_dict(GREENHOUSE_KEYS), realworld_json),
    "fuzz_decode_xapi": (["hr/xapi_*.json"], xapi_seeds, json_dict(XAPI_KEYS), None),
    "fuzz_decode_survey": (["hr/typeform_*.json"], typeform_seeds, json_dict(TYPEFORM_KEYS),
                           None),
    "fuzz_decode_viva": (["viva/*.json"], viva_seeds, json_dict(VIVA_KEYS), realworld_json),
    "fuzz_decode_analytics": (["analytics/*.json"], analytics_seeds, json_dict(ANALYTICS_KEYS),
                              realworld_json),
    "fuzz_decode_social": (["social/*.json"], social_seeds, json_dict(SOCIAL_KEYS), realworld_json),
    "fuzz_roster": ([], roster_seeds, json_dict(ROSTER_KEYS), None),
    "fuzz_config": (["advocacyd-test.yaml", "config/*.yaml", "../../config/*.yaml"], config_seeds,
                    [k.encode() for k in CONFIG_KEYS], None),
    "fuzz_decode_graph": (["graph/*.json"], graph_seeds, json_dict(GRAPH_KEYS), graph_realworld),
    "fuzz_slack_export": ([], export_seeds, json_dict(EXPORT_KEYS) + [b"\x00"], export_realworld),
}


def write_seed(directory, name, data):
    digest = hashlib.sha1(data).hexdigest()[:8]
    with open(os.path.join(directory, "%s-%s" % (name, digest)), "wb") as f:
        f.write(data)


def write_harness(out, harness, realworld):
    fixture_globs, builder, dictionary, realworld_builder = HARNESSES[harness]
    directory = os.path.join(out, harness)
    os.makedirs(directory, exist_ok=True)
    for old in os.listdir(directory):
        os.unlink(os.path.join(directory, old))

    count = 0
    for pattern in fixture_globs:
        for path in sorted(glob.glob(os.path.join(FIXTURES, pattern))):
            with open(path, "rb") as f:
                write_seed(directory, "fixture-" + os.path.basename(path), f.read())
            count += 1
    for name, data in builder().items():
        write_seed(directory, name, data)
        count += 1
    if realworld and realworld_builder:
        for name, data in realworld_builder(realworld).items():
            write_seed(directory, name, data)
            count += 1
    with open(os.path.join(out, harness + ".dict"), "w") as f:
        f.write("".join("%s\n" % dict_entry(t) for t in dictionary))
    return count


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", help="directory to write <harness>/ and <harness>.dict into")
    parser.add_argument("--realworld", help="folder of published payloads to add as seeds")
    args = parser.parse_args()

    realworld = args.realworld if args.realworld and os.path.isdir(args.realworld) else None
    for harness in HARNESSES:
        count = write_harness(args.out, harness, realworld)
        print("%s: %d seeds" % (harness, count), file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
