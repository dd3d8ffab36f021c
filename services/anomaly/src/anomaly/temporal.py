"""Temporal logic: one small state machine per candidate and signal (incident kind), so that one bad
frame is never an incident.

    IDLE --abnormal--> PENDING --lasted open_after, >= min_samples frames--> OPEN (OPENED)
    PENDING --normal--> IDLE                          OPEN --normal--> CLEARING
    CLEARING --abnormal--> OPEN (same incident)       CLEARING --normal for close_after--> IDLE (CLOSED)

Durations are measured on media (capture) times only; a run of frames is credited with half the gap
to the sample before it (the change happened somewhere in between), and a gap longer than
``max_sample_gap_s`` breaks a run: a pending signal restarts, an open incident is closed at its last
sample if nothing was seen for ``max_open_gap_s``. Telemetry signals are *latched*: a reported state
holds until the next report (``tick`` opens a focus loss once it lasted long enough); point facts
(screenshot, VM, remote desktop, process) stay open while reports keep coming within ``hold``.

An incident's id is ``"inc-" + sha256(sitting|candidate|attempt|kind|detector|start)[:24]`` with
``start`` the capture time of its first abnormal frame: reprocessing the same media gives the same
ids and revisions. OPENED is revision 1; UPDATED (severity changed, or a clearly worse frame and at
most one per ``update_interval_s``) and CLOSED add one each. The worst frame is the evidence (JPEG
encoded with OpenCV when a change is emitted).

``SignalState`` snapshot: ``since`` is the pending run's start while PENDING and the incident's
start while OPEN or CLEARING (restored CLEARING resumes as OPEN: the clearing restarts on the next
normal frame).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import cv2
import numpy as np

from anomaly.model import Evidence, Frame, IncidentChange
from anomaly.rules import TEXT, DetectorSettings, Rule, rules
from proctor.common.v1 import common_pb2 as c
from proctor.events.v1 import anomaly_pb2, incident_pb2
from proctor_runtime.events import from_ts, ts

__all__ = ["CLEARING", "IDLE", "OPEN", "PENDING", "DetectorSettings", "Machine", "Owner", "Rule", "Sample",
           "encode_jpeg", "incident_id", "rules"]

IDLE, PENDING, OPEN, CLEARING = (anomaly_pb2.SIGNAL_PHASE_IDLE, anomaly_pb2.SIGNAL_PHASE_PENDING,
                                 anomaly_pb2.SIGNAL_PHASE_OPEN, anomaly_pb2.SIGNAL_PHASE_CLEARING)


@dataclass(frozen=True)
class Owner:
    sitting_id: str
    candidate_id: str
    attempt: int


def incident_id(owner: Owner, kind: int, detector: str, start: datetime) -> str:
    key = "|".join([owner.sitting_id, owner.candidate_id, str(owner.attempt), c.IncidentKind.Name(kind), detector,
                    start.astimezone(UTC).isoformat(timespec="microseconds")])
    return "inc-" + hashlib.sha256(key.encode()).hexdigest()[:24]


def encode_jpeg(image: np.ndarray, max_width: int, quality: int) -> bytes:
    h, w = image.shape[:2]
    if w > max_width:
        image = cv2.resize(image, (max_width, max(1, round(h * max_width / w))), interpolation=cv2.INTER_AREA)
    ok, buf = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, quality])
    return buf.tobytes() if ok else b""


@dataclass
class Sample:
    """One observation of a signal at a media time (a frame, an identity result, a telemetry fact)."""

    at: datetime
    abnormal: bool | None
    score: float = 0.0
    confidence: float = 0.0
    note: str = ""
    attributes: dict[str, str] = field(default_factory=dict)
    frame: Frame | None = None


@dataclass
class _Peak:
    score: float
    at: datetime
    note: str = ""
    frame: Frame | None = None
    jpeg: bytes | None = None


def _secs(d: timedelta) -> float:
    return d.total_seconds()


class Machine:
    """The state machine of one signal of one candidate (see the module doc)."""

    def __init__(self, rule: Rule, owner: Owner, settings: DetectorSettings) -> None:
        self.rule, self.owner, self.settings = rule, owner, settings
        self.phase = IDLE
        self.since: datetime | None = None
        self.last_at: datetime | None = None  # last informative sample
        self.last_abnormal_at: datetime | None = None
        self.run_start: datetime | None = None
        self.run_count = 0
        self.run_lead = 0.0
        self.clear_start: datetime | None = None
        self.clear_count = 0
        self.clear_lead = 0.0
        self._reset_incident()

    def _reset_incident(self) -> None:
        self.incident_id = ""
        self.revision = 0
        self.start: datetime | None = None
        self.severity = self.rule.severity
        self.conf_sum, self.conf_n = 0.0, 0
        self.peak: _Peak | None = None
        self.reported_peak = 0.0
        self.last_update_at: datetime | None = None
        self.attributes: dict[str, str] = {}
        self.details: list[str] = []
        self._reported_details = 0
        self.reports = 0

    @property
    def active(self) -> bool:
        """Pending or open: the signal's value hysteresis applies."""
        return self.phase in (PENDING, OPEN, CLEARING)

    @property
    def is_open(self) -> bool:
        return self.phase in (OPEN, CLEARING)

    # ------------------------------------------------------------------ inputs

    def observe(self, s: Sample) -> list[IncidentChange]:
        """Feed one sample. Samples not newer than the last informative one are ignored (the caller
        routes late frames elsewhere); an unknown sample (abnormal None) changes nothing."""
        if s.abnormal is None or (self.last_at is not None and s.at <= self.last_at):
            return []
        out = self.tick(s.at) if self.rule.latched else []
        gap = s.at - self.last_at if self.last_at is not None else None
        if gap is not None and self.rule.open_gap is not None and gap > self.rule.open_gap and self.is_open:
            out += self._close(self.clear_start or self.last_abnormal_at or self.last_at, self.last_at)
        broken = gap is None or (self.rule.max_gap is not None and gap > self.rule.max_gap)
        lead = 0.0 if broken or self.rule.latched or gap is None else _secs(gap) / 2
        out += self._abnormal(s, broken, lead) if s.abnormal else self._normal(s, broken, lead)
        self.last_at = s.at
        return out

    def _abnormal(self, s: Sample, broken: bool, lead: float) -> list[IncidentChange]:
        self.last_abnormal_at = s.at
        if self.phase == IDLE or (self.phase == PENDING and broken):
            self._reset_incident()
            self.phase, self.since = PENDING, s.at
            self.run_start, self.run_count, self.run_lead = s.at, 0, lead
        elif self.phase == CLEARING:
            self.phase, self.clear_start, self.clear_count = OPEN, None, 0
        if self.phase == PENDING:
            self.run_count += 1
        self._absorb(s)
        if self.phase == PENDING and self._ready(s.at):
            return self._open(s.at)
        if self.phase == OPEN:
            return self._maybe_update(s.at)
        return []

    def _normal(self, s: Sample, broken: bool, lead: float) -> list[IncidentChange]:
        if self.phase == PENDING:
            if self.rule.latched and self._ready(s.at):  # the reported state held until this report
                return self._open(s.at) + self._close(s.at, s.at)
            self.phase, self.since = IDLE, s.at
            return []
        if self.phase == OPEN:
            self.phase, self.clear_start, self.clear_count, self.clear_lead = CLEARING, s.at, 0, lead
        if self.phase == CLEARING:
            self.clear_count += 1
            assert self.clear_start is not None
            lasted = _secs(s.at - self.clear_start) + self.clear_lead
            if self.clear_count >= self.rule.close_samples and lasted >= _secs(self.rule.close_after):
                return self._close(self.clear_start, s.at)
        return []

    def tick(self, now: datetime) -> list[IncidentChange]:
        """Let media time pass without a new sample: a latched pending state that lasted long enough
        opens; a point fact not repeated within ``hold`` closes; an open incident may escalate."""
        if not self.rule.latched or self.last_at is None or now <= self.last_at:
            return []
        out: list[IncidentChange] = []
        if self.phase == PENDING and self._ready(now):
            out += self._open(now)
        if self.phase == OPEN and self.rule.hold is not None and self.last_abnormal_at is not None \
                and now - self.last_abnormal_at >= self.rule.hold:
            out += self._close(self.last_abnormal_at, now)
        elif self.phase == OPEN:
            out += self._maybe_update(now)
        return out

    def close(self, at: datetime) -> list[IncidentChange]:
        """The exam is over (or this run of frames ended): close an open incident at ``at`` (not before
        its start; a clearing incident ends where it cleared), forget a pending one."""
        if self.is_open:
            assert self.start is not None
            if self.phase == CLEARING and self.clear_start is not None:
                end = self.clear_start
            elif self.rule.hold is not None and self.last_abnormal_at is not None:
                end = min(max(at, self.start), self.last_abnormal_at)
            else:
                end = max(at, self.start)
            return self._close(end, max(at, self.start))
        if self.phase == PENDING:
            self.phase, self.since = IDLE, at
        return []

    # ------------------------------------------------------------------ bookkeeping

    def _ready(self, now: datetime) -> bool:
        assert self.run_start is not None
        lasted = _secs(now - self.run_start) + self.run_lead
        return self.run_count >= self.rule.open_samples and lasted >= _secs(self.rule.open_after)

    def _absorb(self, s: Sample) -> None:
        self.conf_sum += s.confidence
        self.conf_n += 1
        self.reports += 1
        self.attributes.update(s.attributes)
        detail = s.attributes.get("detail")
        if detail and detail not in self.details:
            self.details.append(detail)
        if self.peak is None or s.score > self.peak.score + 1e-9 or (self.peak.frame is None and s.frame is not None):
            self.peak = _Peak(s.score, s.at, s.note, s.frame)

    @property
    def confidence(self) -> float:
        return round(min(1.0, max(0.0, self.conf_sum / self.conf_n)), 3) if self.conf_n else 0.0

    def _open(self, at: datetime) -> list[IncidentChange]:
        assert self.run_start is not None
        self.phase, self.start, self.since = OPEN, self.run_start, self.run_start
        self.incident_id = incident_id(self.owner, self.rule.kind, self.rule.detector, self.run_start)
        self.revision = 1
        self.last_update_at = at
        self.reported_peak = self.peak.score if self.peak else 0.0
        self._reported_details = len(self.details)
        self.severity = self._severity(at)
        return [self._change(incident_pb2.INCIDENT_CHANGE_OPENED, at, None)]

    def _severity(self, at: datetime) -> int:
        assert self.start is not None
        esc = self.rule.escalate_after
        if esc is not None and at - self.start >= esc:
            return min(self.rule.severity + 1, c.SEVERITY_CRITICAL)
        return self.rule.severity

    def _maybe_update(self, at: datetime) -> list[IncidentChange]:
        severity = self._severity(at)
        worse = self.peak is not None and self.peak.score >= self.reported_peak + self.settings.min_peak_gain
        new_detail = len(self.details) > self._reported_details
        due = self.last_update_at is None or _secs(at - self.last_update_at) >= self.settings.update_interval_s
        if severity == self.severity and not ((worse or new_detail) and due):
            return []
        self.severity = severity
        self.revision += 1
        self.last_update_at = at
        self.reported_peak = self.peak.score if self.peak else self.reported_peak
        self._reported_details = len(self.details)
        return [self._change(incident_pb2.INCIDENT_CHANGE_UPDATED, at, None)]

    def _close(self, end: datetime | None, at: datetime | None) -> list[IncidentChange]:
        if not self.is_open or self.start is None:
            return []
        end = max(end or self.start, self.start)
        at = max(at or end, end)
        self.revision += 1
        change = self._change(incident_pb2.INCIDENT_CHANGE_CLOSED, at, end)
        self.phase, self.since = IDLE, end
        self.run_start, self.clear_start = None, None
        self._reset_incident()
        return [change]

    def _evidence(self) -> list[Evidence]:
        p = self.peak
        if p is None or p.frame is None:
            return []
        if p.jpeg is None:
            p.jpeg = encode_jpeg(p.frame.image, self.settings.evidence_max_width, self.settings.jpeg_quality)
        f = p.frame
        return [Evidence(stream_kind=f.stream_kind, segment_id=f.segment_id, captured_at=f.captured_at,
                         stream_offset=f.stream_offset, jpeg=p.jpeg, note=p.note)]

    def _change(self, kind: int, at: datetime, end: datetime | None) -> IncidentChange:
        assert self.start is not None
        attrs = dict(self.attributes)
        attrs.pop("detail", None)
        if self.details:
            attrs["detail"] = ", ".join(self.details[:10])
        attrs["frames" if self.rule.open_samples > 1 else "reports"] = str(self.reports)
        if end is not None:
            attrs["duration_s"] = f"{_secs(end - self.start):.1f}"
        en, zh = self.summary(attrs, end)
        return IncidentChange(
            change=kind, incident_id=self.incident_id, revision=self.revision, kind=self.rule.kind,
            severity=self.severity, confidence=self.confidence, start=self.start, end=end, detected_at=at,
            detector=self.rule.detector, summary_en=en, summary_zh=zh, evidence=self._evidence(), attributes=attrs)

    def summary(self, attrs: dict[str, str], end: datetime | None) -> tuple[str, str]:
        en, zh = TEXT.get(self.rule.kind, ("Incident", "异常"))
        values = {"face_count": attrs.get("face_count", "2"), "displays": attrs.get("displays", "2")}
        en, zh = en.format(**values), zh.format(**values)
        if self.details:
            en, zh = f"{en}: {', '.join(self.details[:3])}", f"{zh}：{'、'.join(self.details[:3])}"
        if end is not None and self.start is not None:
            secs = round(_secs(end - self.start))
            en, zh = f"{en} ({secs} s)", f"{zh}（{secs} 秒）"
        return en, zh

    # ------------------------------------------------------------------ snapshot

    def to_proto(self) -> anomaly_pb2.SignalState:
        out = anomaly_pb2.SignalState(open_incident_id=self.incident_id, incident_revision=self.revision)
        out.kind, out.phase = self.rule.kind, self.phase  # type: ignore[assignment]
        since = self.start if self.is_open else self.run_start if self.phase == PENDING else self.since
        if since is not None:
            out.since.CopyFrom(ts(since))
        if self.peak is not None:
            out.peak_score = self.peak.score
            out.peak_at.CopyFrom(ts(self.peak.at))
        return out

    def restore(self, state: anomaly_pb2.SignalState, last_at: datetime | None) -> None:
        """Continue from a snapshot: an open incident keeps its id, revision and start; its evidence
        frame is gone (the next abnormal frame becomes the evidence); confidence restarts from the
        peak score."""
        since = from_ts(state.since) if state.HasField("since") else None
        phase = state.phase if state.phase in (IDLE, PENDING, OPEN, CLEARING) else IDLE
        self._reset_incident()
        self.last_at = last_at
        if phase in (OPEN, CLEARING) and state.open_incident_id and since is not None:
            self.phase, self.start, self.since, self.run_start = OPEN, since, since, since
            self.incident_id, self.revision = state.open_incident_id, int(state.incident_revision)
            peak_at = from_ts(state.peak_at) if state.HasField("peak_at") else since
            self.peak = _Peak(float(state.peak_score), peak_at)
            self.reported_peak = float(state.peak_score)
            self.conf_sum, self.conf_n = float(state.peak_score), 1
            self.last_abnormal_at = max(peak_at, since)
            self.last_update_at = last_at
            self.severity = self._severity(last_at or since)
            self.last_at = max(filter(None, (last_at, self.last_abnormal_at)))
        elif phase == PENDING and since is not None:
            self.phase, self.since, self.run_start, self.run_count, self.run_lead = PENDING, since, since, 1, 0.0
            self.last_abnormal_at = since
            self.last_at = max(filter(None, (last_at, since)))
        else:
            self.phase, self.since = IDLE, since
