"""Verification: a frame against an enrolled template -> MATCH / MISMATCH / INCONCLUSIVE."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

import numpy as np

from proctor_faces.analysis import analyse_work, is_away
from proctor_faces.enrol import embed_face
from proctor_faces.packs.base import ModelPack


class Decision(StrEnum):
    MATCH = "MATCH"
    MISMATCH = "MISMATCH"
    INCONCLUSIVE = "INCONCLUSIVE"


class Inconclusive(StrEnum):
    NO_FACE = "NO_FACE"
    MASKED_OR_OCCLUDED = "MASKED_OR_OCCLUDED"
    FACE_TOO_SMALL = "FACE_TOO_SMALL"
    TURNED_AWAY = "TURNED_AWAY"
    NEAR_THRESHOLD = "NEAR_THRESHOLD"


class TemplateMismatch(ValueError):
    """The template was made by another model pack: its embeddings are not comparable."""


@dataclass
class Verification:
    decision: Decision
    distance: float | None
    threshold: float
    reasons: list[Inconclusive] = field(default_factory=list)
    face_count: int = 0


def distance(a: np.ndarray, b: np.ndarray) -> float:
    """Euclidean distance of two L2-normalised embeddings (0 same, 2 opposite)."""
    return float(np.linalg.norm(np.asarray(a, np.float32) - np.asarray(b, np.float32)))


def decide(dist: float, pack: ModelPack) -> Decision:
    t = pack.thresholds
    if t.verify_margin > 0 and abs(dist - t.verify_distance) < t.verify_margin:
        return Decision.INCONCLUSIVE
    return Decision.MATCH if dist <= t.verify_distance else Decision.MISMATCH


def verify(frame_bgr: np.ndarray, template: np.ndarray, pack: ModelPack | None = None,
           template_tag: str | None = None) -> Verification:
    """Compare the largest face in the frame with the template. The distance is always reported
    when a face is found; the decision is INCONCLUSIVE when the face is masked or occluded, too
    small or turned away (the embedding is not trustworthy there), or too close to the threshold."""
    if pack is None:
        from proctor_faces.packs import load_pack

        pack = load_pack()
    if template_tag is not None and template_tag != pack.template_tag():
        raise TemplateMismatch(f"template from {template_tag}, pack is {pack.template_tag()}")
    t = pack.thresholds
    work, faces = analyse_work(frame_bgr, pack, max_faces=1)
    if not faces:
        return Verification(Decision.INCONCLUSIVE, None, t.verify_distance, [Inconclusive.NO_FACE])
    face = faces[0]
    reasons = []
    lm = face.landmarks
    if lm is None or face.occlusion >= t.occlusion or lm.presence < t.min_presence:
        reasons.append(Inconclusive.MASKED_OR_OCCLUDED)
    if face.quality.size_px < t.min_face_px:
        reasons.append(Inconclusive.FACE_TOO_SMALL)
    if lm is not None and is_away(lm.pose, t.away_yaw, t.away_pitch):
        reasons.append(Inconclusive.TURNED_AWAY)
    dist = distance(embed_face(work, face, pack), template)
    decision = decide(dist, pack)
    if decision is Decision.INCONCLUSIVE:
        reasons.append(Inconclusive.NEAR_THRESHOLD)
    if reasons:
        decision = Decision.INCONCLUSIVE
    return Verification(decision, dist, t.verify_distance, reasons, face_count=len(faces))
