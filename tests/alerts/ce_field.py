#!/usr/bin/env python3
"""Prints one CloudEvents attribute (e.g. "type" or "id") of each escalation
record read as kcat -J envelopes on stdin, in binary mode (ce_ headers) or
structured mode (a JSON CloudEvent as the value)."""
import json
import sys


def attributes(envelope):
    headers = envelope.get("headers") or []
    pairs = dict(zip(headers[0::2], headers[1::2]))
    if "ce_specversion" in pairs:
        return {k[3:]: v for k, v in pairs.items() if k.startswith("ce_")}
    payload = envelope["payload"]
    return json.loads(payload) if isinstance(payload, str) else payload


def main():
    name = sys.argv[1]
    for line in sys.stdin:
        if line.strip():
            print(attributes(json.loads(line)).get(name, ""))


if __name__ == "__main__":
    main()
