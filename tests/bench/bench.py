#!/usr/bin/env python3
"""Measuring helpers of tests/bench/run.sh, one subcommand per phase.

  config    writes the bench config: the reference config pointed at the
            bench's servers, KPI output in JSON, the tick interval left at
            its default, and a marker behaviour with a count KPI over 1h.
  catchup   polls the offsets hash in Redis over one connection until the
            daemon has consumed a given number of messages, and samples the
            daemon's memory meanwhile. Then it reads INFO commandstats and
            takes its own HGETALL polls out of the count.
  markers   writes marker events (JSON lines for advocacyd-produce) at a fixed
            rate, each stamped with its production time, and logs the times.
  listen    reads the KPI topic through kcat and logs the receive time and
            count of every org-scope update of the marker KPI.
  report    turns the phase files into the final JSON line.

Only the standard library and PyYAML (python3-yaml, installed with the
project's dependencies) are used. Nothing here prints or stores a person
identifier: markers act as generated employee ids (E000001...), which the
generator also uses, and only counts and times are logged.
"""
import argparse
import json
import math
import os
import signal
import socket
import statistics
import subprocess
import sys
import time

import yaml

MARKER_KIND = "bench_marker"
MARKER_BEHAVIOUR = "bench_marker"
MARKER_KPI = "bench_marker_count"
MARKER_WINDOW = "1h"


def fail(msg):
    print(f"bench.py: {msg}", file=sys.stderr)
    sys.exit(1)


# --------------------------------------------------------------------- config

def cmd_config(a):
    with open(a.reference) as f:
        cfg = yaml.safe_load(f)
    catalog = cfg.pop("kpi_catalog", None)
    if catalog is not None:
        # The bench config is self-contained: the catalog's KPIs go inline.
        with open(os.path.join(os.path.dirname(os.path.abspath(a.reference)), catalog)) as f:
            cfg["kpis"] = yaml.safe_load(f)["kpis"]
    cfg["kafka"]["bootstrap_servers"] = a.brokers
    cfg["kafka"]["group_id"] = "advocacyd-bench"
    cfg["redis"]["port"] = a.redis_port
    cfg["privacy"]["key_file"] = a.key_file
    cfg["admin"]["port"] = 0
    cfg["outputs"]["kpi"]["format"] = "json"
    # The freshness figure is stated for the default tick interval.
    cfg["outputs"].pop("tick_interval", None)
    cfg["behaviours"][MARKER_BEHAVIOUR] = {
        "description": "Benchmark freshness markers",
        "rules": [{"kinds": [MARKER_KIND]}],
    }
    if a.daily_cap:
        # Every behaviour that counts events, except the markers, gets the
        # cap: the batch write then carries one cap record per person, day
        # and behaviour.
        for bid, behaviour in cfg["behaviours"].items():
            if bid != MARKER_BEHAVIOUR and not any(
                    "amount_attribute" in r for r in behaviour["rules"]):
                behaviour["daily_cap"] = a.daily_cap
    cfg["kpis"].append({
        "id": MARKER_KPI, "name": "Benchmark markers", "behaviours": [MARKER_BEHAVIOUR],
        "aggregation": "count", "window": MARKER_WINDOW, "quadrant": "internal_process",
        "indicator": "leading", "weight": 0, "target": 1,
    })
    with open(a.out, "w") as f:
        yaml.safe_dump(cfg, f, sort_keys=False)


# ---------------------------------------------------------------------- redis

class Redis:
    """A minimal RESP client: enough for HGETALL, INFO and CONFIG."""

    def __init__(self, port):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=10)
        self.file = self.sock.makefile("rb")

    def call(self, *args):
        out = [f"*{len(args)}\r\n".encode()]
        for arg in args:
            data = str(arg).encode()
            out.append(f"${len(data)}\r\n".encode() + data + b"\r\n")
        self.sock.sendall(b"".join(out))
        return self.read()

    def read(self):
        line = self.file.readline()
        if not line:
            fail("Redis closed the connection")
        kind, rest = line[:1], line[1:-2]
        if kind == b"+":
            return rest.decode()
        if kind == b"-":
            fail(f"Redis error: {rest.decode()}")
        if kind == b":":
            return int(rest)
        if kind == b"$":
            n = int(rest)
            if n < 0:
                return None
            data = self.file.read(n + 2)
            return data[:-2].decode()
        if kind == b"*":
            return [self.read() for _ in range(int(rest))]
        fail(f"unexpected Redis reply {line!r}")


def commandstats(redis):
    """Returns calls and microseconds per command name since the last
    CONFIG RESETSTAT. A script's time includes the commands it ran, which
    are also counted under their own names."""
    calls, usec = {}, {}
    for line in redis.call("INFO", "commandstats").splitlines():
        if not line.startswith("cmdstat_"):
            continue
        name, fields = line[len("cmdstat_"):].split(":", 1)
        for field in fields.split(","):
            key, value = field.split("=", 1)
            if key == "calls":
                calls[name] = int(value)
            elif key == "usec":
                usec[name] = int(value)
    return calls, usec


def proc_memory_kb(pid):
    """VmHWM and VmRSS of pid in kB, or None when it is gone."""
    try:
        with open(f"/proc/{pid}/status") as f:
            fields = dict(line.split(":", 1) for line in f if ":" in line)
    except OSError:
        return None
    return {k: int(fields[k].split()[0]) for k in ("VmHWM", "VmRSS") if k in fields}


def proc_cpu_s(pid):
    """User plus system CPU seconds of pid (all its threads), or None when it is gone."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
    except OSError:
        return None
    # utime and stime are fields 14 and 15 of stat(5), and fields[0] here is field 3.
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def cpu_of(pids):
    return {name: proc_cpu_s(pid) for name, pid in pids.items()}


def consumed(redis, key):
    return sum(int(v) for v in redis.call("HGETALL", key)[1::2])


def cmd_catchup(a):
    redis = Redis(a.redis_port)
    own_hgetall = 0
    first, first_sum = None, 0
    last_progress, last_sum = time.time(), -1
    memory = {"VmHWM": 0, "VmRSS": 0}
    pids = {"advocacyd": a.pid}
    if a.redis_pid:
        pids["redis"] = a.redis_pid
    if a.broker_pid:
        pids["broker"] = a.broker_pid
    cpu_first = None
    while True:
        now_sum = consumed(redis, a.key)
        own_hgetall += 1
        now = time.time()
        mem = proc_memory_kb(a.pid)
        if mem is None:
            fail(f"advocacyd (pid {a.pid}) exited after {now_sum} of {a.total} messages; "
                 "see its log")
        memory = mem
        if first is None and now_sum > a.base:
            first, first_sum = now, now_sum
            cpu_first = cpu_of(pids)
        if now_sum >= a.total:
            break
        if now_sum != last_sum:
            last_progress, last_sum = now, now_sum
        elif now - last_progress > a.stall_timeout:
            fail(f"no progress for {a.stall_timeout}s at {now_sum} of {a.total} consumed "
                 f"messages (Redis key {a.key})")
        time.sleep(a.interval)
    end = time.time()
    cpu_end = cpu_of(pids)

    calls, usec = commandstats(redis)
    # The bench's own polling; the daemon never sends INFO or CONFIG (Redis 7
    # names subcommands "config|resetstat").
    calls["hgetall"] = calls.get("hgetall", 0) - own_hgetall
    calls = {k: v for k, v in sorted(calls.items())
             if v > 0 and k.split("|")[0] not in ("info", "config")}
    json.dump({
        "messages": now_sum - a.base, "offset_sum": now_sum, "started_at": a.started, "first_batch_at": first,
        "first_batch_messages": first_sum - a.base,
        "caught_up_at": end, "redis_cmds": sum(calls.values()), "redis_cmds_by_name": calls,
        # The time of hgetall includes the bench's own polls, because INFO
        # does not split it by client.
        "redis_usec_by_name": {k: usec.get(k, 0) for k in calls},
        "hwm_kb": memory.get("VmHWM", 0), "rss_kb": memory.get("VmRSS", 0),
        "own_hgetall": own_hgetall,
        # CPU seconds each process used from the first batch to the end.
        "cpu_s": {name: round(cpu_end[name] - cpu_first[name], 2)
                  for name in pids
                  if cpu_first and cpu_first[name] is not None and cpu_end[name] is not None},
    }, sys.stdout)
    print()


# -------------------------------------------------------------------- markers

stop_requested = False


def request_stop(signum, frame):
    global stop_requested
    stop_requested = True


class Stop(Exception):
    """Raised by SIGTERM where a blocking read must end at once."""


def raise_stop(signum, frame):
    raise Stop()


def cmd_markers(a):
    signal.signal(signal.SIGTERM, request_stop)
    start = time.time()
    with open(a.log, "w") as log:
        for i in range(1, int(a.rate * a.seconds) + 1):
            due = start + (i - 1) / a.rate
            delay = due - time.time()
            if delay > 0:
                time.sleep(delay)
            if stop_requested:
                break
            now_ms = int(time.time() * 1000)
            line = {
                "event_id": f"bench-marker-{a.run_id}-{i}", "source": "canonical",
                "kind": MARKER_KIND, "actor_id": f"E{(i - 1) % a.employees + 1:06d}",
                "event_time_ms": now_ms, "key": "bench-marker",
            }
            sys.stdout.write(json.dumps(line) + "\n")
            sys.stdout.flush()
            log.write(f"{i} {now_ms}\n")
            log.flush()


def cmd_listen(a):
    wanted = f"{MARKER_KPI}|org|{MARKER_WINDOW}"
    kcat = subprocess.Popen(
        ["kcat", "-C", "-b", a.brokers, "-t", a.topic, "-o", "end", "-u", "-q",
         "-f", "%k\t%s\n", "-X", "fetch.wait.max.ms=10"],
        stdout=subprocess.PIPE, text=True, bufsize=1)
    signal.signal(signal.SIGTERM, raise_stop)
    try:
        with open(a.out, "w") as out:
            for line in kcat.stdout:
                recv_ms = time.time() * 1000
                key, _, value = line.rstrip("\n").partition("\t")
                if key == wanted:
                    out.write(f"{recv_ms:.1f} {json.loads(value)['count']}\n")
                    out.flush()
    except Stop:
        pass
    finally:
        kcat.terminate()
        kcat.wait()


# --------------------------------------------------------------------- report

def percentile(sorted_values, p):
    """Nearest-rank percentile of an ascending list."""
    rank = max(1, math.ceil(p / 100 * len(sorted_values)))
    return sorted_values[rank - 1]


def freshness(markers_file, updates_file):
    """Latency of each marker: first org update counting it, minus its production."""
    with open(markers_file) as f:
        produced = [int(line.split()[1]) for line in f if line.strip()]
    with open(updates_file) as f:
        updates = [(float(t), int(c)) for t, c in (line.split() for line in f if line.strip())]
    latencies, missing, u = [], 0, 0
    for i, prod_ms in enumerate(produced, start=1):
        while u < len(updates) and updates[u][1] < i:
            u += 1
        if u == len(updates):
            missing = len(produced) - i + 1
            break
        latencies.append(updates[u][0] - prod_ms)
    latencies.sort()
    gaps = [b[0] - a[0] for a, b in zip(updates, updates[1:])]
    return {
        "markers": len(produced), "markers_missing": missing,
        "p50_ms": round(percentile(latencies, 50)) if latencies else None,
        "p99_ms": round(percentile(latencies, 99)) if latencies else None,
        "max_ms": round(latencies[-1]) if latencies else None,
        # Gaps between updates: the tick interval plus how late each tick's read was.
        "tick_gap_s": round(statistics.median(gaps) / 1000, 1) if gaps else None,
    }


def load(path):
    with open(path) as f:
        return json.loads(f.read().strip().splitlines()[-1])


def cmd_report(a):
    raw = [load(p) for p in a.raw]
    raw_rate = statistics.median(r["messages_per_s"] for r in raw)
    c = load(a.catchup)
    catchup_s = c["caught_up_at"] - c["first_batch_at"]
    # The clock starts once the first batch is in Redis, so its messages do not count.
    events_per_s = (c["messages"] - c["first_batch_messages"]) / catchup_s
    out = {
        "events_per_s": round(events_per_s),
        "raw_consume_per_s": round(raw_rate),
        "ratio": round(events_per_s / raw_rate, 3),
        "redis_cmds_per_event": round(c["redis_cmds"] / c["messages"], 4),
        "freshness_p50_ms": None, "freshness_p99_ms": None,
        "peak_rss_mb": round(a.peak_hwm_kb / 1024, 1),
        "events": c["messages"], "employees": a.employees,
        "seconds_from_start": round(c["caught_up_at"] - c["started_at"], 3),
        "seconds_from_first_batch": round(catchup_s, 3),
        "raw_consume_runs": [r["messages_per_s"] for r in raw],
        "redis_cmds_by_name": c["redis_cmds_by_name"],
        "redis_usec_by_name": c["redis_usec_by_name"],
    }
    # CPU microseconds per event of each process during the timed part of the
    # catch-up: on a 2-core machine their sum bounds events_per_s.
    counted = c["messages"] - c["first_batch_messages"]
    if c.get("cpu_s") and counted > 0:
        out["cpu_us_per_event"] = {name: round(1e6 * s / counted, 2)
                                   for name, s in c["cpu_s"].items()}
    if a.markers:
        fr = freshness(a.markers, a.updates)
        out["freshness_p50_ms"], out["freshness_p99_ms"] = fr["p50_ms"], fr["p99_ms"]
        out["freshness"] = {**fr, "background_events_per_s": a.load_rate,
                            "tick_interval": "default (outputs.tick_interval left out)"}
    if a.growth:
        g = load(a.growth)
        out["rss_growth"] = {
            "rss_mb_at": {str(c["offset_sum"]): round(c["rss_kb"] / 1024, 1),
                          str(g["offset_sum"]): round(g["rss_kb"] / 1024, 1)},
            "hwm_mb_at": {str(c["offset_sum"]): round(c["hwm_kb"] / 1024, 1),
                          str(g["offset_sum"]): round(g["hwm_kb"] / 1024, 1)},
            "growth_pct": round(100 * (g["rss_kb"] - c["rss_kb"]) / c["rss_kb"], 1),
        }
    print(json.dumps(out))


# ----------------------------------------------------------------------- main

def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = p.add_subparsers(dest="cmd", required=True)

    s = sub.add_parser("config")
    s.add_argument("--reference", required=True)
    s.add_argument("--brokers", required=True)
    s.add_argument("--redis-port", type=int, required=True)
    s.add_argument("--key-file", required=True)
    s.add_argument("--out", required=True)
    s.add_argument("--daily-cap", type=int, default=0,
                   help="daily_cap of every behaviour without amounts; 0: none")

    s = sub.add_parser("catchup")
    s.add_argument("--redis-port", type=int, required=True)
    s.add_argument("--key", required=True)
    s.add_argument("--pid", type=int, required=True)
    s.add_argument("--redis-pid", type=int, default=0, help="also report its CPU time")
    s.add_argument("--broker-pid", type=int, default=0, help="also report its CPU time")
    s.add_argument("--total", type=int, required=True, help="offset sum to wait for")
    s.add_argument("--base", type=int, default=0, help="offset sum at the start")
    s.add_argument("--started", type=float, default=0.0)
    s.add_argument("--interval", type=float, default=0.02)
    s.add_argument("--stall-timeout", type=float, default=120.0)

    s = sub.add_parser("markers")
    s.add_argument("--rate", type=float, required=True)
    s.add_argument("--seconds", type=float, required=True)
    s.add_argument("--employees", type=int, required=True)
    s.add_argument("--run-id", required=True)
    s.add_argument("--log", required=True)

    s = sub.add_parser("listen")
    s.add_argument("--brokers", required=True)
    s.add_argument("--topic", required=True)
    s.add_argument("--out", required=True)

    s = sub.add_parser("report")
    s.add_argument("--raw", nargs="+", required=True)
    s.add_argument("--catchup", required=True)
    s.add_argument("--peak-hwm-kb", type=int, required=True)
    s.add_argument("--employees", type=int, required=True)
    s.add_argument("--markers")
    s.add_argument("--updates")
    s.add_argument("--load-rate", type=float)
    s.add_argument("--growth")

    a = p.parse_args()
    {"config": cmd_config, "catchup": cmd_catchup, "markers": cmd_markers,
     "listen": cmd_listen, "report": cmd_report}[a.cmd](a)


if __name__ == "__main__":
    main()
