#!/usr/bin/env python3
"""Rewrites deploy/compose/advocacyd.yaml and deploy/kubernetes/advocacyd.yaml
from config/advocacyd.yaml: each keeps its own header comment and its four
deployment values (kafka.bootstrap_servers, redis.host, privacy.key_file,
admin.listen_host); everything else is the reference, as
tests/ops/80-deploy.sh requires. Copies the KPI catalog config/kpis.yaml
next to each of them unchanged, because their kpi_catalog names it relative
to their folder. Run it after changing the reference or the catalog."""
import os
import re
import shutil
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DEPLOYABLE = [("kafka", "bootstrap_servers"), ("redis", "host"), ("privacy", "key_file"),
              ("admin", "listen_host")]


def split_header(text):
    """The leading comment block (up to the first blank line) and the rest."""
    lines = text.split("\n")
    i = 0
    while i < len(lines) and lines[i].startswith("#"):
        i += 1
    return "\n".join(lines[:i]), "\n".join(lines[i:])


def value_line(body, section, key):
    """Index of the line `  key: ...` directly in `section:`."""
    lines = body.split("\n")
    current = None
    for i, line in enumerate(lines):
        if re.match(r"^[a-z_]+:", line):
            current = line.split(":")[0]
        elif current == section and re.match(r"^  %s:" % re.escape(key), line):
            return i
    raise SystemExit("sync-deploy-configs: %s.%s not found" % (section, key))


def main():
    reference = open(os.path.join(ROOT, "config/advocacyd.yaml")).read()
    _, ref_body = split_header(reference)
    for rel in ("deploy/compose/advocacyd.yaml", "deploy/kubernetes/advocacyd.yaml"):
        path = os.path.join(ROOT, rel)
        header, body = split_header(open(path).read())
        lines = ref_body.split("\n")
        deploy_lines = body.split("\n")
        for section, key in DEPLOYABLE:
            lines[value_line(ref_body, section, key)] = \
                deploy_lines[value_line(body, section, key)]
        open(path, "w").write(header + "\n" + "\n".join(lines))
        print("sync-deploy-configs: wrote " + rel)
        catalog = os.path.join(os.path.dirname(path), "kpis.yaml")
        shutil.copyfile(os.path.join(ROOT, "config/kpis.yaml"), catalog)
        print("sync-deploy-configs: wrote " + os.path.relpath(catalog, ROOT))
    return 0


if __name__ == "__main__":
    sys.exit(main())
