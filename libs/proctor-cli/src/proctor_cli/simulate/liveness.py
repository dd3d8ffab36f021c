"""Answering auth-face's liveness challenge with real frames of the candidate's own person.

A simulated person cannot move on request, but their real footage shows them moving. Each identity's
footage is analysed once (the face pack's own pose and eye measurements, cached): where the person
turns left or right and back, looks up, nods, blinks, and where they face the camera with open eyes.
A challenge is answered by playing, in the order asked, the real excerpts of the asked movements
between stretches of the person facing the camera, at the source's frame rate, as if captured from now
on. A horizontally mirrored real turn to the left is a real turn to the right (the only synthetic step).

A challenge asking for a movement the footage never shows is *unanswerable*: the client asks for a new
challenge (within auth-face's rate limits) or is admitted through the audited staff override; the
simulator reports how many logged in each way. Nothing here decides whether an answer passes: auth-face
checks it like any other login.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

import cv2
import numpy as np

from proctor.auth.v1 import auth_face_pb2 as apb
from proctor_cli.simulate.media import FPS, frames
from proctor_runtime.events import ts

TURN, PITCH, MARGIN = 18.0, 12.0, 3.0  # auth-face's defaults (turn_deg, pitch_deg) and a margin above them
JPEG_QUALITY = 75
MAX_FRAMES = 100
TRACK_CACHE = "simulate-v1"  # the footage analyses (``media.CACHE_VERSION`` is the rendered media's)
ACTIONS = {apb.LIVENESS_ACTION_TURN_LEFT: "TURN_LEFT", apb.LIVENESS_ACTION_TURN_RIGHT: "TURN_RIGHT",
           apb.LIVENESS_ACTION_LOOK_UP: "LOOK_UP", apb.LIVENESS_ACTION_NOD: "NOD",
           apb.LIVENESS_ACTION_BLINK: "BLINK"}


@dataclass
class Track:
    """Per frame of the footage at FPS: yaw, pitch (relative to the person's neutral pose), eye openness;
    NaN where there is not exactly one measurable face."""

    yaw: np.ndarray
    pitch: np.ndarray
    ear: np.ndarray

    @property
    def usable(self) -> np.ndarray:
        return ~np.isnan(self.yaw)


def track_path(cache: Path, clip: Path) -> Path:
    """Where a clip's analysis is cached (it depends on the clip only, not on the rendered media)."""
    return cache / TRACK_CACHE / f"track-{clip.stem}.json"


def analyse_clip(clip: Path, cache: Path, pack: object) -> Track:
    path = track_path(cache, clip)
    if path.exists():
        data = json.loads(path.read_text())
    else:
        from proctor_faces.analysis import analyse

        rows = []
        for frame in frames(clip):
            a = analyse(frame, pack, max_faces=1)  # type: ignore[arg-type]
            lm = a.faces[0].landmarks if a.face_count == 1 else None
            usable = lm is not None and lm.presence >= 0.5
            rows.append([lm.pose.yaw, lm.pose.pitch, lm.ear] if usable and lm else [None, None, None])
        data = {"rows": rows}
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(data))
    arr = np.array([[np.nan if v is None else v for v in r] for r in data["rows"]], np.float64)
    with np.errstate(invalid="ignore"):
        frontal = (np.abs(arr[:, 0]) < 12) & (np.abs(arr[:, 1]) < 12)
    ny, np_ = (np.median(arr[frontal, 0]), np.median(arr[frontal, 1])) if frontal.any() else (0.0, 0.0)
    return Track(arr[:, 0] - ny, arr[:, 1] - np_, arr[:, 2])


@dataclass
class Excerpt:
    start: int
    end: int  # exclusive
    mirrored: bool = False
    stride: int = 1


@dataclass
class Repertoire:
    """What one person's footage lets them show."""

    clip: Path
    neutral: Excerpt | None
    moves: dict[str, Excerpt] = field(default_factory=dict)

    def can(self, steps: list[str]) -> bool:
        return self.neutral is not None and all(s in self.moves for s in steps)

    def possible(self) -> bool:
        """Some challenge (a blink and two head movements) can be answered at all."""
        return self.can(["BLINK"]) and len(set(self.moves) & {"TURN_LEFT", "TURN_RIGHT", "LOOK_UP", "NOD"}) >= 2


def _runs(mask: np.ndarray) -> list[tuple[int, int]]:
    out, start = [], None
    for i, v in enumerate([*list(mask), False]):
        if v and start is None:
            start = i
        elif not v and start is not None:
            out.append((start, i))
            start = None
    return out


def _around(peak: np.ndarray, back: np.ndarray, quiet: np.ndarray) -> Excerpt | None:
    """The first peak run, extended towards where the movement starts and ends (``back`` true again) as
    long as every frame stays usable and ``quiet`` (no other movement)."""
    for a, b in _runs(peak & quiet):
        s, e = a, b
        while s > 0 and not back[s - 1] and quiet[s - 1]:
            s -= 1
        while e < len(peak) and not back[e] and quiet[e]:
            e += 1
        return Excerpt(s, e, stride=2)
    return None


def repertoire(clip: Path, track: Track) -> Repertoire:
    y, p, ear, ok = track.yaw, track.pitch, track.ear, track.usable
    with np.errstate(invalid="ignore"):
        eyes = ear[ok & (np.abs(y) < 8) & (np.abs(p) < 8)]
        open_ear = float(np.percentile(eyes, 75)) if len(eyes) else 0.0
        still = ok & (np.abs(y) < 6) & (np.abs(p) < 8) & (ear >= 0.85 * open_ear)
        level = ok & (np.abs(p) < 0.9 * PITCH)
        upright = ok & (np.abs(y) < 0.9 * TURN)
        moves: dict[str, Excerpt] = {}
        found = {
            "TURN_LEFT": _around(ok & (y >= TURN + MARGIN), np.abs(y) < 5, level),
            "TURN_RIGHT": _around(ok & (y <= -TURN - MARGIN), np.abs(y) < 5, level),
            "LOOK_UP": _around(ok & (p >= PITCH + MARGIN), np.abs(p) < 5, upright),
            "NOD": _around(ok & (p <= -PITCH - MARGIN), p >= -4, upright),
        }
        closed = ok & (ear < 0.55 * open_ear) & (np.abs(y) < 8) & (np.abs(p) < 8)
    moves.update({k: v for k, v in found.items() if v is not None})
    for have, want in (("TURN_LEFT", "TURN_RIGHT"), ("TURN_RIGHT", "TURN_LEFT")):
        if have in moves and want not in moves:
            moves[want] = Excerpt(moves[have].start, moves[have].end, mirrored=True, stride=moves[have].stride)
    for a, b in _runs(closed):
        after = min(len(ear), b + 4)
        if after > b and ok[b:after].all() and (ear[b:after] >= 0.55 * open_ear).all():
            moves["BLINK"] = Excerpt(max(0, a - 4), after)
            break
    runs = sorted(_runs(still), key=lambda r: r[1] - r[0], reverse=True)
    neutral = Excerpt(runs[0][0], min(runs[0][1], runs[0][0] + 10)) if runs and runs[0][1] - runs[0][0] >= 4 else None
    return Repertoire(clip, neutral, moves)


def steps_of(challenge: apb.LivenessChallenge) -> list[str]:
    return [ACTIONS.get(s.action, apb.LivenessAction.Name(s.action)) for s in challenge.steps]


def answer(rep: Repertoire, steps: list[str], captured_from: datetime) -> apb.FrameSet:
    """The frames a camera would capture while this person follows ``steps`` (which ``rep.can`` do)."""
    source = frames(rep.clip)
    assert rep.neutral is not None
    plan: list[tuple[Excerpt, int]] = [(rep.neutral, 0)]
    for i, step in enumerate(steps):
        plan += [(rep.moves[step], i), (rep.neutral, i)]
    out = apb.FrameSet()
    t = 0.0
    for excerpt, step_index in plan:
        for k in range(excerpt.start, excerpt.end, excerpt.stride):
            image = source[k]
            if excerpt.mirrored:
                image = cv2.flip(image, 1)
            jpeg = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, JPEG_QUALITY])[1].tobytes()
            out.frames.append(apb.CapturedFrame(jpeg=jpeg, capture_time=ts(captured_from + timedelta(seconds=t)),
                                                step_index=step_index))
            t += excerpt.stride / FPS
    del out.frames[MAX_FRAMES:]
    return out


def capture_seconds(frame_set: apb.FrameSet) -> float:
    if not frame_set.frames:
        return 0.0
    first, last = frame_set.frames[0].capture_time, frame_set.frames[-1].capture_time
    return (last.ToDatetime() - first.ToDatetime()).total_seconds()
