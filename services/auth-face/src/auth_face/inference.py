"""The model work of auth-face on its own thread(s): the pack is loaded and warmed once, and every
call into it (CPU-bound, blocking) runs on a dedicated executor, one thread by default, so the event
loop stays responsive. The functions turn proctor_faces results into ``domain`` values."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

import cv2
import numpy as np

from auth_face import metrics
from auth_face.domain import Decision, Issue, LoginAnalysis, Match, QualityIssue, QualityVerdict, Step, StepOutcome
from proctor_faces import FacesSettings, ModelPack, load_pack
from proctor_faces.analysis import Work, analyse_work, is_away
from proctor_faces.enrol import Refusal, embed_face, gate_reasons
from proctor_faces.liveness import check_analyses
from proctor_faces.types import Face, FrameAnalysis
from proctor_faces.verify import Inconclusive, decide, distance, verify
from proctor_runtime.errors import Unavailable

T = TypeVar("T")
NO_MOTION_DEG = 6.0  # a sequence whose head pose never moves this much did not move at all
MATCH_FRAMES = 3  # the most frontal usable frames embedded for the login match (median distance)
INCONCLUSIVE_ISSUE = {Inconclusive.NO_FACE: Issue.NO_FACE, Inconclusive.MASKED_OR_OCCLUDED: Issue.FACE_MASKED,
                      Inconclusive.FACE_TOO_SMALL: Issue.FACE_TOO_SMALL, Inconclusive.TURNED_AWAY: Issue.NOT_FRONTAL}

Frames = Sequence[tuple[float, np.ndarray]]
Analysed = tuple[float, Work, list[Face]]


class Inference:
    def __init__(self, faces: FacesSettings, workers: int = 1,
                 loader: Callable[[FacesSettings], ModelPack] = load_pack) -> None:
        self.faces = faces
        self.loader = loader
        self.executor = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="inference")
        self.pack: ModelPack | None = None

    async def load(self) -> ModelPack:
        """Load and warm the pack on the inference thread (health stays NOT_SERVING meanwhile)."""
        self.pack = await self.run(self.loader, self.faces)
        metrics.PACK_READY.labels(self.pack.id, self.pack.version).set(1)
        return self.pack

    def require(self) -> ModelPack:
        if self.pack is None:
            raise Unavailable("NOT_READY", "the face models are still loading; retry in a few seconds",
                              "人脸识别模型正在加载，请稍后重试", {"retry_after_ms": "2000"})
        return self.pack

    async def run(self, fn: Callable[..., T], *args: Any) -> T:
        metrics.INFERENCE_QUEUE.inc()
        try:
            return await asyncio.get_running_loop().run_in_executor(self.executor, fn, *args)
        finally:
            metrics.INFERENCE_QUEUE.dec()

    def close(self) -> None:
        self.executor.shutdown(wait=False, cancel_futures=True)

    # --- enrolment -------------------------------------------------------------------------------
    def enrol_photo(self, image: np.ndarray) -> tuple[QualityVerdict, np.ndarray | None]:
        """Quality gates on an ID photo; the embedding when it passes."""
        pack = self.require()
        with metrics.timed("enrol", "analyse"):
            work, faces = analyse_work(image, pack)
            refusals = gate_reasons(faces, pack)
        verdict = quality_verdict(faces, refusals, pack)
        if refusals:
            return verdict, None
        with metrics.timed("enrol", "embed"):
            return verdict, embed_face(work, faces[0], pack)

    # --- login -----------------------------------------------------------------------------------
    def analyse_login(self, steps: Sequence[Step], frames: Frames, template: np.ndarray) -> LoginAnalysis:
        """Liveness of the frames against the ordered challenge, and the match with the template."""
        pack = self.require()
        started = time.perf_counter()
        if frames_identical([f for _, f in frames]):
            with metrics.timed("login", "analyse"):
                t0, first = frames[0]
                work, faces = analyse_work(first, pack, max_faces=1)
            return LoginAnalysis(len(frames), ["STATIC_SEQUENCE"], [StepOutcome(s, False) for s in steps],
                                 self._match([(t0, work, faces)], template), still=True)
        with metrics.timed("login", "analyse"):
            analysed: list[Analysed] = [(t, *analyse_work(f, pack, max_faces=1)) for t, f in frames]
        with metrics.timed("login", "liveness"):
            views = [(t, FrameAnalysis(f.shape[1], f.shape[0], faces, w.offset != (0, 0)))
                     for (t, w, faces), (_, f) in zip(analysed, frames, strict=True)]
            live = check_analyses([str(s) for s in steps], views, pack)
            outcomes = [StepOutcome(Step(r.step.value), r.passed) for r in live.steps]
            reasons = list(live.reasons)
            only_steps_missed = all(r.startswith("STEP_NOT_FOUND") for r in reasons)
            if not any(o.passed for o in outcomes) and only_steps_missed and _pose_range(analysed) < NO_MOTION_DEG:
                reasons.append("NO_MOTION")  # a printed photo held up: frames differ, the head never moves
        with metrics.timed("login", "embed"):
            match = self._match(analysed, template)
        metrics.VERIFY_SECONDS.labels("login", "total").observe(time.perf_counter() - started)
        return LoginAnalysis(len(frames), reasons, outcomes, match)

    def _match(self, analysed: Sequence[Analysed], template: np.ndarray) -> Match:
        """The median distance of the most frontal usable frames; INCONCLUSIVE with the reason that
        kept the frames out when none is usable (masked, too small, turned away, no face)."""
        pack = self.require()
        t = pack.thresholds
        usable: list[tuple[float, float, Work, Face]] = []
        refused: dict[Issue, int] = {}
        most_faces = 0
        for _, work, faces in analysed:
            most_faces = max(most_faces, len(faces))
            issue = _unusable(faces, pack)
            if issue is None:
                usable.append((faces[0].quality.frontalness, faces[0].quality.blur, work, faces[0]))
            else:
                refused[issue] = refused.get(issue, 0) + 1
        if not usable:
            ranked = sorted(refused, key=lambda i: -refused[i]) or [Issue.NO_FACE]
            return Match(Decision.INCONCLUSIVE, None, t.verify_distance, ranked[:1], most_faces)
        best = sorted(usable, key=lambda u: (-u[0], -u[1]))[:MATCH_FRAMES]
        dist = float(np.median([distance(embed_face(w, f, pack), template) for _, _, w, f in best]))
        return Match(Decision(decide(dist, pack).value), dist, t.verify_distance, [], most_faces)

    # --- re-verification ---------------------------------------------------------------------------
    def reverify_image(self, image: np.ndarray, template: np.ndarray) -> Match:
        pack = self.require()
        with metrics.timed("reverify", "models"):
            v = verify(image, template, pack)
        reasons = [INCONCLUSIVE_ISSUE[r] for r in v.reasons if r in INCONCLUSIVE_ISSUE]
        return Match(Decision(v.decision.value), v.distance, v.threshold, reasons, v.face_count)

    def compare(self, embedding: np.ndarray, template: np.ndarray) -> Match:
        pack = self.require()
        dist = distance(embedding, template)
        return Match(Decision(decide(dist, pack).value), dist, pack.thresholds.verify_distance, [], 0)


def _unusable(faces: list[Face], pack: ModelPack) -> Issue | None:
    t = pack.thresholds
    if not faces:
        return Issue.NO_FACE
    if len(faces) > 1:
        return Issue.MULTIPLE_FACES
    face, lm = faces[0], faces[0].landmarks
    if lm is not None and face.occlusion >= t.occlusion:
        return Issue.FACE_MASKED
    if lm is None or lm.presence < t.min_presence:
        return Issue.FACE_OCCLUDED
    if face.quality.size_px < t.min_face_px:
        return Issue.FACE_TOO_SMALL
    if is_away(lm.pose, t.away_yaw, t.away_pitch):
        return Issue.NOT_FRONTAL
    return None


def _pose_range(analysed: Sequence[Analysed]) -> float:
    poses = [faces[0].landmarks.pose for _, _, faces in analysed if len(faces) == 1 and faces[0].landmarks]
    if len(poses) < 2:
        return 0.0
    yaw = [p.yaw for p in poses]
    pitch = [p.pitch for p in poses]
    return max(max(yaw) - min(yaw), max(pitch) - min(pitch))


def frames_identical(images: Sequence[np.ndarray], min_change: float = 1.0) -> bool:
    """True when every frame equals the first (mean absolute grey difference below ``min_change``
    on a 160x120 thumbnail): a still image sent again and again."""
    if len(images) < 2:
        return True
    first = images[0]

    def thumb(img: np.ndarray) -> np.ndarray:
        grey = cv2.cvtColor(img, cv2.COLOR_BGR2GRAY) if img.ndim == 3 else img
        return cv2.resize(grey, (160, 120), interpolation=cv2.INTER_AREA).astype(np.int16)

    base = thumb(first)
    return all(img.shape == first.shape and float(np.abs(thumb(img) - base).mean()) < min_change
               for img in images[1:])


def quality_verdict(faces: list[Face], refusals: list[Refusal], pack: ModelPack) -> QualityVerdict:
    v = QualityVerdict(accepted=not refusals, face_count=len(faces))
    face = faces[0] if faces else None
    lm = face.landmarks if face else None
    if face is not None:
        v.face_height_px = round(face.detection.height)
        v.sharpness = round(face.quality.blur, 2)
        v.detector_score = round(face.detection.score, 4)
    if lm is not None:
        v.yaw_deg, v.pitch_deg = round(lm.pose.yaw, 2), round(lm.pose.pitch, 2)
    for r in refusals:
        v.issues.append(_issue(r, faces, pack))
    return v


def _issue(r: Refusal, faces: list[Face], pack: ModelPack) -> QualityIssue:
    t = pack.thresholds
    if r is Refusal.NO_FACE:
        return QualityIssue(Issue.NO_FACE, 0, 1)
    face = faces[0]
    q, lm = face.quality, face.landmarks
    if r is Refusal.MULTIPLE_FACES:
        return QualityIssue(Issue.MULTIPLE_FACES, len(faces), 1)
    if r is Refusal.FACE_TOO_SMALL:
        return QualityIssue(Issue.FACE_TOO_SMALL, round(q.size_px, 1), t.min_face_px)
    if r is Refusal.BLURRED:
        return QualityIssue(Issue.BLURRED, round(q.blur, 2), t.min_blur)
    if r is Refusal.TOO_DARK:
        return QualityIssue(Issue.TOO_DARK, round(q.brightness, 1), t.min_brightness)
    if r is Refusal.EYES_CLOSED and lm is not None:
        return QualityIssue(Issue.EYES_CLOSED, round(max(lm.ear_left, lm.ear_right), 3), t.min_ear)
    if r is Refusal.NOT_FRONTAL:
        if lm is None:
            return QualityIssue(Issue.NOT_FRONTAL, 0, t.max_enrol_yaw)
        if abs(lm.pose.yaw) > t.max_enrol_yaw:
            return QualityIssue(Issue.NOT_FRONTAL, round(lm.pose.yaw, 1), t.max_enrol_yaw)
        return QualityIssue(Issue.NOT_FRONTAL, round(lm.pose.pitch, 1), t.max_enrol_pitch)
    # MASKED_OR_OCCLUDED: the mask model is confident -> masked; the mesh doubts the face -> occluded
    if lm is not None and face.occlusion >= t.enrol_occlusion:
        return QualityIssue(Issue.FACE_MASKED, round(face.occlusion, 3), t.enrol_occlusion)
    return QualityIssue(Issue.FACE_OCCLUDED, round(lm.presence, 3) if lm else 0.0, t.min_presence)
