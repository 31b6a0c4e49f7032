#!/usr/bin/env python3
"""Ground truth for advocacyd's fault tests: a seeded generator and an
independent checker (Python standard library only).

  truth.py gen   writes a roster and canonical events (JSON lines for
                 advocacyd-produce) with known duplicates, late, future,
                 unknown-person and retraction events.
  truth.py check computes, from those files and the config alone, the net
                 count and the distinct contributors of every (granularity,
                 bucket, behaviour, scope) and compares them with Redis, and
                 optionally the latest KPI updates and the dead letters with
                 Kafka.
  truth.py pace  copies lines to stdout at a fixed rate, to feed
                 advocacyd-produce while the daemon runs.

The checker reuses no code of the daemon and follows the documented rules.
The key layout is in daemon/redis_store.h. Who is credited, in which scopes,
and the retract effect are in processors/pipeline.c. Sub-day buckets align
to the UTC epoch and day buckets to local midnight of windows.timezone
(processors/window.c). A pseudonym is the first 16 bytes of
HMAC-SHA256(key, raw id) in hex (processors/privacy.c). An event id seen
twice counts once. Late and future events count nowhere and must be in the
dead-letter topic.

Redis is read through redis-cli and Kafka through kcat, both on loopback.
Distinct contributors are compared exactly: the expected pseudonyms are
PFADDed into a scratch HyperLogLog, and its PFCOUNT, the daemon key's PFCOUNT
and the PFCOUNT of their union must be equal. HyperLogLog registers do not
depend on insertion order, so equal inputs give equal registers.

The checker knows the time an event was processed only within a range: after
generation and before the check. An event whose class (valid, late, future,
written at a granularity or skipped) differs across that range makes the
check fail with a message to generate again; generated data stays far from
those limits.
"""

import argparse
import bisect
import collections
import datetime
import hashlib
import hmac
import itertools
import json
import os
import random
import subprocess
import sys
import time
import zoneinfo

DAY_MS = 86400000
MARKER = "--truth-end-of-reply--"
MAX_TARGETS = 16  # EVENT_MAX_TARGETS: the decoder drops further targets
MAX_LISTED = 20


class TruthError(Exception):
    """A problem with the input files, the config or a tool (exit status 2)."""


# ---------------------------------------------------------------- YAML subset


def yaml_scalar(text):
    """Returns a scalar: quoted strings unquoted, plain text as it is."""
    text = text.strip()
    if len(text) >= 2 and text[0] == text[-1] and text[0] in "\"'":
        body = text[1:-1]
        if text[0] == "'":
            return body.replace("''", "'")
        return json.loads('"' + body + '"')
    return text


def yaml_strip_comment(line):
    quote = None
    for i, c in enumerate(line):
        if quote:
            if c == quote:
                quote = None
        elif c in "\"'":
            quote = c
        elif c == "#" and (i == 0 or line[i - 1] in " \t"):
            return line[:i]
    return line


def yaml_flow(text, pos=0):
    """Parses a flow list or mapping starting at text[pos]; returns (value, end)."""
    def skip(p):
        while p < len(text) and text[p] in " \t":
            p += 1
        return p

    def item(p, stops):
        p = skip(p)
        if p < len(text) and text[p] in "[{":
            return yaml_flow(text, p)
        if p < len(text) and text[p] in "\"'":
            q = text[p]
            end = text.index(q, p + 1)
            while q == "'" and text[end + 1:end + 2] == "'":
                end = text.index(q, end + 2)
            return yaml_scalar(text[p:end + 1]), skip(end + 1)
        end = p
        while end < len(text) and text[end] not in stops:
            end += 1
        return text[p:end].strip(), end

    opener = text[pos]
    closer = "]" if opener == "[" else "}"
    result = [] if opener == "[" else {}
    p = skip(pos + 1)
    while p < len(text) and text[p] != closer:
        if opener == "[":
            value, p = item(p, ",]")
            result.append(value)
        else:
            key, p = item(p, ":,}")
            if text[p] != ":":
                raise TruthError("YAML flow mapping: missing ':' in %r" % text)
            value, p = item(p + 1, ",}")
            result[key] = value
        p = skip(p)
        if p < len(text) and text[p] == ",":
            p = skip(p + 1)
    if p >= len(text):
        raise TruthError("YAML: unterminated flow collection in %r" % text)
    return result, p + 1


def yaml_value(text):
    text = text.strip()
    if text[:1] in ("[", "{"):
        value, end = yaml_flow(text)
        if text[end:].strip():
            raise TruthError("YAML: text after a flow collection: %r" % text)
        return value
    return yaml_scalar(text)


def yaml_split_key(text):
    """Splits 'key: value' at the first ': ' outside quotes; None if not a mapping line."""
    quote = None
    for i, c in enumerate(text):
        if quote:
            if c == quote:
                quote = None
        elif c in "\"'":
            quote = c
        elif c in "[{":
            return None
        elif c == ":" and (i + 1 == len(text) or text[i + 1] in " \t"):
            return yaml_scalar(text[:i]), text[i + 1:].strip()
    return None


def yaml_block(lines, i, indent):
    """Parses the block whose lines start at lines[i] with this indent."""
    if lines[i][1].startswith("- ") or lines[i][1] == "-":
        result = []
        while i < len(lines) and lines[i][0] == indent and lines[i][1][:1] == "-":
            content = lines[i][1][1:].strip()
            child = indent + 1 + (len(lines[i][1][1:]) - len(lines[i][1][1:].lstrip()))
            if not content:
                value, i = yaml_block(lines, i + 1, lines[i + 1][0])
            elif yaml_split_key(content) and content[:1] not in "[{\"'":
                # "- key: value" opens a mapping whose other keys follow at child.
                lines[i] = (child, content)
                value, i = yaml_block(lines, i, child)
            else:
                value, i = yaml_value(content), i + 1
            result.append(value)
        return result, i

    result = {}
    while i < len(lines) and lines[i][0] == indent and not lines[i][1].startswith("-"):
        split = yaml_split_key(lines[i][1])
        if not split:
            raise TruthError("YAML: expected 'key: value', got %r" % lines[i][1])
        key, rest = split
        i += 1
        if rest:
            result[key] = yaml_value(rest)
        elif i < len(lines) and (lines[i][0] > indent or
                                 (lines[i][0] == indent and lines[i][1].startswith("-"))):
            result[key], i = yaml_block(lines, i, lines[i][0])
        else:
            result[key] = None
    return result, i


def yaml_load(text):
    lines = []
    for raw in text.splitlines():
        line = yaml_strip_comment(raw).rstrip()
        if line.strip():
            lines.append((len(line) - len(line.lstrip(" ")), line.strip()))
    if not lines:
        return {}
    value, end = yaml_block(lines, 0, lines[0][0])
    if end != len(lines):
        raise TruthError("YAML: cannot parse from line %r" % (lines[end][1],))
    return value


# ---------------------------------------------------------------- config

DURATION_UNITS = (("ms", 1), ("s", 1000), ("m", 60000), ("h", 3600000), ("d", DAY_MS))


def parse_duration(text):
    for suffix, unit in DURATION_UNITS:
        number = str(text)[:-len(suffix)]
        if str(text).endswith(suffix) and number.isdigit():
            return int(number) * unit
    raise TruthError("invalid duration %r; expected an integer with ms, s, m, h or d" % text)


def granularity_name(ms):
    """Names a granularity by its largest exact unit, as the Redis keys do: 5m, 1h, 1d."""
    for suffix, unit in (("d", DAY_MS), ("h", 3600000), ("m", 60000), ("s", 1000), ("ms", 1)):
        if ms % unit == 0:
            return "%d%s" % (ms // unit, suffix)
    raise AssertionError(ms)


def as_bool(value):
    return str(value).lower() == "true"


class Rule:
    def __init__(self, raw):
        self.kinds = set(raw["kinds"])
        self.sources = set(raw.get("sources") or [])
        self.channels = set(raw.get("channels") or [])
        self.reactions = set(raw.get("reactions") or [])
        self.requires_targets = as_bool(raw.get("requires_targets", "false"))
        self.credit_targets = raw.get("credit", "actor") == "targets"
        self.effect = -1 if raw.get("effect", "count") == "retract" else 1

    @staticmethod
    def list_matches(allowed, value):
        # An empty list allows any value, but an absent value matches no list.
        return not allowed or (bool(value) and value in allowed)

    def matches(self, ev):
        return (ev["kind"] in self.kinds and
                Rule.list_matches(self.sources, ev.get("source") or "canonical") and
                Rule.list_matches(self.channels, ev.get("channel_id")) and
                Rule.list_matches(self.reactions, (ev.get("attributes") or {}).get("reaction")) and
                (not self.requires_targets or bool(ev.get("target_ids"))))


class Config:
    """The parts of an advocacyd config that decide what ends up in Redis and Kafka."""

    def __init__(self, path):
        with open(path, encoding="utf-8") as f:
            raw = yaml_load(f.read())
        self.path = path
        kafka = raw.get("kafka") or {}
        self.group_id = kafka.get("group_id", "advocacyd")
        self.input_topics = [i["topic"] for i in kafka.get("inputs") or []]
        self.prefix = (raw.get("redis") or {}).get("key_prefix", "advocacy")

        privacy = raw.get("privacy") or {}
        key_file = privacy.get("key_file", "hmac.key")
        self.key_file = os.path.join(os.path.dirname(os.path.abspath(path)), key_file)
        self.min_group_size = int(privacy.get("min_group_size", 5))

        windows = raw.get("windows") or {}
        self.granularities = [parse_duration(g) for g in
                              windows.get("granularities") or ["5m", "1h", "1d"]]
        self.retention_ms = parse_duration(windows.get("retention", "35d"))
        self.lateness_ms = parse_duration(windows.get("allowed_lateness", "7d"))
        self.max_future_ms = parse_duration(windows.get("max_future", "5m"))
        self.timezone = windows.get("timezone") or "UTC"
        self.windows = self._load_windows(windows.get("rolling"))

        self.behaviours = list((raw.get("behaviours") or {}).keys())
        self.rules = []  # (behaviour index, Rule), in config order
        for b, (name, body) in enumerate((raw.get("behaviours") or {}).items()):
            for rule in body["rules"]:
                self.rules.append((b, Rule(rule)))

        self.kpis = []
        for k in raw.get("kpis") or []:
            if k.get("status", "active") != "active":
                continue
            self.kpis.append({"id": k["id"], "aggregation": k["aggregation"],
                              "window": k["window"],
                              "behaviours": [self.behaviours.index(b) for b in k["behaviours"]]})
        outputs = raw.get("outputs") or {}
        self.kpi_topic = (outputs.get("kpi") or {}).get("topic", "advocacy.kpi")
        self.kpi_format = (outputs.get("kpi") or {}).get("format", "avro")
        self.dlq_topic = (outputs.get("dlq") or {}).get("topic", "advocacy.dlq")

    def _load_windows(self, rolling):
        if rolling is None:
            rolling = [{"length": x} for x in ("1h", "24h", "7d", "28d")]
        windows = {}
        for w in rolling:
            length = parse_duration(w["length"])
            if "granularity" in w:
                gran = self.granularities.index(parse_duration(w["granularity"]))
            else:
                # The finest granularity that cuts the window into at most 48 buckets.
                gran = next(i for i, g in enumerate(self.granularities)
                            if length % g == 0 and length // g <= 48)
            windows[w.get("name", w["length"])] = {"length_ms": length, "gran": gran}
        return windows

    def keeps_contributors(self, gran, behaviour):
        """True when a KPI reads the behaviour's contributors at this granularity,
        as window_contributor_grans() documents: only there are HyperLogLogs written."""
        return any(behaviour in k["behaviours"] and self.windows[k["window"]]["gran"] == gran
                   for k in self.kpis)

    def keep_ms(self, gran):
        """How long buckets of this granularity are written, as window_keep_ms() documents."""
        if gran + 1 >= len(self.granularities):
            return self.retention_ms
        lengths = [w["length_ms"] for w in self.windows.values() if w["gran"] == gran]
        if not lengths:
            return self.retention_ms
        return max(lengths) + 2 * self.granularities[gran]


# ---------------------------------------------------------------- buckets


class Clock:
    """Bucket starts: sub-day granularities from the UTC epoch, days from local midnight."""

    def __init__(self, cfg):
        self.granularities = cfg.granularities
        self.zone = zoneinfo.ZoneInfo(cfg.timezone)
        self.days = [g // DAY_MS if g % DAY_MS == 0 else 0 for g in cfg.granularities]
        self.cache = [[] for _ in cfg.granularities]  # sorted (start_ms, end_ms)

    def local_day(self, t_s):
        offset = datetime.datetime.fromtimestamp(t_s, self.zone).utcoffset()
        return (t_s + int(offset.total_seconds())) // 86400

    def day_start_s(self, day):
        """First second whose local day number is at least day."""
        date = datetime.date(1970, 1, 1) + datetime.timedelta(days=day)
        guess = int(datetime.datetime(date.year, date.month, date.day,
                                      tzinfo=self.zone).timestamp())
        if self.local_day(guess) >= day > self.local_day(guess - 1):
            return guess
        lo, hi = guess - 2 * 86400, guess + 2 * 86400  # midnight skipped or repeated
        while hi - lo > 1:
            mid = (lo + hi) // 2
            if self.local_day(mid) >= day:
                hi = mid
            else:
                lo = mid
        return hi

    def start(self, gran, t_ms):
        k = self.days[gran]
        if not k:
            g = self.granularities[gran]
            return t_ms // g * g
        cache = self.cache[gran]
        i = bisect.bisect_right(cache, (t_ms, float("inf"))) - 1
        if i >= 0 and cache[i][0] <= t_ms < cache[i][1]:
            return cache[i][0]
        first = self.local_day(t_ms // 1000) // k * k
        interval = (self.day_start_s(first) * 1000, self.day_start_s(first + k) * 1000)
        bisect.insort(cache, interval)
        return interval[0]


# ---------------------------------------------------------------- pseudonyms


def load_key(path):
    """Reads the HMAC key as the daemon does: printable text is hex, other bytes are raw."""
    with open(path, "rb") as f:
        data = f.read()
    if all(0x20 <= c <= 0x7e or c in b"\n\r\t" for c in data):
        text = data.rstrip(b"\n\r \t").decode("ascii")
        if len(text) < 64 or len(text) % 2:
            raise TruthError("key file %s: expected an even number of at least 64 hex digits; "
                             "write the key as the daemon's privacy.key_file expects" % path)
        return bytes.fromhex(text)
    if len(data) < 32:
        raise TruthError("key file %s: a raw key needs at least 32 bytes, the file has %d"
                         % (path, len(data)))
    return data


def pseudonym(key, raw_id):
    return hmac.new(key, raw_id.encode("utf-8"), hashlib.sha256).digest()[:16].hex()


def hll_member(pseudonym_hex):
    """What the daemon adds to a HyperLogLog: the pseudonym's first 8 bytes, raw."""
    return bytes.fromhex(pseudonym_hex)[:8]


# ---------------------------------------------------------------- gen

SYLLABLES = ["zor", "vel", "quin", "mab", "thes", "ryl", "dov", "kor", "brin", "lux", "wyn",
             "jor", "wex", "syl", "tar", "oru", "pim", "gund", "hol", "zan", "ulm", "yst"]
DEPARTMENTS = {
    "Engineering": ["Platform", "Payments", "Mobile Apps", "Data"],
    "Sales": ["Enterprise Sales", "Partnerships", "Sales Operations"],
    "Marketing": ["Brand", "Growth Marketing"],
    "Customer Support": ["Support Tier 1", "Customer Success"],
    "Operations": ["Warehouse North", "Logistics"],
}
# Below the minimum group size: its team and department must never be reported.
TINY_DEPARTMENT, TINY_TEAM = "Research", "Skunkworks"

# (kind, weight, channel choices or None, targets range)
REGULAR_KINDS = [
    ("recognition", 30, None, (1, 3)),
    ("forum_post", 14, ["community-news", "community-dev", None], (0, 0)),
    ("forum_reply", 8, ["community-dev", None], (0, 0)),
    ("content_published", 9, None, (0, 0)),
    ("intranet_post", 5, None, (0, 0)),
    ("content_unpublished", 2, None, (0, 0)),
    ("share_external", 10, ["linkedin", "xing", "mastodon", None], (0, 0)),
    ("referral", 4, None, (0, 1)),
    ("training_completed", 8, None, (0, 0)),
    ("page_viewed", 5, None, (0, 0)),  # mapped to no behaviour
    ("recognition", 5, None, (4, MAX_TARGETS + 3)),  # more targets than the decoder keeps
]


def invented_name(rng):
    return "".join(rng.choice(SYLLABLES) for _ in range(3)).capitalize()


def gen_roster(rng, n, min_group_size):
    people = []
    teams = [(d, t) for d, ts in DEPARTMENTS.items() for t in ts]
    tiny = max(1, min_group_size - 1)
    for i in range(n):
        department, team = (TINY_DEPARTMENT, TINY_TEAM) if i < tiny else rng.choice(teams)
        first, last = invented_name(rng), invented_name(rng)
        slack = "U" + "".join(rng.choice("ABCDEFGHJKLMNPQRSTUVWXYZ23456789") for _ in range(8))
        segment = "frontline" if rng.random() < 0.4 else "knowledge"
        record = {
            "department": department, "team": team, "segment": segment,
            "work_mode": rng.choice(["onsite", "remote", "hybrid"]),
            "employment_type": rng.choice(["full_time", "full_time", "part_time", "contractor"]),
            # A few people lack a region: they have no region scope.
            "region": None if rng.random() < 0.03 else rng.choice(["EMEA", "AMER", "APAC"]),
            "aliases": [slack, "%s.%s%d@example.com" % (first.lower(), last.lower(), i)],
        }
        people.append({"id": "emp-%05d" % (i + 1), "first": first, "last": last,
                       "record": record, "activity": rng.expovariate(1.0) + 0.05})
    return people


def gen_person_ref(rng, person):
    """A raw id of the person: mostly the employee id, sometimes an alias."""
    x = rng.random()
    if x < 0.8:
        return person["id"]
    return person["record"]["aliases"][0 if x < 0.9 else 1]


class EventMaker:
    def __init__(self, rng, people, now_ms, hours):
        self.rng = rng
        self.people = people
        self.weights = list(itertools.accumulate(p["activity"] for p in people))
        self.kind_weights = list(itertools.accumulate(k[1] for k in REGULAR_KINDS))
        self.now_ms = now_ms
        self.span_ms = int(hours * 3600000)
        self.next_id = 0
        self.guests = ["guest-%04d" % i for i in range(60)]

    def new_id(self):
        self.next_id += 1
        return "ev%d" % self.next_id

    def pick_person(self):
        return self.rng.choices(self.people, cum_weights=self.weights)[0]

    def targets(self, actor, lo, hi):
        n = self.rng.randint(lo, hi)
        picks = []
        for _ in range(n):
            p = self.pick_person()
            if p is actor:
                p = self.rng.choice(self.people)
            picks.append(gen_person_ref(self.rng, p))
        return picks

    def regular_time(self):
        return self.now_ms - self.rng.randrange(1, self.span_ms)

    def event(self, kind, t_ms, actor_ref, targets, channel=None):
        ev = {"event_id": self.new_id(), "event_time_ms": t_ms, "kind": kind}
        if actor_ref is not None:
            ev["actor_id"] = actor_ref
        if targets:
            ev["target_ids"] = targets
        if channel:
            ev["channel_id"] = channel
        return ev

    def regular(self, t_ms=None):
        kind, _, channels, (lo, hi) = self.rng.choices(REGULAR_KINDS,
                                                       cum_weights=self.kind_weights)[0]
        actor = self.pick_person()
        # About 1% have no actor, so actor rules credit no one.
        actor_ref = None if self.rng.random() < 0.01 else gen_person_ref(self.rng, actor)
        channel = self.rng.choice(channels) if channels else None
        return self.event(kind, self.regular_time() if t_ms is None else t_ms, actor_ref,
                          self.targets(actor, lo, hi), channel)

    def unknown(self):
        kind = self.rng.choice(["recognition", "forum_post", "content_published"])
        targets = []
        if kind == "recognition":
            targets = [self.rng.choice(self.guests) if self.rng.random() < 0.3
                       else gen_person_ref(self.rng, self.pick_person())]
        return self.event(kind, self.regular_time(), self.rng.choice(self.guests), targets)

    def retract(self):
        actor = self.pick_person()
        return self.event("recognition_withdrawn", self.regular_time(),
                          gen_person_ref(self.rng, actor), self.targets(actor, 1, 2))


def cmd_gen(args):
    cfg = Config(args.config)
    rng = random.Random(args.seed)
    now_ms = args.now_ms or int(time.time() * 1000)
    if args.hours * 3600000 >= min(cfg.keep_ms(g) for g in range(len(cfg.granularities))):
        raise TruthError("--hours %g reaches past the keep time of a granularity in %s; "
                         "use fewer hours" % (args.hours, args.config))
    people = gen_roster(rng, args.employees, cfg.min_group_size)
    maker = EventMaker(rng, people, now_ms, args.hours)

    lines = [maker.regular() for _ in range(args.events)]
    lines += [maker.unknown() for _ in range(args.unknown)]
    lines += [maker.retract() for _ in range(args.retracts)]
    # Late and future events sit hours beyond the limits, so that no delay
    # between generation and processing changes their class.
    late = [maker.regular(now_ms - cfg.lateness_ms - rng.randrange(3600000, 24 * 3600000))
            for _ in range(args.late)]
    future = [maker.regular(now_ms + cfg.max_future_ms + rng.randrange(3600000, 5 * 3600000))
              for _ in range(args.future)]
    lines += late + future
    rng.shuffle(lines)

    # A duplicate repeats an earlier line, identical, at a later position.
    keyed = [(float(i), ev) for i, ev in enumerate(lines)]
    for _ in range(args.duplicates):
        i = rng.randrange(len(lines))
        keyed.append((rng.uniform(i + 0.5, len(lines)), lines[i]))
    keyed.sort(key=lambda pair: pair[0])

    os.makedirs(args.out, exist_ok=True)
    with open(os.path.join(args.out, "events.jsonl"), "w", encoding="utf-8") as f:
        for _, ev in keyed:
            f.write(json.dumps(ev, separators=(",", ":")) + "\n")
    with open(os.path.join(args.out, "roster.jsonl"), "w", encoding="utf-8") as f:
        for p in people:
            f.write(json.dumps({"key": p["id"], "value": p["record"]}, separators=(",", ":")) + "\n")
    # The same records as "key<TAB>value" lines for kcat -P -K '\t'.
    with open(os.path.join(args.out, "roster.kcat"), "w", encoding="utf-8") as f:
        for p in people:
            f.write("%s\t%s\n" % (p["id"], json.dumps(p["record"], separators=(",", ":"))))
    # Raw identifiers and name parts that must never leave the daemon.
    secrets = set(maker.guests)
    for p in people:
        secrets.update([p["id"], p["first"], p["last"]] + p["record"]["aliases"])
    with open(os.path.join(args.out, "secrets.txt"), "w", encoding="utf-8") as f:
        f.write("\n".join(sorted(secrets)) + "\n")
    meta = {"seed": args.seed, "generated_at_ms": now_ms, "hours": args.hours,
            "employees": args.employees, "messages": len(keyed),
            "regular": args.events, "duplicates": args.duplicates, "late": args.late,
            "future": args.future, "unknown": args.unknown, "retracts": args.retracts}
    with open(os.path.join(args.out, "meta.json"), "w", encoding="utf-8") as f:
        json.dump(meta, f)
    print(json.dumps(meta))
    return 0


# ---------------------------------------------------------------- expected state


class Expected:
    """What Redis, the KPI topic and the DLQ must hold for the generated files."""

    def __init__(self, cfg, key, directory, checked_at_ms):
        self.cfg = cfg
        self.clock = Clock(cfg)
        with open(os.path.join(directory, "meta.json"), encoding="utf-8") as f:
            self.meta = json.load(f)
        self.messages = self.meta["messages"]
        self.problems = []  # ambiguous events: the check cannot decide them
        self._load_roster(key, os.path.join(directory, "roster.jsonl"))
        self.counts = collections.defaultdict(int)       # (gran, start_ms, beh, scope)
        self.members = collections.defaultdict(set)      # same key -> pseudonyms
        self.dead_letters = {}                           # event id -> allowed reasons
        self.stats = collections.Counter()
        self._load_events(os.path.join(directory, "events.jsonl"),
                          self.meta["generated_at_ms"], checked_at_ms)

    def _load_roster(self, key, path):
        self.person_of = {}   # raw id or alias -> employee id
        self.scopes_of = {}   # employee id -> scope names
        self.scope_order = {}  # scope name -> the daemon's scope id
        self.pseudonym_of = {}
        self.headcount = collections.Counter()
        kinds = ("department", "team", "segment", "work_mode", "employment_type", "region")
        with open(path, encoding="utf-8") as f:
            for line in f:
                row = json.loads(line)
                emp, rec = row["key"], row["value"]
                scopes = ["org"] + ["%s:%s" % (k, rec[k]) for k in kinds if rec.get(k)]
                self.scopes_of[emp] = scopes
                # The daemon numbers scopes in this order, which breaks ties below.
                for scope in scopes:
                    self.scope_order.setdefault(scope, len(self.scope_order))
                self.pseudonym_of[emp] = pseudonym(key, emp)
                self.headcount.update(scopes)
                for alias in rec.get("aliases") or []:
                    self.person_of[alias] = emp
                self.person_of[emp] = emp

    def _classify_time(self, t, first_ms, last_ms):
        """Returns 'late', 'future', 'ok' or None when processing time decides it."""
        cfg = self.cfg
        late_first, late_last = t < first_ms - cfg.lateness_ms, t < last_ms - cfg.lateness_ms
        future_first = t > first_ms + cfg.max_future_ms
        future_last = t > last_ms + cfg.max_future_ms
        if late_first != late_last or future_first != future_last:
            return None
        if late_first:
            return "late"
        if future_last:
            return "future"
        return "ok"

    def _load_events(self, path, first_ms, last_ms):
        cfg = self.cfg
        rules_by_kind = collections.defaultdict(list)
        for b, rule in cfg.rules:
            for kind in rule.kinds:
                rules_by_kind[kind].append((b, rule))
        n_grans = len(cfg.granularities)
        keep = [cfg.keep_ms(g) for g in range(n_grans)]
        net = collections.defaultdict(int)  # (gran, start, beh, employee or None)
        positive = set()
        seen = set()

        with open(path, encoding="utf-8") as f:
            for line in f:
                ev = json.loads(line)
                if ev["event_id"] in seen:
                    self.stats["duplicates"] += 1
                    continue
                seen.add(ev["event_id"])
                t = ev["event_time_ms"]
                cls = self._classify_time(t, first_ms, last_ms)
                if cls is None:
                    self.problems.append("event %s: its time is too close to the lateness or "
                                         "future limit to know its outcome" % ev["event_id"])
                    continue
                if cls != "ok":
                    self.stats[cls] += 1
                    self.dead_letters[ev["event_id"]] = (
                        {"late", "late_event"} if cls == "late" else {"future_event_time"})
                    continue
                hits = [(b, r) for b, r in rules_by_kind.get(ev["kind"], ()) if r.matches(ev)]
                if not hits:
                    self.stats["unmapped"] += 1
                    continue
                self.stats["counted"] += 1
                starts = []
                for g in range(n_grans):
                    if (t < first_ms - keep[g]) != (t < last_ms - keep[g]):
                        self.problems.append("event %s: written at granularity %s or not, "
                                             "depending on when it was processed"
                                             % (ev["event_id"], granularity_name(cfg.granularities[g])))
                    starts.append(None if t < last_ms - keep[g] else self.clock.start(g, t))
                for b, rule in hits:
                    self._credit(ev, b, rule, starts, net, positive)

        for (g, start, b, emp), n in net.items():
            for scope in self.scopes_of[emp] if emp else ("org",):
                self.counts[(g, start, b, scope)] += n
        for (g, start, b, emp) in positive:
            if not cfg.keeps_contributors(g, b):
                continue
            for scope in self.scopes_of[emp]:
                self.members[(g, start, b, scope)].add(hll_member(self.pseudonym_of[emp]))

    def _credit(self, ev, b, rule, starts, net, positive):
        if rule.credit_targets:
            ids = (ev.get("target_ids") or [])[:MAX_TARGETS]
        else:
            ids = [ev["actor_id"]] if ev.get("actor_id") else []
        for raw in ids:
            emp = self.person_of.get(raw)
            if emp is None:
                self.stats["unknown_credits"] += 1
            for g, start in enumerate(starts):
                if start is None:
                    continue
                net[(g, start, b, emp)] += rule.effect
                if rule.effect > 0 and emp is not None:
                    positive.add((g, start, b, emp))

    def scopes(self):
        return sorted(self.headcount)

    def _sibling_groups(self):
        """Scope -> its group of siblings: (department, "team") for a team with
        a department holding more than half of its members, else ("org", kind)."""
        departments = collections.defaultdict(collections.Counter)
        for scopes in self.scopes_of.values():
            team = next((s for s in scopes if s.startswith("team:")), None)
            department = next((s for s in scopes if s.startswith("department:")), None)
            if team:
                departments[team][department] += 1
        groups = {}
        for scope in self.headcount:
            if scope == "org":
                continue
            kind = scope.split(":", 1)[0]
            groups[scope] = ("org", kind)
            if kind == "team":
                department, n = departments[scope].most_common(1)[0]
                if department and 2 * n > self.headcount[scope]:
                    groups[scope] = (department, "team")
        return groups

    def _outside(self, groups):
        """Group -> the people its parent and its children do not share:
        members of the parent in none of the children, and members of a
        child outside the parent (processors/suppress.c)."""
        kinds = {s.split(":", 1)[0] for s in self.headcount if s != "org"}
        outside = collections.Counter()
        for scopes in self.scopes_of.values():
            team = next((s for s in scopes if s.startswith("team:")), None)
            department = next((s for s in scopes if s.startswith("department:")), None)
            team_group = groups.get(team) if team else None
            if department and team_group != (department, "team"):
                outside[(department, "team")] += 1
            if team_group and team_group[0] != "org" and team_group[0] != department:
                outside[team_group] += 1
            if not team_group or team_group[0] != "org":
                outside[("org", "team")] += 1
            for kind in kinds - {"team"}:
                if not any(s.startswith(kind + ":") for s in scopes):
                    outside[("org", kind)] += 1
        return outside

    def visible_scopes(self, min_group_size):
        """The scopes the daemon emits: processors/suppress.h in Python. A scope
        below min_group_size is hidden. While a group's hidden part (its hidden
        children of size above 0 and the people outside its children) covers
        fewer than min_group_size people, its smallest visible child is
        hidden. A hidden department whose teams are all visible and hold all
        its members hides its smallest team."""
        size = self.headcount
        hidden = {s for s in size if size[s] < min_group_size}
        sibling_groups = self._sibling_groups()
        outside = self._outside(sibling_groups)
        groups = collections.defaultdict(list)
        for scope, group in sibling_groups.items():
            groups[group].append(scope)
        while True:
            marked = set()
            for group, members in groups.items():
                parent = group[0]
                visible = [s for s in members if s not in hidden]
                hidden_size = outside[group] + sum(
                    size[s] for s in members if s in hidden and size[s] > 0)
                any_hidden = outside[group] > 0 or any(
                    s in hidden and size[s] > 0 for s in members)
                cover = (parent != "org" and not any_hidden and parent in hidden
                         and size[parent] > 0)
                if visible and ((any_hidden and hidden_size < min_group_size) or cover):
                    marked.add(min(visible, key=lambda s: (size[s], self.scope_order[s])))
            if not marked:
                return sorted(set(size) - hidden)
            hidden |= marked


# ---------------------------------------------------------------- tools


def redis_quote(arg):
    if isinstance(arg, bytes):
        return '"' + "".join("\\x%02x" % c for c in arg) + '"'
    return '"' + str(arg).replace("\\", "\\\\").replace('"', '\\"') + '"'


class Redis:
    """Runs batches of commands through one redis-cli process per batch."""

    def __init__(self, port):
        self.port = port

    def run(self, commands):
        """Run commands (lists of arguments) and return each reply as a list of lines."""
        text = []
        for cmd in commands:
            text.append(" ".join(redis_quote(a) for a in cmd))
            text.append("ECHO " + MARKER)
        try:
            out = subprocess.run(["redis-cli", "-h", "127.0.0.1", "-p", str(self.port)],
                                 input="\n".join(text) + "\n", capture_output=True, text=True,
                                 errors="replace", check=True, timeout=600).stdout
        except (OSError, subprocess.SubprocessError) as e:
            raise TruthError("redis-cli on port %s failed: %s" % (self.port, e))
        replies, current = [], []
        for line in out.split("\n"):
            if line == MARKER:
                replies.append(current)
                current = []
            else:
                current.append(line)
        if len(replies) != len(commands):
            raise TruthError("redis-cli returned %d replies to %d commands: %s"
                             % (len(replies), len(commands), out[-500:]))
        return replies

    def scan(self, pattern):
        try:
            out = subprocess.run(["redis-cli", "-h", "127.0.0.1", "-p", str(self.port),
                                  "--scan", "--pattern", pattern], capture_output=True,
                                 text=True, check=True, timeout=600).stdout
        except (OSError, subprocess.SubprocessError) as e:
            raise TruthError("redis-cli --scan on port %s failed: %s" % (self.port, e))
        return [k for k in out.split("\n") if k]


# For each group (label, daemon key or "", n, n pseudonyms): PFADD the
# pseudonyms into a fresh scratch HyperLogLog, then return label, expected
# PFCOUNT, the daemon key's PFCOUNT (-1 when missing) and the PFCOUNT of
# their union (-1 when missing).
HLL_SCRIPT = " ".join("""
local scratch = KEYS[1]
local out = {}
local i = 1
while i <= #ARGV do
  local label, key, n = ARGV[i], ARGV[i + 1], tonumber(ARGV[i + 2])
  redis.call('DEL', scratch)
  redis.call('PFADD', scratch)
  local j = i + 3
  while j < i + 3 + n do
    local last = math.min(j + 999, i + 2 + n)
    redis.call('PFADD', scratch, unpack(ARGV, j, last))
    j = last + 1
  end
  local got, union = -1, -1
  if key ~= '' and redis.call('EXISTS', key) == 1 then
    got = redis.call('PFCOUNT', key)
    union = redis.call('PFCOUNT', scratch, key)
  end
  out[#out + 1] = label
  out[#out + 1] = redis.call('PFCOUNT', scratch)
  out[#out + 1] = got
  out[#out + 1] = union
  i = i + 3 + n
end
redis.call('DEL', scratch)
return out
""".split())


def hll_compare(redis, scratch, groups):
    """groups: (label, daemon key or '', members). Returns {label: (expected, got, union)}."""
    results, commands, args, size = {}, [], [], 0
    for label, key, members in groups:
        args += [label, key, len(members)] + sorted(members)
        size += 40 * (len(members) + 3)
        if size > 1000000:
            commands.append(["EVAL", HLL_SCRIPT, 1, scratch] + args)
            args, size = [], 0
    if args:
        commands.append(["EVAL", HLL_SCRIPT, 1, scratch] + args)
    for reply in redis.run(commands):
        if len(reply) % 4:
            raise TruthError("HyperLogLog comparison failed in Redis: %s" % " ".join(reply)[:300])
        for i in range(0, len(reply), 4):
            results[reply[i]] = tuple(int(x) for x in reply[i + 1:i + 4])
    return results


def kcat_lines(bootstrap, topic, fmt, tail=None):
    cmd = ["kcat", "-C", "-b", bootstrap, "-t", topic, "-e", "-q", "-f", fmt,
           "-o", "-%d" % tail if tail else "beginning"]
    try:
        out = subprocess.run(cmd, capture_output=True, check=True, timeout=120).stdout
    except (OSError, subprocess.SubprocessError) as e:
        raise TruthError("kcat on topic %s failed: %s" % (topic, e))
    return out.decode("utf-8", "replace").splitlines()


# ---------------------------------------------------------------- check


class Checker:
    def __init__(self, args):
        self.args = args
        self.cfg = Config(args.config)
        self.key = load_key(args.key or self.cfg.key_file)
        self.redis = Redis(args.redis_port)
        self.prefix = "{%s}" % self.cfg.prefix
        self.mismatches = []
        self.summary = collections.OrderedDict()

    def fail(self, text):
        self.mismatches.append(text)

    def consumed(self):
        """Sum of the next offsets that Redis holds for this group's input partitions."""
        reply = self.redis.run([["HGETALL", self.prefix + ":offsets"]])[0]
        total = 0
        for field, value in zip(reply[0::2], reply[1::2]):
            group, _, rest = field.partition("|")
            topic, _, partition = rest.rpartition("|")
            if group == self.cfg.group_id and topic in self.cfg.input_topics and partition.isdigit():
                total += int(value)
        return total

    def wait_consumed(self, messages):
        deadline = time.time() + self.args.wait
        while True:
            done = self.consumed()
            if done >= messages or time.time() >= deadline:
                self.summary["consumed"] = done
                if done != messages:
                    self.fail("Redis offsets of group %s add up to %d; %d messages were "
                              "produced" % (self.cfg.group_id, done, messages))
                return
            time.sleep(0.2)

    def run(self):
        with open(os.path.join(self.args.dir, "meta.json"), encoding="utf-8") as f:
            messages = json.load(f)["messages"]
        seconds = collections.OrderedDict()
        lap = time.monotonic()

        def timed(step):
            nonlocal lap
            now = time.monotonic()
            seconds[step] = round(now - lap, 2)
            lap = now

        if self.args.wait:
            self.wait_consumed(messages)
            timed("wait")
        consumed_at_ms = int(time.time() * 1000)
        exp = Expected(self.cfg, self.key, self.args.dir, consumed_at_ms)
        if exp.problems:
            raise TruthError("the generated events cannot be judged: %s (and %d more); "
                             "generate them again" % (exp.problems[0], len(exp.problems) - 1))
        self.summary["events"] = dict(exp.stats)
        timed("expected")
        self.check_counts(exp)
        timed("counts")
        self.check_contributors(exp)
        timed("contributors")
        if self.args.bootstrap:
            self.check_kpis(exp, consumed_at_ms)
            timed("kpis")
            self.check_dead_letters(exp)
            timed("dead_letters")
        self.summary["mismatches"] = len(self.mismatches)
        self.summary["seconds"] = seconds
        print(json.dumps(self.summary))
        for m in self.mismatches[:MAX_LISTED]:
            print("mismatch: " + m, file=sys.stderr)
        if len(self.mismatches) > MAX_LISTED:
            print("... and %d more" % (len(self.mismatches) - MAX_LISTED), file=sys.stderr)
        return 1 if self.mismatches else 0

    def bucket_key(self, kind, g, start_ms):
        return "%s:%s:%s:%d" % (self.prefix, kind, granularity_name(self.cfg.granularities[g]),
                                start_ms // 1000)

    def parse_key(self, key):
        """Splits '{P}:n:<gran>:<start>' and '{P}:u:<gran>:<start>:<field>'; None otherwise."""
        parts = key[len(self.prefix) + 1:].split(":", 3)
        names = [granularity_name(g) for g in self.cfg.granularities]
        if len(parts) < 3 or parts[0] not in ("n", "u") or parts[1] not in names:
            return None
        if not parts[2].lstrip("-").isdigit() or (parts[0] == "u") != (len(parts) == 4):
            return None
        return parts[0], names.index(parts[1]), int(parts[2]) * 1000, parts[3:]

    def check_counts(self, exp):
        names = exp.cfg.behaviours
        want = collections.defaultdict(dict)  # count key -> field -> net count
        for (g, start, b, scope), n in exp.counts.items():
            want[self.bucket_key("n", g, start)]["%s|%s" % (names[b], scope)] = n
        self.keys = self.redis.scan(self.prefix + ":*")
        have_n = [k for k in self.keys if (self.parse_key(k) or ("",))[0] == "n"]
        others = [k for k in self.keys if not self.parse_key(k) and
                  k not in (self.prefix + ":offsets", self.scratch())]
        self.summary["other_keys"] = len(others)
        if others:
            self.summary["other_key_examples"] = sorted(others)[:5]

        keys = sorted(set(want) | set(have_n))
        replies = self.redis.run([["HGETALL", k] for k in keys])
        cells = observed_total = 0
        for key, reply in zip(keys, replies):
            have = dict(zip(reply[0::2], (int(v) for v in reply[1::2])))
            for field in sorted(set(want[key]) | set(have)):
                cells += 1
                w, h = want[key].get(field, 0), have.get(field, 0)
                observed_total += h
                if w != h:
                    self.fail("count %s %s: expected %d, Redis has %d" % (key, field, w, h))
        self.summary["count_cells"] = cells
        self.summary["expected_total"] = sum(exp.counts.values())
        self.summary["observed_total"] = observed_total
        coarse = len(exp.cfg.granularities) - 1
        self.summary["expected_org_coarsest"] = sum(
            n for (g, _, _, scope), n in exp.counts.items() if g == coarse and scope == "org")

    def scratch(self):
        return self.prefix + ":truth-scratch"

    def check_contributors(self, exp):
        names = exp.cfg.behaviours
        want = {}
        for (g, start, b, scope), members in exp.members.items():
            want[self.bucket_key("u", g, start) + ":%s|%s" % (names[b], scope)] = members
        have = [k for k in self.keys if (self.parse_key(k) or ("",))[0] == "u"]
        groups = [(k, k, want.get(k, ())) for k in sorted(set(want) | set(have))]
        results = hll_compare(self.redis, self.scratch(), groups)
        for key, (expected, got, union) in sorted(results.items()):
            if key not in want:
                self.fail("contributors %s: not expected, Redis has %d" % (key, got))
            elif got != expected or union != expected:
                self.fail("contributors %s: expected %d distinct, Redis has %d (union with "
                          "expected %d)" % (key, expected, got, union))
        self.summary["contributor_keys"] = len(results)

    # ---------------------------------------------------------- KPI topic

    def latest_kpis(self, n_keys):
        latest = {}
        for line in kcat_lines(self.args.bootstrap, self.args.kpi_topic or self.cfg.kpi_topic,
                               "%s\n", tail=4 * n_keys + 100):
            try:
                u = json.loads(line)
            except ValueError:
                continue
            key = (u["kpi"], u["scope"], u["window"])
            if key not in latest or u["computed_at"] >= latest[key]["computed_at"]:
                latest[key] = u
        return latest

    def check_kpis(self, exp, consumed_at_ms):
        if self.cfg.kpi_format != "json":
            raise TruthError("the KPI check reads JSON KPI updates; set outputs.kpi.format: json")
        eligible = exp.visible_scopes(self.cfg.min_group_size)
        want = {(k["id"], s, k["window"]) for k in self.cfg.kpis for s in eligible}
        deadline = time.time() + max(self.args.wait, 30)
        while True:
            latest = self.latest_kpis(len(want))
            stale = [k for k in want if k not in latest or
                     latest[k]["computed_at"] < consumed_at_ms]
            if not stale or time.time() >= deadline:
                break
            time.sleep(0.5)
        for key in sorted(stale):
            self.fail("KPI %s: no update computed after the input was consumed" % "|".join(key))
        for key in sorted(set(latest) - want):
            self.fail("KPI %s: update for a scope that must be suppressed" % "|".join(key))

        # (granularity, behaviour, scope) -> [(bucket start, count, members)]
        cells = collections.defaultdict(list)
        for (g, start, b, scope), n in exp.counts.items():
            cells[(g, b, scope)].append((start, n, exp.members.get((g, start, b, scope), ())))
        groups, checks = [], []
        for key in sorted(want - set(stale)):
            u = latest[key]
            kpi = next(k for k in self.cfg.kpis if k["id"] == key[0])
            gran = self.cfg.windows[kpi["window"]]["gran"]
            count, members = 0, set()
            for b in kpi["behaviours"]:
                for start, n, m in cells.get((gran, b, key[1]), ()):
                    if u["window_start"] <= start < u["window_end"]:
                        count += n
                        members.update(m)
            label = "|".join(key)
            groups.append((label, "", members))
            checks.append((label, kpi, u, count))
        results = hll_compare(self.redis, self.scratch(), groups)
        for label, kpi, u, count in checks:
            self.check_kpi_update(label, kpi, u, count, results[label][0], exp.headcount[u["scope"]])
        self.summary["kpi_updates"] = len(checks)

    def check_kpi_update(self, label, kpi, u, count, contributors, headcount):
        values = {"count": count, "contributors": contributors,
                  "rate": count / headcount, "participation": contributors / headcount}
        for field, want in (("count", count), ("contributors", contributors),
                            ("headcount", headcount), ("rate", values["rate"]),
                            ("value", values[kpi["aggregation"]])):
            have = u.get(field)
            if have is None or abs(have - want) > 1e-9 * max(1.0, abs(want)):
                self.fail("KPI %s: %s expected %s, update has %s" % (label, field, want, have))

    # ---------------------------------------------------------- dead letters

    def check_dead_letters(self, exp):
        seen = collections.defaultdict(set)  # event id -> reasons
        for line in kcat_lines(self.args.bootstrap, self.cfg.dlq_topic, "%k\t%h\n"):
            key, _, headers = line.partition("\t")
            reasons = {h[len("dlq.reason="):] for h in headers.split(",")
                       if h.startswith("dlq.reason=")}
            seen[key] |= reasons
        for event_id, allowed in sorted(exp.dead_letters.items()):
            if event_id not in seen:
                self.fail("dead letter %s: missing (expected reason %s)"
                          % (event_id, " or ".join(sorted(allowed))))
            elif not seen[event_id] <= allowed:
                self.fail("dead letter %s: reason %s, expected %s" % (
                    event_id, ",".join(sorted(seen[event_id])), " or ".join(sorted(allowed))))
        for event_id in sorted(set(seen) - set(exp.dead_letters)):
            self.fail("dead letter %s: not expected (reason %s)"
                      % (event_id, ",".join(sorted(seen[event_id]))))
        self.summary["dead_letters_expected"] = len(exp.dead_letters)
        self.summary["dead_letters_observed"] = len(seen)


def cmd_check(args):
    return Checker(args).run()


# ---------------------------------------------------------------- dump

DUMP_COMMANDS = {"hash": ["HGETALL"], "string": ["GET"], "set": ["SMEMBERS"],
                 "list": ["LRANGE", 0, -1], "zset": ["ZRANGE", 0, -1, "WITHSCORES"],
                 "stream": ["XRANGE", "-", "+"]}


def cmd_dump(args):
    """Prints every Redis key and the values of all but HyperLogLog keys.

    A HyperLogLog value is an array of registers, so no identifier can be
    read from it; skipping those values keeps the dump fast. Any other key
    is dumped whatever its type.
    """
    redis = Redis(args.redis_port)
    keys = redis.scan("*")
    others = [k for k in keys if ":u:" not in k]
    types = [reply[0] if reply else "" for reply in redis.run([["TYPE", k] for k in others])]
    dumped = [(k, t) for k, t in zip(others, types) if t in DUMP_COMMANDS]
    replies = redis.run([DUMP_COMMANDS[t][:1] + [k] + DUMP_COMMANDS[t][1:] for k, t in dumped])
    for key in keys:
        print(key)
    for (key, _), reply in zip(dumped, replies):
        print(key)
        for line in reply:
            print("  " + line)
    print("%d keys, %d values dumped" % (len(keys), len(dumped)), file=sys.stderr)
    return 0


# ---------------------------------------------------------------- pace


def cmd_pace(args):
    """Writes the file's lines to stdout at args.rate lines per second."""
    start = time.monotonic()
    sent = 0
    with open(args.file, encoding="utf-8") as f:
        for line in f:
            sys.stdout.write(line)
            sent += 1
            if sent % 100 == 0:
                sys.stdout.flush()
                ahead = sent / args.rate - (time.monotonic() - start)
                if ahead > 0:
                    time.sleep(ahead)
    sys.stdout.flush()
    return 0


# ---------------------------------------------------------------- main


def main(argv):
    here = os.path.dirname(os.path.abspath(__file__))
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)

    gen = sub.add_parser("gen", help="write a seeded roster and events")
    gen.add_argument("--seed", type=int, required=True)
    gen.add_argument("--employees", type=int, required=True, help="roster size")
    gen.add_argument("--events", type=int, required=True, help="regular events")
    gen.add_argument("--out", required=True, help="output folder")
    gen.add_argument("--hours", type=float, default=20,
                     help="regular event times spread over the last HOURS hours (default 20)")
    gen.add_argument("--duplicates", type=int, default=0,
                     help="extra copies of earlier events, same event id and content")
    gen.add_argument("--late", type=int, default=0, help="events older than allowed_lateness")
    gen.add_argument("--future", type=int, default=0, help="events beyond max_future")
    gen.add_argument("--unknown", type=int, default=0, help="events of people not in the roster")
    gen.add_argument("--retracts", type=int, default=0, help="recognition_withdrawn events")
    gen.add_argument("--config", default=os.path.join(here, "advocacyd-faults.yaml"),
                     help="config whose lateness, future limit and keep times apply")
    gen.add_argument("--now-ms", type=int, default=0, help="generation time (default: now)")
    gen.set_defaults(func=cmd_gen)

    check = sub.add_parser("check", help="compare Redis and Kafka with the generated files")
    check.add_argument("--config", required=True)
    check.add_argument("--key", help="HMAC key file (default: privacy.key_file of the config)")
    check.add_argument("--dir", required=True, help="folder written by gen")
    check.add_argument("--redis-port", type=int, required=True)
    check.add_argument("--bootstrap", help="Kafka bootstrap: also check KPI updates and the DLQ")
    check.add_argument("--kpi-topic", help="KPI topic (default: outputs.kpi.topic)")
    check.add_argument("--wait", "--timeout", type=float, default=0,
                       help="seconds to wait until Redis holds the offsets of every message")
    check.set_defaults(func=cmd_check)

    dump = sub.add_parser("dump", help="print every Redis key and value")
    dump.add_argument("--redis-port", type=int, required=True)
    dump.set_defaults(func=cmd_dump)

    pace = sub.add_parser("pace", help="copy a file's lines to stdout at a fixed rate")
    pace.add_argument("--rate", type=float, required=True, help="lines per second")
    pace.add_argument("file")
    pace.set_defaults(func=cmd_pace)

    args = parser.parse_args(argv)
    try:
        return args.func(args)
    except TruthError as e:
        print("truth.py: %s" % e, file=sys.stderr)
        return 2
    except BrokenPipeError:
        return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
