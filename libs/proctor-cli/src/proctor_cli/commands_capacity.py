"""``proctor capacity --candidates N`` and ``proctor prescale --sitting S``.

capacity: pods, cores, memory and Kafka partitions per service for a sitting of N concurrent candidates,
computed from the measured figures in ``capacity_figures.json`` (each quoting docs/benchmarks.md) and a few
stated assumptions; the output lists every figure and assumption it used.

prescale: before the login wave, raise the autoscalers' minimum replicas (HPA ``minReplicas``, KEDA
``minReplicaCount``; a Deployment without autoscaler is scaled) to the pods the sitting needs; after the upload
deadline, restore the values it saved in an annotation. The cluster is reached through ``ScalingApi``; the
real implementation uses the ``kubernetes`` client, the tests a fake.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Protocol

FIGURES_FILE = Path(__file__).with_name("capacity_figures.json")
ANNOTATION = "proctor.exam/prescale"  # JSON: the sitting and the min/max replicas before prescaling
KEDA = ("keda.sh", "v1alpha1", "scaledobjects")


# --- capacity --------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Figures:
    path: Path
    measured: dict[str, dict[str, Any]]
    assumed: dict[str, dict[str, Any]]
    pods: dict[str, dict[str, Any]]
    consumers: dict[str, list[str]]

    @classmethod
    def load(cls, path: Path = FIGURES_FILE, overrides: dict[str, float] | None = None,
             pod_cpu: dict[str, float] | None = None) -> Figures:
        """``pod_cpu``: cores per pod of some services instead of the chart's (memory scales with it)."""
        data = json.loads(path.read_text())
        assumed = {k: dict(v) for k, v in data["assumptions"].items()}
        for name, value in (overrides or {}).items():
            assumed[name] = {"value": value, "why": "given on the command line"}
        pods = {k: dict(v) for k, v in data["pods"].items()}
        for name, cpu in (pod_cpu or {}).items():
            if name not in pods:
                raise ValueError(f"unknown service {name!r} (one of {', '.join(pods)})")
            pod = pods[name]
            pod["memory_mib"] = math.ceil(pod["memory_mib"] * cpu / float(pod["cpu"]))
            pod["cpu"] = cpu
            pod["note"] = f"{cpu} cores per pod given on the command line (memory scaled with it; not benchmarked)"
        return cls(path, data["figures"], assumed, pods, data["consumers"])

    def m(self, name: str) -> float:
        return float(self.measured[name]["value"])

    def a(self, name: str) -> float:
        return float(self.assumed[name]["value"])


@dataclass
class ServicePlan:
    pods: int
    cores: float | None  # None: no benchmark figure for this service
    memory_mib: int
    load: dict[str, float]
    kafka_partitions: dict[str, int] = field(default_factory=dict)


def _pods(cores: float, per_pod: float, minimum: float) -> int:
    return max(int(minimum), math.ceil(round(cores / per_pod, 6)))


def _demand(n: float, f: Figures) -> tuple[dict[str, float], dict[str, dict[str, float]]]:
    """CPU cores each benchmarked service burns for ``n`` candidates, and the load behind it."""
    window_s = f.a("login_window_minutes") * 60
    login_rate = n * f.a("login_peak_factor") / window_s  # face logins per second in the peak minute
    heartbeats = n * f.a("devices_per_candidate") / f.a("heartbeat_interval_s")
    answering = n * f.a("answers_per_candidate") * 2 / (f.a("exam_minutes") * 60)
    exam_rps = heartbeats + answering + login_rate * f.a("login_calls_per_candidate")
    login_cpu_s = (f.a("login_frames") * (f.m("auth_detect_ms") + f.m("auth_landmarks_ms"))
                   + f.a("login_embeddings") * f.m("auth_embedding_ms")) / 1000
    reverify = f.m("auth_reverify_cpu_s_per_candidate_hour")
    streams, transcoded = f.a("streams_per_candidate"), f.a("transcoded_streams_per_candidate")
    ingest_mb_s = n * streams * f.m("segment_mb") / f.m("segment_seconds")
    cores = {
        "exam-session": exam_rps * f.m("exam_session_cpu_ms_per_request") / 1000,
        "auth-face": login_rate * login_cpu_s + n * reverify / 3600,
        "media-ingest": ingest_mb_s / 1000 * f.m("media_ingest_cpu_s_per_gb"),
        "media-worker": n * ((streams - transcoded) * f.m("worker_remux_cpu_s_per_stream_hour") / 3600
                             + transcoded / f.m("worker_transcode_realtime_factor")),
        "anomaly": n * (f.m("anomaly_cpu_s_per_candidate_hour") - reverify) / 3600,
        "notify": n * f.a("feed_events_per_candidate_hour") / 3600 * f.m("notify_cpu_ms_per_incident") / 1000,
    }
    load = {
        "exam-session": {"rpc_per_s": exam_rps, "heartbeats_per_s": heartbeats, "answer_rpc_per_s": answering},
        "auth-face": {"face_logins_per_s_peak": login_rate, "cpu_s_per_login": login_cpu_s},
        "media-ingest": {"ingest_mb_per_s": ingest_mb_s},
        "media-worker": {"segments_per_s": n * streams / f.m("segment_seconds"),
                         "transcoded_streams": n * transcoded, "remuxed_streams": n * (streams - transcoded)},
        "anomaly": {"candidates": n},
        "notify": {"feed_events_per_s": n * f.a("feed_events_per_candidate_hour") / 3600},
    }
    return cores, load


def _size(name: str, cores: float, load: dict[str, float], f: Figures) -> ServicePlan:
    """Pods at the target utilisation of the pod's CPU; two services are also bounded by the throughput
    one process sustained in its benchmark."""
    pod, util = f.pods[name], f.a("target_cpu_utilization")
    pods = _pods(cores / util, float(pod["cpu"]), f.a("min_pods"))
    if name == "media-ingest":
        pods = max(pods, math.ceil(load["ingest_mb_per_s"] / f.m("media_ingest_mb_per_s_per_process")))
    if name == "exam-session":
        pods = max(pods, math.ceil(load["rpc_per_s"] / (f.m("exam_session_rpc_per_s_per_process") * util)))
    return ServicePlan(pods, round(pods * float(pod["cpu"]), 2), pods * int(pod["memory_mib"]),
                       {k: round(v, 3) for k, v in load.items()})


def plan(candidates: int, f: Figures) -> dict[str, Any]:
    """The sizing of every service for ``candidates`` concurrent candidates."""
    n, util = float(candidates), f.a("target_cpu_utilization")
    cores, load = _demand(n, f)
    services: dict[str, ServicePlan] = {}
    for name, pod in f.pods.items():
        if name in cores:
            services[name] = _size(name, cores[name], load[name], f)
        else:  # no benchmark: the minimum, and no claim about cores
            pods = int(f.a("min_pods"))
            services[name] = ServicePlan(pods, None, pods * int(pod["memory_mib"]), {})
    partitions = _partitions(services, f)
    for topic, readers in f.consumers.items():
        for reader in readers:
            services[reader].kafka_partitions[topic] = partitions[topic]
    writes = load["exam-session"]["rpc_per_s"]  # every exam-session RPC of the plan writes (heartbeats too)
    ingest_mb_s = load["media-ingest"]["ingest_mb_per_s"]
    return {
        "candidates": candidates,
        "services": {k: vars(v) for k, v in services.items()},
        "topics": partitions,
        "postgresql": {"write_transactions_per_s": round(writes, 1),
                       "cores": round(writes * f.m("postgres_cpu_ms_per_transaction") / 1000 / util, 2),
                       "candidate_rows_mb": round(n / 1e6 * f.m("exam_session_db_mb_per_million_candidates"), 1)},
        "object_storage": {"ingest_mb_per_s": round(ingest_mb_s, 1),
                           "tb_per_exam_hour": round(ingest_mb_s * 3600 / 1e6, 2)},
        "totals": {"pods": sum(s.pods for s in services.values()),
                   "cores": round(sum(s.cores or 0 for s in services.values()), 1),
                   "memory_gib": round(sum(s.memory_mib for s in services.values()) / 1024, 1)},
        "figures_file": str(f.path),
        "figures_used": {k: {"value": v["value"], "unit": v["unit"], "source": v["source"]}
                         for k, v in f.measured.items()},
        "assumptions_used": f.assumed,
        "pod_sizes": f.pods,
        "not_benchmarked": sorted(k for k, v in f.pods.items() if not v["benchmarked"]),
    }


def _partitions(services: dict[str, ServicePlan], f: Figures) -> dict[str, int]:
    """Each topic needs at least one partition per pod of its largest consumer group (a partition feeds one
    member): the local count while it suffices, else rounded up to the multiple. anomaly-state mirrors
    media-segments-stored (anomaly restores its state by partition number), and so do media-stills (a
    candidate's stills and segments reach the same anomaly consumer)."""
    from proctor_runtime.topics import ALL_TOPICS

    multiple = int(f.a("partition_multiple"))
    out: dict[str, int] = {}
    for spec in ALL_TOPICS:
        readers = f.consumers.get(spec.name, [])
        widest = max((services[r].pods for r in readers), default=0)
        out[spec.name] = spec.partitions if widest <= spec.partitions else math.ceil(widest / multiple) * multiple
    out["proctor.anomaly-state.v1"] = out["proctor.media-segments-stored.v1"]
    out["proctor.media-stills.v1"] = out["proctor.media-segments-stored.v1"]  # one consumer per candidate
    return out


# --- prescale ----------------------------------------------------------------------------------------

@dataclass
class Scalable:
    """One autoscaler (or a Deployment without one) of a proctor service in the cluster."""

    kind: str  # HorizontalPodAutoscaler, ScaledObject or Deployment
    name: str
    component: str  # the service (label app.kubernetes.io/component)
    min_replicas: int
    max_replicas: int
    annotations: dict[str, str] = field(default_factory=dict)


class ScalingApi(Protocol):
    def list_scalables(self, namespace: str, selector: str) -> list[Scalable]: ...

    def patch(self, namespace: str, target: Scalable, min_replicas: int, max_replicas: int,
              annotation: str | None) -> None:
        """Set the replica bounds and the prescale annotation (None removes it)."""
        ...


@dataclass(frozen=True)
class Sitting:
    sitting_id: str
    candidates: int
    login_opens: datetime
    upload_deadline: datetime


def prescale(api: ScalingApi, namespace: str, release: str, sitting: Sitting, phase: str, f: Figures,
             dry_run: bool = False) -> list[dict[str, Any]]:
    """``up``: raise every minimum to the planned pods (saving the old bounds once); ``down``: restore them."""
    targets = plan(sitting.candidates, f)["services"]
    selector = f"app.kubernetes.io/name=proctor,app.kubernetes.io/instance={release}"
    actions: list[dict[str, Any]] = []
    for item in sorted(api.list_scalables(namespace, selector), key=lambda s: (s.component, s.kind)):
        saved = json.loads(item.annotations[ANNOTATION]) if ANNOTATION in item.annotations else None
        if phase == "up":
            if item.component not in targets:
                continue
            base = saved or {"sitting": sitting.sitting_id, "min": item.min_replicas, "max": item.max_replicas}
            pods = max(int(targets[item.component]["pods"]), base["min"])
            low, high, note = pods, max(pods, base["max"]), json.dumps(base, sort_keys=True)
        elif saved is None:
            continue  # not prescaled (or restored already)
        else:
            low, high, note = saved["min"], saved["max"], None
        actions.append({"kind": item.kind, "name": item.name, "service": item.component,
                        "min_replicas": [item.min_replicas, low], "max_replicas": [item.max_replicas, high]})
        if not dry_run:
            api.patch(namespace, item, low, high, note)
    return actions


class KubernetesScalingApi:
    """``ScalingApi`` over the ``kubernetes`` client (kubeconfig, or the in-cluster service account)."""

    def __init__(self, autoscaling: Any = None, custom: Any = None, apps: Any = None) -> None:
        if autoscaling is None or custom is None or apps is None:
            from kubernetes import client, config

            try:
                config.load_incluster_config()
            except config.ConfigException:
                try:
                    config.load_kube_config()
                except (config.ConfigException, OSError) as exc:
                    raise SystemExit(f"no Kubernetes cluster configured (in-cluster or kubeconfig): {exc}") from exc
            autoscaling, custom, apps = client.AutoscalingV2Api(), client.CustomObjectsApi(), client.AppsV1Api()
        self.autoscaling, self.custom, self.apps = autoscaling, custom, apps

    def list_scalables(self, namespace: str, selector: str) -> list[Scalable]:
        out, scaled = [], set()
        hpas = self.autoscaling.list_namespaced_horizontal_pod_autoscaler(namespace, label_selector=selector)
        for hpa in hpas.items:
            meta = hpa.metadata
            out.append(Scalable("HorizontalPodAutoscaler", meta.name, _component(meta.labels),
                                hpa.spec.min_replicas or 1, hpa.spec.max_replicas, dict(meta.annotations or {})))
            scaled.add(hpa.spec.scale_target_ref.name)
        found = self.custom.list_namespaced_custom_object(*KEDA[:2], namespace, KEDA[2], label_selector=selector)
        for obj in found["items"]:
            meta, spec = obj["metadata"], obj["spec"]
            out.append(Scalable("ScaledObject", meta["name"], _component(meta.get("labels")),
                                spec.get("minReplicaCount", 0), spec.get("maxReplicaCount", 100),
                                dict(meta.get("annotations") or {})))
            scaled.add(spec["scaleTargetRef"]["name"])
        for deployment in self.apps.list_namespaced_deployment(namespace, label_selector=selector).items:
            meta = deployment.metadata
            if meta.name not in scaled:
                replicas = deployment.spec.replicas or 0
                out.append(Scalable("Deployment", meta.name, _component(meta.labels), replicas, replicas,
                                    dict(meta.annotations or {})))
        return out

    def patch(self, namespace: str, target: Scalable, min_replicas: int, max_replicas: int,
              annotation: str | None) -> None:
        meta = {"annotations": {ANNOTATION: annotation}}  # merge patch: None deletes the annotation
        if target.kind == "HorizontalPodAutoscaler":
            body = {"metadata": meta, "spec": {"minReplicas": min_replicas, "maxReplicas": max_replicas}}
            self.autoscaling.patch_namespaced_horizontal_pod_autoscaler(target.name, namespace, body)
        elif target.kind == "ScaledObject":
            body = {"metadata": meta, "spec": {"minReplicaCount": min_replicas, "maxReplicaCount": max_replicas}}
            self.custom.patch_namespaced_custom_object(*KEDA[:2], namespace, KEDA[2], target.name, body)
        else:
            self.apps.patch_namespaced_deployment(target.name, namespace,
                                                  {"metadata": meta, "spec": {"replicas": min_replicas}})


def _component(labels: dict[str, str] | None) -> str:
    return (labels or {}).get("app.kubernetes.io/component", "")


def fetch_sitting(target: str, token: str, sitting_id: str) -> Sitting:
    """The sitting's timeline and candidate count from exam-session (GetSitting, ListRooms)."""
    import grpc

    from proctor.exam.v1 import exam_session_pb2 as pb
    from proctor.exam.v1 import exam_session_pb2_grpc

    async def run() -> Sitting:
        async with grpc.aio.insecure_channel(target) as channel:
            stub = exam_session_pb2_grpc.ExamSessionStub(channel)
            md = (("authorization", f"Bearer {token}"),)
            sitting = await stub.GetSitting(pb.GetSittingRequest(sitting_id=sitting_id), metadata=md)
            rooms = await stub.ListRooms(pb.ListRoomsRequest(sitting_id=sitting_id), metadata=md)
        t = sitting.timeline
        return Sitting(sitting_id, sum(r.candidate_count for r in rooms.rooms),
                       t.login_opens.ToDatetime(UTC), t.upload_deadline.ToDatetime(UTC))

    try:
        return asyncio.run(run())
    except grpc.aio.AioRpcError as exc:
        raise SystemExit(f"exam-session: {exc.code().name}: {exc.details()}") from exc


def _phase(sitting: Sitting, now: datetime, lead_minutes: float) -> str:
    if now >= sitting.upload_deadline:
        return "down"
    return "up" if now >= sitting.login_opens - timedelta(minutes=lead_minutes) else "wait"


# --- the commands --------------------------------------------------------------------------------------

def register(sub: Any) -> None:
    cap = sub.add_parser("capacity", help="pods, cores, memory and partitions for N candidates (from benchmarks)")
    cap.add_argument("--candidates", type=int, required=True)
    _figure_args(cap)
    cap.add_argument("--json", action="store_true")
    cap.set_defaults(handler=capacity_command)
    pre = sub.add_parser("prescale", help="raise the autoscalers' minimums before a sitting's login wave, "
                         "restore them after its upload deadline")
    pre.add_argument("--sitting", required=True)
    pre.add_argument("--phase", choices=["auto", "up", "down"], default="auto",
                     help="auto: up from --lead-minutes before login opens until the upload deadline, down after it")
    pre.add_argument("--lead-minutes", type=float, default=60,
                     help="how long before login opens `auto` scales up (pods start and warm their models)")
    pre.add_argument("--candidates", type=int, help="default: the sitting's candidates from exam-session")
    pre.add_argument("--namespace", default="proctor")
    pre.add_argument("--release", default="proctor", help="the Helm release (label app.kubernetes.io/instance)")
    pre.add_argument("--target", default="", help="exam-session host:port (default: the local one)")
    pre.add_argument("--token", default="", help="staff token (default: $PROCTOR_TOKEN or a local dev token)")
    pre.add_argument("--dry-run", action="store_true")
    _figure_args(pre)
    pre.add_argument("--json", action="store_true")
    pre.set_defaults(handler=prescale_command)


def _figure_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--figures", type=Path, default=FIGURES_FILE, help="the figures file")
    parser.add_argument("--exam-minutes", type=float)
    parser.add_argument("--login-peak-factor", type=float)
    parser.add_argument("--transcoded-streams", type=float, help="streams per candidate the worker transcodes")
    parser.add_argument("--pod-cpu", action="append", default=[], metavar="SERVICE=CORES",
                        help="cores per pod of a service instead of the chart's (repeatable)")


def _figures(args: argparse.Namespace) -> Figures:
    overrides = {name: value for name, value in (
        ("exam_minutes", args.exam_minutes), ("login_peak_factor", args.login_peak_factor),
        ("transcoded_streams_per_candidate", args.transcoded_streams)) if value is not None}
    pod_cpu = {}
    for item in args.pod_cpu:
        name, _, cores = item.partition("=")
        try:
            pod_cpu[name] = float(cores)
        except ValueError:
            raise SystemExit(f"--pod-cpu {item!r}: expected SERVICE=CORES") from None
    try:
        return Figures.load(args.figures, overrides, pod_cpu)
    except ValueError as exc:
        raise SystemExit(f"--pod-cpu: {exc}") from exc


def capacity_command(args: argparse.Namespace) -> dict[str, Any]:
    if args.candidates < 1:
        raise SystemExit("--candidates must be at least 1")
    result = plan(args.candidates, _figures(args))
    lines = [f"{args.candidates:,} concurrent candidates (figures: {result['figures_file']})",
             f"{'service':<14}{'pods':>7}{'cores':>9}{'memory GiB':>12}  partitions"]
    for name, s in result["services"].items():
        cores = "-" if s["cores"] is None else f"{s['cores']:.1f}"
        parts = ", ".join(f"{t.removeprefix('proctor.')}={p}" for t, p in s["kafka_partitions"].items())
        lines.append(f"{name:<14}{s['pods']:>7}{cores:>9}{s['memory_mib'] / 1024:>12.1f}  {parts}")
    t = result["totals"]
    lines.append(f"{'total':<14}{t['pods']:>7}{t['cores']:>9.1f}{t['memory_gib']:>12.1f}")
    lines.append(f"PostgreSQL: {result['postgresql']}; object storage: {result['object_storage']}")
    if result["not_benchmarked"]:
        lines.append(f"not benchmarked, sized at the minimum: {', '.join(result['not_benchmarked'])}")
    return {**result, "text": "\n".join(lines)}


def prescale_command(args: argparse.Namespace, api_factory: Callable[[], ScalingApi] = KubernetesScalingApi,
                     now: Callable[[], datetime] = lambda: datetime.now(UTC)) -> dict[str, Any]:
    if args.candidates is not None:
        sitting = Sitting(args.sitting, args.candidates, datetime.min.replace(tzinfo=UTC),
                          datetime.max.replace(tzinfo=UTC))
        if args.phase == "auto":
            raise SystemExit("--phase auto needs the sitting's timeline: give --phase up|down with --candidates")
    else:
        from proctor_cli.commands_exam import _staff_token, _target

        sitting = fetch_sitting(_target(args), _staff_token(args), args.sitting)
    phase = args.phase if args.phase != "auto" else _phase(sitting, now(), args.lead_minutes)
    if phase == "wait":
        start = sitting.login_opens - timedelta(minutes=args.lead_minutes)
        return {"sitting": sitting.sitting_id, "candidates": sitting.candidates, "phase": phase, "actions": [],
                "dry_run": args.dry_run, "namespace": args.namespace,
                "text": f"sitting {sitting.sitting_id}: too early, scale up from {start.isoformat()}"}
    actions = prescale(api_factory(), args.namespace, args.release, sitting, phase, _figures(args), args.dry_run)
    text = [f"{phase} for sitting {sitting.sitting_id} ({sitting.candidates:,} candidates)"
            + (" [dry run]" if args.dry_run else "")]
    text += [f"  {a['kind']}/{a['name']}: min {a['min_replicas'][0]}->{a['min_replicas'][1]}, "
             f"max {a['max_replicas'][0]}->{a['max_replicas'][1]}" for a in actions]
    return {"sitting": sitting.sitting_id, "candidates": sitting.candidates, "phase": phase,
            "dry_run": args.dry_run, "namespace": args.namespace, "actions": actions,
            "text": "\n".join(text)}
