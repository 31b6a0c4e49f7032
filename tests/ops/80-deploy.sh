#!/usr/bin/env bash
# The deployment files in deploy/ stay valid without a container engine or a
# cluster. systemd-analyze verifies the unit, and every YAML file parses. The
# probes and health checks use the paths and port that the shipped configs
# declare. The image and the pods run as a non-root user, and the shipped
# configs pass --check-config while differing from the reference config only
# where the deployment needs it.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=../lib.sh
source "$here/../lib.sh"
lib_init

py=/usr/bin/python3
"$py" -c 'import yaml' 2>/dev/null || lib_fail "$py has no yaml module; run scripts/install-deps.sh"
command -v systemd-analyze >/dev/null || lib_fail "systemd-analyze not found; run scripts/install-deps.sh"
deploy=$ADVOCACY_SOURCE_DIR/deploy
bin=$(lib_bin advocacyd)
# Maximum drain time after SIGTERM: shutdown.drain_timeout of the shipped configs.
drain_s=$(sed -n 's/^  drain_timeout: \([0-9]*\)s$/\1/p' "$ADVOCACY_SOURCE_DIR/config/advocacyd.yaml")
[[ $drain_s =~ ^[0-9]+$ ]] || lib_fail "no shutdown.drain_timeout in seconds in config/advocacyd.yaml"

# ---------------------------------------------------------------- systemd
unit=$deploy/systemd/advocacyd.service
cmake --install "$ADVOCACY_BUILD_DIR" --prefix "$LIB_TMP/prefix" >/dev/null ||
	lib_fail "cmake --install failed"
mkdir -p "$LIB_TMP/unit"
sed "s|/usr/local/sbin/advocacyd|$bin|g" "$unit" >"$LIB_TMP/unit/advocacyd.service"
MANPATH=$LIB_TMP/prefix/share/man systemd-analyze verify "$LIB_TMP/unit/advocacyd.service" \
	>"$LIB_TMP/verify.out" 2>&1 || lib_fail "systemd-analyze verify: $(cat "$LIB_TMP/verify.out")"
[ ! -s "$LIB_TMP/verify.out" ] || lib_fail "systemd-analyze verify warns: $(cat "$LIB_TMP/verify.out")"
for directive in 'User=advocacyd' 'NoNewPrivileges=yes' 'ProtectSystem=strict' \
	'ReadOnlyPaths=/etc/advocacyd' 'PrivateTmp=yes' 'ProtectHome=yes' 'CapabilityBoundingSet=' \
	'SystemCallFilter=@system-service' 'Restart=on-failure' 'ExecReload=/bin/kill -HUP $MAINPID'; do
	grep -qxF "$directive" "$unit" || lib_fail "$unit lacks the line $directive"
done
stop_s=$(sed -n 's/^TimeoutStopSec=\([0-9]*\)s\?$/\1/p' "$unit")
[ -n "$stop_s" ] && [ "$stop_s" -gt "$drain_s" ] ||
	lib_fail "TimeoutStopSec of $unit ('$stop_s') is not above the drain time of $drain_s s"

# ---------------------------------------------------------------- YAML
mapfile -t yaml_files < <(find "$deploy" -name '*.yaml' -o -name '*.yml' | sort)
[ "${#yaml_files[@]}" -ge 8 ] || lib_fail "expected the compose and Kubernetes YAML files under $deploy"
for file in "${yaml_files[@]}"; do
	"$py" -c 'import sys, yaml; list(yaml.safe_load_all(open(sys.argv[1])))' "$file" \
		2>"$LIB_TMP/yaml.err" || lib_fail "$file is not valid YAML: $(cat "$LIB_TMP/yaml.err")"
done

# ---------------------------------------------------------------- configs
cp "$ADVOCACY_SOURCE_DIR/tests/fixtures/hmac.key" "$LIB_TMP/hmac.key"
for config in "$deploy/compose/advocacyd.yaml" "$deploy/kubernetes/advocacyd.yaml"; do
	# The key file is a secret that exists only where the deployment runs.
	checked=$LIB_TMP/$(basename "$(dirname "$config")").yaml
	sed "s|^\(  key_file:\) .*|\1 $LIB_TMP/hmac.key|" "$config" >"$checked"
	# kpi_catalog names kpis.yaml in the config's folder: a copy of the reference.
	catalog=$(dirname "$config")/kpis.yaml
	cmp -s "$catalog" "$ADVOCACY_SOURCE_DIR/config/kpis.yaml" ||
		lib_fail "$catalog differs from config/kpis.yaml; run tools/sync-deploy-configs.py"
	cp "$catalog" "$LIB_TMP/kpis.yaml"
	"$bin" --check-config "$checked" >/dev/null 2>"$LIB_TMP/check.err" ||
		lib_fail "$config fails --check-config: $(cat "$LIB_TMP/check.err")"
done
"$py" - "$ADVOCACY_SOURCE_DIR/config/advocacyd.yaml" "$deploy/compose/advocacyd.yaml" \
	"$deploy/kubernetes/advocacyd.yaml" <<'PYTHON' || lib_fail "a deploy config drifted from the reference"
import sys, yaml
reference = yaml.safe_load(open(sys.argv[1]))
deployable = {("kafka", "bootstrap_servers"), ("redis", "host"), ("privacy", "key_file"),
              ("admin", "listen_host")}
for path in sys.argv[2:]:
    config = yaml.safe_load(open(path))
    assert config.keys() == reference.keys(), (path, config.keys())
    for section, value in reference.items():
        if not isinstance(value, dict):
            assert config[section] == value, (path, section)
            continue
        assert config[section].keys() == value.keys(), (path, section)
        for key in value:
            if (section, key) not in deployable:
                assert config[section][key] == value[key], (path, section, key)
    assert config["admin"]["listen_host"] == "0.0.0.0", (path, "admin.listen_host")
PYTHON

# ---------------------------------------------------------------- image, compose, Kubernetes
"$py" - "$deploy" "$drain_s" <<'PYTHON' || lib_fail "deployment files are inconsistent (see above)"
import re, sys, yaml
deploy, drain_s = sys.argv[1], int(sys.argv[2])

def admin_of(path):
    admin = yaml.safe_load(open(path)).get("admin", {})
    return admin.get("port", 9464)

# Container image: multi-stage on debian:12-slim, non-root, health check on
# the compose config's admin port.
text = open(deploy + "/container/Containerfile").read()
stages = re.split(r"(?m)^FROM ", text)[1:]
assert len(stages) >= 2, "the Containerfile is not multi-stage"
assert all(s.startswith("debian:12-slim") for s in stages), "every stage must be debian:12-slim"
final = stages[-1]
users = re.findall(r"(?m)^USER\s+(\S+)", final)
assert users and users[-1].split(":")[0] not in ("0", "root"), "the image runs as root"
assert not re.search(r"\S+-dev\b", final), "the final stage installs -dev packages"
port = admin_of(deploy + "/compose/advocacyd.yaml")
health = re.search(r"(?m)^\s*CMD curl .*http://127\.0\.0\.1:(\d+)(/\S+)", final)
assert health, "no HEALTHCHECK with curl in the final stage"
assert (int(health.group(1)), health.group(2)) == (port, "/healthz"), health.groups()
assert re.search(r"(?m)^EXPOSE %d$" % port, final), "EXPOSE does not match admin.port"

# Compose: KRaft Kafka, Redis with appendonly, config and key as files.
compose = yaml.safe_load(open(deploy + "/compose/compose.yaml"))
services = compose["services"]
kafka = services["kafka"]
assert kafka["image"].startswith("apache/kafka:"), kafka["image"]
assert "controller" in kafka["environment"]["KAFKA_PROCESS_ROLES"], "Kafka is not in KRaft mode"
redis = services["redis"]["command"]
assert redis[redis.index("--appendonly") + 1] == "yes", redis
app = services["advocacyd"]
assert app["configs"][0]["target"] == "/etc/advocacyd/advocacyd.yaml", app["configs"]
key_file = yaml.safe_load(open(deploy + "/compose/advocacyd.yaml"))["privacy"]["key_file"]
assert key_file == "/run/secrets/" + app["secrets"][0]["target"], (key_file, app["secrets"])
assert compose["secrets"][app["secrets"][0]["source"]]["file"], "the key secret has no file"
assert any(p.endswith(":%d" % port) for p in app["ports"]), app["ports"]
assert int(app["stop_grace_period"].rstrip("s")) > drain_s, app["stop_grace_period"]
assert app.get("read_only") is True, "the advocacyd container's root file system is writable"
config = yaml.safe_load(open(deploy + "/compose/advocacyd.yaml"))
topics = ([i["topic"] for i in config["kafka"]["inputs"]] + [config["kafka"]["roster_topic"]] +
          [config["outputs"][o]["topic"] for o in ("kpi", "escalations", "dlq", "governance")])
init = services["kafka-init"]["command"][0]
for topic in topics:
    assert re.search(r"(?m)^create %s \d+" % re.escape(topic), init), "kafka-init lacks " + topic

# Kubernetes: probes on the config's admin port, non-root, read-only root,
# replicas within the partitions, a PodDisruptionBudget and the Secret.
k8s = deploy + "/kubernetes/"
kustomization = yaml.safe_load(open(k8s + "kustomization.yaml"))
docs = {}
for name in kustomization["resources"]:
    doc = yaml.safe_load(open(k8s + name))
    docs[doc["kind"]] = doc
deployment = docs["Deployment"]
spec = deployment["spec"]
pod = spec["template"]["spec"]
container = pod["containers"][0]
config_file = k8s + kustomization["configMapGenerator"][0]["files"][0]
config = yaml.safe_load(open(config_file))
port = admin_of(config_file)
assert config["admin"]["listen_host"] == "0.0.0.0", "probes need admin.listen_host 0.0.0.0"
ports = {p["name"]: p["containerPort"] for p in container["ports"]}
def probe_target(probe):
    get = container[probe]["httpGet"]
    return get["path"], ports.get(get["port"], get["port"])
assert probe_target("livenessProbe") == ("/healthz", port), probe_target("livenessProbe")
assert probe_target("readinessProbe") == ("/readyz", port), probe_target("readinessProbe")
assert probe_target("startupProbe") == ("/healthz", port), probe_target("startupProbe")
assert pod["securityContext"]["runAsNonRoot"] is True
assert pod["securityContext"]["runAsUser"] != 0
assert container["securityContext"]["readOnlyRootFilesystem"] is True
assert container["securityContext"]["allowPrivilegeEscalation"] is False
assert container["resources"]["requests"] and container["resources"]["limits"]
assert pod["terminationGracePeriodSeconds"] > drain_s, pod["terminationGracePeriodSeconds"]
partitions = int(deployment["metadata"]["annotations"]["advocacyd/input-partitions"])
assert 1 <= spec["replicas"] <= partitions, (spec["replicas"], partitions)
assert docs["PodDisruptionBudget"]["spec"]["selector"] == spec["selector"]
mounts = {m["name"]: m["mountPath"] for m in container["volumeMounts"]}
volumes = {v["name"]: v for v in pod["volumes"]}
secret_mount = [mounts[n] for n, v in volumes.items() if "secret" in v][0]
config_mount = [mounts[n] for n, v in volumes.items() if "configMap" in v][0]
assert config["privacy"]["key_file"] == secret_mount + "/hmac.key", config["privacy"]["key_file"]
assert container["args"] == ["--config", config_mount + "/advocacyd.yaml"], container["args"]
secret_files = [f.split("=")[0] for f in kustomization["secretGenerator"][0]["files"]]
assert secret_files == ["hmac.key", "admin-tokens"], secret_files
PYTHON
