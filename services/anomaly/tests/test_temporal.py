"""The per-signal state machines on synthetic observation sequences (no models, no media)."""

from __future__ import annotations

from datetime import timedelta

import cv2
import numpy as np
import pytest
from anomaly_clips import T0, frame_at
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from anomaly.temporal import (
    CLEARING,
    IDLE,
    OPEN,
    PENDING,
    DetectorSettings,
    Machine,
    Owner,
    Sample,
    incident_id,
    rules,
)
from proctor.common.v1 import common_pb2 as c
from proctor.events.v1 import incident_pb2

OPENED, UPDATED, CLOSED = (incident_pb2.INCIDENT_CHANGE_OPENED, incident_pb2.INCIDENT_CHANGE_UPDATED,
                           incident_pb2.INCIDENT_CHANGE_CLOSED)
OWNER = Owner("sit-1", "cand-1", 1)
S = DetectorSettings()
TABLE = rules(S)


def machine(kind: int = c.INCIDENT_KIND_NO_FACE, settings: DetectorSettings = S) -> Machine:
    return Machine(rules(settings)[kind], OWNER, settings)


def feed(m: Machine, flags: list[bool | None], period: float = 1.0, start: float = 0.0, frames: bool = False) -> list:
    out = []
    for i, flag in enumerate(flags):
        at = start + i * period
        out += m.observe(Sample(T0 + timedelta(seconds=at), flag, 0.7, 0.8, "n", {},
                                frame_at(at) if frames else None))
    return out


def test_opens_after_the_minimum_duration_and_closes_after_hysteresis():
    m = machine()  # NO_FACE: 5 s, close after 3 s
    changes = feed(m, [False] + [True] * 5)
    assert changes == [] and m.phase == PENDING  # 4 s of frames + half a gap: 4.5 s < 5 s
    changes = feed(m, [True], start=6.0)
    assert [ch.change for ch in changes] == [OPENED]
    opened = changes[0]
    assert opened.start == T0 + timedelta(seconds=1) and opened.revision == 1 and opened.end is None
    assert opened.detected_at == T0 + timedelta(seconds=6) and opened.severity == c.SEVERITY_MEDIUM
    changes = feed(m, [False, False], start=7.0)
    assert changes == [] and m.phase == CLEARING
    changes = feed(m, [False], start=9.0)  # normal for 2 s + half a gap = 2.5 s < 3 s
    assert changes == []
    changes = feed(m, [False], start=10.0)
    assert [ch.change for ch in changes] == [CLOSED]
    closed = changes[0]
    assert closed.incident_id == opened.incident_id and closed.revision == 2
    assert closed.end == T0 + timedelta(seconds=7) and closed.attributes["duration_s"] == "6.0"
    assert m.phase == IDLE


def test_abnormal_again_while_clearing_continues_the_same_incident():
    m = machine(c.INCIDENT_KIND_MULTIPLE_FACES)
    changes = feed(m, [True, True, True, False, True, True, False, False, False, False])
    kinds = [ch.change for ch in changes]
    assert kinds == [OPENED, CLOSED]
    assert changes[0].incident_id == changes[1].incident_id
    assert changes[1].end == T0 + timedelta(seconds=6)


def test_a_gap_in_the_frames_breaks_a_pending_run():
    m = machine(c.INCIDENT_KIND_MULTIPLE_FACES)  # 2 s
    assert feed(m, [True], start=0.0) == []
    assert feed(m, [True], start=10.0) == []  # 10 s later: not 10 s of evidence
    assert m.phase == PENDING and m.run_start == T0 + timedelta(seconds=10)
    assert [ch.change for ch in feed(m, [True, True], start=11.0)] == [OPENED]


def test_an_open_incident_closes_at_its_last_frame_after_a_long_gap():
    m = machine(c.INCIDENT_KIND_MULTIPLE_FACES)
    opened = feed(m, [True] * 4)
    assert [ch.change for ch in opened] == [OPENED]
    later = feed(m, [True], start=60.0)  # nothing seen for 57 s
    assert [ch.change for ch in later] == [CLOSED]
    assert later[0].end == T0 + timedelta(seconds=3)
    assert m.phase == PENDING  # the frame after the gap starts a new run


def test_unknown_samples_neither_count_nor_break():
    m = Machine(TABLE[c.INCIDENT_KIND_IDENTITY_MISMATCH], OWNER, S)
    assert feed(m, [True, None, None], period=20.0) == []
    changes = feed(m, [True], start=60.0)
    assert [ch.change for ch in changes] == [OPENED]
    m2 = Machine(TABLE[c.INCIDENT_KIND_IDENTITY_MISMATCH], OWNER, S)
    assert feed(m2, [True, False, True], period=20.0) == []  # a MATCH between: not consecutive


def test_severity_escalates_and_updates_are_rate_limited():
    m = machine(c.INCIDENT_KIND_GAZE_AWAY)
    changes = []
    for i in range(0, 70):
        score = 0.5 + 0.01 * i  # slowly worse: a new worst frame every second
        changes += m.observe(Sample(T0 + timedelta(seconds=i), True, score, 0.8, "", {}, None))
    kinds = [ch.change for ch in changes]
    assert kinds[0] == OPENED
    updates = [ch for ch in changes if ch.change == UPDATED]
    # opened at 4 s; a clearly worse frame is reported once the 30 s interval passed (34 s); the
    # escalation at 60 s of duration is reported at once (not rate-limited)
    assert [(ch.detected_at - T0).total_seconds() for ch in updates] == [34.0, 60.0]
    assert [ch.severity for ch in updates] == [c.SEVERITY_LOW, c.SEVERITY_MEDIUM]
    assert [ch.revision for ch in changes] == list(range(1, len(changes) + 1))


def test_the_worst_frame_is_the_evidence_as_jpeg():
    m = machine(c.INCIDENT_KIND_MULTIPLE_FACES)
    scores = [0.6, 0.9, 0.7, 0.6]
    changes = []
    for i, score in enumerate(scores):
        changes += m.observe(Sample(T0 + timedelta(seconds=i), True, score, 0.8, f"frame {i}", {}, frame_at(float(i))))
    opened = next(ch for ch in changes if ch.change == OPENED)
    (evidence,) = opened.evidence
    assert evidence.note == "frame 1" and evidence.captured_at == T0 + timedelta(seconds=1)
    assert evidence.stream_offset == timedelta(seconds=1) and evidence.segment_id == "stream-1:0"
    image = cv2.imdecode(np.frombuffer(evidence.jpeg, np.uint8), cv2.IMREAD_COLOR)
    assert image is not None and image.shape[1] <= S.evidence_max_width


def test_incident_ids_are_deterministic_and_distinct():
    a = incident_id(OWNER, c.INCIDENT_KIND_NO_FACE, "face_count@1", T0)
    assert a == incident_id(OWNER, c.INCIDENT_KIND_NO_FACE, "face_count@1", T0)
    assert a.startswith("inc-") and len(a) == 28
    others = {incident_id(OWNER, c.INCIDENT_KIND_MULTIPLE_FACES, "face_count@1", T0),
              incident_id(OWNER, c.INCIDENT_KIND_NO_FACE, "face_count@1", T0 + timedelta(microseconds=1)),
              incident_id(Owner("sit-1", "cand-1", 2), c.INCIDENT_KIND_NO_FACE, "face_count@1", T0),
              incident_id(Owner("sit-1", "cand-2", 1), c.INCIDENT_KIND_NO_FACE, "face_count@1", T0)}
    assert a not in others and len(others) == 4
    first, second = machine(), machine()
    assert feed(first, [True] * 8, frames=True)[0].incident_id == feed(second, [True] * 8, frames=True)[0].incident_id


def test_focus_lost_is_latched_until_focus_gained():
    rule = TABLE[c.INCIDENT_KIND_FOCUS_LOST]
    short = Machine(rule, OWNER, S)
    assert feed(short, [True, False], period=1.0) == []  # 1 s < 3 s
    long = Machine(rule, OWNER, S)
    changes = feed(long, [True, False], period=10.0)  # lost at 0, gained at 10: one OPENED + CLOSED
    assert [ch.change for ch in changes] == [OPENED, CLOSED]
    assert changes[1].end == T0 + timedelta(seconds=10) and changes[0].start == T0
    ticking = Machine(rule, OWNER, S)
    feed(ticking, [True])
    assert ticking.tick(T0 + timedelta(seconds=2)) == []
    assert [ch.change for ch in ticking.tick(T0 + timedelta(seconds=3))] == [OPENED]


def test_point_facts_close_after_their_hold():
    m = Machine(TABLE[c.INCIDENT_KIND_SCREENSHOT_ATTEMPT], OWNER, S)
    changes = feed(m, [True])
    assert [ch.change for ch in changes] == [OPENED]  # at once
    assert feed(m, [True], start=4.0) == []  # a second attempt within the hold: the same incident
    assert m.tick(T0 + timedelta(seconds=13)) == []
    closed = m.tick(T0 + timedelta(seconds=14))
    assert [ch.change for ch in closed] == [CLOSED] and closed[0].end == T0 + timedelta(seconds=4)
    assert closed[0].attributes["reports"] == "2"


def test_close_all_never_ends_before_the_start_and_drops_pending():
    m = machine(c.INCIDENT_KIND_MULTIPLE_FACES)
    feed(m, [True] * 4)
    (closed,) = m.close(T0 - timedelta(hours=1))
    assert closed.end == closed.start
    p = machine()
    feed(p, [True, True])
    assert p.close(T0 + timedelta(seconds=5)) == [] and p.phase == IDLE


def test_snapshot_restore_keeps_the_open_incident():
    m = machine(c.INCIDENT_KIND_MULTIPLE_FACES)
    opened = feed(m, [True] * 4, frames=True)[0]
    state = m.to_proto()
    assert state.phase == OPEN and state.open_incident_id == opened.incident_id and state.incident_revision == 1
    again = machine(c.INCIDENT_KIND_MULTIPLE_FACES)
    again.restore(state, T0 + timedelta(seconds=3))
    assert again.is_open and again.start == opened.start
    assert feed(again, [True], start=2.0) == []  # not newer than the restored last frame: ignored
    closed = feed(again, [False] * 4, start=4.0)
    assert [(ch.change, ch.incident_id, ch.revision) for ch in closed] == [(CLOSED, opened.incident_id, 2)]
    assert closed[0].start == opened.start
    pending = machine()
    feed(pending, [True, True])
    restored = machine()
    restored.restore(pending.to_proto(), T0 + timedelta(seconds=1))
    assert restored.phase == PENDING and restored.run_start == T0


def test_settings_forbid_single_frame_incidents_and_bound_the_identity_interval():
    with pytest.raises(ValidationError):
        DetectorSettings(min_samples=1)
    with pytest.raises(ValidationError):
        DetectorSettings(identity_interval_s=5)
    with pytest.raises(ValidationError):
        DetectorSettings(identity_interval_s=31)
    assert DetectorSettings(identity_interval_s=10).identity_interval_s == 10
    assert DetectorSettings().identity_interval_s == 30  # the 10-30 s, at its cheap end
    with pytest.raises(ValidationError):
        DetectorSettings(calm_sample_period_s=4)  # beyond max_sample_gap_s


FRAME_KINDS = [c.INCIDENT_KIND_NO_FACE, c.INCIDENT_KIND_MULTIPLE_FACES, c.INCIDENT_KIND_GAZE_AWAY,
               c.INCIDENT_KIND_FACE_MASKED, c.INCIDENT_KIND_CAMERA_COVERED, c.INCIDENT_KIND_PHONE_CAMERA_MOVED]


SHORT = DetectorSettings(**{f"{name}_s": 0.1 for name in (
    "no_face", "multiple_faces", "gaze_away", "face_masked", "face_occluded", "camera_covered", "too_dark",
    "phone_not_visible", "phone_moved", "phone_covered")})


@settings(max_examples=150, deadline=None)
@given(kind=st.sampled_from(FRAME_KINDS), n=st.integers(1, 60), short=st.booleans(),
       spikes=st.sets(st.integers(0, 59)), gaps=st.lists(st.floats(0.2, 8.0), min_size=60, max_size=60))
def test_one_bad_frame_never_opens(kind, n, short, spikes, gaps):
    """Isolated abnormal frames (normal frames around each) never open an incident, whatever the
    frame spacing, even with minimum durations shorter than the spacing (the frame count holds)."""
    m = machine(kind, SHORT if short else S)
    at = 0.0
    flags = [i in spikes and (i - 1) not in spikes and (i + 1) not in spikes for i in range(n)]
    for i, flag in enumerate(flags):
        at += gaps[i]
        assert m.observe(Sample(T0 + timedelta(seconds=at), flag, 0.9, 0.9)) == []


@settings(max_examples=150, deadline=None)
@given(kind=st.sampled_from([*FRAME_KINDS, c.INCIDENT_KIND_IDENTITY_MISMATCH, c.INCIDENT_KIND_FOCUS_LOST,
                             c.INCIDENT_KIND_SCREENSHOT_ATTEMPT]),
       steps=st.lists(st.tuples(st.sampled_from([True, False, None]), st.floats(0.1, 40.0)), min_size=1,
                      max_size=120),
       close_at=st.floats(0.0, 200.0))
def test_incident_lifecycles_are_well_formed(kind, steps, close_at):
    """For any sequence: every incident starts with OPENED revision 1, revisions increase by one, at
    most one CLOSED and it is last, end >= start, detected_at >= start, and incidents of one
    signal never overlap."""
    m = machine(kind)
    at = 0.0
    changes = []
    for flag, gap in steps:
        at += gap
        changes += m.observe(Sample(T0 + timedelta(seconds=at), flag, 0.8, 0.8))
        changes += m.tick(T0 + timedelta(seconds=at + gap / 2))
    changes += m.close(T0 + timedelta(seconds=close_at))
    by_id: dict[str, list] = {}
    for ch in changes:
        by_id.setdefault(ch.incident_id, []).append(ch)
    previous_end = None
    for chs in by_id.values():
        assert chs[0].change == OPENED and chs[0].revision == 1
        assert [ch.revision for ch in chs] == list(range(1, len(chs) + 1))
        assert all(ch.change != CLOSED for ch in chs[:-1])
        assert chs[-1].change == CLOSED, "close() leaves nothing open"
        start = chs[0].start
        assert all(ch.start == start and ch.detected_at >= start for ch in chs)
        assert chs[-1].end is not None and chs[-1].end >= start
        if previous_end is not None:
            assert start >= previous_end
        previous_end = chs[-1].end
    assert m.phase == IDLE
