"""Per-stream lanes of a candidate tracker: the signal machines, change gate and identity schedule
of one time-ordered run of frames, and the coverage of media time already seen (duplicates vs late
frames; see ``anomaly.tracker``)."""

from __future__ import annotations

from datetime import datetime, timedelta

import numpy as np

from anomaly.model import IncidentChange
from anomaly.rules import DetectorSettings, Rule
from anomaly.signals import FaceSignals, SceneReference
from anomaly.temporal import Machine, Owner
from proctor.common.v1 import common_pb2 as c

DESKTOP, PHONE = c.STREAM_KIND_DESKTOP_CAMERA, c.STREAM_KIND_PHONE_EVIDENCE
DESKTOP_KINDS = (c.INCIDENT_KIND_NO_FACE, c.INCIDENT_KIND_MULTIPLE_FACES, c.INCIDENT_KIND_FACE_MASKED,
                 c.INCIDENT_KIND_FACE_OCCLUDED, c.INCIDENT_KIND_CAMERA_COVERED, c.INCIDENT_KIND_TOO_DARK,
                 c.INCIDENT_KIND_GAZE_AWAY)
PHONE_KINDS = (c.INCIDENT_KIND_PHONE_CANDIDATE_NOT_VISIBLE, c.INCIDENT_KIND_PHONE_CAMERA_MOVED,
               c.INCIDENT_KIND_PHONE_CAMERA_COVERED)
# the change gate's memory: time, shape, thumbnail, eye band and face facts of the last analysed frame
GateState = tuple[datetime | None, tuple[int, ...], np.ndarray | None, np.ndarray | None, FaceSignals | None]


class Coverage:
    """The spans of media time already fed to a stream's lanes (merged when closer than ``join``)."""

    def __init__(self, join: timedelta, tolerance: timedelta, limit: int = 512) -> None:
        self.join, self.tolerance, self.limit = join, tolerance, limit
        self.spans: list[list[datetime]] = []
        self.floor: datetime | None = None  # everything up to here counts as covered (restored state)

    def covers(self, t: datetime) -> bool:
        if self.floor is not None and t <= self.floor + self.tolerance:
            return True
        return any(a - self.tolerance <= t <= b + self.tolerance for a, b in self.spans)

    def covered_soon_after(self, t: datetime, horizon: timedelta) -> bool:
        return any(t < a <= t + horizon for a, _ in self.spans)

    def add(self, t: datetime) -> None:
        for span in self.spans:
            if span[0] - self.join <= t <= span[1] + self.join:
                span[0], span[1] = min(span[0], t), max(span[1], t)
                break
        else:
            self.spans.append([t, t])
        self.spans.sort()
        merged: list[list[datetime]] = []
        for span in self.spans:
            if merged and span[0] - merged[-1][1] <= self.join:
                merged[-1][1] = max(merged[-1][1], span[1])
            else:
                merged.append(span)
        self.spans = merged
        while len(self.spans) > self.limit:
            oldest = self.spans.pop(0)
            self.floor = max(self.floor or oldest[1], oldest[1])


class Lane:
    """One stream's machines over one time-ordered run of frames (the live run, or a late one)."""

    def __init__(self, stream_kind: int, table: dict[int, Rule], owner: Owner, settings: DetectorSettings,
                 late: bool = False) -> None:
        self.stream_kind, self.late = stream_kind, late
        kinds = DESKTOP_KINDS if stream_kind == DESKTOP else PHONE_KINDS
        self.machines: dict[int, Machine] = {k: Machine(table[k], owner, settings) for k in kinds}
        self.identity = Machine(table[c.INCIDENT_KIND_IDENTITY_MISMATCH], owner, settings)
        self.last_t: datetime | None = None
        # adaptive sampling: the last frame was normal for every signal and nothing is pending or open;
        # the frames declined since the last one
        self.calm = False
        self.declined: list[datetime] = []
        # change gate: the last analysed frame
        self.gate_t: datetime | None = None
        self.gate_shape: tuple[int, ...] = ()
        self.gate_thumb: np.ndarray | None = None
        self.gate_face: np.ndarray | None = None
        self.gate_faces: FaceSignals | None = None
        # identity schedule and face track
        self.last_check: datetime | None = None
        self.confirm_due: datetime | None = None
        self.no_face_since: datetime | None = None
        self.track_box: tuple[int, int, int, int] | None = None
        self.track_lost = False
        # phone scene
        self.scene = SceneReference(settings.phone_reference_frames)

    def gate_state(self) -> GateState:
        return self.gate_t, self.gate_shape, self.gate_thumb, self.gate_face, self.gate_faces

    def restore_gate(self, state: GateState) -> None:
        self.gate_t, self.gate_shape, self.gate_thumb, self.gate_face, self.gate_faces = state

    def all_machines(self) -> list[Machine]:
        return [*self.machines.values(), self.identity] if self.stream_kind == DESKTOP else list(self.machines.values())

    def close_all(self, at: datetime) -> list[IncidentChange]:
        return [ch for m in self.all_machines() for ch in m.close(at)]
