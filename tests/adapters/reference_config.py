#!/usr/bin/env python3
"""Writes a test config that keeps the behaviours and KPIs of the reference.

Usage: reference_config.py REFERENCE OUT BOOTSTRAP REDIS_PORT PREFIX INPUTS_JSON

The adapter tests count with the shipped behaviour rules, so they start from
config/advocacyd.yaml and change only what a test run needs. That is the
brokers and the input topics (INPUTS_JSON, the kafka.inputs list), Redis on
127.0.0.1 with its own key prefix, and the test HMAC key (hmac.key next to
OUT) with a minimum group size of 1. Outputs become JSON every second on
topics of the dev broker, and the admin endpoint takes a free port.
"""
import json
import os
import sys

import yaml


def inline_catalog(cfg, reference):
    """Moves the KPIs of the file kpi_catalog names into cfg, so OUT is self-contained."""
    catalog = cfg.pop("kpi_catalog", None)
    if catalog is None:
        return
    path = os.path.join(os.path.dirname(os.path.abspath(reference)), catalog)
    with open(path, encoding="utf-8") as f:
        cfg["kpis"] = yaml.safe_load(f)["kpis"]


def main():
    reference, out, bootstrap, redis_port, prefix, inputs = sys.argv[1:7]
    with open(reference, encoding="utf-8") as f:
        cfg = yaml.safe_load(f)
    inline_catalog(cfg, reference)

    cfg["kafka"].update(bootstrap_servers=bootstrap, group_id=prefix + "-test",
                        inputs=json.loads(inputs), roster_topic="advocacy.roster")
    cfg["redis"] = {"host": "127.0.0.1", "port": int(redis_port), "key_prefix": prefix}
    cfg["privacy"] = {"key_file": "hmac.key", "key_id": "test-1", "min_group_size": 3}
    cfg["outputs"] = {"tick_interval": "1s",
                      "kpi": {"topic": "advocacy.kpi", "format": "json"},
                      "escalations": {"topic": "advocacy.escalations", "format": "json"},
                      "dlq": {"topic": "advocacy.dlq", "format": "json"},
                      "governance": {"topic": "advocacy.governance"}}
    cfg["admin"] = {"port": 0}
    with open(out, "w", encoding="utf-8") as f:
        yaml.safe_dump(cfg, f, allow_unicode=True, sort_keys=False)
    return 0


if __name__ == "__main__":
    sys.exit(main())
