"""``proctor eval video``: the whole per-candidate pipeline (sampling, frame signals, temporal logic,
identity checks) over the ``video`` rows of a manifest in the format of ``shared/testdata/faces``.

Each clip plays one candidate's desktop camera. Identity is checked locally with
``proctor_faces.enrol``/``verify`` (standing in for auth-face's ReVerify): the template is enrolled
from the clip's first sampled frame that passes the enrolment gates; a request's face is cropped
with auth-face's padding (30% per side) before verification.

Acceptance (issue 6): ``pai_center_left_center`` raises GAZE_AWAY during its away segment
(6.5-9.5 s, the span in which the irises are off-centre in every frame, as measured by
``libs/proctor-faces/tests/test_gaze.py``), ``pai_center_focus`` raises nothing, and no talking-head
clip (``lp_*``, ``fr_short_hamilton_clip``) raises an identity or face-count incident.
"""

from __future__ import annotations

import csv
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np

from anomaly.model import Frame, IdentityRequest, IdentityResult, IncidentChange
from anomaly.sampling import SamplingStats, keyframe_interval, sample_frames
from anomaly.temporal import DetectorSettings
from anomaly.tracker import DESKTOP, CandidateTracker
from proctor.auth.v1 import auth_face_pb2 as apb
from proctor.common.v1 import common_pb2 as c
from proctor.events.v1 import incident_pb2
from proctor_faces import Decision, ModelPack, enrol, verify

EPOCH = datetime(2026, 1, 1, tzinfo=UTC)
CROP_PAD = 0.3  # auth-face's ReVerify gets the face padded by 30% per side (anomaly.identity)
AWAY_SEGMENTS = {"pai_center_left_center": (6.5, 9.5)}
QUIET_CLIPS = ("pai_center_focus",)
TALKING_HEADS = ("lp_", "fr_short_hamilton_clip")
IDENTITY_OR_COUNT = ("IDENTITY_MISMATCH", "NO_FACE", "MULTIPLE_FACES")
_DECISION = {Decision.MATCH: apb.MATCH_DECISION_MATCH, Decision.MISMATCH: apb.MATCH_DECISION_MISMATCH,
             Decision.INCONCLUSIVE: apb.MATCH_DECISION_INCONCLUSIVE}


@dataclass
class LocalIdentity:
    """Enrol from the first good frame, then verify requests against it."""

    pack: ModelPack
    template: np.ndarray | None = None
    tag: str = ""
    enrolled_at: float | None = None
    checks: list[dict[str, Any]] = field(default_factory=list)

    def maybe_enrol(self, image: np.ndarray, offset: float) -> None:
        if self.template is not None:
            return
        e = enrol(image, self.pack)
        if e.accepted and e.embedding is not None:
            self.template, self.tag, self.enrolled_at = e.embedding, e.template_tag, offset

    def check(self, req: IdentityRequest) -> IdentityResult | None:
        if self.template is None:
            return None
        image = req.frame.image
        x, y, w, h = req.face_box
        px, py = int(w * CROP_PAD), int(h * CROP_PAD)
        crop = image[max(0, y - py):min(image.shape[0], y + h + py), max(0, x - px):min(image.shape[1], x + w + px)]
        v = verify(np.ascontiguousarray(crop), self.template, self.pack, template_tag=self.tag)
        distance = None if v.distance is None else round(v.distance, 3)
        self.checks.append({"at_s": round(_offset(req.frame.captured_at), 2), "reason": req.reason,
                            "decision": str(v.decision), "distance": distance, "reasons": [str(r) for r in v.reasons]})
        return IdentityResult(req, _DECISION[v.decision], v.distance if v.distance is not None else 0.0,
                              v.threshold, v.face_count)


def _offset(t: datetime) -> float:
    return (t - EPOCH).total_seconds()


def incidents(changes: list[IncidentChange]) -> list[dict[str, Any]]:
    """The final state of every incident in the changes (in order of opening)."""
    final: dict[str, IncidentChange] = {}
    order: list[str] = []
    for ch in changes:
        if ch.incident_id not in final:
            order.append(ch.incident_id)
        final[ch.incident_id] = ch
    out = []
    for iid in order:
        ch = final[iid]
        out.append({"kind": c.IncidentKind.Name(ch.kind).removeprefix("INCIDENT_KIND_"),
                    "start_s": round(_offset(ch.start), 2),
                    "end_s": None if ch.end is None else round(_offset(ch.end), 2),
                    "severity": c.Severity.Name(ch.severity).removeprefix("SEVERITY_"),
                    "confidence": ch.confidence, "detector": ch.detector, "incident_id": iid,
                    "revisions": ch.revision,
                    "closed": ch.change == incident_pb2.INCIDENT_CHANGE_CLOSED, "summary": ch.summary_en})
    return out


def run_clip(path: Path, pack: ModelPack, rate: float = 1.0, settings: DetectorSettings | None = None,
             mode: str = "auto") -> dict[str, Any]:
    """One clip as one candidate's desktop camera, from the first to the last sampled frame."""
    # one clip is one candidate: nothing to spread, the first identity check comes at the first usable face
    settings = (settings or DetectorSettings()).model_copy(update={"identity_spread": False})
    tracker = CandidateTracker("eval", path.stem, 1, pack, settings, sample_period=1.0 / rate)
    identity = LocalIdentity(pack)
    stats = SamplingStats()
    cpu: dict[str, float] = {"enrol": 0.0, "tracker": 0.0, "identity": 0.0}
    changes: list[IncidentChange] = []
    started = time.process_time()
    last = EPOCH
    interval = keyframe_interval(path)

    def frames(sampled: SamplingStats | None, want: Callable[[datetime], bool]) -> Iterator[Frame]:
        return sample_frames(path, stream_kind=DESKTOP, segment_id=f"{path.stem}:0", media_start=EPOCH,
                             stream_offset=timedelta(0), keyframe_interval=interval, rate=rate,
                             mode=mode, stats=sampled, want=want)  # type: ignore[arg-type]

    def earlier(after: datetime, before: datetime) -> Iterator[Frame]:  # the frames the calm declined
        return frames(None, lambda t: after < t < before)

    for frame in frames(stats, lambda t: tracker.wants(DESKTOP, t)):
        last = frame.captured_at
        t0 = time.process_time()
        identity.maybe_enrol(frame.image, _offset(frame.captured_at))
        t1 = time.process_time()
        found, request = tracker.on_frame(frame, earlier)
        t2 = time.process_time()
        changes += found
        if request is not None:
            result = identity.check(request)
            if result is not None:
                changes += tracker.on_identity(result)
        cpu["enrol"] += t1 - t0
        cpu["tracker"] += t2 - t1
        cpu["identity"] += time.process_time() - t2
    changes += tracker.close_all(last + timedelta(seconds=1.0 / rate))
    total = time.process_time() - started
    analysed = tracker.frames_analysed
    return {
        "incidents": incidents(changes),
        "sampling_mode": stats.mode, "rotation": stats.rotation,
        "frames_sampled": stats.sampled, "frames_declined": stats.skipped, "frames_decoded": stats.decoded,
        "frames_analysed": analysed,
        "frames_reused": tracker.counters["frames_reused"],
        "frames_backfilled": tracker.counters["frames_backfilled"],
        "calibration": {"complete": tracker.calibration.complete, "samples": tracker.calibration.samples,
                        "neutral_yaw": round(tracker.calibration.neutral_yaw, 1),
                        "neutral_pitch": round(tracker.calibration.neutral_pitch, 1),
                        "iris_x": round(tracker.calibration.gaze_x, 3)},
        "enrolled_at_s": identity.enrolled_at, "identity_checks": identity.checks,
        "cpu_seconds": {"total": round(total, 3), "decode": round(stats.decode_cpu_s, 3),
                        "tracker": round(cpu["tracker"], 3), "enrol": round(cpu["enrol"], 3),
                        "identity": round(cpu["identity"], 3)},
        "ms_per_sampled_frame": {"decode": _ms(stats.decode_cpu_s, stats.sampled),
                                 "tracker": _ms(cpu["tracker"], stats.sampled)},
        "ms_per_analysed_frame": _ms(cpu["tracker"], analysed),
    }


def _ms(seconds: float, n: int) -> float | None:
    return round(1000 * seconds / n, 2) if n else None


def acceptance(clips: dict[str, dict[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name, (a, b) in AWAY_SEGMENTS.items():
        if name in clips:
            hits = [i for i in clips[name]["incidents"] if i["kind"] == "GAZE_AWAY"
                    and i["start_s"] <= b and (i["end_s"] is None or i["end_s"] >= a)]
            out[f"{name}_gaze_away"] = bool(hits)
    for name in QUIET_CLIPS:
        if name in clips:
            out[f"{name}_no_incident"] = not clips[name]["incidents"]
    heads = {n: [i["kind"] for i in r["incidents"] if i["kind"] in IDENTITY_OR_COUNT]
             for n, r in clips.items() if n.startswith(TALKING_HEADS)}
    if heads:
        out["talking_heads_no_identity_or_face_count"] = not any(heads.values())
        out["talking_heads_offending"] = {n: k for n, k in heads.items() if k}
    return out


def eval_video(manifest: Path, root: Path, pack: ModelPack, rate: float = 1.0,
               settings: DetectorSettings | None = None, mode: str = "auto") -> dict[str, Any]:
    with manifest.open(newline="", encoding="utf-8") as fh:
        rows = [r for r in csv.DictReader(fh) if r.get("category") == "video"]
    clips = {Path(r["file"]).stem: run_clip(root / r["file"], pack, rate, settings, mode) for r in rows}
    sampled = sum(r["frames_sampled"] for r in clips.values())
    declined = sum(r["frames_declined"] for r in clips.values())
    analysed = sum(r["frames_analysed"] for r in clips.values())
    decode = sum(r["cpu_seconds"]["decode"] for r in clips.values())
    tracker = sum(r["cpu_seconds"]["tracker"] for r in clips.values())
    return {
        "pack": pack.template_tag(), "rate": rate, "mode": mode, "clips": clips,
        "checks": acceptance(clips),
        "totals": {"clips": len(clips), "frames_sampled": sampled, "frames_declined": declined,
                   "frames_analysed": analysed,
                   "incidents": sum(len(r["incidents"]) for r in clips.values()),
                   "cpu_seconds": round(sum(r["cpu_seconds"]["total"] for r in clips.values()), 3),
                   "decode_ms_per_sampled_frame": _ms(decode, sampled),
                   "tracker_ms_per_sampled_frame": _ms(tracker, sampled),
                   "tracker_ms_per_analysed_frame": _ms(tracker, analysed)},
        "settings": (settings or DetectorSettings()).model_dump(),
    }
