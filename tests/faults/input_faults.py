#!/usr/bin/env python3
"""Data and checks of the fault tests about faulty input: repeated event
ids, late, future and out-of-order events, and records that Redis rejects.

It builds on truth.py (the generator and the independent checker) and adds
what 70-duplicates.sh, 75-late-future.sh and 80-poison.sh need:

  replays        adds repeats of generated events to a truth.py gen folder:
                 right behind the original, on another partition, and as a
                 second wave to produce after a daemon restart.
  spread         counts event ids that the input topic holds on more than
                 one partition.
  dedup-memory   sums MEMORY USAGE and SCARD of the event id sets in Redis.
  waves          generates recent events, then older ones that arrive out of
                 order, and one event at exactly local midnight.
  midnight-check checks that the midnight event is in the day bucket that
                 starts at that midnight.
  kpi-diff       compares the org KPI values of two KPI topic snapshots.
  poison-pick    chooses a HyperLogLog key and a count field that a few
                 generated events touch, for the test to poison in Redis.
  poison-check   checks that exactly those events were dead-lettered with
                 reason redis_rejected, then runs truth.py's check without them.
  log-counters   sums the final counters of daemon logs.
  dlq-reasons    counts dead-letter records by dlq.reason.

Like truth.py it reads Redis through redis-cli and Kafka through kcat, both
on loopback, and reuses no code of the daemon.
"""

import argparse
import collections
import datetime
import json
import os
import random
import re
import shutil
import subprocess
import sys
import time
import zlib

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import truth  # noqa: E402

HOUR_MS = 3600000
MIDNIGHT_PERSON = "emp-midnight"
MIDNIGHT_TEAM = "Night Shift Desk"
MIDNIGHT_EVENT = "midnight-1"


class InputError(Exception):
    """A problem with the arguments, the data or a tool; exit status 2."""


def read_lines(path):
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f]


def write_lines(path, events):
    with open(path, "w", encoding="utf-8") as f:
        for ev in events:
            f.write(json.dumps(ev, separators=(",", ":")) + "\n")


def read_meta(directory):
    with open(os.path.join(directory, "meta.json"), encoding="utf-8") as f:
        return json.load(f)


def write_meta(directory, meta):
    with open(os.path.join(directory, "meta.json"), "w", encoding="utf-8") as f:
        json.dump(meta, f)


class Classifier:
    """Decides, as the daemon does, whether an event is counted and deduplicated."""

    def __init__(self, cfg, now_ms):
        self.cfg = cfg
        self.now_ms = now_ms

    def time_ok(self, ev):
        t = ev["event_time_ms"]
        return (self.now_ms - self.cfg.lateness_ms <= t <=
                self.now_ms + self.cfg.max_future_ms)

    def mapped(self, ev):
        return any(rule.matches(ev) for _, rule in self.cfg.rules)

    def deduplicated(self, ev):
        """True when the daemon records the event's id: a valid, mapped event with an id."""
        return bool(ev.get("event_id")) and self.time_ok(ev) and self.mapped(ev)


# ---------------------------------------------------------------- replays


def partition_of(key, partitions):
    """The partition librdkafka's default partitioner (consistent_random) picks for a
    non-empty key: CRC-32 of the key modulo the partition count."""
    return zlib.crc32(key.encode("utf-8")) % partitions


def other_partition_key(event_id, partitions, tag):
    """A Kafka key that sends a replay of event_id to another partition than event_id."""
    home = partition_of(event_id, partitions)
    for n in range(1000):
        key = "%s~%s%d" % (event_id, tag, n)
        if partition_of(key, partitions) != home:
            return key
    raise InputError("no replay key for %s leaves partition %d" % (event_id, home))


def cmd_replays(args):
    cfg = truth.Config(args.config)
    meta = read_meta(args.dir)
    rng = random.Random(args.seed)
    classifier = Classifier(cfg, meta["generated_at_ms"])
    generated = read_lines(os.path.join(args.dir, "events.jsonl"))
    shutil.copy(os.path.join(args.dir, "events.jsonl"), os.path.join(args.dir, "gen-events.jsonl"))

    # Only valid events are replayed on purpose: a dead letter is keyed by the
    # Kafka key, which for a replay on another partition is not the event id.
    candidates = sorted({i for i, ev in enumerate(generated) if classifier.deduplicated(ev)})
    if len(candidates) < args.adjacent + args.cross:
        raise InputError("only %d valid events to replay" % len(candidates))
    picks = rng.sample(candidates, args.adjacent + args.cross)
    adjacent, cross = set(picks[:args.adjacent]), picks[args.adjacent:]

    # Right behind the original: same key, so the same partition and batch.
    keyed = []
    for i, ev in enumerate(generated):
        keyed.append((float(i), ev))
        if i in adjacent:
            keyed.append((i + 0.25, ev))
    # Later in the stream, on another partition.
    for n, i in enumerate(cross):
        copy = dict(generated[i], kafka_key=other_partition_key(
            generated[i]["event_id"], args.partitions, "x%d-" % n))
        keyed.append((rng.uniform(i + 0.5, len(generated)), copy))
    keyed.sort(key=lambda pair: pair[0])
    wave1 = [ev for _, ev in keyed]

    # Second wave: repeats of first-wave ids, half of them on another partition.
    firsts = sorted({ev["event_id"]: i for i, ev in enumerate(wave1)
                     if classifier.deduplicated(ev)}.items())
    wave2 = []
    for n, (event_id, i) in enumerate(rng.sample(firsts, args.second_wave)):
        copy = {k: v for k, v in wave1[i].items() if k != "kafka_key"}
        if n % 2:
            copy["kafka_key"] = other_partition_key(event_id, args.partitions, "w%d-" % n)
        wave2.append(copy)

    write_lines(os.path.join(args.dir, "wave1.jsonl"), wave1)
    write_lines(os.path.join(args.dir, "wave2.jsonl"), wave2)
    write_lines(os.path.join(args.dir, "events.jsonl"), wave1 + wave2)

    seen, repeats = set(), 0
    for ev in wave1 + wave2:
        if classifier.deduplicated(ev):
            if ev["event_id"] in seen:
                repeats += 1
            seen.add(ev["event_id"])
    elsewhere = {ev["event_id"] for ev in wave1 + wave2 if "kafka_key" in ev}
    meta.update(messages=len(wave1) + len(wave2), waves=[len(wave1), len(wave2)],
                adjacent=args.adjacent, cross_partition=args.cross,
                ids_keyed_to_another_partition=len(elsewhere),
                second_wave=args.second_wave, expected_duplicate_events=repeats,
                expected_deduplicated_ids=len(seen))
    write_meta(args.dir, meta)
    print(json.dumps({k: meta[k] for k in ("messages", "waves", "duplicates", "adjacent",
                                            "cross_partition", "second_wave",
                                            "ids_keyed_to_another_partition",
                                            "expected_duplicate_events",
                                            "expected_deduplicated_ids")}))
    return 0


def cmd_spread(args):
    """Maps each message's Kafka key back to its event id and counts the partitions per id."""
    key_to_id = {}
    for name in args.files:
        for ev in read_lines(name):
            key_to_id[ev.get("kafka_key") or ev["event_id"]] = ev["event_id"]
    partitions = collections.defaultdict(set)
    unknown = 0
    for line in truth.kcat_lines(args.bootstrap, args.topic, "%p\t%k\n"):
        partition, _, key = line.partition("\t")
        if key not in key_to_id:
            unknown += 1
            continue
        partitions[key_to_id[key]].add(int(partition))
    several = sum(1 for p in partitions.values() if len(p) > 1)
    print(json.dumps({"event_ids": len(partitions), "ids_on_several_partitions": several,
                      "messages_with_unknown_keys": unknown}))
    return 0


# ---------------------------------------------------------------- dedup memory


def cmd_dedup_memory(args):
    redis = truth.Redis(args.redis_port)
    keys = redis.scan("{%s}:d:*" % args.prefix)
    if not keys:
        raise InputError("no event id sets {%s}:d:* in Redis" % args.prefix)
    replies = redis.run([["MEMORY", "USAGE", k, "SAMPLES", "0"] for k in keys] +
                        [["SCARD", k] for k in keys])
    sizes = [int(r[0]) for r in replies[:len(keys)]]
    cards = [int(r[0]) for r in replies[len(keys):]]
    ids, used = sum(cards), sum(sizes)
    result = {"sets": len(keys), "ids": ids, "bytes": used,
              "bytes_per_id": round(used / ids, 1),
              "mbytes_per_million_ids": round(used / ids, 1)}
    print(json.dumps(result))
    if args.expect_ids is not None and ids != args.expect_ids:
        print("input_faults.py: the event id sets hold %d ids; %d distinct valid, mapped "
              "events were produced" % (ids, args.expect_ids), file=sys.stderr)
        return 1
    return 0


# ---------------------------------------------------------------- late and out-of-order


def run_gen(out, seed, employees, events, now_ms, hours, config, extra=()):
    cmd = [sys.executable, os.path.join(os.path.dirname(os.path.abspath(__file__)), "truth.py"),
           "gen", "--out", out, "--seed", str(seed), "--employees", str(employees),
           "--events", str(events), "--now-ms", str(now_ms), "--hours", str(hours),
           "--config", config] + list(extra)
    result = subprocess.run(cmd, capture_output=True, text=True)
    if result.returncode != 0:
        raise InputError("truth.py gen failed: %s" % result.stderr.strip())
    return read_lines(os.path.join(out, "events.jsonl"))


def local_midnights(zone_name, now_ms):
    """Local midnight of today and of yesterday in the zone, as epoch ms."""
    zone = truth.zoneinfo.ZoneInfo(zone_name)
    today = datetime.datetime.fromtimestamp(now_ms / 1000, zone).date()
    result = []
    for back in (0, 1):
        day = today - datetime.timedelta(days=back)
        midnight = datetime.datetime(day.year, day.month, day.day, tzinfo=zone)
        result.append(int(midnight.timestamp()) * 1000)
    return result


def pick_midnight(cfg, now_ms):
    """Today's local midnight, or yesterday's when today's is within an hour of the
    time after which 5m buckets are no longer written, so that the event's
    granularities do not depend on when it is processed."""
    today, yesterday = local_midnights(cfg.timezone, now_ms)
    if abs(now_ms - today - cfg.keep_ms(0)) < HOUR_MS:
        return yesterday
    return today


def midnight_person():
    return {"department": "Operations", "team": MIDNIGHT_TEAM, "segment": "frontline",
            "work_mode": "onsite", "employment_type": "full_time", "region": "EMEA",
            "aliases": []}


def add_midnight_person(directory):
    """Adds one person, alone in a team, whose only event is the midnight event."""
    record = midnight_person()
    with open(os.path.join(directory, "roster.jsonl"), "a", encoding="utf-8") as f:
        f.write(json.dumps({"key": MIDNIGHT_PERSON, "value": record},
                           separators=(",", ":")) + "\n")
    with open(os.path.join(directory, "roster.kcat"), "a", encoding="utf-8") as f:
        f.write("%s\t%s\n" % (MIDNIGHT_PERSON, json.dumps(record, separators=(",", ":"))))
    with open(os.path.join(directory, "secrets.txt"), "a", encoding="utf-8") as f:
        f.write(MIDNIGHT_PERSON + "\n")


def renamed(events, prefix):
    return [dict(ev, event_id=prefix + ev["event_id"]) for ev in events]


def cmd_waves(args):
    """Writes wave1.jsonl (recent events, late and future ones), wave2.jsonl (older
    events and the midnight event), events.jsonl (both) and wave1/ (a truth.py
    folder of the first wave alone)."""
    cfg = truth.Config(args.config)
    now = args.now_ms or int(time.time() * 1000)
    # Recent events, then older ones in two bands: 5m, 1h and 1d buckets, then
    # 1d buckets only. Each band keeps an hour or more from the limits where
    # a granularity stops being written or an event becomes late.
    wave1 = run_gen(args.dir, args.seed, args.employees, args.events, now, args.recent_hours,
                    args.config, ["--late", str(args.late), "--future", str(args.future)])
    roster = open(os.path.join(args.dir, "roster.jsonl"), encoding="utf-8").read()
    bands = [("older-", now - int((args.recent_hours + 0.5) * HOUR_MS),
              cfg.keep_ms(0) / HOUR_MS - args.recent_hours - 1.5),
             ("oldest-", now - cfg.keep_ms(1) - HOUR_MS,
              (cfg.lateness_ms - cfg.keep_ms(1)) / HOUR_MS - 3)]
    wave2 = []
    for prefix, band_now, hours in bands:
        band_dir = os.path.join(args.dir, prefix.rstrip("-"))
        events = run_gen(band_dir, args.seed, args.employees, args.older_events, band_now,
                         hours, args.config, ["--retracts", str(args.older_events // 50)])
        if open(os.path.join(band_dir, "roster.jsonl"), encoding="utf-8").read() != roster:
            raise InputError("truth.py gen made another roster for the same seed")
        wave2 += renamed(events, prefix)
    random.Random(args.seed).shuffle(wave2)

    midnight_ms = pick_midnight(cfg, now)
    wave2.append({"event_id": MIDNIGHT_EVENT, "event_time_ms": midnight_ms,
                  "kind": "training_completed", "actor_id": MIDNIGHT_PERSON})
    add_midnight_person(args.dir)

    meta = read_meta(args.dir)
    first = os.path.join(args.dir, "wave1")
    os.makedirs(first, exist_ok=True)
    for name in ("roster.jsonl", "secrets.txt"):
        shutil.copy(os.path.join(args.dir, name), os.path.join(first, name))
    write_lines(os.path.join(first, "events.jsonl"), wave1)
    write_meta(first, dict(meta, messages=len(wave1)))

    write_lines(os.path.join(args.dir, "wave1.jsonl"), wave1)
    write_lines(os.path.join(args.dir, "wave2.jsonl"), wave2)
    write_lines(os.path.join(args.dir, "events.jsonl"), wave1 + wave2)
    meta.update(messages=len(wave1) + len(wave2), waves=[len(wave1), len(wave2)],
                midnight_ms=midnight_ms)
    write_meta(args.dir, meta)
    print(json.dumps({"messages": meta["messages"], "waves": meta["waves"],
                      "late": meta["late"], "future": meta["future"],
                      "midnight": datetime.datetime.fromtimestamp(
                          midnight_ms / 1000, truth.zoneinfo.ZoneInfo(cfg.timezone)).isoformat()}))
    return 0


def cmd_midnight_check(args):
    """The midnight event's field must be in the day bucket starting at that midnight,
    and in no other day bucket."""
    cfg = truth.Config(args.config)
    midnight_s = read_meta(args.dir)["midnight_ms"] // 1000
    field = "training_completed|team:%s" % MIDNIGHT_TEAM
    day = truth.granularity_name(cfg.granularities[-1])
    redis = truth.Redis(args.redis_port)
    keys = redis.scan("{%s}:n:%s:*" % (cfg.prefix, day))
    values = redis.run([["HGET", k, field] for k in keys])
    found = {k: r[0] for k, r in zip(keys, values) if r and r[0]}
    want = {"{%s}:n:%s:%d" % (cfg.prefix, day, midnight_s): "1"}
    print(json.dumps({"midnight_s": midnight_s, "field": field, "day_buckets": found}))
    if found != want:
        print("input_faults.py: the event at local midnight %d (%s) must count once in "
              "day bucket %s, field %s; Redis has %s" % (
                  midnight_s, cfg.timezone, next(iter(want)), field, found or "none"),
              file=sys.stderr)
        return 1
    return 0


def latest_org_kpis(path):
    latest = {}
    with open(path, encoding="utf-8", errors="replace") as f:
        for line in f:
            try:
                u = json.loads(line)
            except ValueError:
                continue
            if u.get("scope") != "org":
                continue
            key = "%s|%s" % (u["kpi"], u["window"])
            if key not in latest or u["computed_at"] >= latest[key]["computed_at"]:
                latest[key] = u
    return latest


def cmd_kpi_diff(args):
    """Fails unless every KPI of the given windows has a newer org update with another count."""
    before, after = latest_org_kpis(args.before), latest_org_kpis(args.after)
    changed, problems = {}, []
    for key in sorted(after):
        if after[key]["window"] not in args.windows:
            continue
        old = before.get(key)
        if old is None:
            problems.append("%s: no update before the out-of-order events" % key)
        elif after[key]["computed_at"] <= old["computed_at"]:
            problems.append("%s: no update after the out-of-order events" % key)
        elif after[key]["count"] == old["count"]:
            problems.append("%s: count stayed %s" % (key, old["count"]))
        else:
            changed[key] = [old["count"], after[key]["count"]]
    if not changed and not problems:
        problems.append("no org KPI update on windows %s" % ",".join(args.windows))
    print(json.dumps({"org_kpi_counts_before_after": changed}))
    for p in problems:
        print("kpi: " + p, file=sys.stderr)
    return 1 if problems else 0


# ---------------------------------------------------------------- poison


class Touches(truth.Expected):
    """truth.Expected that also records which events touch each HyperLogLog key
    and each count field: (granularity, bucket start, behaviour, scope) -> ids."""

    def __init__(self, cfg, key, directory, now_ms):
        self.hll_events = collections.defaultdict(set)
        self.count_events = collections.defaultdict(set)
        super().__init__(cfg, key, directory, now_ms)

    def _credit(self, ev, b, rule, starts, net, positive):
        super()._credit(ev, b, rule, starts, net, positive)
        if rule.credit_targets:
            ids = (ev.get("target_ids") or [])[:truth.MAX_TARGETS]
        else:
            ids = [ev["actor_id"]] if ev.get("actor_id") else []
        for raw in ids:
            emp = self.person_of.get(raw)
            scopes = self.scopes_of[emp] if emp else ("org",)
            for g, start in enumerate(starts):
                if start is None:
                    continue
                for scope in scopes:
                    self.count_events[(g, start, b, scope)].add(ev["event_id"])
                    if rule.effect > 0 and emp is not None and \
                            self.cfg.keeps_contributors(g, b):
                        self.hll_events[(g, start, b, scope)].add(ev["event_id"])


def pick_key(candidates, lo, hi, rng, avoid):
    fitting = sorted(k for k, ids in candidates.items()
                     if lo <= len(ids) <= hi and k[3] != "org" and not ids & avoid)
    if not fitting:
        raise InputError("no key is touched by %d to %d events; generate more events" % (lo, hi))
    return rng.choice(fitting)


def cmd_poison_pick(args):
    cfg = truth.Config(args.config)
    key = truth.load_key(cfg.key_file)
    touches = Touches(cfg, key, args.dir, int(time.time() * 1000))
    rng = random.Random(args.seed)
    names = cfg.behaviours
    prefix = "{%s}" % cfg.prefix
    gran = truth.granularity_name(cfg.granularities[0])

    g, start, b, scope = pick_key({k: v for k, v in touches.hll_events.items() if k[0] == 0},
                                  args.min_events, args.max_events, rng, set())
    hll_ids = touches.hll_events[(g, start, b, scope)]
    hll = {"key": "%s:u:%s:%d:%s|%s" % (prefix, gran, start // 1000, names[b], scope),
           "events": sorted(hll_ids)}

    # Only behaviours without a retract rule: a batch whose increments of the
    # field add up to zero writes nothing to it, so Redis would not reject it.
    retracted = {b for b, rule in cfg.rules if rule.effect < 0}
    counts = {k: v for k, v in touches.count_events.items() if k[0] == 0 and k[2] not in retracted}
    g, start, b, scope = pick_key(counts, args.min_events, args.max_events, rng, hll_ids)
    count = {"key": "%s:n:%s:%d" % (prefix, gran, start // 1000),
             "field": "%s|%s" % (names[b], scope),
             "events": sorted(touches.count_events[(g, start, b, scope)])}

    result = {"hll": hll, "count": count}
    with open(os.path.join(args.dir, "poison.json"), "w", encoding="utf-8") as f:
        json.dump(result, f)
    print(json.dumps(result))
    return 0


def dead_letters_by_reason(bootstrap, topic):
    """Returns [(reason, headers dict, detail)] of every dead-letter record (JSON format)."""
    records = []
    for line in truth.kcat_lines(bootstrap, topic, "%h\t%s\n"):
        header_text, _, value = line.partition("\t")
        headers = dict(h.partition("=")[::2] for h in header_text.split(",") if "=" in h)
        try:
            detail = json.loads(value).get("detail", "")
        except ValueError:
            detail = ""
        records.append((headers.get("dlq.reason", ""), headers, detail))
    return records


class PoisonChecker(truth.Checker):
    """truth.Checker that leaves the redis_rejected dead letters to poison-check."""

    def check_dead_letters(self, exp):
        real = truth.kcat_lines

        def without_rejected(bootstrap, topic, fmt, tail=None):
            return [line for line in real(bootstrap, topic, fmt, tail)
                    if "dlq.reason=redis_rejected" not in line]

        truth.kcat_lines = without_rejected
        try:
            super().check_dead_letters(exp)
        finally:
            truth.kcat_lines = real


def cmd_poison_check(args):
    cfg = truth.Config(args.config)
    with open(os.path.join(args.dir, "poison.json"), encoding="utf-8") as f:
        poison = json.load(f)
    expected = set(poison["hll"]["events"]) | set(poison["count"]["events"])

    # Dead letters of reason redis_rejected, mapped back to the input messages.
    by_offset = {}
    for topic in cfg.input_topics:
        for line in truth.kcat_lines(args.bootstrap, topic, "%p\t%o\t%k\n"):
            partition, offset, key = line.split("\t", 2)
            by_offset[(topic, partition, offset)] = key
    rejected, problems = [], []
    attempts = "rejected the write %d times" % args.attempts
    for reason, h, detail in dead_letters_by_reason(args.bootstrap, cfg.dlq_topic):
        if reason == "redis_rejected":
            if attempts not in detail:
                problems.append("dead letter of %s/%s/%s: detail %r lacks %r" % (
                    h.get("dlq.source.topic"), h.get("dlq.source.partition"),
                    h.get("dlq.source.offset"), detail, attempts))
            source = (h.get("dlq.source.topic"), h.get("dlq.source.partition"),
                      h.get("dlq.source.offset"))
            if source not in by_offset:
                raise InputError("dead letter from %s: no such input message" % "/".join(
                    str(s) for s in source))
            rejected.append(by_offset[source])

    counted = collections.Counter(rejected)
    for event_id in sorted(expected - set(counted)):
        problems.append("event %s touches a poisoned key but was not dead-lettered" % event_id)
    for event_id in sorted(set(counted) - expected):
        problems.append("event %s was dead-lettered as redis_rejected but touches no "
                        "poisoned key" % event_id)
    for event_id, n in sorted(counted.items()):
        if n > 1:
            problems.append("event %s was dead-lettered %d times" % (event_id, n))
    print(json.dumps({"poisoned_events": len(expected), "redis_rejected": len(rejected)}))
    for p in problems:
        print("poison: " + p, file=sys.stderr)
    if problems:
        return 1

    # The poisoned values are not the daemon's: remove them, then check the
    # rest exactly, with the dead-lettered events left out of the truth.
    truth.Redis(args.redis_port).run([["DEL", poison["hll"]["key"]],
                                      ["HDEL", poison["count"]["key"], poison["count"]["field"]]])
    checked = os.path.join(args.dir, "without-rejected")
    os.makedirs(checked, exist_ok=True)
    for name in ("meta.json", "roster.jsonl"):
        shutil.copy(os.path.join(args.dir, name), os.path.join(checked, name))
    write_lines(os.path.join(checked, "events.jsonl"),
                [ev for ev in read_lines(os.path.join(args.dir, "events.jsonl"))
                 if ev["event_id"] not in expected])
    check_args = argparse.Namespace(config=args.config, key=None, dir=checked,
                                    redis_port=args.redis_port, bootstrap=args.bootstrap,
                                    kpi_topic=None, wait=args.wait)
    return PoisonChecker(check_args).run()


# ---------------------------------------------------------------- logs and DLQ

FIELD = re.compile(r'(\w+)=("(?:[^"\\]|\\.)*"|\S*)')


def last_line_fields(path, msg):
    fields = {}
    with open(path, encoding="utf-8", errors="replace") as f:
        for line in f:
            if 'msg="%s"' % msg in line:
                fields = dict(FIELD.findall(line))
    return fields


def cmd_log_counters(args):
    """Sums the last counters, ignored and dead-lettered lines of each log."""
    total = collections.Counter()
    for path in args.logs:
        for msg, prefix in (("counters", ""), ("ignored by reason", "ignored."),
                            ("dead-lettered by reason", "dead_lettered.")):
            for k, v in last_line_fields(path, msg).items():
                if v.isdigit() and k not in ("ts",):
                    total[prefix + k] += int(v)
    print(json.dumps(dict(sorted(total.items()))))
    return 0


def cmd_dlq_reasons(args):
    reasons = collections.Counter(r for r, _, _ in dead_letters_by_reason(args.bootstrap, args.topic))
    print(json.dumps(dict(sorted(reasons.items()))))
    return 0


# ---------------------------------------------------------------- main


def main(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("replays", help="add repeats to a truth.py gen folder")
    p.add_argument("--dir", required=True)
    p.add_argument("--config", required=True)
    p.add_argument("--seed", type=int, required=True)
    p.add_argument("--partitions", type=int, required=True, help="of the input topic")
    p.add_argument("--adjacent", type=int, required=True, help="repeats right behind the original")
    p.add_argument("--cross", type=int, required=True, help="later repeats on another partition")
    p.add_argument("--second-wave", type=int, required=True, help="repeats in wave2.jsonl")
    p.set_defaults(func=cmd_replays)

    p = sub.add_parser("spread", help="count event ids on more than one partition")
    p.add_argument("--bootstrap", required=True)
    p.add_argument("--topic", required=True)
    p.add_argument("files", nargs="+", help="the JSON lines that were produced")
    p.set_defaults(func=cmd_spread)

    p = sub.add_parser("dedup-memory", help="memory of the event id sets in Redis")
    p.add_argument("--redis-port", type=int, required=True)
    p.add_argument("--prefix", required=True, help="redis.key_prefix")
    p.add_argument("--expect-ids", type=int, help="fail unless the sets hold this many ids")
    p.set_defaults(func=cmd_dedup_memory)

    p = sub.add_parser("waves", help="generate recent, older and midnight events")
    p.add_argument("--dir", required=True)
    p.add_argument("--config", required=True)
    p.add_argument("--seed", type=int, required=True)
    p.add_argument("--employees", type=int, required=True)
    p.add_argument("--events", type=int, required=True, help="recent events (first wave)")
    p.add_argument("--recent-hours", type=float, default=4,
                   help="first-wave events are at most this many hours old (default 4)")
    p.add_argument("--older-events", type=int, required=True,
                   help="events of each of the two older bands (second wave)")
    p.add_argument("--late", type=int, default=0)
    p.add_argument("--future", type=int, default=0)
    p.add_argument("--now-ms", type=int, default=0)
    p.set_defaults(func=cmd_waves)

    p = sub.add_parser("midnight-check", help="check the day bucket of the midnight event")
    p.add_argument("--dir", required=True)
    p.add_argument("--config", required=True)
    p.add_argument("--redis-port", type=int, required=True)
    p.set_defaults(func=cmd_midnight_check)

    p = sub.add_parser("kpi-diff", help="compare org KPI updates of two topic snapshots")
    p.add_argument("--before", required=True, help="kcat output of the KPI topic")
    p.add_argument("--after", required=True)
    p.add_argument("--windows", nargs="+", required=True, help="window names to compare")
    p.set_defaults(func=cmd_kpi_diff)

    p = sub.add_parser("poison-pick", help="choose keys to poison")
    p.add_argument("--dir", required=True)
    p.add_argument("--config", required=True)
    p.add_argument("--seed", type=int, required=True)
    p.add_argument("--min-events", type=int, default=2)
    p.add_argument("--max-events", type=int, default=4)
    p.set_defaults(func=cmd_poison_pick)

    p = sub.add_parser("poison-check", help="check redis_rejected dead letters, then the rest")
    p.add_argument("--dir", required=True)
    p.add_argument("--config", required=True)
    p.add_argument("--attempts", type=int, required=True,
                   help="kafka.poison_attempts: the detail must name this many rejections")
    p.add_argument("--redis-port", type=int, required=True)
    p.add_argument("--bootstrap", required=True)
    p.add_argument("--wait", type=float, default=0)
    p.set_defaults(func=cmd_poison_check)

    p = sub.add_parser("log-counters", help="sum the final counters of daemon logs")
    p.add_argument("logs", nargs="+")
    p.set_defaults(func=cmd_log_counters)

    p = sub.add_parser("dlq-reasons", help="count dead letters by reason")
    p.add_argument("--bootstrap", required=True)
    p.add_argument("--topic", default="advocacy.dlq")
    p.set_defaults(func=cmd_dlq_reasons)

    args = parser.parse_args(argv)
    try:
        return args.func(args)
    except (InputError, truth.TruthError) as e:
        print("input_faults.py: %s" % e, file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
