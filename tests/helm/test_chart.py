"""The chart, offline: helm lint, helm template for the default and example values, the rendered manifests
validated by kubernetes-validate (--strict, Kubernetes 1.34), the custom resources against the fields their
operators accept, and what an SRE checks by hand: hardening, secrets, probes, network flows, autoscaling."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml
from helm_support import CHART, KUBE_VERSION, VALUE_SETS, Render, by_kind, documents, helm_template

SERVICES = {  # name -> (module, env prefix): the deployables of the architecture
    "exam-session": ("exam_session", "EXAM_SESSION_"),
    "auth-face": ("auth_face", "AUTH_FACE_"),
    "media-ingest": ("media_ingest", "MEDIA_INGEST_"),
    "media-worker": ("media_ingest.processing", "MEDIA_WORKER_"),
    "anomaly": ("anomaly", "ANOMALY_"),
    "notify": ("notify", "NOTIFY_"),
}
# service-to-service gRPC of the architecture (README): caller -> callee
CALLS = {("media-ingest", "exam-session"), ("anomaly", "auth-face")}
CLIENT_FACING = {"exam-session", "auth-face", "media-ingest", "notify"}
KAFKA_LAG_SCALED = {"anomaly": "anomaly", "media-worker": "media-worker"}  # service -> consumer group
SECRET_SETTINGS = ("DATABASE_URL", "TOKEN_SIGNING_KEY", "TEMPLATE_KEYS", "S3_ACCESS_KEY", "S3_SECRET_KEY")
# custom resources: kubernetes-validate has no schema for them, they are checked by CRD_SCHEMAS below
CUSTOM_KINDS = {"KafkaTopic", "ScaledObject", "ServiceMonitor", "PrometheusRule"}

IDS = [name for name, _ in VALUE_SETS]
VALUES = [values for _, values in VALUE_SETS]


def component(doc: dict[str, Any]) -> str:
    return str(doc["metadata"]["labels"]["app.kubernetes.io/component"])


@pytest.mark.parametrize("values", VALUES, ids=IDS)
def test_helm_lint(helm: Path, values: tuple[Path, ...]) -> None:
    argv = [str(helm), "lint", "--strict", str(CHART), "--kube-version", KUBE_VERSION]
    for path in values:
        argv += ["-f", str(path)]
    result = subprocess.run(argv, capture_output=True, text=True, check=False, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 chart(s) failed" in result.stdout


@pytest.mark.parametrize("values", VALUES, ids=IDS)
def test_rendered_manifests_validate_strictly(render: Render, kubernetes_validate: Path, values: tuple[Path, ...],
                                              tmp_path: Path) -> None:
    manifest = tmp_path / "manifest.yaml"
    manifest.write_text(render(*values))
    result = subprocess.run([str(kubernetes_validate), "-k", KUBE_VERSION, "--strict", str(manifest)],
                            capture_output=True, text=True, check=False, timeout=300)
    lines = (result.stdout + result.stderr).splitlines()
    assert result.returncode == 0, "\n".join(lines)
    unknown = [line for line in lines if line.startswith("WARN")
               and not any(f"kind {kind} with" in line for kind in CUSTOM_KINDS)]
    assert unknown == [], "\n".join(unknown)
    built_in = [d for d in documents(manifest.read_text()) if d["kind"] not in CUSTOM_KINDS]
    passed = [line for line in lines if line.startswith("INFO") and " passed " in line]
    assert len(passed) == len(built_in) > 0


def _closed(properties: dict[str, Any], required: list[str]) -> dict[str, Any]:
    return {"type": "object", "additionalProperties": False, "properties": properties, "required": required}


_META = {"type": "object", "required": ["name", "labels"]}
_STR = {"type": "string", "minLength": 1}
# the fields of the operators' CRDs the chart uses (Strimzi v1beta2, KEDA v1alpha1, prometheus-operator v1)
CRD_SCHEMAS: dict[str, dict[str, Any]] = {
    "KafkaTopic": _closed({"apiVersion": {"const": "kafka.strimzi.io/v1beta2"}, "kind": {}, "metadata": _META,
                           "spec": _closed({"topicName": _STR, "partitions": {"type": "integer", "minimum": 1},
                                            "replicas": {"type": "integer", "minimum": 1, "maximum": 32767},
                                            "config": {"type": "object",
                                                       "additionalProperties": {"type": "string"}}},
                                           ["topicName", "partitions", "replicas", "config"])},
                          ["apiVersion", "kind", "metadata", "spec"]),
    "ScaledObject": _closed({"apiVersion": {"const": "keda.sh/v1alpha1"}, "kind": {}, "metadata": _META,
                             "spec": _closed({
                                 "scaleTargetRef": _closed({"apiVersion": _STR, "kind": {"const": "Deployment"},
                                                            "name": _STR}, ["name"]),
                                 "minReplicaCount": {"type": "integer", "minimum": 0},
                                 "maxReplicaCount": {"type": "integer", "minimum": 1},
                                 "pollingInterval": {"type": "integer"}, "cooldownPeriod": {"type": "integer"},
                                 "triggers": {"type": "array", "minItems": 1, "items": _closed({
                                     "type": {"const": "kafka"},
                                     "metadata": _closed({k: {"type": "string", "minLength": 1} for k in (
                                         "bootstrapServers", "consumerGroup", "topic", "lagThreshold",
                                         "offsetResetPolicy", "allowIdleConsumers")},
                                         ["bootstrapServers", "consumerGroup", "topic", "lagThreshold"])},
                                     ["type", "metadata"])}},
                                 ["scaleTargetRef", "minReplicaCount", "maxReplicaCount", "triggers"])},
                            ["apiVersion", "kind", "metadata", "spec"]),
    "ServiceMonitor": _closed({"apiVersion": {"const": "monitoring.coreos.com/v1"}, "kind": {}, "metadata": _META,
                               "spec": _closed({"selector": _closed({"matchLabels": {"type": "object"}},
                                                                    ["matchLabels"]),
                                                "endpoints": {"type": "array", "minItems": 1, "items": _closed({
                                                    "port": _STR, "path": _STR, "interval": _STR,
                                                    "honorLabels": {"type": "boolean"}}, ["port"])}},
                                               ["selector", "endpoints"])},
                              ["apiVersion", "kind", "metadata", "spec"]),
    "PrometheusRule": _closed({"apiVersion": {"const": "monitoring.coreos.com/v1"}, "kind": {}, "metadata": _META,
                               "spec": _closed({"groups": {"type": "array", "minItems": 1, "items": _closed({
                                   "name": _STR, "rules": {"type": "array", "minItems": 1, "items": _closed({
                                       "alert": _STR, "expr": _STR, "for": _STR,
                                       "labels": {"type": "object", "required": ["severity"]},
                                       "annotations": {"type": "object", "required": ["summary", "description"]}},
                                       ["alert", "expr", "labels", "annotations"])}}, ["name", "rules"])}},
                                   ["groups"])},
                              ["apiVersion", "kind", "metadata", "spec"]),
}


@pytest.mark.parametrize("values", VALUES, ids=IDS)
def test_custom_resources_match_their_operators_fields(render: Render, values: tuple[Path, ...]) -> None:
    custom = [d for d in documents(render(*values)) if d["kind"] in CUSTOM_KINDS]
    assert {d["kind"] for d in custom} >= {"ScaledObject", "ServiceMonitor", "PrometheusRule"}
    for doc in custom:
        jsonschema.validate(doc, CRD_SCHEMAS[doc["kind"]])


@pytest.mark.parametrize("values", VALUES, ids=IDS)
def test_every_service_is_one_hardened_deployment(render: Render, values: tuple[Path, ...]) -> None:
    deployments = {component(d): d for d in by_kind(render(*values), "Deployment")}
    assert set(deployments) == set(SERVICES)
    images = set()
    for name, deployment in deployments.items():
        module, prefix = SERVICES[name]
        pod = deployment["spec"]["template"]["spec"]
        assert pod["securityContext"]["runAsNonRoot"] is True and pod["securityContext"]["runAsUser"] > 0
        assert pod["automountServiceAccountToken"] is False
        (container,) = pod["containers"]
        images.add(container["image"])
        assert container["command"] == ["python", "-m", module]
        sc = container["securityContext"]
        assert sc["readOnlyRootFilesystem"] is True and sc["allowPrivilegeEscalation"] is False
        assert sc["capabilities"] == {"drop": ["ALL"]}
        assert {"cpu", "memory"} <= set(container["resources"]["requests"])
        assert "memory" in container["resources"]["limits"]
        for probe in ("startupProbe", "readinessProbe", "livenessProbe"):
            assert "grpc" in container[probe], f"{name} {probe} is not a native grpc probe"
            assert container[probe]["grpc"]["port"] == next(
                p["containerPort"] for p in container["ports"] if p["name"] == "grpc")
        assert container["readinessProbe"]["grpc"]["service"].startswith("proctor.")
        env = {e["name"]: e for e in container["env"]}
        for setting in ("GRPC_PORT", "METRICS_PORT", "KAFKA_BOOTSTRAP", "TOKEN_PUBLIC_KEYS"):
            assert prefix + setting in env, f"{name} lacks {prefix}{setting}"
        assert env[prefix + "GRPC_HOST"]["value"] == "0.0.0.0"
        for var in env.values():
            if var["name"].endswith(SECRET_SETTINGS):
                assert "value" not in var and "secretKeyRef" in var["valueFrom"], f"{name}: {var['name']} in clear"
        assert {"name": "tmp", "mountPath": "/tmp"} in container["volumeMounts"]
    assert len(images) == 1, "one image for every service"


def test_service_specific_settings(render: Render) -> None:
    deployments = {component(d): d for d in by_kind(render(), "Deployment")}

    def env(name: str) -> dict[str, dict[str, Any]]:
        return {e["name"]: e for e in deployments[name]["spec"]["template"]["spec"]["containers"][0]["env"]}

    assert env("media-ingest")["MEDIA_INGEST_EXAM_SESSION_TARGET"]["value"] == "proctor-exam-session:50051"
    assert env("anomaly")["ANOMALY_AUTH_FACE_TARGET"]["value"] == "proctor-auth-face:50051"
    assert env("auth-face")["AUTH_FACE_TEMPLATE_KEYS"]["valueFrom"]["secretKeyRef"]["name"]
    assert env("notify")["NOTIFY_HTTP_PORT"]["value"] == "8080"
    assert env("media-worker")["MEDIA_WORKER_DATABASE_URL"]["valueFrom"]["secretKeyRef"]["key"] == "media-ingest"
    assert "ANOMALY_DATABASE_URL" not in env("anomaly")  # its state lives in the compacted topic
    for name in ("media-ingest", "media-worker", "anomaly", "notify"):
        assert "MEDIA_STORAGE_URL" in env(name) and "MEDIA_STORAGE_S3_SECRET_KEY" in env(name)
    for name in ("exam-session", "auth-face"):
        assert "MEDIA_STORAGE_URL" not in env(name)


@pytest.mark.parametrize("values", VALUES, ids=IDS)
def test_autoscaling_and_disruption_budgets(render: Render, values: tuple[Path, ...]) -> None:
    manifest = render(*values)
    hpas = {component(d): d for d in by_kind(manifest, "HorizontalPodAutoscaler")}
    scaled = {component(d): d for d in by_kind(manifest, "ScaledObject")}
    assert set(scaled) == set(KAFKA_LAG_SCALED)
    assert set(hpas) == set(SERVICES) - set(KAFKA_LAG_SCALED)
    for hpa in hpas.values():
        (metric,) = hpa["spec"]["metrics"]
        assert metric["resource"]["name"] == "cpu"
    for name, obj in scaled.items():
        triggers = obj["spec"]["triggers"]
        assert {t["metadata"]["consumerGroup"] for t in triggers} == {KAFKA_LAG_SCALED[name]}
    partitions = {d["spec"]["topicName"]: d["spec"]["partitions"] for d in by_kind(manifest, "KafkaTopic")}
    for obj in scaled.values():
        for trigger in obj["spec"]["triggers"]:
            if partitions:
                assert obj["spec"]["maxReplicaCount"] <= partitions[trigger["metadata"]["topic"]]
    for deployment in by_kind(manifest, "Deployment"):
        assert "replicas" not in deployment["spec"], "autoscaled deployments leave replicas to the autoscaler"
    pdbs = {component(d) for d in by_kind(manifest, "PodDisruptionBudget")}
    assert pdbs == set(SERVICES)


def test_keda_max_replicas_cannot_exceed_partitions(helm: Path) -> None:
    result = helm_template(helm, sets=("services.anomaly.autoscaling.maxReplicas=13",))
    assert result.returncode != 0
    assert "maxReplicas 13 exceeds the 12 partitions of proctor.media-stills.v1" in result.stderr


def _allows(policy: dict[str, Any], direction: str, peer_component: str) -> bool:
    for rule in policy["spec"].get(direction, []):
        for peer in rule.get("from" if direction == "ingress" else "to", []):
            labels = peer.get("podSelector", {}).get("matchLabels", {})
            if labels.get("app.kubernetes.io/component") == peer_component and "namespaceSelector" not in peer:
                return True
    return False


@pytest.mark.parametrize("values", VALUES, ids=IDS)
def test_network_policies_deny_by_default_and_allow_only_the_architecture(render: Render,
                                                                          values: tuple[Path, ...]) -> None:
    policies = by_kind(render(*values), "NetworkPolicy")
    deny = [p for p in policies if "app.kubernetes.io/component" not in p["spec"]["podSelector"]["matchLabels"]]
    assert len(deny) == 1
    assert deny[0]["spec"]["policyTypes"] == ["Ingress", "Egress"]
    assert "ingress" not in deny[0]["spec"] and "egress" not in deny[0]["spec"]
    own = {p["spec"]["podSelector"]["matchLabels"]["app.kubernetes.io/component"]: p for p in policies
           if p not in deny}
    assert set(own) == set(SERVICES)
    for name, policy in own.items():
        for direction in ("ingress", "egress"):
            for rule in policy["spec"][direction]:
                assert rule.get("from" if direction == "ingress" else "to"), f"{name}: a rule open to everyone"
                assert rule.get("ports"), f"{name}: a rule open on every port"
        for other in SERVICES:
            assert _allows(policy, "egress", other) == ((name, other) in CALLS), (name, other)
            assert _allows(policy, "ingress", other) == ((other, name) in CALLS), (other, name)
        ingress_ports = {p["port"] for rule in policy["spec"]["ingress"] for p in rule["ports"]}
        assert ("grpc" in ingress_ports) == (name in CLIENT_FACING or any(c == name for _, c in CALLS))


def test_an_unconfigured_peer_fails_the_render_instead_of_allowing_everyone(helm: Path) -> None:
    result = helm_template(helm, sets=("networkPolicy.peers.postgres=null",))
    assert result.returncode != 0
    assert "networkPolicy.peers.postgres is empty" in result.stderr


@pytest.mark.parametrize("setting, message", [
    ("services.exam-session.replicass=3", "additional properties 'replicass' not allowed"),
    ("services.auth-face.probes.startup.grpc.portt=1", "additional properties 'portt' not allowed"),
    ('services.anomaly.autoscaling.mode="memory"', "anomaly"),
    ("common.grpcPort=70000", "grpcPort"),
    ('services.notify.env.lower_case="x"', "lower_case"),
])
def test_schema_is_strict(helm: Path, setting: str, message: str) -> None:
    result = helm_template(helm, sets=(setting,))
    assert result.returncode != 0
    assert "don't meet the specifications of the schema" in result.stderr and message in result.stderr


def test_schema_accepts_other_probe_kinds_and_grpc_overrides(render: Render) -> None:
    manifest = render(sets=("services.notify.probes.liveness.grpc=null",
                            'services.notify.probes.liveness.httpGet.port="http"',
                            'services.notify.probes.liveness.httpGet.path="/healthz"',
                            'services.exam-session.probes.readiness.grpc.service="custom"'))
    deployments = {component(d): d for d in by_kind(manifest, "Deployment")}
    notify = deployments["notify"]["spec"]["template"]["spec"]["containers"][0]
    assert notify["livenessProbe"]["httpGet"] == {"port": "http", "path": "/healthz"}
    exam = deployments["exam-session"]["spec"]["template"]["spec"]["containers"][0]
    assert exam["readinessProbe"]["grpc"] == {"port": 50051, "service": "custom"}


def test_schema_file_is_strict_everywhere() -> None:
    """Every object of values.schema.json closes its properties (no silently ignored typo)."""
    schema = json.loads((CHART / "values.schema.json").read_text())
    open_objects: list[str] = []

    def walk(node: Any, path: str) -> None:
        if isinstance(node, dict):
            closed = node.get("additionalProperties") is False or (
                "oneOf" in node and all(b.get("additionalProperties") is False for b in node["oneOf"]))
            if node.get("type") == "object" and "properties" in node and not closed:
                open_objects.append(path)
            for key, value in node.items():
                walk(value, f"{path}/{key}")
        elif isinstance(node, list):
            for i, value in enumerate(node):
                walk(value, f"{path}/{i}")

    walk(schema, "")
    assert open_objects == []
    defaults = yaml.safe_load((CHART / "values.yaml").read_text())
    jsonschema.validate(defaults, schema)


def test_services_come_from_one_loop_template() -> None:
    """No hand-copied or special-cased service in the templates: services exist in values.yaml only."""
    for path in (CHART / "templates").iterdir():
        text = path.read_text()
        for name in SERVICES:
            special = re.search(rf"[\"'`]{re.escape(name)}[\"'`]|name: *{re.escape(name)}\b", text)
            assert special is None, (path.name, name)


def test_helm_is_the_pinned_build(helm: Path) -> None:
    result = subprocess.run([str(helm), "version", "--short"], capture_output=True, text=True, check=True)
    assert result.stdout.startswith("v3.22"), result.stdout


def test_kubernetes_validate_rejects_a_field_kubernetes_does_not_know(helm: Path, kubernetes_validate: Path,
                                                                       tmp_path: Path) -> None:
    """The strict validation above can fail: an unknown toleration field passes the chart's schema (tolerations
    are free-form there) but not Kubernetes' own."""
    result = helm_template(helm, sets=('common.tolerations=[{"key": "pool", "operatr": "Exists"}]',))
    assert result.returncode == 0, result.stderr
    manifest = tmp_path / "manifest.yaml"
    manifest.write_text(result.stdout)
    checked = subprocess.run([str(kubernetes_validate), "-k", KUBE_VERSION, "--strict", str(manifest)],
                             capture_output=True, text=True, check=False, timeout=300)
    assert checked.returncode != 0
    assert "operatr" in checked.stdout + checked.stderr


def test_a_service_without_autoscaler_keeps_its_replicas(render: Render) -> None:
    off = '{"mode": "none", "minReplicas": null, "maxReplicas": null, "targetCPUUtilizationPercentage": null}'
    manifest = render(sets=(f"services.notify.autoscaling={off}", "services.notify.replicas=3"))
    deployments = {component(d): d for d in by_kind(manifest, "Deployment")}
    assert deployments["notify"]["spec"]["replicas"] == 3
    assert "notify" not in {component(d) for d in by_kind(manifest, "HorizontalPodAutoscaler")}
    assert "replicas" not in deployments["exam-session"]["spec"]
