#!/usr/bin/env bash
# The shipped KPI catalog end to end. The daemon runs on config/advocacyd.yaml
# pointed at a test Redis and dev broker, with kpi_catalog naming a copy of
# config/kpis.yaml, so the catalog is read from its own file as in production.
# A crafted roster and event set goes in. Every shipped KPI is checked on the
# KPI topic against the values worked out by hand below, for the org, team
# North (department Sales) and team South (department Ops), with the
# effective targets of active_advocate_rate. Small segment scopes are checked
# to be suppressed. GET /api/kpis is checked to show the catalog fields and
# targets. Last, an edit of the catalog file and a SIGHUP give a new config
# version, a governance record naming the changed KPI and field, and the new
# value.
#
# Roster: team North (department Sales, segment frontline) is N1..N6; team
# South (department Ops) is S1..S5, of whom S1..S3 are in segment office and
# S4, S5 in segment frontline. S6 (South) joins and leaves at once (a tombstone):
# one departure from South. The org has 11 people, North 6, South 5 (the
# headcount history has no bucket before the roster was read, so every mean
# is the current headcount). The shipped min_group_size of 5 suppresses
# segment:office (3 people); sibling suppression then hides segment:frontline
# (8 people) too, the only other segment, because everyone has a segment and
# the org minus frontline would be office's 3 people. Only N1, N6 and S3 have consented to external
# sharing.
#
# Events and hand-computed values (org / North / South):
#   recognition: N1 x22 (to N2 and N3), N2->N1, S1->N4. recognition_given
#     has a daily_cap of 20 and N1's 22 fall on one day, so N1 counts 20 and
#     2 credits are capped: counted N1 20, N2 1, S1 1.
#     peer_recognition_rate    = 22/11 = 2      / 21/6 = 3.5  / 1/5
#     active_recognizers       = {N1,N2,S1} 3/11 / {N1,N2} 2/6 / {S1} 1/5
#     recognition_capped_share = capped / (counted + capped)
#                              = 2/24           / 2/23        / 0/1 = 0
#   intranet_post: N3 x2, S2
#     intranet_contribution_rate = 3/11         / 2/6         / 1/5
#   forum_post N4, forum_reply N4, forum_reply S2
#     forum_participation = {N4,S2} 2/11        / {N4} 1/6    / {S2} 1/5
#   share_external: N1, N6, S3 and N5 (no consent: not counted)
#     external_amplification = 3/11             / 2/6         / 1/5
#   referral_made: N6, S3
#     referral_rate = 2/11                      / 1/6         / 1/5
#   training_completed: N2, N3, S1
#     training_completion_rate = 3/11           / 2/6         / 1/5
#   active_advocate_rate: anyone with recognition_given, content_contribution,
#     forum_participation, content_shared or referral_made:
#     {N1,N2,N3,N4,N6,S1,S2,S3} 8/11 / {N1,N2,N3,N4,N6} 5/6 / {S1,S2,S3} 3/5
#     (N5 only shared without consent, S4 and S5 only answered the eNPS
#     survey, training does not count)
#     Effective targets (base 0.25, segments {frontline: 0.15}, maturity
#     growth 0.2 from programme.maturity): North and Sales are frontline
#     (6 of 6 members): 0.15; South's majority segment is office (3 of 5),
#     which has no target, and the org has no segment: growth, 0.2.
#   share statistics (clicks, impressions) per network:
#     N1 linkedin 40, 2000; N6 twitter 10, 1000; S3 facebook 5, 500;
#     S3 mastodon 7, 300 (a network without coefficients);
#     N5 linkedin 100, 9999 (no consent: not counted)
#     share_clicks = 62 / 50 / 12;  share_reach = 3800 / 3000 / 800
#     share_engagement_rate = 62/3800 x 100 / 50/3000 x 100 / 12/800 x 100
#     earned_media_value = 40 x 2.00 + 2000 x 0.030 + 10 x 0.60 + 1000 x 0.006
#       + 5 x 0.50 + 500 x 0.008 = 158.5 / 80 + 60 + 6 + 6 = 152 / 2.5 + 4 = 6.5
#   eNPS answers: promoters N1, N2, N5, S1, S4; passives N3, S2, S5;
#     detractors N4, N6, S3
#     enps = (5 - 3) / 11 x 100 / (3 - 2) / 6 x 100 / (2 - 1) / 5 x 100 = 20
#   advocacy_retention_gap (org only): the teams split at the median of
#     active_advocate_rate: North (5/6) is high, South (3/5) is low.
#     Retention North 1 - 0/6 = 1, South 1 - 1/5 = 0.8: gap 0.2, with
#     count 1 (departures) and headcount 11.
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
		printf 'N%s\t{"department":"Sales","team":"North","segment":"frontline"%s}\n' \
			"$n" "$consent"
	done
	for n in 1 2 3 4 5 6; do
		segment=''
		[ "$n" -le 3 ] && segment=',"segment":"office"'
		[ "$n" = 4 ] || [ "$n" = 5 ] && segment=',"segment":"frontline"'
		[ "$n" = 3 ] && segment="$segment"',"consent":{"external_sharing":true}'
		printf 'S%s\t{"department":"Ops","team":"South"%s}\n' "$n" "$segment"
	done
	# S6 leaves: a tombstone (-Z makes the empty value NULL).
	printf 'S6\t\n'
} | kcat -P -b "$KAFKA_BOOTSTRAP" -t advocacy.roster -K $'\t' -Z

python3 - >"$work/events.jsonl" <<'EOF'
import json
events = []
def event(kind, actor, targets=(), source="canonical", **attributes):
    events.append({"event_id": "cat-%02d" % len(events), "age_s": 600 + len(events),
                   "source": source, "kind": kind, "actor_id": actor,
                   "target_ids": list(targets), "attributes": attributes})
# N1's 22 recognitions share one event time, so that they fall on one day
# of the daily cap whatever the time the test runs.
for i in range(22):
    event("recognition", "N1", ["N2" if i % 2 else "N3"])
    events[-1]["age_s"] = 600
for actor, target in (("N2", "N1"), ("S1", "N4")):
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
                    ("S1", "promoter"), ("S4", "promoter"), ("N3", "passive"),
                    ("S2", "passive"), ("S5", "passive"), ("N4", "detractor"),
                    ("N6", "detractor"), ("S3", "detractor")):
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
lib_wait_for "read_kpis && expect_kpi enps org 28d count 11 && expect_kpi share_reach org 7d value 3800 \
	&& expect_kpi peer_recognition_rate org 7d count 22 \
	&& expect_kpi advocacy_retention_gap org 28d count 1" 60 ||
	{ cat "$work/daemon.log"; lib_fail "the KPIs never reached the event set's counts"; }
read_kpis

# KPI, window, then the org, team:North and team:South values. Departments
# Sales and Ops have the people of North and South.
q() { python3 -c "print($1)"; }
while read -r kpi window org north south; do
	expect_kpi "$kpi" org "$window" value "$org" || lib_fail "$kpi at org"
	expect_kpi "$kpi" team:North "$window" value "$north" || lib_fail "$kpi at team:North"
	expect_kpi "$kpi" department:Sales "$window" value "$north" || lib_fail "$kpi at Sales"
	expect_kpi "$kpi" team:South "$window" value "$south" || lib_fail "$kpi at team:South"
	expect_kpi "$kpi" department:Ops "$window" value "$south" || lib_fail "$kpi at Ops"
	expect_kpi --absent "$kpi" segment:office "$window" || lib_fail "$kpi at segment:office"
	expect_kpi --absent "$kpi" segment:frontline "$window" ||
		lib_fail "$kpi at segment:frontline (the sibling of a suppressed segment)"
done <<EOF
peer_recognition_rate 7d 2 3.5 0.2
active_recognizers 28d $(q '3 / 11') $(q '2 / 6') 0.2
recognition_capped_share 7d $(q '2 / 24') $(q '2 / 23') 0
intranet_contribution_rate 7d $(q '3 / 11') $(q '2 / 6') 0.2
forum_participation 28d $(q '2 / 11') $(q '1 / 6') 0.2
active_advocate_rate 28d $(q '8 / 11') $(q '5 / 6') 0.6
external_amplification 7d $(q '3 / 11') $(q '2 / 6') 0.2
share_clicks 7d 62 50 12
share_reach 7d 3800 3000 800
share_engagement_rate 7d $(q '62 / 3800 * 100') $(q '50 / 3000 * 100') 1.5
earned_media_value 7d 158.5 152 6.5
referral_rate 28d $(q '2 / 11') $(q '1 / 6') 0.2
training_completion_rate 28d $(q '3 / 11') $(q '2 / 6') 0.2
enps 28d $(q '(5 - 3) / 11 * 100') $(q '(3 - 2) / 6 * 100') 20
EOF
expect_kpi active_advocate_rate org 28d contributors 8 || lib_fail "active advocates at org"
expect_kpi share_engagement_rate org 7d count 62 || lib_fail "engagement count at org"
expect_kpi enps team:North 28d contributors 6 || lib_fail "eNPS respondents at team:North"
expect_kpi peer_recognition_rate team:North 7d count 21 || lib_fail "capped recognition counted"

# The retention gap: org only, North high, South low.
expect_kpi advocacy_retention_gap org 28d value 0.2 || lib_fail "advocacy_retention_gap at org"
expect_kpi advocacy_retention_gap org 28d headcount 11 || lib_fail "retention gap headcount"
for scope in team:North team:South department:Sales; do
	expect_kpi --absent advocacy_retention_gap "$scope" 28d || lib_fail "retention gap at $scope"
done
python3 - "$work/kpi.json" <<'EOF' || lib_fail "retention_split of advocacy_retention_gap is wrong"
import json, sys
split = None
for line in open(sys.argv[1]):
    record = json.loads(line.split("\t", 1)[1])
    if (record["kpi"], record["scope"]) == ("advocacy_retention_gap", "org"):
        split = record["retention_split"]
assert split == {"high": {"teams": 1, "headcount": 6, "departures": 0, "retention": 1},
                 "low": {"teams": 1, "headcount": 5, "departures": 1, "retention": 0.8}}, split
EOF

# Effective targets of active_advocate_rate: the frontline segment's 0.15
# for North and Sales, and the growth stage's 0.2 for South, Ops and the
# org. A KPI without targets keeps its base target.
while read -r scope target; do
	expect_kpi active_advocate_rate "$scope" 28d target "$target" ||
		lib_fail "active_advocate_rate target at $scope"
done <<EOF
org 0.2
team:North 0.15
department:Sales 0.15
team:South 0.2
department:Ops 0.2
EOF
expect_kpi peer_recognition_rate team:North 7d target 1 || lib_fail "base target at team:North"

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
assert len(api) == 15, sorted(api)
advocates = {s["scope"]: s for s in api["active_advocate_rate"]["scopes"]}
assert api["active_advocate_rate"]["target"] == 0.25, api["active_advocate_rate"]
for scope, target, source in (("org", 0.2, "maturity"), ("team:North", 0.15, "segment"),
                              ("team:South", 0.2, "maturity")):
    assert (advocates[scope]["target"], advocates[scope]["target_source"]) == (target, source), \
        advocates[scope]
assert advocates["segment:office"]["suppressed_reason"] == "small_group", advocates
assert advocates["segment:frontline"]["suppressed_reason"] == "sibling", advocates
assert "value" not in advocates["segment:frontline"], advocates
assert api["advocacy_retention_gap"]["aggregation"] == "retention_gap", api["advocacy_retention_gap"]
assert api["recognition_capped_share"]["aggregation"] == "capped_share", \
    api["recognition_capped_share"]
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
expect_kpi earned_media_value team:North 7d value 192 || lib_fail "reloaded earned_media_value at team:North"
expect_kpi earned_media_value team:South 7d value 6.5 || lib_fail "reloaded earned_media_value at team:South"
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
