#!/usr/bin/env python3
"""Check one field of the latest KPI update for (kpi, scope, window).

Usage: kpi_check.py FILE KPI SCOPE WINDOW FIELD EXPECTED
       kpi_check.py FILE --absent KPI SCOPE WINDOW

FILE contains lines "key<TAB>json value" as consumed from the KPI topic with
kcat -f '%k\\t%s\\n'. Exits 1 with a message naming the difference.
"""
import json
import sys


def latest_updates(path):
    latest = {}
    with open(path) as f:
        for line in f:
            if "\t" not in line:
                continue
            _key, value = line.rstrip("\n").split("\t", 1)
            record = json.loads(value)
            latest[(record["kpi"], record["scope"], record["window"])] = record
    return latest


def main(argv):
    path, args = argv[1], argv[2:]
    latest = latest_updates(path)
    if args[0] == "--absent":
        kpi, scope, window = args[1:4]
        if (kpi, scope, window) in latest:
            print("expected no update for %s %s %s, found %r" % (kpi, scope, window,
                                                                  latest[(kpi, scope, window)]))
            return 1
        return 0
    kpi, scope, window, field, expected = args
    record = latest.get((kpi, scope, window))
    if record is None:
        print("no update for %s %s %s among %d keys" % (kpi, scope, window, len(latest)))
        return 1
    actual = record.get(field)
    if actual is None or abs(float(actual) - float(expected)) > 1e-9:
        print("%s %s %s: %s is %r, expected %s" % (kpi, scope, window, field, actual, expected))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
