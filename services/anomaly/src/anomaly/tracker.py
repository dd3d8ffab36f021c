"""``CandidateTracker``: one candidate's detectors over time, pure with respect to I/O and clock-free
(every time is a media capture time or a telemetry time from the inputs).

Frames: per stream (desktop camera, phone evidence) a *lane* holds the signal machines, the change
gate and the identity schedule. Frames newer than the lane's last frame are analysed and fed in
order. **Out-of-order rule**: a frame at or before the last frame of its stream is

- a *duplicate* when it falls within the stream's coverage (the span of frames already fed, joined
  across gaps up to ``max_sample_gap_s``, widened by ``late_tolerance_s``): a redelivered or
  overlapping segment. Ignored: no analysis, no temporal logic.
- *late* otherwise (a segment recorded offline and uploaded later): it goes to a separate late lane
  with fresh machines, fed in its own order; its incidents are its own (ids from their own start
  frames), closed when the late run reaches covered time, breaks by more than ``max_open_gap_s``,
  or at ``close_all``. A late frame older than the late lane's last frame is dropped. The live
  lanes never see a frame older than their last one: no negative durations, no reopened incidents.

Adaptive sampling (``wants``, asked by the sampler before a frame is decoded): while the live lane is
*calm* (its last frame was normal for every signal, no signal of the lane is pending, open or
clearing, the neutral pose is calibrated and no identity confirmation is due or face track lost) a
frame less than the lane's calm period (``calm_period``: 3 s for the desktop camera, 6 s for the phone,
whose rules are 5-10 s) after the lane's last frame is declined (unless the periodic identity
check falls due on it: it stays every ``identity_interval_s``): not decoded, not analysed, its time
counted as covered. A frame that is abnormal or uncertain for any signal ends the calm: the frames
declined since the last analysed one are decoded again (``earlier``) and fed first, newest first
(the older ones only when the newest is not clearly normal), then the frames after it are all
analysed. ``calm_period`` keeps every run that could open an incident longer than the declined
stretch, so the machines open, update and close the same incidents, with the same ids and times, as
when every frame is analysed (the change gate's reuse and the track-jump trigger of identity checks
aside). Duplicates are declined too; late frames never are.

Change gate: a frame whose 32x24 grey thumbnail and 32x16 eye band (of the last face box) both differ
from the last *analysed* frame by less than ``gate_frame`` / ``gate_face`` grey levels (worst 4x4
block, after removing the global exposure shift) reuses that frame's face facts, for at most
``gate_max_reuse_s``. A covered (uniform) frame is never sent to the face models.

Identity: a request every ``identity_interval_s`` on a frame with a usable face, when the face
track was lost (no face for ``track_lost_s``, or the largest face jumped elsewhere) and found again
(``TRACK_REACQUIRED``), and ``identity_confirm_s`` after a MISMATCH (``CONFIRM``) so that the second
result needed to open IDENTITY_MISMATCH comes soon.
"""

from __future__ import annotations

import logging
import math
import zlib
from collections import Counter, OrderedDict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

import numpy as np

from anomaly.lanes import DESKTOP, DESKTOP_KINDS, PHONE, PHONE_KINDS, Coverage, Lane
from anomaly.model import Frame, IdentityRequest, IdentityResult, IncidentChange, TelemetryFact
from anomaly.signals import (
    Calibration,
    FaceSignals,
    FrameStats,
    Observation,
    analyse_faces,
    change,
    covered,
    detect_faces,
    face_embedding,
    face_thumb,
    frame_stats,
    judge_desktop,
    judge_phone,
    scene_edges,
)
from anomaly.temporal import DetectorSettings, Machine, Owner, Rule, Sample, rules
from proctor.auth.v1 import auth_face_pb2 as apb
from proctor.common.v1 import common_pb2 as c
from proctor.events.v1 import anomaly_pb2
from proctor_faces import ModelPack
from proctor_runtime.events import from_ts, ts

log = logging.getLogger(__name__)

TELEMETRY_KINDS = (c.INCIDENT_KIND_SECOND_MONITOR, c.INCIDENT_KIND_FOCUS_LOST, c.INCIDENT_KIND_SCREENSHOT_ATTEMPT,
                   c.INCIDENT_KIND_VIRTUAL_MACHINE, c.INCIDENT_KIND_REMOTE_DESKTOP, c.INCIDENT_KIND_PROHIBITED_PROCESS)
_POINT_FACTS: dict[int, tuple[int, str]] = {
    c.TELEMETRY_KIND_SCREENSHOT_ATTEMPT: (c.INCIDENT_KIND_SCREENSHOT_ATTEMPT, "screenshot"),
    c.TELEMETRY_KIND_SCREEN_RECORDING_ATTEMPT: (c.INCIDENT_KIND_SCREENSHOT_ATTEMPT, "screen recording"),
    c.TELEMETRY_KIND_VIRTUAL_MACHINE_DETECTED: (c.INCIDENT_KIND_VIRTUAL_MACHINE, ""),
    c.TELEMETRY_KIND_REMOTE_DESKTOP_DETECTED: (c.INCIDENT_KIND_REMOTE_DESKTOP, ""),
    c.TELEMETRY_KIND_PROHIBITED_PROCESS: (c.INCIDENT_KIND_PROHIBITED_PROCESS, ""),
}
_SEEN_TELEMETRY = 4096  # remembered (device, sequence) keys
Backfill = Callable[[datetime, datetime], Iterable[Frame]]  # (after, before) -> declined frames, in order
CALM_SLACK = timedelta(seconds=0.25)  # frame times jitter around the sample grid (29.97 fps keyframes)


class CandidateTracker:
    """See the module doc. Not thread-safe: the service serialises calls per candidate."""

    def __init__(self, sitting_id: str, candidate_id: str, attempt: int, pack: ModelPack,
                 settings: DetectorSettings | None = None, sample_period: float = 1.0) -> None:
        self.owner = Owner(sitting_id, candidate_id, int(attempt))
        self.pack = pack
        self.settings = settings or DetectorSettings()
        self.table = rules(self.settings)
        s = self.settings
        # per lane: the phone's rules are 5-10 s, the desktop's shortest (MULTIPLE_FACES) 2 s
        self.calm_periods = {
            DESKTOP: timedelta(seconds=calm_period(s, self.table, sample_period, DESKTOP_KINDS)),
            PHONE: timedelta(seconds=calm_period(s, self.table, sample_period, PHONE_KINDS,
                                                 s.phone_calm_sample_period_s)),
        }
        self.live: dict[int, Lane] = {k: Lane(k, self.table, self.owner, self.settings)
                                      for k in (DESKTOP, PHONE)}
        self.late: dict[int, Lane] = {}
        join, tolerance = timedelta(seconds=s.max_sample_gap_s), timedelta(seconds=s.late_tolerance_s)
        self.coverage: dict[int, Coverage] = {k: Coverage(join, tolerance) for k in (DESKTOP, PHONE)}
        self.telemetry: dict[int, Machine] = {k: Machine(self.table[k], self.owner, s) for k in TELEMETRY_KINDS}
        self.calibration = Calibration()
        # this candidate's phase of the periodic identity checks (stable: reprocessing checks the same frames)
        period_ms = max(1, round(self.settings.identity_interval_s * 1000))
        self.identity_phase = timedelta(milliseconds=zlib.crc32(f"{sitting_id}/{candidate_id}".encode()) % period_ms
                                        if self.settings.identity_spread else 0)
        self.calibration_started: datetime | None = None
        self.frames_analysed = 0
        self.counters: Counter[str] = Counter()
        self._seen: OrderedDict[tuple[int, int], None] = OrderedDict()
        self._requests: OrderedDict[tuple[str, datetime], Lane] = OrderedDict()
        self._sources: OrderedDict[tuple[str, datetime], FaceSignals] = OrderedDict()

    @classmethod
    def create(cls, sitting_id: str, candidate_id: str, attempt: int, pack: ModelPack,
               settings: DetectorSettings | None = None, sample_period: float = 1.0) -> CandidateTracker:
        return cls(sitting_id, candidate_id, attempt, pack, settings, sample_period)

    # ------------------------------------------------------------------ frames

    def wants(self, kind: int, t: datetime) -> bool:
        """Whether the frame of stream ``kind`` captured at ``t`` is worth decoding (see the module doc:
        adaptive sampling). A declined frame is never passed to :meth:`on_frame`."""
        live = self.live.get(kind)
        if live is None:
            return False
        cov, last = self.coverage[kind], live.last_t
        if last is None or t > last:
            interval = timedelta(seconds=self.settings.identity_interval_s)
            due = live.last_check is not None and t - live.last_check >= interval
            if last is not None and live.calm and not due and t - last < self.calm_periods[kind] - CALM_SLACK:
                self.counters["frames_declined_calm"] += 1
                live.declined.append(t)
                cov.add(t)
                return False
            return True
        if cov.covers(t):
            self.counters["frames_duplicate"] += 1
            return False
        return True

    def covers(self, kind: int, start: datetime, end: datetime) -> bool:
        """Whether frames (analysed or declined) of stream ``kind`` already span ``start``..``end`` without a
        gap longer than ``max_sample_gap_s``, give or take that much at both ends: a stored segment of that
        time has nothing new for the detectors (its live stills were seen)."""
        cov = self.coverage.get(kind)
        if cov is None:
            return False
        slack = timedelta(seconds=self.settings.max_sample_gap_s)
        if cov.floor is not None and end <= cov.floor + slack:
            return True
        return any(a <= start + slack and b >= end - slack for a, b in cov.spans)

    def on_frame(self, frame: Frame, earlier: Backfill | None = None,
                 ) -> tuple[list[IncidentChange], IdentityRequest | None]:
        """Feed one sampled frame. ``earlier(after, before)`` gives the frames of the stream that
        :meth:`wants` declined between two capture times (decoded on demand): when a calm stretch ends,
        they are analysed before this frame. Without it a declined frame stays unseen."""
        kind = frame.stream_kind
        if kind not in self.live:
            self.counters["frames_other_stream"] += 1
            return [], None
        t = frame.captured_at
        live, cov = self.live[kind], self.coverage[kind]
        changes: list[IncidentChange] = []
        if live.last_t is None or t > live.last_t:
            lane = live
        elif cov.covers(t):
            self.counters["frames_duplicate"] += 1
            return [], None
        else:
            found = self._late_lane(kind, t, changes)
            if found is None:
                self.counters["frames_dropped"] += 1
                return changes, None
            lane = found
            self.counters["frames_late"] += 1
        self.counters["frames_seen"] += 1
        found_changes, request = self._process(lane, frame, earlier if lane is live else None)
        changes += found_changes
        if lane.late and cov.covered_soon_after(t, timedelta(seconds=self.settings.max_sample_gap_s)):
            changes += lane.close_all(t)  # the late run reached time the live lane has seen
            self.late.pop(kind, None)
        cov.add(t)
        lagged = t - timedelta(seconds=self.settings.telemetry_frame_lag_s)
        for m in self.telemetry.values():
            changes += m.tick(lagged)
        return changes, request

    def _late_lane(self, kind: int, t: datetime, changes: list[IncidentChange]) -> Lane | None:
        late = self.late.get(kind)
        if late is not None and late.last_t is not None:
            if t <= late.last_t:
                return None
            if t - late.last_t > timedelta(seconds=self.settings.max_open_gap_s):
                changes += late.close_all(late.last_t)
                late = None
        if late is None:
            late = self.late[kind] = Lane(kind, self.table, self.owner, self.settings, late=True)
        return late

    def _process(self, lane: Lane, frame: Frame, earlier: Backfill | None = None,
                 ) -> tuple[list[IncidentChange], IdentityRequest | None]:
        look = self._look(lane, frame)
        changes: list[IncidentChange] = []
        requests: list[IdentityRequest | None] = []
        was_calm, lane.calm = lane.calm, False
        if was_calm and earlier is not None and lane.last_t is not None \
                and not _all_normal(self._judge(lane, look, offer=False)):
            # the calm ended somewhere in the frames declined since the last one: analyse them first, so
            # the machines see what sampling every frame would have shown (same runs, same incident ids)
            gate = lane.gate_state()
            self._backfill(lane, earlier, frame.captured_at, changes, requests)
            lane.restore_gate(gate)  # the change gate compares the next frame with this one, not an older one
            look = self._relook(lane, frame, look)
        changes += self._feed(lane, frame, look, requests)
        asked = [r for r in requests if r is not None]
        self.counters["identity_requests_dropped"] += max(0, len(asked) - 1)
        return changes, asked[0] if asked else None

    def _look(self, lane: Lane, frame: Frame) -> Look:
        """What the models say about the frame (the expensive part; nothing is fed yet)."""
        stats = frame_stats(frame.image)
        uniform = covered(stats, self.settings, lane.machines[_cover_kind(lane)].active)
        return Look(stats, uniform, None if uniform else self._faces(lane, frame, stats))

    def _relook(self, lane: Lane, frame: Frame, look: Look) -> Look:
        """The same frame after earlier frames were fed: an active CAMERA_COVERED moves the threshold."""
        if covered(look.stats, self.settings, lane.machines[_cover_kind(lane)].active) == look.uniform:
            return look
        return Look(look.stats, not look.uniform, self._faces(lane, frame, look.stats) if look.uniform else None)

    def _feed(self, lane: Lane, frame: Frame, look: Look, requests: list[IdentityRequest | None],
              ) -> list[IncidentChange]:
        t, desktop = frame.captured_at, lane.stream_kind == DESKTOP
        if desktop:
            self._calibrate(t, look.faces)
        verdicts = self._judge(lane, look)
        requests.append(self._identity_due(lane, frame, look.faces) if desktop else None)
        changes: list[IncidentChange] = []
        for kind, v in verdicts.items():
            changes += lane.machines[kind].observe(Sample(t, v.abnormal, v.score, v.confidence, v.note,
                                                          v.attributes, frame))
        lane.last_t, lane.declined = t, []
        lane.calm = self._calm(lane, verdicts.values(), look.faces)
        return changes

    def _backfill(self, lane: Lane, earlier: Backfill, t: datetime, changes: list[IncidentChange],
                  requests: list[IdentityRequest | None]) -> None:
        """Feed the frames declined between the lane's last frame and ``t``, newest first: when the newest
        is normal even by the strictest (all signals active) thresholds, every run the older ones could
        have started ends on it without opening (they span less than the shortest incident, see
        ``calm_period``), so they stay undecoded."""
        after = lane.last_t
        assert after is not None
        declined = [d for d in lane.declined if after < d < t]
        if not declined:
            return
        newest = [f for f in earlier(declined[-2] if len(declined) > 1 else after, t)
                  if f.captured_at == declined[-1]]
        newest_look = self._look(lane, newest[0]) if newest else None
        if newest_look is None or not self.calibration.gaze_complete \
                or not _all_normal(self._judge(lane, newest_look, offer=False, strict=True)):
            for before in earlier(after, declined[-1] if newest else t):
                if lane.last_t is not None and lane.last_t < before.captured_at < t:  # in order, once
                    self.counters["frames_backfilled"] += 1
                    changes += self._feed(lane, before, self._look(lane, before), requests)
        if newest and newest_look is not None:
            self.counters["frames_backfilled"] += 1
            changes += self._feed(lane, newest[0], self._relook(lane, newest[0], newest_look), requests)

    def _judge(self, lane: Lane, look: Look, offer: bool = True, strict: bool = False) -> dict[int, Observation]:
        """The frame's verdict for every signal of the lane (``offer``: the phone's frame may join the
        scene reference still being built; ``strict``: as if every signal were active, i.e. with the
        clearing thresholds of the value hysteresis)."""
        active: dict[int, bool] = {k: strict or m.active for k, m in lane.machines.items()}
        if lane.stream_kind == DESKTOP:
            return judge_desktop(look.stats, look.faces, self.calibration, active, self.pack, self.settings)
        moved = None
        if not look.uniform:
            edges = scene_edges(look.stats)
            if offer:
                lane.scene.offer(edges)
            moved = lane.scene.changed(edges)
        return judge_phone(look.stats, look.faces, moved, active, self.settings)

    def _calm(self, lane: Lane, verdicts: Iterable[Observation], faces: FaceSignals | None) -> bool:
        """The lane may sample sparsely: its last frame was clearly normal for every signal (none
        abnormal, none unknown), nothing is pending or open, and nothing waits for the next frames
        (the calibration of the neutral pose and, where the irises are measured, of the eyes)."""
        if lane.late or any(v.abnormal is not False for v in verdicts) or any(m.active for m in lane.all_machines()):
            return False
        if lane.stream_kind == DESKTOP:
            cal = self.calibration
            calibrated = cal.complete and (cal.gaze_complete or faces is None or faces.gaze is None)
            return calibrated and lane.confirm_due is None and not lane.track_lost
        return True

    def _faces(self, lane: Lane, frame: Frame, stats: FrameStats) -> FaceSignals:
        """The face facts of this frame, reused from the last analysed frame when the picture barely
        changed (see the module doc)."""
        t, s = frame.captured_at, self.settings
        prev = lane.gate_faces
        if (prev is not None and lane.gate_t is not None and s.gate_max_reuse_s > 0
                and frame.image.shape == lane.gate_shape
                and timedelta(0) < t - lane.gate_t <= timedelta(seconds=s.gate_max_reuse_s)
                and change(stats.thumb, lane.gate_thumb) < s.gate_frame
                and (prev.box is None or change(face_thumb(frame.image, prev.box), lane.gate_face) < s.gate_face)):
            self.counters["frames_reused"] += 1
            return prev
        if lane.stream_kind == DESKTOP:
            faces = analyse_faces(frame.image, self.pack, s)
        else:
            faces = detect_faces(frame.image, self.pack)
        self.frames_analysed += 1
        lane.gate_t, lane.gate_shape, lane.gate_thumb, lane.gate_faces = t, frame.image.shape, stats.thumb, faces
        lane.gate_face = face_thumb(frame.image, faces.box)
        return faces

    def _calibrate(self, t: datetime, faces: FaceSignals | None) -> None:
        """Every desktop frame (a reused one too: the pose held for that second) offers a neutral sample
        until the calibration is complete; after ``calibration_window_s`` it completes with what it has."""
        cal = self.calibration
        if faces is not None and not cal.gaze_ready:
            cal.offer(faces, self.settings)
        if cal.complete:
            return
        if self.calibration_started is None:
            self.calibration_started = t
        if t - self.calibration_started >= timedelta(seconds=self.settings.calibration_window_s):
            cal.give_up()
            log.info("pose calibration incomplete", extra={"candidate_id": self.owner.candidate_id,
                                                           "samples": cal.samples})

    # ------------------------------------------------------------------ identity

    def _usable_for_identity(self, faces: FaceSignals) -> bool:
        t = self.pack.thresholds
        if (faces.face_count == 0 or faces.profile or not faces.has_mesh or faces.presence < t.min_presence
                or faces.size_px < t.min_face_px or faces.occlusion >= t.occlusion
                or faces.yaw is None or faces.pitch is None or faces.box is None):
            return False
        cal = self.calibration
        return (abs(faces.yaw - cal.neutral_yaw) < t.away_yaw and abs(faces.pitch - cal.neutral_pitch) < t.away_pitch)

    def _identity_due(self, lane: Lane, frame: Frame, faces: FaceSignals | None) -> IdentityRequest | None:
        t, s = frame.captured_at, self.settings
        if faces is None or faces.face_count == 0 or faces.box is None:
            lane.no_face_since = lane.no_face_since or t
            if t - lane.no_face_since >= timedelta(seconds=s.track_lost_s):
                lane.track_lost = True
            return None
        lane.no_face_since = None
        if lane.track_box is not None and _jumped(lane.track_box, faces.box):
            lane.track_lost = True
        lane.track_box = faces.box
        if not self._usable_for_identity(faces):
            return None
        interval = timedelta(seconds=s.identity_interval_s)
        if lane.last_check is None:
            # the first periodic check falls at the candidate's own phase of the interval after their first
            # usable face (a virtual check before it): candidates who start together (every exam start)
            # are checked spread over the interval, not all in the same second every interval
            lane.last_check, lane.track_lost = t - interval + self.identity_phase, False
        if lane.track_lost:
            reason = "TRACK_REACQUIRED"
        elif lane.confirm_due is not None and t >= lane.confirm_due:
            reason = "CONFIRM"
        elif t - lane.last_check >= interval:
            reason = "PERIODIC"
        else:
            return None
        lane.last_check, lane.confirm_due, lane.track_lost = t, None, False
        self._requests[(frame.segment_id, t)] = lane
        while len(self._requests) > 64:
            self._requests.popitem(last=False)
        self._sources[(frame.segment_id, t)] = faces
        while len(self._sources) > 8:
            self._sources.popitem(last=False)
        return IdentityRequest(frame=frame, face_box=faces.box, reason=reason)

    def embedding(self, request: IdentityRequest) -> np.ndarray | None:
        """The pack's embedding of the face the request is about (call it in the inference thread, right
        after the frame; once per request), or None when it cannot be computed: then a face crop goes."""
        faces = self._sources.pop((request.frame.segment_id, request.frame.captured_at), None)
        if faces is None:
            return None
        try:
            return face_embedding(faces, self.pack)
        except Exception:
            log.warning("face embedding failed", exc_info=True,
                        extra={"candidate_id": self.owner.candidate_id})
            self.counters["identity_embedding_failed"] += 1
            return None

    def on_identity(self, result: IdentityResult) -> list[IncidentChange]:
        """auth-face's answer. IDENTITY_MISMATCH opens after ``identity_mismatches`` consecutive
        MISMATCH results (INCONCLUSIVE neither counts nor breaks the run) and closes after
        ``identity_matches`` consecutive MATCH results."""
        req = result.request
        lane = self._requests.pop((req.frame.segment_id, req.frame.captured_at), None)
        if lane is None:
            lane = self.live[DESKTOP]  # asked before a restore: the live lane
        elif lane.late and self.late.get(DESKTOP) is not lane:
            self.counters["identity_for_closed_run"] += 1
            return []
        decision = int(result.decision)
        verdicts: dict[int, bool] = {apb.MATCH_DECISION_MATCH: False, apb.MATCH_DECISION_MISMATCH: True}
        abnormal = verdicts.get(decision)
        if abnormal is None:
            self.counters["identity_inconclusive"] += 1
        dist, thr = float(result.distance or 0.0), float(result.threshold or 0.0)
        score = min(1.0, 0.6 + 0.4 * max(0.0, dist - thr) / thr) if abnormal and thr > 0 else 0.6
        at = req.frame.captured_at
        sample = Sample(at, abnormal, score, score, f"embedding distance {dist:.2f} (threshold {thr:.2f})",
                        {"distance": f"{dist:.3f}", "threshold": f"{thr:.3f}", "check": req.reason}, req.frame)
        changes = lane.identity.observe(sample)
        if abnormal and not lane.identity.is_open:
            lane.confirm_due = at + timedelta(seconds=self.settings.identity_confirm_s)
        if abnormal is not False or lane.identity.active:
            lane.calm = False  # every frame again until a frame is clearly normal
        return changes

    # ------------------------------------------------------------------ telemetry

    def on_telemetry(self, fact: TelemetryFact) -> list[IncidentChange]:
        """Client telemetry rules. Facts without a usable time or kind are counted and ignored;
        a (device, sequence) seen before is a duplicate."""
        at = getattr(fact, "at", None)
        if not isinstance(at, datetime) or at.tzinfo is None:
            self.counters["telemetry_invalid"] += 1
            return []
        kind = int(getattr(fact, "kind", 0) or 0)
        sequence = int(getattr(fact, "sequence", 0) or 0)
        if sequence:
            key = (int(getattr(fact, "device_kind", 0) or 0), sequence)
            if key in self._seen:
                self.counters["telemetry_duplicate"] += 1
                return []
            self._seen[key] = None
            while len(self._seen) > _SEEN_TELEMETRY:
                self._seen.popitem(last=False)
        detail = str(getattr(fact, "detail", "") or "")[:80]
        value = int(getattr(fact, "value", 0) or 0)
        changes = [ch for m in self.telemetry.values() for ch in m.tick(at)]
        if kind == c.TELEMETRY_KIND_DISPLAY_COUNT:
            if value > 1:
                changes += self._fact(c.INCIDENT_KIND_SECOND_MONITOR, at, True, f"{value} displays",
                                      {"displays": str(value)}, score=min(1.0, 0.5 + 0.25 * (value - 1)))
            elif value == 1:
                changes += self._fact(c.INCIDENT_KIND_SECOND_MONITOR, at, False)
            else:
                self.counters["telemetry_invalid"] += 1
        elif kind in (c.TELEMETRY_KIND_FOCUS_LOST, c.TELEMETRY_KIND_APP_SWITCH):
            attrs = {"detail": detail} if detail else {}
            changes += self._fact(c.INCIDENT_KIND_FOCUS_LOST, at, True, detail or "focus lost", attrs)
            duration = getattr(fact, "duration", None)
            if isinstance(duration, timedelta) and duration > timedelta(0):
                changes += self._fact(c.INCIDENT_KIND_FOCUS_LOST, at + duration, False)
        elif kind == c.TELEMETRY_KIND_FOCUS_GAINED:
            changes += self._fact(c.INCIDENT_KIND_FOCUS_LOST, at, False)
        elif kind in _POINT_FACTS:
            target, what = _POINT_FACTS[kind]
            name = detail or what
            changes += self._fact(target, at, True, name, {"detail": name} if name else {})
        else:
            self.counters["telemetry_ignored"] += 1
        return changes

    def _fact(self, kind: int, at: datetime, abnormal: bool, note: str = "", attributes: dict[str, str] | None = None,
              score: float = 1.0) -> list[IncidentChange]:
        m = self.telemetry[kind]
        if m.last_at is not None and at <= m.last_at:
            self.counters["telemetry_stale"] += 1
            return []
        return m.observe(Sample(at, abnormal, score, 0.95, note, attributes or {}))

    # ------------------------------------------------------------------ end, snapshot, restore

    def close_all(self, at: datetime) -> list[IncidentChange]:
        """The exam is over for this candidate: every open incident closes at ``at`` (late runs at
        their last frame), pending signals are dropped."""
        changes: list[IncidentChange] = []
        for lane in self.live.values():
            changes += lane.close_all(at)
        for lane in self.late.values():
            changes += lane.close_all(lane.last_t or at)
        self.late.clear()
        for m in self.telemetry.values():
            changes += m.tick(at)
            changes += m.close(at)
        return changes

    def busy(self) -> bool:
        """Some signal is pending or open: state that later input would not rebuild after a restore."""
        return any(m.active for m in self._snapshot_machines())

    def _snapshot_machines(self) -> list[Machine]:
        return [*self.live[DESKTOP].all_machines(), *self.live[PHONE].machines.values(), *self.telemetry.values()]

    def snapshot(self) -> anomaly_pb2.AnomalyStateSnapshot:
        """The live state (no meta: the service fills it). Late runs, the phone's scene reference,
        the iris baseline and the change gate are not kept: they rebuild from the next frames."""
        cal = self.calibration
        out = anomaly_pb2.AnomalyStateSnapshot(
            model_pack_id=self.pack.id, model_pack_version=self.pack.version,
            signals=[m.to_proto() for m in self._snapshot_machines()],
            calibration=anomaly_pb2.PoseCalibration(neutral_yaw_deg=cal.neutral_yaw,
                                                    neutral_pitch_deg=cal.neutral_pitch,
                                                    samples=cal.samples, complete=cal.complete),
            frames_analysed=self.frames_analysed)
        last = self.live[DESKTOP].last_t or self.live[PHONE].last_t
        if last is not None:
            out.last_frame_time.CopyFrom(ts(last))
        checked = self.live[DESKTOP].last_check
        if checked is not None:
            out.last_identity_check.CopyFrom(ts(checked))
        return out

    @classmethod
    def restore(cls, snapshot: anomaly_pb2.AnomalyStateSnapshot, sitting_id: str, candidate_id: str, attempt: int,
                pack: ModelPack, settings: DetectorSettings | None = None,
                sample_period: float = 1.0) -> CandidateTracker:
        """A tracker continuing from ``snapshot``: open incidents keep their ids and revisions, frames
        up to the snapshot's last frame time count as seen. The pose calibration is kept only if the
        snapshot was made with the same model pack (another pose model has another neutral)."""
        tracker = cls(sitting_id, candidate_id, attempt, pack, settings, sample_period)
        last = from_ts(snapshot.last_frame_time) if snapshot.HasField("last_frame_time") else None
        same_pack = (snapshot.model_pack_id, snapshot.model_pack_version) == (pack.id, pack.version)
        cal = snapshot.calibration
        if same_pack and cal.complete:
            mine = tracker.calibration
            mine.neutral_yaw, mine.neutral_pitch = cal.neutral_yaw_deg, cal.neutral_pitch_deg
            mine.samples, mine.complete = int(cal.samples), True
        by_kind = {m.rule.kind: m for m in tracker._snapshot_machines()}
        for state in snapshot.signals:
            m = by_kind.get(state.kind)
            if m is None:
                continue
            frame_signal = state.kind not in TELEMETRY_KINDS and state.kind != c.INCIDENT_KIND_IDENTITY_MISMATCH
            m.restore(state, last if frame_signal else None)
        for kind, lane in tracker.live.items():
            lane.last_t = last
            if last is not None:
                tracker.coverage[kind].floor = last
        if snapshot.HasField("last_identity_check"):
            tracker.live[DESKTOP].last_check = from_ts(snapshot.last_identity_check)
        tracker.frames_analysed = int(snapshot.frames_analysed)
        return tracker


@dataclass(frozen=True)
class Look:
    """A frame's measurements before they are judged and fed: picture statistics, whether the picture
    is uniform (a covered lens: the face models are skipped), and the face facts."""

    stats: FrameStats
    uniform: bool
    faces: FaceSignals | None


def _cover_kind(lane: Lane) -> int:
    return c.INCIDENT_KIND_CAMERA_COVERED if lane.stream_kind == DESKTOP else c.INCIDENT_KIND_PHONE_CAMERA_COVERED


def calm_period(settings: DetectorSettings, table: dict[int, Rule], sample_period: float,
                kinds: Iterable[int] = (*DESKTOP_KINDS, *PHONE_KINDS), wanted_s: float | None = None) -> float:
    """The spacing of a calm lane's frames on a grid of ``sample_period``: ``wanted_s`` (default
    ``calm_sample_period_s``), shortened until the frames declined between two analysed ones span less
    than the shortest run of frames that can open an incident of ``kinds`` (``open_samples`` frames,
    lasting ``open_after`` with the half gap credited before it), so that no incident can begin and end
    unseen (0 = no adaptive sampling). A lane whose stills come less often than ``sample_period`` (the
    phone's, every 2 s) is on a coarser grid of the same times: its declined frames span no more."""
    p = sample_period
    wanted = settings.calm_sample_period_s if wanted_s is None else wanted_s
    if wanted <= 0 or p <= 0:
        return 0.0
    frame_rules = [table[k] for k in kinds]
    shortest = min(max((r.open_samples - 1) * p, r.open_after.total_seconds() - p / 2) for r in frame_rules)
    spacing = p * math.ceil((wanted - CALM_SLACK.total_seconds()) / p - 1e-9)
    while spacing > p and spacing - 2 * p >= shortest:
        spacing -= p
    return spacing if spacing > p else 0.0


def _all_normal(verdicts: dict[int, Observation]) -> bool:
    return all(v.abnormal is False for v in verdicts.values())


def _jumped(a: tuple[int, int, int, int], b: tuple[int, int, int, int]) -> bool:
    """The largest face moved further than its own width, or changed size by more than 1.8x: another
    face (or the same one after leaving), not a head movement between two samples."""
    ax, ay, aw, ah = a
    bx, by, bw, bh = b
    dist = ((ax + aw / 2 - bx - bw / 2) ** 2 + (ay + ah / 2 - by - bh / 2) ** 2) ** 0.5
    ratio = max(aw, bw) / max(1, min(aw, bw))
    return dist > max(aw, bw) or ratio > 1.8
