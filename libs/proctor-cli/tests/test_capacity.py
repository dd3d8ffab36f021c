"""`proctor capacity` computes from the figures file (each figure quoted from docs/benchmarks.md) and
`proctor prescale` drives the cluster through ScalingApi: a fake here, and the kubernetes-client adapter
against recording fakes of the client's API classes."""

from __future__ import annotations

import argparse
import json
import math
import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import yaml
from kubernetes import client

from proctor_cli import commands_capacity as cap
from proctor_cli.main import main
from proctor_runtime.topics import ALL_TOPICS

ROOT = Path(__file__).resolve().parents[3]
BENCHMARKS = (ROOT / "docs" / "benchmarks.md").read_text()


def figures(**overrides: float) -> cap.Figures:
    return cap.Figures.load(overrides=overrides or None)


def anomaly_cpu_s(f: cap.Figures) -> float:
    """anomaly's own CPU-s per candidate-hour: the measured anomaly + auth-face cost less auth-face's ReVerify."""
    return f.m("anomaly_cpu_s_per_candidate_hour") - f.m("auth_reverify_cpu_s_per_candidate_hour")


def test_anomaly_and_worker_follow_the_measured_cost_by_hand() -> None:
    f = figures()
    result = cap.plan(100_000, f)["services"]
    # anomaly: (anomaly + auth-face - auth-face's ReVerify) CPU-s per candidate-hour, planned at 70 % of one core
    # per pod (with the figures of 2026-11-26, (32.5 - 1.0) / 3600 / 0.7 x 100,000 = 1,250 pods)
    anomaly_pods = math.ceil(round(100_000 * anomaly_cpu_s(f) / 3600 / 0.7, 6))
    assert result["anomaly"]["pods"] == anomaly_pods > 2
    assert result["anomaly"]["cores"] == anomaly_pods
    # worker: two remuxed H.264 streams at 20.8 CPU-s/h and one VP9 stream transcoded at 9.1x, 2 cores per pod
    worker_cores = 100_000 * (2 * 20.8 / 3600 + 1 / 9.1) / 0.7
    assert result["media-worker"]["pods"] == math.ceil(worker_cores / 2)
    # auth-face: the login wave, 3x the mean of 100,000 logins in 30 min, 10 frames x (4.86 + 4.71) ms + 3 x 6.38 ms
    login_s = (10 * (4.86 + 4.71) + 3 * 6.38) / 1000
    assert result["auth-face"]["load"]["cpu_s_per_login"] == pytest.approx(login_s, abs=1e-3)
    reverify = f.m("auth_reverify_cpu_s_per_candidate_hour")
    assert result["auth-face"]["pods"] == math.ceil((100_000 * 3 / 1800 * login_s + 100_000 * reverify / 3600) / 0.7)
    # media-ingest: 3 streams x 1.05 MB / 4 s each; the 64.2 MB/s one process sustained bounds the pods
    mb_s = 100_000 * 3 * 1.05 / 4
    assert result["media-ingest"]["pods"] == math.ceil(mb_s / 64.2)


def test_exam_session_is_sized_by_heartbeats_answers_and_logins() -> None:
    result = cap.plan(100_000, figures())["services"]["exam-session"]
    rps = 100_000 * 2 / 10 + 100_000 * 20 * 2 / 7200 + 100_000 * 3 / 1800 * 6
    assert result["load"]["rpc_per_s"] == pytest.approx(rps, abs=0.01)
    assert result["pods"] == max(math.ceil(rps * 0.75 / 1000 / 0.7), math.ceil(rps / (1079.3 * 0.7)))


def test_options_change_the_plan() -> None:
    base = cap.plan(100_000, figures())["services"]
    h264 = cap.plan(100_000, figures(transcoded_streams_per_candidate=0))["services"]
    assert h264["media-worker"]["pods"] == math.ceil(100_000 * 3 * 20.8 / 3600 / 0.7 / 2)
    assert h264["media-worker"]["pods"] < base["media-worker"]["pods"] / 5
    longer = cap.plan(100_000, figures(exam_minutes=240))["services"]
    assert longer["exam-session"]["load"]["answer_rpc_per_s"] == pytest.approx(
        base["exam-session"]["load"]["answer_rpc_per_s"] / 2, abs=0.01)
    big = cap.plan(100_000, cap.Figures.load(pod_cpu={"anomaly": 4}))["services"]["anomaly"]
    assert big["pods"] == math.ceil(round(100_000 * anomaly_cpu_s(figures()) / 3600 / 0.7 / 4, 6))
    assert big["pods"] < base["anomaly"]["pods"] / 3
    with pytest.raises(ValueError, match="unknown service"):
        cap.Figures.load(pod_cpu={"nope": 2})


def test_the_command_reads_the_figures_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data = json.loads(cap.FIGURES_FILE.read_text())
    # both figures of anomaly's sizing are set here, so the arithmetic below is by hand, whatever the file says
    data["figures"]["anomaly_cpu_s_per_candidate_hour"]["value"] = 30.9
    data["figures"]["auth_reverify_cpu_s_per_candidate_hour"]["value"] = 0.9
    path = tmp_path / "figures.json"
    path.write_text(json.dumps(data))
    assert main(["capacity", "--candidates", "100000", "--figures", str(path), "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["figures_file"] == str(path)
    assert out["services"]["anomaly"]["pods"] == math.ceil(100_000 * 30.0 / 3600 / 0.7) == 1191
    assert out["figures_used"]["anomaly_cpu_s_per_candidate_hour"]["value"] == 30.9
    assert out["not_benchmarked"] == [] and out["services"]["notify"]["cores"] >= 1


def test_every_figure_is_quoted_from_the_benchmarks_and_used() -> None:
    f = figures()
    for name, figure in f.measured.items():
        assert figure["source"].startswith("docs/benchmarks.md"), name
        value = figure["value"]
        spellings = {f"{value}", f"{value:,}", f"{value:g}"}
        assert any(re.search(rf"(?<![\d.]){re.escape(s)}(?![\d])", BENCHMARKS) for s in spellings), \
            f"{name}={value} does not appear in docs/benchmarks.md"
        assert f"{value}" in figure["source"] or f"{value:,}" in figure["source"], name

    used: set[str] = set()

    class Recording(cap.Figures):
        def m(self, name: str) -> float:
            used.add(name)
            return super().m(name)

        def a(self, name: str) -> float:
            used.add(name)
            return super().a(name)

    cap.plan(1000, Recording(f.path, f.measured, f.assumed, f.pods, f.consumers))
    assert used == set(f.measured) | set(f.assumed), "drop figures or assumptions the plan does not use"


def test_pod_sizes_are_the_charts_requests() -> None:
    values = yaml.safe_load((ROOT / "helm" / "proctor" / "values.yaml").read_text())["services"]
    f = figures()
    assert set(f.pods) == set(values)
    for name, pod in f.pods.items():
        requests = values[name]["resources"]["requests"]
        cpu = str(requests["cpu"])
        assert (float(cpu[:-1]) / 1000 if cpu.endswith("m") else float(cpu)) == pod["cpu"], name
        assert requests["memory"] == f"{pod['memory_mib']}Mi", name


def test_partitions_cover_every_consumer_pod_and_keep_anomaly_copartitioned() -> None:
    f = figures()
    assert set(f.consumers) == {t.name for t in ALL_TOPICS}
    result = cap.plan(100_000, f)
    for topic, readers in f.consumers.items():
        count = result["topics"][topic]
        local = next(t.partitions for t in ALL_TOPICS if t.name == topic)
        assert count >= max([result["services"][r]["pods"] for r in readers] + [local])
        assert count == local or count % 12 == 0
        for reader in readers:
            assert result["services"][reader]["kafka_partitions"][topic] == count
    assert result["topics"]["proctor.anomaly-state.v1"] == result["topics"]["proctor.media-segments-stored.v1"]
    assert result["topics"]["proctor.media-stills.v1"] == result["topics"]["proctor.media-segments-stored.v1"]
    small = cap.plan(10, f)["topics"]
    assert small == {t.name: t.partitions for t in ALL_TOPICS}


class FakeScaling:
    """An in-memory cluster: the autoscalers of one release, and every patch made."""

    def __init__(self, items: list[cap.Scalable]) -> None:
        self.items = {i.name: i for i in items}
        self.patches: list[tuple[str, int, int, str | None]] = []
        self.selectors: list[str] = []

    def list_scalables(self, namespace: str, selector: str) -> list[cap.Scalable]:
        self.selectors.append(selector)
        return [cap.Scalable(**vars(i)) for i in self.items.values()]

    def patch(self, namespace: str, target: cap.Scalable, min_replicas: int, max_replicas: int,
              annotation: str | None) -> None:
        self.patches.append((target.name, min_replicas, max_replicas, annotation))
        item = self.items[target.name]
        item.min_replicas, item.max_replicas = min_replicas, max_replicas
        if annotation is None:
            item.annotations.pop(cap.ANNOTATION, None)
        else:
            item.annotations[cap.ANNOTATION] = annotation


def cluster() -> FakeScaling:
    return FakeScaling([
        cap.Scalable("HorizontalPodAutoscaler", "proctor-exam-session", "exam-session", 2, 20),
        cap.Scalable("HorizontalPodAutoscaler", "proctor-auth-face", "auth-face", 2, 200),
        cap.Scalable("ScaledObject", "proctor-anomaly", "anomaly", 2, 12),
        cap.Scalable("Deployment", "proctor-notify", "notify", 3, 3),
        cap.Scalable("HorizontalPodAutoscaler", "proctor-unknown", "something-else", 1, 5),
    ])


SITTING = cap.Sitting("S1", 100_000, datetime(2026, 12, 1, 8, tzinfo=UTC), datetime(2026, 12, 1, 12, tzinfo=UTC))


def test_prescale_up_then_down_restores_the_cluster() -> None:
    api, f = cluster(), figures()
    pods = {k: v["pods"] for k, v in cap.plan(100_000, f)["services"].items()}
    before = {k: (v.min_replicas, v.max_replicas) for k, v in api.items.items()}
    actions = cap.prescale(api, "proctor", "rel", SITTING, "up", f)
    assert api.selectors == ["app.kubernetes.io/name=proctor,app.kubernetes.io/instance=rel"]
    assert {a["name"] for a in actions} == {"proctor-exam-session", "proctor-auth-face", "proctor-anomaly",
                                            "proctor-notify"}
    assert api.items["proctor-exam-session"].min_replicas == pods["exam-session"]
    assert api.items["proctor-exam-session"].max_replicas == max(20, pods["exam-session"])
    assert (api.items["proctor-auth-face"].min_replicas, api.items["proctor-auth-face"].max_replicas) == \
        (pods["auth-face"], 200)
    assert api.items["proctor-anomaly"].min_replicas == pods["anomaly"]
    assert api.items["proctor-notify"].min_replicas == 3  # never below what was there
    # a second `up` (a retried CronJob) keeps the first saved bounds
    cap.prescale(api, "proctor", "rel", SITTING, "up", f)
    saved = json.loads(api.items["proctor-exam-session"].annotations[cap.ANNOTATION])
    assert saved == {"sitting": "S1", "min": 2, "max": 20}
    cap.prescale(api, "proctor", "rel", SITTING, "down", f)
    assert {k: (v.min_replicas, v.max_replicas) for k, v in api.items.items()} == before
    assert all(cap.ANNOTATION not in v.annotations for v in api.items.values())
    patched = len(api.patches)
    assert cap.prescale(api, "proctor", "rel", SITTING, "down", f) == []  # nothing left to restore
    assert len(api.patches) == patched


def test_prescale_dry_run_changes_nothing() -> None:
    api = cluster()
    actions = cap.prescale(api, "proctor", "rel", SITTING, "up", figures(), dry_run=True)
    assert actions and api.patches == []


def test_prescale_command_phase_from_the_sitting_timeline(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(cap, "fetch_sitting", lambda target, token, sitting_id: SITTING)
    args = argparse.Namespace(sitting="S1", candidates=None, phase="auto", namespace="proctor", release="proctor",
                              target="127.0.0.1:1", token="t", dry_run=False, figures=cap.FIGURES_FILE,
                              exam_minutes=None, login_peak_factor=None, transcoded_streams=None, pod_cpu=[],
                              lead_minutes=60)
    api = cluster()
    early = cap.prescale_command(args, lambda: api, now=lambda: datetime(2026, 12, 1, 6, 59, tzinfo=UTC))
    assert early["phase"] == "wait" and early["actions"] == [] and api.patches == []
    before_deadline = cap.prescale_command(args, lambda: api, now=lambda: datetime(2026, 12, 1, 7, tzinfo=UTC))
    assert before_deadline["phase"] == "up" and before_deadline["candidates"] == 100_000
    after = cap.prescale_command(args, lambda: api, now=lambda: datetime(2026, 12, 1, 13, tzinfo=UTC))
    assert after["phase"] == "down" and len(after["actions"]) == 4
    args.candidates, args.phase = 1000, "auto"
    with pytest.raises(SystemExit, match="needs the sitting's timeline"):
        cap.prescale_command(args, lambda: api)


class Recorder:
    """Stands in for one of the kubernetes client's API classes: answers lists, records patches."""

    def __init__(self, lists: dict[str, Any]) -> None:
        self.lists, self.calls = lists, []

    def __getattr__(self, method: str) -> Any:
        def call(*args: Any, **kwargs: Any) -> Any:
            self.calls.append((method, args, kwargs))
            return self.lists.get(method)
        return call


def meta(name: str, component: str, annotations: dict[str, str] | None = None) -> client.V1ObjectMeta:
    return client.V1ObjectMeta(name=name, labels={"app.kubernetes.io/component": component}, annotations=annotations)


def test_kubernetes_adapter_lists_and_patches_the_right_objects() -> None:
    hpa = client.V2HorizontalPodAutoscaler(
        metadata=meta("p-exam-session", "exam-session"),
        spec=client.V2HorizontalPodAutoscalerSpec(
            min_replicas=2, max_replicas=20,
            scale_target_ref=client.V2CrossVersionObjectReference(kind="Deployment", name="p-exam-session")))
    scaled = {"metadata": {"name": "p-anomaly", "labels": {"app.kubernetes.io/component": "anomaly"},
                           "annotations": {cap.ANNOTATION: "{}"}},
              "spec": {"minReplicaCount": 2, "maxReplicaCount": 12, "scaleTargetRef": {"name": "p-anomaly"}}}
    deployments = [client.V1Deployment(metadata=meta(n, c), spec=client.V1DeploymentSpec(
        replicas=r, selector=client.V1LabelSelector(), template=client.V1PodTemplateSpec()))
        for n, c, r in (("p-exam-session", "exam-session", 5), ("p-anomaly", "anomaly", 3), ("p-notify", "notify", 2))]
    autoscaling = Recorder({"list_namespaced_horizontal_pod_autoscaler":
                            client.V2HorizontalPodAutoscalerList(items=[hpa])})
    custom = Recorder({"list_namespaced_custom_object": {"items": [scaled]}})
    apps = Recorder({"list_namespaced_deployment": client.V1DeploymentList(items=deployments)})
    api = cap.KubernetesScalingApi(autoscaling, custom, apps)
    found = {s.name: s for s in api.list_scalables("ns", "sel")}
    assert {(s.kind, s.component, s.min_replicas, s.max_replicas) for s in found.values()} == {
        ("HorizontalPodAutoscaler", "exam-session", 2, 20), ("ScaledObject", "anomaly", 2, 12),
        ("Deployment", "notify", 2, 2)}
    assert found["p-anomaly"].annotations == {cap.ANNOTATION: "{}"}
    assert custom.calls[0] == ("list_namespaced_custom_object", ("keda.sh", "v1alpha1", "ns", "scaledobjects"),
                               {"label_selector": "sel"})
    api.patch("ns", found["p-exam-session"], 30, 40, "saved")
    api.patch("ns", found["p-anomaly"], 6, 12, None)
    api.patch("ns", found["p-notify"], 4, 4, "saved")
    assert autoscaling.calls[-1] == ("patch_namespaced_horizontal_pod_autoscaler", (
        "p-exam-session", "ns", {"metadata": {"annotations": {cap.ANNOTATION: "saved"}},
                                 "spec": {"minReplicas": 30, "maxReplicas": 40}}), {})
    assert custom.calls[-1] == ("patch_namespaced_custom_object", (
        "keda.sh", "v1alpha1", "ns", "scaledobjects", "p-anomaly",
        {"metadata": {"annotations": {cap.ANNOTATION: None}}, "spec": {"minReplicaCount": 6, "maxReplicaCount": 12}}),
        {})
    assert apps.calls[-1] == ("patch_namespaced_deployment", (
        "p-notify", "ns", {"metadata": {"annotations": {cap.ANNOTATION: "saved"}}, "spec": {"replicas": 4}}), {})
