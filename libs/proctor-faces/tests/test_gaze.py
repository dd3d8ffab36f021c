"""Eyes-only gaze away on the real selfie clips: the head stays still, the irises move."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from proctor_faces import analyse

pytestmark = pytest.mark.shared_data


def gaze_track(path, pack, every: int = 12) -> list[tuple[float, float, float]]:
    cap = cv2.VideoCapture(str(path))
    fps = cap.get(cv2.CAP_PROP_FPS) or 24.0
    out, i = [], 0
    while True:
        ok, frame = cap.read()
        if not ok:
            break
        if i % every == 0:
            a = analyse(frame, pack, max_faces=1)
            if a.face_count == 1 and a.faces[0].landmarks is not None:
                lm = a.faces[0].landmarks
                out.append((i / fps, lm.gaze[0], lm.pose.yaw))
        i += 1
    cap.release()
    return out


def test_look_away_with_the_eyes_moves_the_iris_not_the_head(shared_faces, pack):
    track = np.array(gaze_track(shared_faces / "video" / "pai_center_left_center.mp4", pack))
    t, gaze, yaw = track[:, 0], track[:, 1], track[:, 2]
    baseline = np.median(gaze[t < 4.0])
    away = np.abs(gaze - baseline) > 0.12
    assert away[(t > 6.5) & (t < 9.5)].all()  # the clip's "away left" segment
    assert not away[t < 5.0].any() and not away[t > 11.0].any()
    assert np.abs(yaw).max() < 10  # the head itself barely turns


def test_steady_clip_has_no_gaze_shift(shared_faces, pack):
    track = np.array(gaze_track(shared_faces / "video" / "pai_center_focus.mp4", pack))
    gaze = track[:, 1]
    assert np.abs(gaze - np.median(gaze[:8])).max() < 0.08
