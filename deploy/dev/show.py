#!/usr/bin/env python3
"""Print the demo's KPI updates and escalations as readable tables.

Usage: show.py KPI_JSONL ESCALATIONS_JSONL DAEMON_LOG STARTED_EPOCH_S
"""
import json
import re
import sys


def latest_updates(path):
    latest = {}
    for line in open(path):
        line = line.strip()
        if line:
            r = json.loads(line)
            latest[(r["kpi"], r["scope"], r["window"])] = r
    return latest


def print_scorecard(latest):
    scopes = [s for s in sorted({k[1] for k in latest})
              if s == "org" or s.startswith("department:") or s.startswith("segment:")]
    kpis = sorted({k[0] for k in latest})
    print("\nScorecard (latest value per KPI; rate KPIs are per head, participation is a share)")
    print("%-26s %-28s %5s %10s %8s %8s %6s" % ("kpi", "scope", "win", "value", "target",
                                                 "count", "heads"))
    for kpi in kpis:
        for scope in scopes:
            for (k, s, w), r in sorted(latest.items()):
                if k == kpi and s == scope:
                    print("%-26s %-28s %5s %10.3f %8.3f %8d %6d" % (
                        kpi, scope[:28], w, r["value"], r["target"], r["count"], r["headcount"]))


def print_escalations(path):
    print("\nEscalations")
    n = 0
    for line in open(path):
        line = line.strip()
        if line:
            r = json.loads(line)
            n += 1
            print("  %-8s %-8s %s" % (r["status"].upper(), r.get("severity", ""), r["summary"]))
    if n == 0:
        print("  none")


def print_throughput(log_path, started):
    last = None
    for line in open(log_path):
        if 'msg="counters"' in line:
            last = line
    if last:
        fields = dict(re.findall(r"(\w+)=(\S+)", last))
        print("\nDaemon counters at stop: messages=%s behaviours=%s ignored=%s invalid=%s "
              "late=%s batches=%s kpi_updates=%s escalations=%s" % tuple(
                  fields.get(k, "?") for k in ("messages", "behaviours", "ignored", "invalid",
                                               "late", "batches", "kpi_updates", "escalations")))
    last_by_outcome = {}
    for line in open(log_path):
        for outcome in ("ignored by reason", "dead-lettered by reason"):
            if 'msg="%s"' % outcome in line:
                last_by_outcome[outcome] = line.split('msg="%s"' % outcome, 1)[1].strip()
    for outcome, fields in last_by_outcome.items():
        print("  %s: %s" % (outcome, fields))


def main(argv):
    latest = latest_updates(argv[1])
    print("\n%d KPI updates received, %d distinct (kpi, scope, window) keys" % (
        sum(1 for line in open(argv[1]) if line.strip()), len(latest)))
    print_scorecard(latest)
    print_escalations(argv[2])
    print_throughput(argv[3], float(argv[4]))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
