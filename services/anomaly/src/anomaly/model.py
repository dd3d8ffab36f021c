"""The values that flow between the anomaly service (Kafka, storage, auth-face) and its per-candidate
tracker (sampling, frame signals, temporal logic). The tracker is pure with respect to I/O: it takes
frames, telemetry samples and identity-check results with their media times, and returns incident
changes; the service publishes them, uploads evidence and calls auth-face.

Times are capture (wall-clock) times of the media, never the processing time: reprocessing the same
input gives the same incidents, the same ids and the same revisions.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

import numpy as np


@dataclass(frozen=True)
class Frame:
    """One sampled video frame of a stored segment."""

    stream_kind: int           # proctor.common.v1.StreamKind
    captured_at: datetime      # capture (wall-clock) time of this frame
    stream_offset: timedelta   # offset into the stitched per-stream review recording
    segment_id: str            # MediaSegmentStored.segment_id
    image: np.ndarray          # BGR, HxWx3 uint8
    keyframe: bool = True


@dataclass(frozen=True)
class Evidence:
    """The worst moment of an incident: where to look in the recording, and what it looked like."""

    stream_kind: int
    segment_id: str
    captured_at: datetime
    stream_offset: timedelta
    jpeg: bytes = b""          # the frame at that moment (the service stores it, the event carries a URI)
    note: str = ""             # e.g. "2 faces, second at left edge"


@dataclass
class IncidentChange:
    """An incident opened, updated or closed (proctor.events.v1.IncidentEvent minus the envelope)."""

    change: int                # proctor.events.v1.IncidentChange
    incident_id: str           # deterministic: (sitting, candidate, attempt, kind, detector, start)
    revision: int              # 1 for OPENED, +1 per change
    kind: int                  # proctor.common.v1.IncidentKind
    severity: int              # proctor.common.v1.Severity
    confidence: float          # 0..1
    start: datetime
    end: datetime | None
    detected_at: datetime      # media time when the tracker decided
    detector: str              # e.g. "face_count@1"
    summary_en: str
    summary_zh: str
    evidence: list[Evidence] = field(default_factory=list)
    attributes: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class IdentityRequest:
    """The tracker wants the candidate's identity checked on this frame (every 10-30 s, and when a
    face track was lost and found again). ``face_box`` is (x, y, w, h) of the face to check."""

    frame: Frame
    face_box: tuple[int, int, int, int]
    reason: str                # "PERIODIC" | "TRACK_REACQUIRED"


@dataclass(frozen=True)
class IdentityResult:
    """auth-face's ReVerify answer (or a local verify in the evaluation)."""

    request: IdentityRequest
    decision: int              # proctor.auth.v1.MatchDecision
    distance: float
    threshold: float
    face_count: int


@dataclass(frozen=True)
class TelemetryFact:
    """One client telemetry sample with its time corrected to server time."""

    kind: int                  # proctor.common.v1.TelemetryKind
    at: datetime
    device_kind: int           # proctor.common.v1.DeviceKind
    value: int = 0
    detail: str = ""
    duration: timedelta | None = None
    sequence: int = 0
