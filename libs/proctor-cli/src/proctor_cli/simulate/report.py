"""The simulation report: accuracy against the injected truth, latency, cost, and what was lost.

Matching rule (README): a detected incident matches an injected anomaly when it is about the same
candidate, of the same kind, and its [start_time, end_time] (end = start while still open) overlaps the
anomaly's [start, end] (capture times of the first and last frame, or of the telemetry reports) widened
by ``TOLERANCE_S`` on each side. Recall counts injected anomalies with at least one match; precision
counts detected incidents that match one. Incidents about a network drop (offline, phone offline,
recording interrupted, offline answers flagged) on a candidate who really dropped, within the drop and
the abandon grace, are expected and counted apart; anywhere else they are false alarms like any other.
"""

from __future__ import annotations

import hashlib
from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlparse

from proctor.common.v1 import common_pb2 as c
from proctor.events.v1 import incident_pb2
from proctor_cli.simulate.plan import CandidatePlan, kind_name

TOLERANCE_S = 5.0
NETWORK_KINDS = {c.INCIDENT_KIND_NETWORK_OFFLINE, c.INCIDENT_KIND_PHONE_OFFLINE,
                 c.INCIDENT_KIND_RECORDING_INTERRUPTED, c.INCIDENT_KIND_OFFLINE_ANSWER_FLAGGED}


@dataclass
class Detected:
    incident_id: str
    candidate_id: str
    kind: int
    start: datetime
    end: datetime
    detected_at: datetime
    source: int


def detections(events: list[incident_pb2.IncidentEvent]) -> dict[str, Detected]:
    """The latest state of every incident that was OPENED (from all its events on Kafka)."""
    latest: dict[str, incident_pb2.IncidentEvent] = {}
    opened: dict[str, datetime] = {}  # incident id -> detected_at of the OPENED event
    for e in events:
        iid = e.incident.incident_id
        if e.change == incident_pb2.INCIDENT_CHANGE_OPENED:
            opened.setdefault(iid, e.incident.detected_at.ToDatetime(UTC))
        if iid not in latest or e.revision > latest[iid].revision:
            latest[iid] = e
    out = {}
    for iid in opened:
        inc = latest[iid].incident
        start = inc.start_time.ToDatetime(UTC) if inc.start_time.seconds else inc.detected_at.ToDatetime(UTC)
        end = inc.end_time.ToDatetime(UTC) if inc.end_time.seconds else max(start, inc.detected_at.ToDatetime(UTC))
        out[iid] = Detected(iid, inc.candidate_id, inc.kind, start, end, opened[iid], inc.source)
    return out


def _overlaps(a0: datetime, a1: datetime, b0: datetime, b1: datetime, tol: timedelta) -> bool:
    return a0 <= b1 + tol and a1 >= b0 - tol


def accuracy(plans: list[CandidatePlan], found: dict[str, Detected], honest_hours: float,
             grace: timedelta) -> dict[str, Any]:
    tol = timedelta(seconds=TOLERANCE_S)
    by_cid = {p.cid: p for p in plans}
    injected = [(p, i) for p in plans for i in p.injections if i.start is not None and i.end is not None]
    hit: set[int] = set()
    tp, fp, expected = Counter[str](), Counter[str](), Counter[str]()
    false_on_honest = side_effects = 0
    unmatched: list[dict[str, Any]] = []
    for d in found.values():
        plan = by_cid.get(d.candidate_id)
        matches = [n for n, (p, i) in enumerate(injected) if p.cid == d.candidate_id and i.kind == d.kind
                   and i.start and i.end and _overlaps(d.start, d.end, i.start, i.end, tol)]
        name = kind_name(d.kind)
        if matches:
            tp[name] += 1
            hit.update(matches)
            continue
        drop = plan.drop if plan else None
        if (d.kind in NETWORK_KINDS and drop is not None and drop.start and drop.end
                and _overlaps(d.start, d.end, drop.start, drop.end + grace, tol)):
            expected[name] += 1
            continue
        fp[name] += 1
        false_on_honest += bool(plan is not None and not plan.cheater)
        # another kind than injected, during an injected anomaly of the same candidate (a side effect)
        during = any(p.cid == d.candidate_id and i.start and i.end and _overlaps(d.start, d.end, i.start, i.end, tol)
                     for p, i in injected)
        side_effects += during
        unmatched.append({"candidate_id": d.candidate_id, "kind": name, "start": d.start.isoformat(),
                          "end": d.end.isoformat(), "cheater": bool(plan and plan.cheater),
                          "during_injected_anomaly": during})
    per_kind: dict[str, dict[str, Any]] = {}
    for n, (_p, i) in enumerate(injected):
        k = per_kind.setdefault(kind_name(i.kind), {"injected": 0, "detected": 0})
        k["injected"] += 1
        k["detected"] += n in hit
    for name, k in per_kind.items():
        k["recall"] = round(k["detected"] / k["injected"], 3)
        k["true_incidents"], k["false_incidents"] = tp[name], fp[name]
    for name in fp:
        per_kind.setdefault(name, {"injected": 0, "detected": 0, "recall": None, "true_incidents": tp[name],
                                   "false_incidents": fp[name]})
    total_tp, total_fp = sum(tp.values()), sum(fp.values())
    return {
        "injected": len(injected), "injected_detected": len(hit),
        "incident_recall": round(len(hit) / len(injected), 3) if injected else None,
        "incident_precision": round(total_tp / (total_tp + total_fp), 3) if total_tp + total_fp else None,
        # the same with any incident during an injected anomaly of the candidate counted as true
        "incident_precision_any_kind": round((total_tp + side_effects) / (total_tp + total_fp), 3)
        if total_tp + total_fp else None,
        "incidents_detected": len(found), "incidents_true": total_tp, "incidents_false": total_fp,
        "incidents_false_during_injected": side_effects,
        "incidents_expected_network": dict(expected),
        "false_alarms_on_honest": false_on_honest,
        "false_alarms_per_honest_hour": round(false_on_honest / honest_hours, 2) if honest_hours else None,
        "per_kind": per_kind, "false_incidents": unmatched,
    }


def percentile(values: list[float], q: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, int(q * len(ordered)))], 1)


def latency(found: dict[str, Detected], arrivals: dict[str, float], plans: list[CandidatePlan]) -> dict[str, Any]:
    """Capture time of the frame (or telemetry report) that decided the incident -> first delivery to a
    proctor's console. Incidents decided on footage uploaded after a network drop are reported apart."""
    drops = {p.cid: p.drop for p in plans if p.drop and p.drop.start and p.drop.end}
    live, backlog, by_source = [], [], defaultdict(list)
    each: list[tuple[float, str, str]] = []
    for iid, d in found.items():
        if iid not in arrivals:
            continue
        ms = (arrivals[iid] - d.detected_at.timestamp()) * 1000
        drop = drops.get(d.candidate_id)
        if drop and drop.start and drop.end and drop.start <= d.detected_at <= drop.end + timedelta(seconds=4):
            backlog.append(ms)
            continue
        live.append(ms)
        by_source[c.IncidentSource.Name(d.source).removeprefix("INCIDENT_SOURCE_").lower()].append(ms)
        each.append((ms, c.IncidentKind.Name(d.kind).removeprefix("INCIDENT_KIND_"), d.candidate_id))
    return {"e2e_p50_ms": percentile(live, 0.5), "e2e_p99_ms": percentile(live, 0.99),
            "e2e_max_ms": percentile(live, 1.0), "e2e_measured": len(live),
            "e2e_by_source": {k: {"p50_ms": percentile(v, 0.5), "p99_ms": percentile(v, 0.99), "n": len(v)}
                              for k, v in by_source.items()},
            "e2e_backlog_after_drop": {"n": len(backlog), "p50_ms": percentile(backlog, 0.5)},
            "e2e_slowest": [{"ms": round(ms, 1), "kind": kind, "candidate_id": cid}
                            for ms, kind, cid in sorted(each, reverse=True)[:5]]}


def delivery(found: dict[str, Detected], deliveries: Counter[str]) -> dict[str, Any]:
    """Each incident's OPENED item reaches its room's proctor once; and no event is raised as two incidents
    (same candidate, kind and start: what a detector replaying its input after a crash must not do)."""
    lost = sorted(iid for iid in found if deliveries.get(iid, 0) == 0)
    same_event = Counter((d.candidate_id, d.kind, d.start) for d in found.values())
    return {"incidents_on_kafka": len(found), "incidents_delivered": sum(1 for i in found if deliveries.get(i)),
            "incidents_lost": len(lost), "incidents_lost_ids": lost[:20],
            "incidents_duplicated": sum(n - 1 for n in deliveries.values() if n > 1),
            "incidents_raised_twice": sum(n - 1 for n in same_event.values() if n > 1)}


def object_bytes(uri: str) -> bytes | None:
    parsed = urlparse(uri)
    if parsed.scheme != "file":
        return None
    path = Path(unquote(parsed.path))
    return path.read_bytes() if path.exists() else None


def media_loss(acked: list[tuple[str, dict[int, Any], dict[int, Any]]]) -> dict[str, Any]:
    """``acked``: (stream id, {index: client Segment acknowledged}, {index: ManifestSegment}). A byte is lost
    when an acknowledged segment is missing from the manifest or from storage, or its stored bytes'
    SHA-256 is not the client's."""
    lost, checked, segments = 0, 0, 0
    problems: list[str] = []
    for stream_id, client, manifest in acked:
        for index, seg in client.items():
            segments += 1
            checked += len(seg.data)
            entry = manifest.get(index)
            stored = object_bytes(entry.object_uri) if entry is not None else None
            if entry is None or stored is None or hashlib.sha256(stored).digest() != seg.sha256 \
                    or entry.sha256 != seg.sha256:
                lost += len(seg.data)
                problems.append(f"{stream_id}:{index}")
    return {"media_bytes_acknowledged": checked, "media_segments_acknowledged": segments,
            "media_bytes_lost": lost, "media_lost_segments": problems[:20]}


def stills_flow(streams: list[dict[str, Any]]) -> dict[str, dict[str, int]]:
    """Live analysis stills per stream kind, summed over the candidates (``streams``: each candidate's
    stream name -> recorder): captured by the clients, sent (in calls the server answered), accepted (as
    the server counted them), and never sent. Kinds that sent none are left out."""
    out: dict[str, dict[str, int]] = {}
    for by_name in streams:
        for name, rec in by_name.items():
            sender = getattr(rec, "stills", None)
            if sender is None:
                continue
            total = out.setdefault(name, {"streams": 0, "captured": 0, "sent": 0, "accepted": 0, "unsent": 0})
            total["streams"] += 1
            for key, n in sender.counts().items():
                total[key] += n
    return dict(sorted(out.items()))


def overlap_s(a0: datetime, a1: datetime, b0: datetime, b1: datetime) -> float:
    """Seconds that ``a0..a1`` and ``b0..b1`` share."""
    return max(0.0, (min(a1, b1) - max(a0, b0)).total_seconds())


def cpu_projection(total: dict[str, float], steady: dict[str, float], steady_hours: float, hours: float,
                   candidates: int, exam_hours: float) -> dict[str, Any]:
    """CPU per candidate-hour of a real (uncompressed) exam, from a compressed sitting.

    A compressed sitting records its footage in real time (stills, segments, heartbeats: the costs that
    grow with recording time) but squeezes what each candidate does once (face login and liveness, phone
    binding, the room scan, enrolment, the final upload and stitching) into ``1/speed`` of the time:
    dividing all the CPU by the compressed recording time counts each one-off cost ``speed`` times over.
    So, per process: ``steady`` is the CPU measured during a window of the exam in which only the running
    costs occur, over the candidate-hours recorded in it (``steady_hours``); the rest of the sitting's CPU
    (``total``, over ``hours`` recorded), less the running cost of the recording outside the window, is the
    one-off cost, shared by ``candidates``. A real exam of ``exam_hours`` costs, per candidate-hour,
    ``steady + one_off / exam_hours``. The plain quotient (everything over the compressed hours) is kept as
    ``compressed``."""
    compressed = {k: v / hours if hours else 0.0 for k, v in total.items()}
    measured = bool(steady_hours and candidates and exam_hours)
    if not measured:  # no window measured (a sitting cut short): the plain quotient stands
        rate, one_off, projected = compressed, {k: 0.0 for k in total}, compressed
    else:
        rate = {k: steady.get(k, 0.0) / steady_hours for k in total}
        one_off = {k: (v - rate[k] * hours) / candidates for k, v in total.items()}
        projected = {k: rate[k] + one_off[k] / exam_hours for k in total}
    return {
        "cpu_seconds_per_candidate_hour": round(sum(projected.values()), 1),
        "by_process": {k: round(v, 1) for k, v in projected.items()},
        "projected": measured,
        "steady_per_candidate_hour": round(sum(rate.values()), 1),
        "steady_by_process": {k: round(v, 1) for k, v in rate.items()},
        "one_off_per_candidate": round(sum(one_off.values()), 2),
        "one_off_by_process": {k: round(v, 2) for k, v in one_off.items()},
        "steady_candidate_hours": round(steady_hours, 4),
        "exam_hours": exam_hours,
        "compressed": round(sum(compressed.values()), 1) if hours else None,
        "compressed_by_process": {k: round(v, 1) for k, v in compressed.items()},
    }


def tree_bytes(root: Path) -> int:
    return sum(f.stat().st_size for f in root.rglob("*") if f.is_file()) if root.exists() else 0


def summary_text(r: dict[str, Any]) -> str:
    acc, lat = r["accuracy"], r["latency"]
    lines = [
        f"simulated sitting {r['sitting_id']}: {r['candidates']} candidates ({r['cheaters']} cheaters), "
        f"speed {r['speed']}× ({r['exam_minutes']} min exam in {r['exam_wall_s']:.0f} s), "
        f"{r['candidate_hours']:.2f} candidate-hours recorded, wall {r['wall_s']:.0f} s",
        f"face login: {r['logins']}",
        f"incident_recall {acc['incident_recall']}  incident_precision {acc['incident_precision']}  "
        f"({acc['injected_detected']}/{acc['injected']} injected found; {acc['incidents_true']} true, "
        f"{acc['incidents_false']} false incidents, {acc['incidents_false_during_injected']} of them of another kind "
        f"during an injected anomaly: precision counting those {acc['incident_precision_any_kind']})",
        f"false_alarms_per_honest_hour {acc['false_alarms_per_honest_hour']}",
    ]
    for kind, k in sorted(acc["per_kind"].items()):
        lines.append(f"  {kind:<22} injected {k['injected']:>3}  found {k['detected']:>3}  recall {k['recall']}  "
                     f"incidents true {k['true_incidents']} false {k['false_incidents']}")
    lines += [
        f"e2e_p50_ms {lat['e2e_p50_ms']}  e2e_p99_ms {lat['e2e_p99_ms']}  (n={lat['e2e_measured']}; "
        f"capture -> proctor console; after-drop backlog reported apart: {lat['e2e_backlog_after_drop']})",
        f"cpu_seconds_per_candidate_hour {r['cpu_seconds_per_candidate_hour']} "
        f"(a real {r['exam_minutes']:.0f}-min exam: "
        f"{r['cpu']['steady_per_candidate_hour']} running + {r['cpu']['one_off_per_candidate']} once per candidate; "
        f"{r['cpu']['compressed']} if the compressed sitting's one-off work is counted per compressed hour)  "
        f"per process {r['cpu_seconds_per_candidate_hour_by_process']}",
        f"bytes_stored_per_candidate_hour {r['bytes_stored_per_candidate_hour']}",
        f"media_bytes_lost {r['media_bytes_lost']} (of {r['media_bytes_acknowledged']} acknowledged)  "
        f"incidents_lost {r['incidents_lost']}  incidents_duplicated {r['incidents_duplicated']}  "
        f"answers_lost {r['answers_lost']} (of {r['answers_acknowledged']} acknowledged)",
        "stills (live analysis): " + ("; ".join(
            f"{kind} {n['sent']} sent, {n['accepted']} accepted (of {n['captured']} captured)"
            for kind, n in r.get("stills", {}).items()) or "none (the server asked for none)"),
        f"final states: {r['states']}; the pipeline caught up {r['caught_up_s_after_end']} s after the end; "
        f"load average {r['load_average']}",
        f"proctor console: {r['console_url']} (live while the sitting runs; the chief proctor token is logged "
        "with --verbose)",
    ]
    if r.get("faults"):
        from proctor_cli.simulate.faults import summary_lines

        lines += summary_lines(r["faults"])
    return "\n".join(lines)
