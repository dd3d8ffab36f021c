"""Liveness on real frames: a repeated still image, and a real head-turn clip from the shared data."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from proctor_faces import liveness
from proctor_faces.liveness import Step, check, check_analyses, random_challenge


def test_random_challenge_always_blinks_and_moves():
    for _ in range(20):
        ch = random_challenge()
        assert Step.BLINK in ch and len(ch) == 3 and len(set(ch)) == 3


def test_repeated_still_image_fails(pack, astronaut):
    frames = [(i * 0.2, astronaut) for i in range(15)]
    result = check([Step.TURN_LEFT, Step.BLINK, Step.TURN_RIGHT], frames, pack)
    assert not result.passed
    assert "STATIC_SEQUENCE" in result.reasons


def test_printed_photo_held_still_fails(pack, astronaut):
    # the same photo re-captured with sensor noise and a slight shift: frames differ, the face
    # inside never turns nor blinks
    rng = np.random.default_rng(0)
    frames = []
    for i in range(15):
        m = np.float32([[1, 0, i % 3], [0, 1, (i // 3) % 2]])
        img = cv2.warpAffine(astronaut, m, (512, 512), borderMode=cv2.BORDER_REPLICATE)
        noisy = np.clip(img.astype(np.int16) + rng.integers(-6, 7, img.shape), 0, 255).astype(np.uint8)
        frames.append((i * 0.2, noisy))
    result = check([Step.TURN_LEFT, Step.BLINK, Step.TURN_RIGHT], frames, pack)
    assert not result.passed
    assert "STATIC_SEQUENCE" not in result.reasons
    assert any(r.startswith("STEP_NOT_FOUND") for r in result.reasons)


def test_timestamps_must_increase(pack, astronaut, hanks):
    frames = [(1.0, astronaut), (0.5, hanks)] * 4
    assert "TIMESTAMPS_NOT_INCREASING" in check([Step.TURN_LEFT], frames, pack).reasons


@pytest.fixture(scope="module")
def head_turns(shared_faces, pack):
    """lamia_head_turns.webm: turns to the image right (the candidate's left), looks up, turns to
    the image left, then faces the camera. Every third frame, analysed once."""
    cap = cv2.VideoCapture(str(shared_faces / "video" / "lamia_head_turns.webm"))
    fps = cap.get(cv2.CAP_PROP_FPS) or 30.0
    frames, i = [], 0
    while True:
        ok, frame = cap.read()
        if not ok:
            break
        if i % 3 == 0:
            frames.append((i / fps, liveness.analyse(frame, pack, max_faces=1)))
        i += 1
    cap.release()
    assert len(frames) > 50
    return frames


def test_clip_following_the_challenge_passes(head_turns, pack):
    result = check_analyses([Step.TURN_LEFT, Step.LOOK_UP, Step.TURN_RIGHT], head_turns, pack)
    assert result.passed, result.reasons
    times = [s.at_s for s in result.steps]
    assert times == sorted(times)


def test_clip_in_another_order_fails(head_turns, pack):
    result = check_analyses([Step.TURN_RIGHT, Step.LOOK_UP, Step.TURN_LEFT], head_turns, pack)
    assert not result.passed
    assert "STEP_NOT_FOUND:TURN_LEFT" in result.reasons


def test_clip_for_another_challenge_fails(head_turns, pack):
    # its moves include the ones asked, but also a look up nobody asked for: a replayed clip
    result = check_analyses([Step.TURN_LEFT, Step.TURN_RIGHT], head_turns, pack)
    assert not result.passed
    assert "UNEXPECTED_MOVEMENT:LOOK_UP" in result.reasons
    assert not check_analyses([Step.NOD, Step.TURN_LEFT], head_turns, pack).passed


def test_mirrored_frames_swap_left_and_right(head_turns, pack):
    ok = check_analyses([Step.TURN_RIGHT, Step.LOOK_UP, Step.TURN_LEFT], head_turns, pack, mirrored=True)
    assert ok.passed, ok.reasons
