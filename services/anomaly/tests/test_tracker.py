"""CandidateTracker: calibration, gaze, identity schedule, telemetry rules, out-of-order frames,
snapshot/restore and the change gate (scripted face facts), and the frame signals on real faces
that ship with installed packages."""

from __future__ import annotations

import itertools
from datetime import timedelta

import cv2
import numpy as np
import pytest
from anomaly_clips import (
    NO_FACE,
    T0,
    Script,
    astronaut_portrait,
    frame_at,
    insightface_image,
    one_face,
    room,
    scripted_frame,
    session_pack,
    uniform,
    webcam_frame,
)
from hypothesis import given, settings
from hypothesis import strategies as st

import anomaly.tracker as tracker_module
from anomaly.model import IdentityResult, TelemetryFact
from anomaly.rules import rules as rules_of
from anomaly.temporal import IDLE, DetectorSettings
from anomaly.tracker import CandidateTracker, calm_period
from proctor.auth.v1 import auth_face_pb2 as apb
from proctor.common.v1 import common_pb2 as c
from proctor.events.v1 import incident_pb2

OPENED, UPDATED, CLOSED = (incident_pb2.INCIDENT_CHANGE_OPENED, incident_pb2.INCIDENT_CHANGE_UPDATED,
                           incident_pb2.INCIDENT_CHANGE_CLOSED)
NO_GATE = DetectorSettings(gate_max_reuse_s=0, identity_spread=False)
EVERY_20_S = DetectorSettings(gate_max_reuse_s=0, identity_interval_s=20, identity_spread=False)


@pytest.fixture(scope="module")
def pack():
    return session_pack()


def scripted(monkeypatch, pack, by_second, default=None, settings=NO_GATE) -> tuple[CandidateTracker, Script]:
    script = Script(by_second, default or one_face())
    monkeypatch.setattr(tracker_module, "analyse_faces", script)
    return CandidateTracker("sit-1", "cand-1", 1, pack, settings), script


def run(tracker: CandidateTracker, seconds, kind=c.STREAM_KIND_DESKTOP_CAMERA, segment="stream-1:0"):
    changes, requests = [], []
    for s in seconds:
        found, request = tracker.on_frame(scripted_frame(s, kind, segment))
        changes += found
        if request is not None:
            requests.append(request)
    return changes, requests


def kinds(changes, change=None):
    return [c.IncidentKind.Name(ch.kind).removeprefix("INCIDENT_KIND_") for ch in changes
            if change is None or ch.change == change]


def well_formed(changes):
    for ch in changes:
        assert ch.detected_at >= ch.start
        assert ch.end is None or ch.end >= ch.start


# ---------------------------------------------------------------------------------- gaze


def test_gaze_is_judged_against_the_calibrated_neutral_pose(monkeypatch, pack):
    """A camera below the eyes reads +20 deg pitch while the candidate looks at the screen: that is
    the neutral, not 'away'; a 35 deg turn from it is."""
    faces = {s: one_face(pitch=20.0 + (s % 3) * 0.5) for s in range(0, 20)}
    faces.update({s: one_face(yaw=35.0, pitch=20.0) for s in range(20, 27)})
    tracker, _ = scripted(monkeypatch, pack, faces, one_face(pitch=20.0))
    changes, _ = run(tracker, range(0, 35))
    cal = tracker.calibration
    assert cal.complete and abs(cal.neutral_pitch - 20.5) < 0.6 and cal.samples == 5
    assert kinds(changes) == ["GAZE_AWAY", "GAZE_AWAY"]
    opened, closed = changes
    assert opened.start == T0 + timedelta(seconds=20) and opened.change == OPENED
    assert closed.change == CLOSED and closed.end == T0 + timedelta(seconds=27)
    assert opened.attributes["yaw_deg"] == "35"


def test_eyes_held_aside_count_but_eyes_compensating_a_head_turn_do_not(monkeypatch, pack):
    faces = {s: one_face(gaze=-0.22) for s in range(10, 16)}  # head still, eyes to the side: away
    faces.update({s: one_face(yaw=15.0, gaze=-0.21) for s in range(30, 40)})  # head turned, eyes on the screen
    tracker, _ = scripted(monkeypatch, pack, faces, one_face(gaze=0.01))
    changes, _ = run(tracker, range(0, 45))
    assert kinds(changes) == ["GAZE_AWAY", "GAZE_AWAY"]
    assert changes[0].start == T0 + timedelta(seconds=10) and changes[1].end == T0 + timedelta(seconds=16)
    assert "iris" in changes[0].evidence[0].note


def test_no_pose_verdict_before_calibration_except_extreme_poses(monkeypatch, pack):
    """No usable neutral frames for a while: an ordinary pose is 'unknown' (no incident), a profile
    is away regardless."""
    faces = {s: one_face(pitch=33.0) for s in range(0, 12)}  # outside the calibration band, not extreme: unknown
    faces.update({s: one_face(profile=True, yaw=60.0) for s in range(12, 20)})
    tracker, _ = scripted(monkeypatch, pack, faces, one_face(yaw=50.0, pitch=40.0))  # never calibrates
    changes, _ = run(tracker, range(0, 30))
    assert not tracker.calibration.complete
    assert kinds(changes, OPENED) == ["GAZE_AWAY"] and changes[0].start == T0 + timedelta(seconds=12)


# ---------------------------------------------------------------------------------- faces


def test_no_face_and_another_person(monkeypatch, pack):
    faces = {s: NO_FACE for s in range(10, 18)}
    faces.update({s: one_face(count=3) for s in range(30, 34)})
    tracker, _ = scripted(monkeypatch, pack, faces)
    changes, _ = run(tracker, range(0, 45))
    assert kinds(changes) == ["NO_FACE", "NO_FACE", "MULTIPLE_FACES", "MULTIPLE_FACES"]
    assert changes[0].severity == c.SEVERITY_MEDIUM and changes[2].severity == c.SEVERITY_HIGH
    assert changes[2].attributes["face_count"] == "3" and changes[2].summary_en.startswith("3 faces")
    assert changes[2].summary_zh and changes[3].end == T0 + timedelta(seconds=34)
    well_formed(changes)


def test_a_flickering_shape_the_mesh_rejects_does_not_hide_an_empty_room(monkeypatch, pack):
    """An empty room with a mirror: the detector sees a 40-px "face" in every other frame that the face mesh
    does not confirm (found by the simulation: a room photo's mirror kept NO_FACE from opening). It does not
    break the run of empty frames; a masked candidate (as large, unconfirmed face) still is a face."""
    shape = one_face(presence=0.0, box=(395, 73, 40, 40))
    faces = {s: (shape if s % 2 else NO_FACE) for s in range(10, 20)}
    faces.update({s: one_face(presence=0.0, occlusion=1.0) for s in range(30, 40)})  # 120 px, unconfirmed
    tracker, _ = scripted(monkeypatch, pack, faces)
    changes, _ = run(tracker, range(0, 45))
    assert kinds(changes, OPENED) == ["NO_FACE", "FACE_OCCLUDED"]
    opened = changes[0]
    assert opened.start == T0 + timedelta(seconds=10) and opened.end is None


def test_mask_and_occlusion(monkeypatch, pack):
    faces = {s: one_face(occlusion=0.8) for s in range(5, 14)}
    faces.update({s: one_face(presence=0.1, occlusion=1.0) for s in range(20, 28)})
    faces.update({s: one_face(presence=0.1, occlusion=1.0, profile=True) for s in range(35, 45)})  # a profile: no verdict
    tracker, _ = scripted(monkeypatch, pack, faces)
    changes, _ = run(tracker, range(0, 50))
    assert kinds(changes, OPENED) == ["FACE_MASKED", "FACE_OCCLUDED", "GAZE_AWAY"]


def test_the_gaze_of_a_covered_face_is_not_judged(monkeypatch, pack):
    """A mask distorts the mesh's head pose: a masked face reading 35 deg of yaw is FACE_MASKED only; the same
    pose uncovered is GAZE_AWAY (found by the simulation: GAZE_AWAY raised during every injected mask)."""
    faces = {s: one_face(occlusion=0.8, yaw=35.0) for s in range(5, 14)}
    faces.update({s: one_face(yaw=35.0) for s in range(25, 34)})
    tracker, _ = scripted(monkeypatch, pack, faces)
    changes, _ = run(tracker, range(0, 40))
    assert kinds(changes, OPENED) == ["FACE_MASKED", "GAZE_AWAY"]
    gaze = next(ch for ch in changes if kinds([ch]) == ["GAZE_AWAY"])
    assert gaze.start >= T0 + timedelta(seconds=25)


# ---------------------------------------------------------------------------------- identity


def result(request, decision, distance=0.3):
    return IdentityResult(request=request, decision=decision, distance=distance, threshold=0.422, face_count=1)


def test_candidates_starting_together_have_their_identity_checks_spread_over_the_interval(monkeypatch, pack):
    """Every exam start: the first periodic check of each candidate comes at their own phase of the interval
    (stable per candidate) after their first face, then every interval; never later than one interval."""
    monkeypatch.setattr(tracker_module, "analyse_faces", Script({}, one_face()))
    settings = DetectorSettings(gate_max_reuse_s=0, identity_interval_s=20)
    firsts = []
    for n in range(40):
        tracker = CandidateTracker("sit-1", f"cand-{n}", 1, pack, settings)
        _, requests = run(tracker, range(0, 61))
        times = [(r.frame.captured_at - T0).total_seconds() for r in requests]
        assert {r.reason for r in requests} == {"PERIODIC"} and times[0] <= 20
        assert all(b - a == 20 for a, b in itertools.pairwise(times)) and len(times) == 3, times
        assert CandidateTracker("sit-1", f"cand-{n}", 1, pack, settings).identity_phase == tracker.identity_phase
        firsts.append(times[0])
    assert len(set(firsts)) >= 15 and max(firsts) - min(firsts) >= 15, sorted(firsts)  # spread, not one burst


def test_identity_checks_every_interval_and_mismatch_needs_confirmation(monkeypatch, pack):
    tracker, _ = scripted(monkeypatch, pack, {}, settings=EVERY_20_S)
    _, requests = run(tracker, range(0, 41))
    assert [(r.reason, (r.frame.captured_at - T0).total_seconds()) for r in requests] == [
        ("PERIODIC", 0.0), ("PERIODIC", 20.0), ("PERIODIC", 40.0)]
    assert requests[0].face_box == (100, 60, 120, 120)
    assert tracker.on_identity(result(requests[0], apb.MATCH_DECISION_MATCH)) == []
    assert tracker.on_identity(result(requests[2], apb.MATCH_DECISION_MISMATCH, 0.7)) == []
    _, confirm = run(tracker, range(41, 45))
    assert [r.reason for r in confirm] == ["CONFIRM"] and confirm[0].frame.captured_at == T0 + timedelta(seconds=43)
    assert tracker.on_identity(result(confirm[0], apb.MATCH_DECISION_INCONCLUSIVE)) == []  # neither counts nor breaks
    _, later = run(tracker, range(45, 64))
    assert [r.reason for r in later] == ["PERIODIC"]
    opened = tracker.on_identity(result(later[0], apb.MATCH_DECISION_MISMATCH, 0.8))
    assert kinds(opened, OPENED) == ["IDENTITY_MISMATCH"] and opened[0].severity == c.SEVERITY_CRITICAL
    assert opened[0].start == T0 + timedelta(seconds=40) and opened[0].evidence
    assert opened[0].attributes["distance"] == "0.800"


def test_a_single_mismatch_between_matches_opens_nothing(monkeypatch, pack):
    tracker, _ = scripted(monkeypatch, pack, {}, settings=EVERY_20_S)
    _, (first,) = run(tracker, range(0, 2))
    assert tracker.on_identity(result(first, apb.MATCH_DECISION_MISMATCH, 0.6)) == []
    _, (confirm,) = run(tracker, range(2, 8))
    assert confirm.reason == "CONFIRM"
    assert tracker.on_identity(result(confirm, apb.MATCH_DECISION_MATCH)) == []
    _, later = run(tracker, range(8, 30))
    assert [r.reason for r in later] == ["PERIODIC"]
    assert tracker.on_identity(result(later[0], apb.MATCH_DECISION_MISMATCH, 0.6)) == []
    assert tracker.live[c.STREAM_KIND_DESKTOP_CAMERA].identity.phase != IDLE  # pending: one more needed


def test_identity_is_checked_again_when_the_face_comes_back(monkeypatch, pack):
    faces = {s: NO_FACE for s in range(5, 9)}
    faces.update({s: one_face(box=(400, 60, 120, 120)) for s in range(15, 18)})  # the face jumps: another one
    tracker, _ = scripted(monkeypatch, pack, faces)
    _, requests = run(tracker, range(0, 18))
    assert [(r.reason, (r.frame.captured_at - T0).total_seconds()) for r in requests] == [
        ("PERIODIC", 0.0), ("TRACK_REACQUIRED", 9.0), ("TRACK_REACQUIRED", 15.0)]


# ---------------------------------------------------------------------------------- telemetry


def fact(kind, at, value=0, detail="", sequence=0, duration=None, device=c.DEVICE_KIND_DESKTOP):
    return TelemetryFact(kind=kind, at=T0 + timedelta(seconds=at), device_kind=device, value=value, detail=detail,
                         duration=duration, sequence=sequence)


def test_telemetry_rules(pack):
    t = CandidateTracker("sit-1", "cand-1", 1, pack)
    out = []
    out += t.on_telemetry(fact(c.TELEMETRY_KIND_DISPLAY_COUNT, 1, value=2, sequence=1))
    out += t.on_telemetry(fact(c.TELEMETRY_KIND_DISPLAY_COUNT, 1, value=2, sequence=1))  # duplicate
    out += t.on_telemetry(fact(c.TELEMETRY_KIND_DISPLAY_COUNT, 30, value=1, sequence=2))
    out += t.on_telemetry(fact(c.TELEMETRY_KIND_FOCUS_LOST, 40, sequence=3))
    out += t.on_telemetry(fact(c.TELEMETRY_KIND_FOCUS_GAINED, 41, sequence=4))  # 1 s: not an incident
    out += t.on_telemetry(fact(c.TELEMETRY_KIND_APP_SWITCH, 50, detail="WeChat", sequence=5))
    out += t.on_telemetry(fact(c.TELEMETRY_KIND_FOCUS_GAINED, 62, sequence=6))
    out += t.on_telemetry(fact(c.TELEMETRY_KIND_SCREENSHOT_ATTEMPT, 70, sequence=7))
    out += t.on_telemetry(fact(c.TELEMETRY_KIND_SCREEN_RECORDING_ATTEMPT, 72, sequence=8))
    out += t.on_telemetry(fact(c.TELEMETRY_KIND_VIRTUAL_MACHINE_DETECTED, 80, detail="VMware", sequence=9))
    out += t.on_telemetry(fact(c.TELEMETRY_KIND_REMOTE_DESKTOP_DETECTED, 81, detail="TeamViewer", sequence=10))
    out += t.on_telemetry(fact(c.TELEMETRY_KIND_PROHIBITED_PROCESS, 82, detail="obs64.exe", sequence=11))
    out += t.on_telemetry(fact(c.TELEMETRY_KIND_NETWORK_ONLINE, 83, sequence=12))  # not an anomaly rule
    out += t.on_telemetry(fact(c.TELEMETRY_KIND_FOCUS_LOST, 84, duration=timedelta(seconds=5), sequence=13))
    assert [(k, ch.change) for k, ch in zip(kinds(out), out, strict=True)] == [
        ("SECOND_MONITOR", OPENED), ("SECOND_MONITOR", CLOSED),
        ("FOCUS_LOST", OPENED), ("FOCUS_LOST", CLOSED),
        ("SCREENSHOT_ATTEMPT", OPENED),
        ("VIRTUAL_MACHINE", OPENED), ("REMOTE_DESKTOP", OPENED),
        ("SCREENSHOT_ATTEMPT", CLOSED),  # 10 s after the last attempt (72 s): seen with the next fact (82 s)
        ("PROHIBITED_PROCESS", OPENED),
        ("FOCUS_LOST", OPENED), ("FOCUS_LOST", CLOSED)]
    focus = out[3]
    assert focus.start == T0 + timedelta(seconds=50) and focus.end == T0 + timedelta(seconds=62)
    assert "WeChat" in focus.summary_en and focus.attributes["detail"] == "WeChat"
    assert out[0].summary_en == "2 displays connected" and out[0].summary_zh
    screenshot = out[7]
    assert screenshot.end == T0 + timedelta(seconds=72) and screenshot.attributes["reports"] == "2"
    assert "screen recording" in screenshot.attributes["detail"]
    assert t.counters["telemetry_duplicate"] == 1
    ended = t.close_all(T0 + timedelta(seconds=200))
    assert sorted(kinds(ended, CLOSED)) == ["PROHIBITED_PROCESS", "REMOTE_DESKTOP", "VIRTUAL_MACHINE"]
    assert all(ch.end == ch.start for ch in ended)  # point facts end at their last report
    well_formed(out + ended)


def test_telemetry_with_missing_fields_never_crashes(pack):
    t = CandidateTracker("sit-1", "cand-1", 1, pack)
    bad = [TelemetryFact(kind=c.TELEMETRY_KIND_DISPLAY_COUNT, at=None, device_kind=0),  # type: ignore[arg-type]
           TelemetryFact(kind=c.TELEMETRY_KIND_DISPLAY_COUNT, at=T0.replace(tzinfo=None), device_kind=0),
           TelemetryFact(kind=0, at=T0, device_kind=0),
           TelemetryFact(kind=c.TELEMETRY_KIND_DISPLAY_COUNT, at=T0, device_kind=0, value=None),  # type: ignore[arg-type]
           TelemetryFact(kind=c.TELEMETRY_KIND_PROHIBITED_PROCESS, at=T0, device_kind=0, detail=None),  # type: ignore[arg-type]
           TelemetryFact(kind=None, at=T0, device_kind=None, sequence=None)]  # type: ignore[arg-type]
    changes = [ch for f in bad for ch in t.on_telemetry(f)]
    assert kinds(changes) == ["PROHIBITED_PROCESS"]
    assert t.counters["telemetry_invalid"] == 3


def test_old_telemetry_does_not_rewind_a_signal(pack):
    t = CandidateTracker("sit-1", "cand-1", 1, pack)
    assert kinds(t.on_telemetry(fact(c.TELEMETRY_KIND_DISPLAY_COUNT, 10, value=3))) == ["SECOND_MONITOR"]
    assert t.on_telemetry(fact(c.TELEMETRY_KIND_DISPLAY_COUNT, 5, value=1)) == []  # older than the last fact
    assert t.counters["telemetry_stale"] == 1


# ---------------------------------------------------------------------------------- out of order


def test_redelivered_and_late_frames(monkeypatch, pack):
    """Live frames 0..30 s with a no-face stretch; then a redelivered segment (frames already seen)
    changes nothing; a late segment from before (recorded offline, uploaded later) is analysed on
    its own: its incident has its own id, starts and ends inside the late span, and the live
    incident is untouched."""
    faces = {s: NO_FACE for s in range(10, 20)}
    faces.update({s: NO_FACE for s in range(200, 256)})  # scripted by second % 256: the late frames below
    tracker, _ = scripted(monkeypatch, pack, faces)
    live, _ = run(tracker, range(0, 31))
    assert kinds(live) == ["NO_FACE", "NO_FACE"]
    again, _ = run(tracker, range(12, 18))
    assert again == [] and tracker.counters["frames_duplicate"] == 6
    late = []
    for s in [*range(-56, -40), -70, *range(-40, 0)]:  # -70: older than the late run, not seen: dropped
        late += tracker.on_frame(_shifted(s))[0]
    assert kinds(late) == ["NO_FACE", "NO_FACE"]
    assert late[0].incident_id not in {ch.incident_id for ch in live}
    # the late run ends where it meets the live coverage (within max_sample_gap_s of its first frame):
    # at -3 s; -2 and -1 s fall in the joined coverage and count as seen
    assert late[0].start == T0 - timedelta(seconds=56) and late[1].end == T0 - timedelta(seconds=3)
    assert tracker.counters["frames_late"] == 54 and tracker.counters["frames_dropped"] == 1
    assert tracker.on_frame(_shifted(-30)) == ([], None)  # now covered: a duplicate
    assert tracker.counters["frames_duplicate"] == 6 + 2 + 1
    tail, _ = run(tracker, range(31, 36))
    assert tail == []
    well_formed(live + late)


def _shifted(second: int):
    """A scripted frame at ``second`` (may be negative) whose script key is ``second % 256``."""
    frame = scripted_frame(second % 256, segment="stream-1:late")
    return type(frame)(stream_kind=frame.stream_kind, captured_at=T0 + timedelta(seconds=second),
                       stream_offset=timedelta(seconds=max(0, second + 100)), segment_id=frame.segment_id,
                       image=frame.image)


# ---------------------------------------------------------------------------------- adaptive sampling

CALM = DetectorSettings(gate_max_reuse_s=0, identity_spread=False)  # the default calm period (3 s)
FULL = DetectorSettings(gate_max_reuse_s=0, calm_sample_period_s=0, identity_spread=False)
EVENTS = {"two faces": one_face(count=2), "no face": NO_FACE, "turned away": one_face(yaw=35.0),
          "masked": one_face(occlusion=0.8), "eyes aside": one_face(gaze=-0.25)}


def run_adaptive(tracker: CandidateTracker, seconds):
    """As the service samples: ``wants`` is asked before a frame is decoded, and the frames it declined
    come back through ``earlier`` when the calm ends."""
    seconds = list(seconds)
    changes, requests = [], []

    def earlier(after, before):
        return [scripted_frame(s) for s in seconds if after < T0 + timedelta(seconds=s) < before]

    for s in seconds:
        frame = scripted_frame(s)
        if tracker.wants(frame.stream_kind, frame.captured_at):
            found, request = tracker.on_frame(frame, earlier)
            changes += found
            requests += [request] if request is not None else []
    return changes, requests


def summary(changes):
    return [(ch.incident_id, ch.change, ch.revision, kinds([ch]), ch.start, ch.end, ch.detected_at, ch.severity,
             ch.confidence) for ch in changes]


def test_a_calm_candidate_is_analysed_every_third_second(monkeypatch, pack):
    tracker, script = scripted(monkeypatch, pack, {}, settings=CALM)
    changes, requests = run_adaptive(tracker, range(0, 62))
    assert changes == []
    # every frame until the pose is calibrated, then one in three, and the one the identity check falls due on
    assert script.calls == 5 + len(range(7, 30, 3)) + len(range(30, 62, 3))
    assert tracker.counters["frames_declined_calm"] == 62 - script.calls
    assert [(r.reason, (r.frame.captured_at - T0).total_seconds()) for r in requests] == [
        ("PERIODIC", 0.0), ("PERIODIC", 30.0), ("PERIODIC", 60.0)]


def test_the_frames_declined_before_an_event_are_analysed_when_it_is_seen(monkeypatch, pack):
    faces = {s: one_face(count=2) for s in range(11, 14)}  # a second person for 3 s: seen at 13 only
    full, _ = scripted(monkeypatch, pack, faces, settings=FULL)
    expected, _ = run(full, range(0, 30))
    tracker, _ = scripted(monkeypatch, pack, faces, settings=CALM)
    changes, _ = run_adaptive(tracker, range(0, 30))
    assert kinds(changes) == ["MULTIPLE_FACES", "MULTIPLE_FACES"] and changes[0].start == T0 + timedelta(seconds=11)
    assert summary(changes) == summary(expected)
    assert tracker.counters["frames_backfilled"] == 2


def test_a_glance_costs_the_newest_declined_frame_only(monkeypatch, pack):
    """Seen at 13 s after a calm frame at 10 s: 12 s is clearly normal, so whatever 11 s showed ended
    there without opening anything (one frame never opens): 11 s stays undecoded."""
    tracker, script = scripted(monkeypatch, pack, {13: one_face(yaw=40.0)}, settings=CALM)
    changes, _ = run_adaptive(tracker, range(0, 20))
    assert changes == [] and tracker.counters["frames_backfilled"] == 1
    assert script.calls == 5 + len([7, 10, 12, 13, 14, 17])  # after the glance: 14, then calm again


def test_the_calm_period_never_lets_an_incident_begin_and_end_unseen():
    table = rules_of(DetectorSettings())
    # MULTIPLE_FACES opens after 2 s and 2 frames: at 1 frame/s the shortest run is 3 frames (2 s + the
    # half gap before it); 2 declined frames in a row cannot hold it, 3 could
    assert calm_period(DetectorSettings(), table, 1.0) == 3.0
    assert calm_period(DetectorSettings(), table, 0.5) == 2.5  # at 2 frames/s: 4 declined, spanning 1.5 s
    assert calm_period(DetectorSettings(), table, 2.0) == 4.0
    assert calm_period(DetectorSettings(calm_sample_period_s=0), table, 1.0) == 0.0
    assert calm_period(DetectorSettings(calm_sample_period_s=1), table, 1.0) == 0.0  # every frame anyway


def test_without_the_declined_frames_an_event_is_seen_late(monkeypatch, pack):
    faces = {s: one_face(count=2) for s in range(11, 20)}
    tracker, _ = scripted(monkeypatch, pack, faces, settings=CALM)
    changes = []
    for s in range(0, 30):
        frame = scripted_frame(s)
        if tracker.wants(frame.stream_kind, frame.captured_at):
            changes += tracker.on_frame(frame)[0]  # nothing to go back to
    assert changes[0].start == T0 + timedelta(seconds=13) and tracker.counters["frames_backfilled"] == 0


@settings(max_examples=40, deadline=None)
@given(events=st.lists(st.tuples(st.integers(0, 70), st.integers(1, 9), st.sampled_from(sorted(EVENTS))),
                       max_size=4))
def test_adaptive_sampling_raises_what_sampling_every_frame_raises(pack, events):
    by_second = {}
    for start, length, what in events:
        by_second.update({s: EVENTS[what] for s in range(start, start + length)})
    with pytest.MonkeyPatch.context() as mp:
        full, _ = scripted(mp, pack, by_second, settings=FULL)
        expected, _ = run(full, range(0, 80))
        tracker, _ = scripted(mp, pack, by_second, settings=CALM)
        changes, _ = run_adaptive(tracker, range(0, 80))
    assert summary(changes) == summary(expected)


# ---------------------------------------------------------------------------------- snapshot


def test_snapshot_and_restore_continue_an_open_incident(monkeypatch, pack):
    faces = {s: NO_FACE for s in range(10, 40)}
    tracker, _ = scripted(monkeypatch, pack, faces)
    changes, requests = run(tracker, range(0, 20))
    (opened,) = changes
    snap = tracker.snapshot()
    assert snap.model_pack_id == pack.id and snap.calibration.complete and snap.frames_analysed == 20
    assert snap.last_frame_time.ToDatetime().replace(tzinfo=T0.tzinfo) == T0 + timedelta(seconds=19)
    wire = type(snap).FromString(snap.SerializeToString())
    restored = CandidateTracker.restore(wire, "sit-1", "cand-1", 1, pack, NO_GATE)
    assert restored.calibration.complete and restored.calibration.neutral_pitch == tracker.calibration.neutral_pitch
    assert restored.frames_analysed == 20
    assert restored.live[c.STREAM_KIND_DESKTOP_CAMERA].last_check == requests[-1].frame.captured_at
    before, _ = run(restored, range(15, 20))  # redelivered after the rebalance: already seen
    assert before == []
    after, _ = run(restored, range(20, 50))
    assert [(ch.change, ch.incident_id, ch.revision) for ch in after] == [(CLOSED, opened.incident_id, 2)]
    assert after[0].start == opened.start and after[0].end == T0 + timedelta(seconds=40)
    other_pack = type(pack)(**{**pack.__dict__, "version": "9.9.9"})
    cold = CandidateTracker.restore(wire, "sit-1", "cand-1", 1, other_pack, NO_GATE)
    assert not cold.calibration.complete  # another pose model: calibrate again
    assert cold.live[c.STREAM_KIND_DESKTOP_CAMERA].machines[c.INCIDENT_KIND_NO_FACE].incident_id == opened.incident_id


# ---------------------------------------------------------------------------------- change gate


def test_change_gate_reuses_a_still_picture_within_the_reuse_age(monkeypatch, pack):
    script = Script({}, one_face())
    monkeypatch.setattr(tracker_module, "analyse_faces", script)
    tracker = CandidateTracker("sit-1", "cand-1", 1, pack, DetectorSettings(gate_max_reuse_s=3.0, identity_spread=False))
    still = room((320, 240))
    for s in range(0, 10):
        tracker.on_frame(frame_at(float(s), still))
    assert script.calls == 3  # 0, 4, 8: reused for at most 3 s
    assert tracker.counters["frames_reused"] == 7 and tracker.frames_analysed == 3
    moving = [frame_at(float(s), np.roll(still, 20 * s, axis=1)) for s in range(10, 14)]
    for f in moving:
        tracker.on_frame(f)
    assert script.calls == 7


def test_a_covered_camera_skips_the_face_models(monkeypatch, pack):
    script = Script({}, one_face())
    monkeypatch.setattr(tracker_module, "analyse_faces", script)
    tracker = CandidateTracker("sit-1", "cand-1", 1, pack, NO_GATE)
    changes = []
    for s in range(0, 12):
        changes += tracker.on_frame(frame_at(float(s), uniform(level=5)))[0]
    assert script.calls == 0
    assert kinds(changes) == ["CAMERA_COVERED"]


# ---------------------------------------------------------------------------------- real faces


def test_real_faces_one_candidate_then_a_group_then_darkness(pack):
    """The real models on packaged photos: the astronaut alone for 8 s (nothing), the 6-person group
    photo for 4 s (MULTIPLE_FACES), a dark room for 8 s (TOO_DARK, not NO_FACE), the astronaut again."""
    alone = webcam_frame(astronaut_portrait())
    group = cv2.resize(insightface_image("t1.jpg"), (640, 480))
    dark = (room() * 0.15).astype(np.uint8)  # mean grey ~21, the room still visible
    tracker = CandidateTracker("sit-1", "cand-1", 1, pack, DetectorSettings(identity_spread=False))
    timeline = [alone] * 8 + [group] * 4 + [alone] * 6 + [dark] * 8 + [alone] * 6
    changes, requests = [], []
    for s, image in enumerate(timeline):
        noisy = np.clip(image.astype(np.int16) + np.random.default_rng(s).integers(-3, 4, image.shape), 0, 255)
        found, request = tracker.on_frame(frame_at(float(s), noisy.astype(np.uint8)))
        changes += found
        requests += [request] if request else []
    assert kinds(changes, OPENED) == ["MULTIPLE_FACES", "TOO_DARK"]
    multiple = next(ch for ch in changes if ch.kind == c.INCIDENT_KIND_MULTIPLE_FACES)
    assert int(multiple.attributes["face_count"]) >= 4
    assert requests and requests[0].reason == "PERIODIC"
    assert tracker.calibration.complete
    well_formed(changes)


def test_identity_request_embeds_the_face_like_auth_face_would(pack):
    """The embedding sent instead of a crop is the pack's own: the same as auth-face computes on the
    frame (distance ~0 to an enrolment from that frame)."""
    from proctor_faces import distance, enrol

    image = webcam_frame(astronaut_portrait())
    tracker = CandidateTracker("sit-1", "cand-1", 1, pack, DetectorSettings(identity_spread=False))
    _, request = tracker.on_frame(frame_at(0.0, image))
    assert request is not None and request.reason == "PERIODIC"
    values = tracker.embedding(request)
    assert values is not None and values.shape == (pack.embedder.dim,) and values.dtype == np.float32
    enrolled = enrol(image, pack, embed_refused=True)
    assert enrolled.embedding is not None
    assert distance(values, enrolled.embedding) < 0.05
    assert tracker.embedding(request) is None  # once per request; then the crop path


def test_phone_stream_visible_moved_covered(pack):
    scene = webcam_frame(astronaut_portrait(), face_height=200, x=380)
    empty = room()
    panned = np.roll(scene, (30, 90), axis=(0, 1))  # the phone was turned: the whole view moved
    timeline = [scene] * 6 + [empty] * 12 + [scene] * 4 + [panned] * 7 + [scene] * 4 + [uniform(level=3)] * 7 \
        + [scene] * 4
    tracker = CandidateTracker("sit-1", "cand-1", 1, pack)
    changes = []
    for s, image in enumerate(timeline):
        changes += tracker.on_frame(frame_at(float(s), image, kind=c.STREAM_KIND_PHONE_EVIDENCE,
                                             segment="phone-1:0"))[0]
    assert kinds(changes, OPENED) == ["PHONE_CANDIDATE_NOT_VISIBLE", "PHONE_CAMERA_MOVED", "PHONE_CAMERA_COVERED"]
    assert all(ch.detector == "phone@1" for ch in changes)
    well_formed(changes)


def test_a_calm_phone_is_analysed_every_sixth_second_and_finds_the_same_incidents(pack):
    """The phone lane's calm period is 6 s (its rules are 5-10 s): a calm phone sending a still every 2 s
    is analysed on one in three; a turned or covered phone brings the declined stills back, and the
    incidents are the ones analysing every still gives (same ids, times, revisions)."""
    scene = webcam_frame(astronaut_portrait(), face_height=200, x=380)
    panned = np.roll(scene, (30, 90), axis=(0, 1))
    timeline = [scene] * 12 + [panned] * 5 + [scene] * 9 + [uniform(level=3)] * 4 + [scene] * 8  # 2 s apart
    images = {2.0 * i: image for i, image in enumerate(timeline)}

    def frame(t: float):
        return frame_at(t, images[t], kind=c.STREAM_KIND_PHONE_EVIDENCE, segment="phone-1:0")

    def sitting(settings: DetectorSettings) -> tuple[list, CandidateTracker]:
        tracker, changes = CandidateTracker("sit-1", "cand-1", 1, pack, settings), []

        def earlier(after, before):
            return [frame(t) for t in images if after < T0 + timedelta(seconds=t) < before]

        for t in images:
            if tracker.wants(c.STREAM_KIND_PHONE_EVIDENCE, T0 + timedelta(seconds=t)):
                changes += tracker.on_frame(frame(t), earlier)[0]
        return changes, tracker

    full, _ = sitting(DetectorSettings(calm_sample_period_s=0, phone_calm_sample_period_s=0, identity_spread=False))
    changes, tracker = sitting(DetectorSettings(identity_spread=False))
    assert kinds(full, OPENED) == ["PHONE_CAMERA_MOVED", "PHONE_CAMERA_COVERED"]
    assert summary(changes) == summary(full)
    assert tracker.calm_periods[tracker_module.PHONE] == timedelta(seconds=6)
    assert tracker.counters["frames_declined_calm"] >= 12 and tracker.counters["frames_backfilled"] >= 2
    # a phone that stays calm: the reference frames, then one still in three
    quiet = CandidateTracker("sit-1", "cand-1", 1, pack, DetectorSettings(identity_spread=False))
    analysed = [t for t in range(0, 24, 2) if quiet.wants(c.STREAM_KIND_PHONE_EVIDENCE, T0 + timedelta(seconds=t))
                and quiet.on_frame(frame_at(float(t), scene, kind=c.STREAM_KIND_PHONE_EVIDENCE,
                                            segment="phone-1:0"))]
    assert analysed == [0, 2, 4, 6, 8, 14, 20]  # 5 reference frames, then calm


def test_video_backlog_does_not_outrun_the_focus_gained_report(monkeypatch, pack):
    """After a reconnect the video and the telemetry backlogs race: frames 10 s past a FOCUS_LOST must
    not open FOCUS_LOST before the FOCUS_GAINED (1 s later) is handled; without one it still opens."""
    tracker, _ = scripted(monkeypatch, pack, {})
    out = tracker.on_telemetry(fact(c.TELEMETRY_KIND_FOCUS_LOST, 5, sequence=1))
    changes, _ = run(tracker, range(0, 16))
    out += changes + tracker.on_telemetry(fact(c.TELEMETRY_KIND_FOCUS_GAINED, 6, sequence=2))
    assert "FOCUS_LOST" not in kinds(out)
    other, _ = scripted(monkeypatch, pack, {})
    other.on_telemetry(fact(c.TELEMETRY_KIND_FOCUS_LOST, 5, sequence=1))  # and the window never comes back
    later, _ = run(other, range(0, 40))
    assert kinds(later, OPENED) == ["FOCUS_LOST"]
