"""Active liveness: did the head pose and the eyes follow the challenge, in order?

The frames of a login attempt are analysed one by one (exactly one face each); the neutral pose
is the median of the near-frontal frames; then each step of the challenge must be found after the end of
the previous one. A still image (or a printed photo) neither turns nor blinks; a clip recorded
for another challenge shows its movements in another order or shows movements this challenge did
not ask for. Directions are the candidate's own in an unmirrored camera frame (``mirrored=True``
when the client sends the selfie-preview image)."""

from __future__ import annotations

import itertools
import secrets
from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import StrEnum

import numpy as np

from proctor_faces.analysis import analyse
from proctor_faces.packs.base import ModelPack
from proctor_faces.types import FrameAnalysis, Landmarks


class Step(StrEnum):
    TURN_LEFT = "TURN_LEFT"
    TURN_RIGHT = "TURN_RIGHT"
    LOOK_UP = "LOOK_UP"
    LOOK_DOWN = "LOOK_DOWN"
    NOD = "NOD"
    BLINK = "BLINK"


@dataclass(frozen=True)
class LivenessConfig:
    turn_deg: float = 18.0  # yaw change from neutral that counts as a turn
    pitch_deg: float = 12.0  # pitch change that counts as looking up / down (and a nod)
    return_deg: float = 8.0  # back within this of neutral ends a nod
    blink_ratio: float = 0.65  # EAR under this share of the open-eye EAR counts as closed
    neutral_deg: float = 12.0  # frames within this yaw/pitch of straight ahead define the neutral pose
    min_presence: float = 0.5  # frames where the mesh doubts the face (profile, occluded) are not used
    max_missing_share: float = 0.3  # frames without exactly one face
    unexpected_factor: float = 1.5  # a movement this much past a step threshold but not asked for
    max_duration_s: float = 30.0
    min_frame_change: float = 1.0  # mean absolute pixel change below which two frames are identical


@dataclass
class StepResult:
    step: Step
    passed: bool
    at_s: float | None = None
    reason: str = ""


@dataclass
class Liveness:
    passed: bool
    steps: list[StepResult]
    reasons: list[str] = field(default_factory=list)


@dataclass
class _Track:
    t: np.ndarray
    yaw: np.ndarray
    pitch: np.ndarray
    ear: np.ndarray


def random_challenge(n_moves: int = 2) -> list[Step]:
    """Random head movements (distinct) followed by a blink, which every challenge includes."""
    moves = [Step.TURN_LEFT, Step.TURN_RIGHT, Step.LOOK_UP, Step.NOD]
    chosen: list[Step] = []
    while len(chosen) < n_moves:
        s = moves[secrets.randbelow(len(moves))]
        if s not in chosen:
            chosen.append(s)
    chosen.insert(secrets.randbelow(len(chosen) + 1), Step.BLINK)
    return chosen


def check(challenge: Sequence[Step], frames: Sequence[tuple[float, np.ndarray]],
          pack: ModelPack | None = None, config: LivenessConfig | None = None,
          mirrored: bool = False) -> Liveness:
    """``frames``: (timestamp in seconds, BGR frame) in capture order."""
    analyses = [(ts, analyse(frame, pack, max_faces=1)) for ts, frame in frames]
    static = _all_identical([f for _, f in frames], (config or LivenessConfig()).min_frame_change)
    return check_analyses(challenge, analyses, pack, config, mirrored, static=static)


def check_analyses(challenge: Sequence[Step], analyses: Sequence[tuple[float, FrameAnalysis]],
                   pack: ModelPack | None = None, config: LivenessConfig | None = None,
                   mirrored: bool = False, static: bool = False) -> Liveness:
    if pack is None:
        from proctor_faces.packs import load_pack

        pack = load_pack()
    cfg = config or LivenessConfig()
    steps = [Step(s) for s in challenge]
    fail = [StepResult(s, False, reason="not evaluated") for s in steps]
    reasons = _frame_problems(analyses, pack, cfg)
    if static:
        reasons.append("STATIC_SEQUENCE")
    if reasons:
        return Liveness(False, fail, reasons)
    track = _track(analyses, mirrored, cfg)
    results = _match_steps(steps, track, cfg)
    reasons = [f"STEP_NOT_FOUND:{r.step}" for r in results if not r.passed]
    reasons += _unexpected(steps, track, cfg)
    return Liveness(not reasons, results, reasons)


def _all_identical(frames: Sequence[np.ndarray], min_change: float) -> bool:
    if len(frames) < 2:
        return True
    first = frames[0].astype(np.int16)
    return all(f.shape == first.shape and float(np.abs(f.astype(np.int16) - first).mean()) < min_change
               for f in frames[1:])


def _frame_problems(analyses: Sequence[tuple[float, FrameAnalysis]], pack: ModelPack,
                    cfg: LivenessConfig) -> list[str]:
    if len(analyses) < 5:
        return ["TOO_FEW_FRAMES"]
    times = [t for t, _ in analyses]
    if any(b <= a for a, b in itertools.pairwise(times)):
        return ["TIMESTAMPS_NOT_INCREASING"]
    if times[-1] - times[0] > cfg.max_duration_s:
        return ["TOO_LONG"]
    reasons = []
    counts = [a.face_count for _, a in analyses]
    if max(counts) > 1:
        reasons.append("MULTIPLE_FACES")
    usable = [a.faces[0] for _, a in analyses if _usable(a, cfg)]
    if len(usable) < (1 - cfg.max_missing_share) * len(analyses):
        reasons.append("FACE_NOT_VISIBLE")
    t = pack.thresholds
    masked = sum(1 for f in usable if f.occlusion >= t.occlusion)
    if usable and masked > len(usable) / 2:
        reasons.append("MASKED_OR_OCCLUDED")
    if usable and not any(_frontal(f.landmarks, cfg) for f in usable):
        reasons.append("NO_FRONTAL_FRAME")
    return reasons


def _usable(a: FrameAnalysis, cfg: LivenessConfig) -> bool:
    return a.face_count == 1 and a.faces[0].landmarks is not None \
        and a.faces[0].landmarks.presence >= cfg.min_presence


def _frontal(lm: Landmarks | None, cfg: LivenessConfig) -> bool:
    return lm is not None and abs(lm.pose.yaw) < cfg.neutral_deg and abs(lm.pose.pitch) < cfg.neutral_deg


def _track(analyses: Sequence[tuple[float, FrameAnalysis]], mirrored: bool, cfg: LivenessConfig) -> _Track:
    """Usable frames, with yaw and pitch relative to the neutral pose (the median of the
    near-frontal frames: the candidate faces the screen before and between the moves)."""
    rows, neutral = [], []
    for ts, a in analyses:
        if _usable(a, cfg):
            lm = a.faces[0].landmarks
            assert lm is not None
            rows.append((ts, -lm.pose.yaw if mirrored else lm.pose.yaw, lm.pose.pitch, lm.ear))
            neutral.append(_frontal(lm, cfg))
    arr = np.array(rows, np.float64)
    base = arr[np.array(neutral)]
    return _Track(arr[:, 0], arr[:, 1] - np.median(base[:, 1]), arr[:, 2] - np.median(base[:, 2]), arr[:, 3])


def _match_steps(steps: list[Step], tr: _Track, cfg: LivenessConfig) -> list[StepResult]:
    yaw, pitch = tr.yaw, tr.pitch
    open_ear = float(np.percentile(tr.ear, 75))
    closed = tr.ear < cfg.blink_ratio * open_ear
    results = []
    i = 0
    for step in steps:
        end = _find(step, i, yaw, pitch, closed, tr.ear, open_ear, cfg)
        if end is None:
            results.append(StepResult(step, False, reason="not found after the previous step"))
            results += [StepResult(s, False, reason="previous step missing") for s in steps[len(results):]]
            return results
        results.append(StepResult(step, True, at_s=float(tr.t[end])))
        i = end + 1
    return results


def _first(mask: np.ndarray, start: int) -> int | None:
    idx = np.flatnonzero(mask[start:])
    return int(idx[0]) + start if len(idx) else None


def _find(step: Step, i: int, yaw: np.ndarray, pitch: np.ndarray, closed: np.ndarray,
          ear: np.ndarray, open_ear: float, cfg: LivenessConfig) -> int | None:
    if step is Step.TURN_LEFT:
        return _first(yaw >= cfg.turn_deg, i)
    if step is Step.TURN_RIGHT:
        return _first(yaw <= -cfg.turn_deg, i)
    if step is Step.LOOK_UP:
        return _first(pitch >= cfg.pitch_deg, i)
    if step is Step.LOOK_DOWN:
        return _first(pitch <= -cfg.pitch_deg, i)
    if step is Step.NOD:
        down = _first(pitch <= -cfg.pitch_deg, i)
        return None if down is None else _first(pitch >= -cfg.return_deg, down + 1)
    # BLINK: eyes open, then closed, then open again, with the head roughly still (a turn
    # or a look up narrows the eye outline)
    still = (np.abs(yaw) < cfg.turn_deg) & (np.abs(pitch) < cfg.pitch_deg)
    start = _first(~closed, i)
    if start is None:
        return None
    shut = _first(closed & still, start)
    if shut is None:
        return None
    return _first(ear >= 0.85 * open_ear, shut + 1)


def _unexpected(steps: list[Step], tr: _Track, cfg: LivenessConfig) -> list[str]:
    """Large movements the challenge did not ask for: a replayed clip of another challenge."""
    yaw, pitch = tr.yaw, tr.pitch
    asked = set(steps)
    out = []
    k = cfg.unexpected_factor
    if Step.TURN_LEFT not in asked and yaw.max() >= k * cfg.turn_deg:
        out.append("UNEXPECTED_MOVEMENT:TURN_LEFT")
    if Step.TURN_RIGHT not in asked and yaw.min() <= -k * cfg.turn_deg:
        out.append("UNEXPECTED_MOVEMENT:TURN_RIGHT")
    if Step.LOOK_UP not in asked and pitch.max() >= k * cfg.pitch_deg:
        out.append("UNEXPECTED_MOVEMENT:LOOK_UP")
    if not asked & {Step.LOOK_DOWN, Step.NOD} and pitch.min() <= -k * cfg.pitch_deg:
        out.append("UNEXPECTED_MOVEMENT:LOOK_DOWN")
    return out
