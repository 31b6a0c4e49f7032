#!/usr/bin/env bash
# The shipped KPI catalog end to end. The daemon runs on config/advocacyd.yaml
# pointed at a test Redis and dev broker, with kpi_catalog naming a copy of
# config/kpis.yaml, so the catalog is read from its own file as in production.
# A crafted roster and event set goes in. Every default KPI is checked on the
# KPI topic against the values worked out by hand below, for the org and for
# team:North, and team:South is checked to be suppressed. GET /api/kpis is
# checked to show the catalog fields. Last, an edit of the catalog file and a
# SIGHUP give a new config version, a governance record naming the changed
# KPI and field, and the new value.
#
# Roster: team North (department Sales) is N1..N6, team South (department
# Ops) is S1..S4, so the org has 10 people. The shipped min_group_size of 5
# suppresses South and Ops. Only N1, N6 and S3 have consented to external
# sharing.
#
# Events and hand-computed values (org / North):
#   recognition: N1->N2, N1->N3, N2->N1, S1->N4 (recognition_given: N1 x2, N2, S1)
#     peer_recognition_rate = 4/10 = 0.4        / 3/6 = 0.5
#     active_recognizers    = {N1,N2,S1} 3/10   / {N1,N2} 2/6
#   intranet_post: N3 x2, S2
#     intranet_contribution_rate = 3/10 = 0.3   / 2/6
#   forum_post N4, forum_reply N4, forum_reply S2
#     forum_participation = {N4,S2} 2/10 = 0.2  / {N4} 1/6
#   share_external: N1, N6, S3 and N5 (no consent: not counted)
#     external_amplification = 3/10 = 0.3       / 2/6
#   referral_made: N6, S3
#     referral_rate = 2/10 = 0.2                / 1/6
#   training_completed: N2, N3, S1
#     training_completion_rate = 3/10 = 0.3     / 2/6
#   active_advocate_rate: anyone with recognition_given, content_contribution,
#     forum_participation, content_shared or referral_made:
#     {N1,N2,N3,N4,N6,S1,S2,S3} = 8/10 = 0.8    / {N1,N2,N3,N4,N6} = 5/6
#     (N5 only shared without consent, S4 did nothing, training does not count)
#   share statistics (clicks, impressions) per network:
#     N1 linkedin 40, 2000; N6 twitter 10, 1000; S3 facebook 5, 500;
#     S3 mastodon 7, 300 (a network without coefficients);
#     N5 linkedin 100, 9999 (no consent: not counted)
#     share_clicks = 62 / 50;  share_reach = 3800 / 3000
#     share_engagement_rate = 62/3800 x 100     / 50/3000 x 100
#     earned_media_value = 40 x 2.00 + 2000 x 0.030 + 10 x 0.60 + 1000 x 0.006
#       + 5 x 0.50 + 500 x 0.008 = 158.5        / 80 + 60 + 6 + 6 = 152
#   eNPS answers: promoters N1, N2, N5, S1; passives N3, S2; detractors N4, N6
#     enps = (4 - 2) / 8 x 100 = 25             / (3 - 2) / 6 x 100
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=../lib.sh
source "$here/../lib.sh"
lib_init

lib_start_redis
lib_start_devkafka advocacy.events:2 advocacy.roster:1 advocacy.kpi:1 \
	advocacy.escalations:1 advocacy.dlq:1 advocacy.governance:1
work=$LIB_TMP

# The reference config, pointed at this stack. The catalog stays a file of its own.
cp "$ADVOCACY_SOURCE_DIR/tests/fixtures/hmac.key" "$work/hmac.key"
cp "$ADVOCACY_SOURCE_DIR/config/kpis.yaml" "$work/kpis.yaml"
python3 - "$ADVOCACY_SOURCE_DIR/config/advocacyd.yaml" "$work/catalog.yaml" \
	"$KAFKA_BOOTSTRAP" "$REDIS_PORT" <<'EOF'
import sys, yaml
reference, out, bootstrap, redis_port = sys.argv[1:5]
cfg = yaml.safe_load(open(reference, encoding="utf-8"))
assert cfg["kpi_catalog"] == "kpis.yaml", "the reference lost kpi_catalog"
assert "kpis" not in cfg, "the reference lists kpis inline as well"
cfg["kafka"].update(bootstrap_servers=bootstrap, group_id="catalog-test",
                    inputs=[{"topic": "advocacy.events", "format": "avro"}])
cfg["redis"] = {"host": "127.0.0.1", "port": int(redis_port), "key_prefix": "catalog"}
cfg["privacy"]["key_file"] = "hmac.key"
cfg["outputs"] = {"tick_interval": "1s",
                  "kpi": {"topic": "advocacy.kpi", "format": "json"},
                  "escalations": {"topic": "advocacy.escalations", "format": "json"},
                  "dlq": {"topic": "advocacy.dlq", "format": "json"},
                  "governance": {"topic": "advocacy.governance"}}
cfg["admin"] = {"port": 0}
with open(out, "w", encoding="utf-8") as f:
    yaml.safe_dump(cfg, f, allow_unicode=True, sort_keys=False)
EOF
"$ADVOCACY_BUILD_DIR/advocacyd" --check-config "$work/catalog.yaml" >"$work/check.out" ||
	lib_fail "test config invalid"
grep -qF "KPIs read from $work/kpis.yaml" "$work/check.out" ||
	lib_fail "--check-config does not name the catalog file: $(cat "$work/check.out")"

{
	for n in 1 2 3 4 5 6; do
		consent=''
		[ "$n" = 1 ] || [ "$n" = 6 ] && consent=',"consent":{"external_sharing":true}'
		printf 'N%s\t{"department":"Sales","team":"North"%s}\n' "$n" "$consent"
	done
	for n in 1 2 3 4; do
		consent=''
		[ "$n" = 3 ] && consent=',"consent":{"external_sharing":true}'
		printf 'S%s\t{"department":"Ops","team":"South"%s}\n' "$n" "$consent"
	done
} | kcat -P -b "$KAFKA_BOOTSTRAP" -t advocacy.roster -K $'\t'

python3 - >"$work/events.jsonl" <<'EOF'
import json
events = []
def event(kind, actor, targets=(), source="canonical", **attributes):
    events.append({"event_id": "cat-%02d" % len(events), "age_s": 600 + len(events),
                   "source": source, "kind": kind, "actor_id": actor,
                   "target_ids": list(targets), "attributes": attributes})
for actor, target in (("N1", "N2"), ("N1", "N3"), ("N2", "N1"), ("S1", "N4")):
    event("recognition", actor, [target])
for actor in ("N3", "N3", "S2"):
    event("intranet_post", actor)
event("forum_post", "N4")
event("forum_reply", "N4")
event("forum_reply", "S2")
for actor in ("N1", "N6", "S3", "N5"):
    event("share_external", actor)
for actor in ("N6", "S3"):
    event("referral_made", actor)
for actor in ("N2", "N3", "S1"):
    event("training_completed", actor)
for actor, network, clicks, reach in (("N1", "linkedin", 40, 2000), ("N6", "twitter", 10, 1000),
                                      ("S3", "facebook", 5, 500), ("S3", "mastodon", 7, 300),
                                      ("N5", "linkedin", 100, 9999)):
    event("share_clicks", actor, source="social", network=network, clicks=str(clicks))
    event("share_reach", actor, source="social", network=network, reach=str(reach))
for actor, kind in (("N1", "promoter"), ("N2", "promoter"), ("N5", "promoter"),
                    ("S1", "promoter"), ("N3", "passive"), ("S2", "passive"),
                    ("N4", "detractor"), ("N6", "detractor")):
    event("enps_" + kind, actor)
for e in events:
    print(json.dumps(e))
EOF
"$ADVOCACY_BUILD_DIR/advocacyd-produce" --brokers "$KAFKA_BOOTSTRAP" --topic advocacy.events \
	<"$work/events.jsonl"

"$ADVOCACY_BUILD_DIR/advocacyd" --config "$work/catalog.yaml" 2>"$work/daemon.log" &
LIB_PIDS+=("$!")

expect_kpi() { python3 "$ADVOCACY_SOURCE_DIR/tests/integration/kpi_check.py" "$work/kpi.json" "$@"; }
read_kpis() {
	kcat -C -b "$KAFKA_BOOTSTRAP" -t advocacy.kpi -e -q -f '%k\t%s\n' >"$work/kpi.json" || true
}
lib_wait_for "read_kpis && expect_kpi enps org 28d count 8 && expect_kpi share_reach org 7d value 3800 \
	&& expect_kpi peer_recognition_rate org 7d count 4" 60 ||
	{ cat "$work/daemon.log"; lib_fail "the KPIs never reached the event set's counts"; }
read_kpis

# KPI, window, then the org value and the team:North value.
while read -r kpi window org north; do
	expect_kpi "$kpi" org "$window" value "$org" || lib_fail "$kpi at org"
	expect_kpi "$kpi" team:North "$window" value "$north" || lib_fail "$kpi at team:North"
	expect_kpi "$kpi" department:Sales "$window" value "$north" || lib_fail "$kpi at Sales"
	expect_kpi --absent "$kpi" team:South "$window" || lib_fail "$kpi at team:South"
	expect_kpi --absent "$kpi" department:Ops "$window" || lib_fail "$kpi at department:Ops"
done <<EOF
peer_recognition_rate 7d 0.4 0.5
active_recognizers 28d 0.3 $(python3 -c 'print(2 / 6)')
intranet_contribution_rate 7d 0.3 $(python3 -c 'print(2 / 6)')
forum_participation 28d 0.2 $(python3 -c 'print(1 / 6)')
active_advocate_rate 28d 0.8 $(python3 -c 'print(5 / 6)')
external_amplification 7d 0.3 $(python3 -c 'print(2 / 6)')
share_clicks 7d 62 50
share_reach 7d 3800 3000
share_engagement_rate 7d $(python3 -c 'print(62 / 3800 * 100)') $(python3 -c 'print(50 / 3000 * 100)')
earned_media_value 7d 158.5 152
referral_rate 28d 0.2 $(python3 -c 'print(1 / 6)')
training_completion_rate 28d 0.3 $(python3 -c 'print(2 / 6)')
enps 28d 25 $(python3 -c 'print((3 - 2) / 6 * 100)')
EOF
expect_kpi active_advocate_rate org 28d contributors 8
expect_kpi share_engagement_rate org 7d count 62
expect_kpi enps team:North 28d contributors 6

# The catalog fields on the KPI topic and on GET /api/kpis.
port=$(lib_admin_port "$work/daemon.log") || lib_fail "no admin port in the log"
curl -fsS "http://127.0.0.1:$port/api/kpis" >"$work/api.json" || lib_fail "GET /api/kpis failed"
python3 - "$work/kpi.json" "$work/api.json" <<'EOF' || lib_fail "catalog fields are wrong"
import json, sys
latest = {}
for line in open(sys.argv[1]):
    record = json.loads(line.split("\t", 1)[1])
    latest[record["kpi"]] = record
expected = {"earned_media_value": ("passive", "EUR per week"),
            "share_engagement_rate": ("passive", "%"),
            "active_advocate_rate": ("active", "share of headcount"),
            "peer_recognition_rate": ("active", "per person per week")}
for kpi, (kind, unit) in expected.items():
    assert (latest[kpi]["kind"], latest[kpi]["unit"]) == (kind, unit), (kpi, latest[kpi])
api = {k["id"]: k for k in json.load(open(sys.argv[2]))["kpis"]}
assert len(api) == 13, sorted(api)
engagement = api["share_engagement_rate"]
assert engagement["formula"] == "count(share_clicks) / count(share_reach) x 100 over 7d", engagement
assert engagement["aggregation"] == "formula", engagement
assert (engagement["kind"], engagement["unit"], engagement["owner"]) == ("passive", "%", "Marketing")
assert engagement["rationale"].startswith("Clicks per impression"), engagement
assert api["active_advocate_rate"]["formula"] == (
    "people(recognition_given, content_contribution, forum_participation, content_shared, "
    "referral_made) / headcount over 28d"), api["active_advocate_rate"]
assert api["earned_media_value"]["formula"].startswith(
    "(2 x share_clicks_linkedin + 0.03 x share_reach_linkedin + 0.6 x share_clicks_x"), \
    api["earned_media_value"]
assert api["enps"]["formula"] == "enps(enps_promoter, enps_passive, enps_detractor) over 28d"
assert api["peer_recognition_rate"]["aggregation"] == "rate"
EOF
# A reload reads the catalog again: a new cost per LinkedIn click (2.00 to
# 3.00) is a new config version whose governance record lists
# earned_media_value as changed in its formula, and the value follows:
# org 158.5 + 40 x 1.00 = 198.5, North 152 + 40 = 192.
sed -i 's/^          share_clicks_linkedin: 2.00$/          share_clicks_linkedin: 3.00/' \
	"$work/kpis.yaml"
grep -q 'share_clicks_linkedin: 3.00' "$work/kpis.yaml" || lib_fail "the catalog edit did not apply"
kill -HUP "${LIB_PIDS[-1]}"
lib_wait_for "read_kpis && expect_kpi earned_media_value org 7d value 198.5" 30 ||
	{ cat "$work/daemon.log"; lib_fail "the reloaded catalog never changed earned_media_value"; }
expect_kpi earned_media_value team:North 7d value 192
governance() {
	kcat -C -b "$KAFKA_BOOTSTRAP" -t advocacy.governance -e -q -f '%s\n' >"$work/governance.jsonl"
	[ "$(grep -c config_applied "$work/governance.jsonl")" -ge 2 ]
}
lib_wait_for governance 30 || lib_fail "no governance record of the reload"
python3 - "$work/governance.jsonl" <<'EOF' || lib_fail "the governance record of the catalog change is wrong"
import json, sys
records = [json.loads(line) for line in open(sys.argv[1]) if "config_applied" in line]
first, second = records[0], records[-1]
assert second["previous_version"] == first["config_version"], (first, second)
assert second["config_version"] != first["config_version"], second
changed = {item["id"]: item["fields"] for item in second["kpis"]["changed"]}
assert changed == {"earned_media_value": ["formula"]}, second["kpis"]
assert second["kpis"]["added"] == [], second["kpis"]
assert second["kpis"]["removed"] == [], second["kpis"]
EOF
lib_log "KPI catalog test passed"
