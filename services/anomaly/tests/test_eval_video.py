"""``proctor eval video``: the whole per-candidate pipeline over clips — composed from packaged faces
on a fresh machine, and the real clips of ../shared/testdata/faces (the issue's acceptance)."""

from __future__ import annotations

import argparse
import csv
import json

import cv2
import numpy as np
import pytest
from anomaly_clips import (
    astronaut_portrait,
    group_member,
    insightface_image,
    room,
    session_pack,
    webcam_frame,
    write_clip,
)

from anomaly.evaluation import eval_video
from anomaly.temporal import DetectorSettings
from proctor_cli import commands_eval
from proctor_cli.main import emit

EVAL = DetectorSettings(identity_interval_s=10)


@pytest.fixture(scope="module")
def composed(tmp_path_factory):
    """Four candidates: honest, leaves for 8 s, swapped for another person, joined by a group."""
    root = tmp_path_factory.mktemp("clips")
    me = webcam_frame(astronaut_portrait())
    other = webcam_frame(group_member())
    group = cv2.resize(insightface_image("t1.jpg"), (640, 480))
    clips = {
        "honest.mp4": [(me, 12.0)],
        "leaves.mp4": [(me, 6.0), (room(), 8.0), (me, 6.0)],
        "swapped.mp4": [(me, 6.0), (other, 10.0)],
        "group.mp4": [(me, 4.0), (group, 5.0), (me, 5.0)],
    }
    with (root / "manifest.csv").open("w", newline="", encoding="utf-8") as fh:
        out = csv.writer(fh)
        out.writerow(["file", "category", "label_details", "source_repo", "source_path", "commit", "license"])
        for name, scenes in clips.items():
            write_clip(root / name, scenes, fps=10, gop=10)
            out.writerow([name, "video", "content=composed from packaged photos", "", "", "", ""])
        out.writerow(["not_a_clip.jpg", "verification", "identity=x", "", "", "", ""])
    return root


@pytest.fixture(scope="module")
def composed_result(composed):
    return eval_video(composed / "manifest.csv", composed, session_pack(), settings=EVAL)


def incidents(result, clip):
    return [(i["kind"], i["start_s"], i["end_s"]) for i in result["clips"][clip]["incidents"]]


def test_an_honest_candidate_raises_nothing(composed_result):
    clip = composed_result["clips"]["honest"]
    assert clip["incidents"] == []
    assert clip["sampling_mode"] == "keyframes"
    # every frame until the pose is calibrated (0-4 s), then one in three while all is normal: 7 s, 10 s
    assert (clip["frames_sampled"], clip["frames_declined"], clip["frames_backfilled"]) == (7, 5, 0)
    assert clip["enrolled_at_s"] == 0.0 and [c["decision"] for c in clip["identity_checks"]] == ["MATCH", "MATCH"]
    assert clip["calibration"]["complete"]


def test_leaving_the_camera_is_one_no_face_incident(composed_result):
    (kind, start, end), = incidents(composed_result, "leaves")
    assert kind == "NO_FACE" and start == 6.0 and end == 14.0
    checks = composed_result["clips"]["leaves"]["identity_checks"]
    assert [(c["reason"], c["at_s"], c["decision"]) for c in checks] == [
        ("PERIODIC", 0.0, "MATCH"), ("TRACK_REACQUIRED", 14.0, "MATCH")]


def test_another_person_in_the_seat_is_an_identity_mismatch(composed_result):
    found = incidents(composed_result, "swapped")
    assert [k for k, _, _ in found] == ["IDENTITY_MISMATCH"]
    assert 6.0 <= found[0][1] <= 10.0  # the first mismatching check's frame
    decisions = [(c["reason"], c["decision"]) for c in composed_result["clips"]["swapped"]["identity_checks"]]
    assert decisions[0] == ("PERIODIC", "MATCH") and decisions.count(("CONFIRM", "MISMATCH")) == 1


def test_a_group_behind_the_candidate_is_multiple_faces(composed_result):
    found = incidents(composed_result, "group")
    assert [k for k, _, _ in found] == ["MULTIPLE_FACES"] and found[0][1] == 4.0 and found[0][2] == 9.0


def test_totals_and_cost_fields(composed_result):
    totals = composed_result["totals"]
    assert totals["clips"] == 4 and totals["incidents"] == 3
    assert totals["frames_analysed"] <= totals["frames_sampled"] == sum(
        c["frames_sampled"] for c in composed_result["clips"].values())
    for clip in composed_result["clips"].values():
        cpu = clip["cpu_seconds"]
        assert cpu["total"] > 0 and cpu["decode"] > 0 and cpu["tracker"] > 0


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="proctor")
    commands_eval.register(p.add_subparsers(dest="command", required=True))
    return p


def test_cli_prints_one_json_object(composed, capsys):
    args = _parser().parse_args(["eval", "video", "--manifest", str(composed / "manifest.csv"), "--rate", "1",
                                 "--mode", "decode", "--json"])
    assert args.handler is commands_eval.video_command and args.identity_interval == 10.0
    emit(args.handler(args), args.json)
    out = json.loads(capsys.readouterr().out)
    assert set(out["clips"]) == {"honest", "leaves", "swapped", "group"} and out["mode"] == "decode"
    assert all(c["sampling_mode"] == "decode" for c in out["clips"].values())
    assert "text" not in out and out["settings"]["identity_interval_s"] == 10.0


@pytest.mark.shared_data
def test_acceptance_on_the_shared_clips(shared_faces):
    """Issue 6: pai_center_left_center raises GAZE_AWAY during its away segment, pai_center_focus
    raises nothing, no talking-head clip raises an identity or face-count incident."""
    result = eval_video(shared_faces / "manifest.csv", shared_faces, session_pack(), settings=EVAL)
    checks = result["checks"]
    assert checks["pai_center_left_center_gaze_away"] and checks["pai_center_focus_no_incident"]
    assert checks["talking_heads_no_identity_or_face_count"], checks["talking_heads_offending"]
    (away,) = result["clips"]["pai_center_left_center"]["incidents"]
    assert away["kind"] == "GAZE_AWAY" and 5.0 <= away["start_s"] <= 6.5 and 9.5 <= away["end_s"] <= 12.0
    for name, clip in result["clips"].items():
        if name.startswith("lp_"):
            assert clip["incidents"] == [] and clip["enrolled_at_s"] == 0.0
            assert {c["decision"] for c in clip["identity_checks"]} == {"MATCH"}
    assert result["clips"]["pai_center_left_center"]["rotation"] == 90
    assert np.isfinite(result["totals"]["tracker_ms_per_analysed_frame"])
