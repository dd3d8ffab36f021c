"""Enrolment quality gates: one face, big, sharp, frontal, eyes open, unmasked, lit enough."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

import numpy as np

from proctor_faces.analysis import Work, analyse_work, shift_detection
from proctor_faces.packs.base import ModelPack
from proctor_faces.types import Face


class Refusal(StrEnum):
    NO_FACE = "NO_FACE"
    MULTIPLE_FACES = "MULTIPLE_FACES"
    FACE_TOO_SMALL = "FACE_TOO_SMALL"
    BLURRED = "BLURRED"
    NOT_FRONTAL = "NOT_FRONTAL"
    EYES_CLOSED = "EYES_CLOSED"
    MASKED_OR_OCCLUDED = "MASKED_OR_OCCLUDED"
    TOO_DARK = "TOO_DARK"


@dataclass
class Enrolment:
    accepted: bool
    reasons: list[Refusal] = field(default_factory=list)
    face: Face | None = None
    embedding: np.ndarray | None = None  # only when accepted (or when asked for regardless)
    template_tag: str = ""


def gate_reasons(faces: list[Face], pack: ModelPack) -> list[Refusal]:
    """Every gate the photo fails, in a fixed order (empty = acceptable)."""
    t = pack.thresholds
    if not faces:
        return [Refusal.NO_FACE]
    reasons = []
    if len(faces) > 1:
        reasons.append(Refusal.MULTIPLE_FACES)
    face = faces[0]
    q = face.quality
    if q.size_px < t.min_face_px:
        reasons.append(Refusal.FACE_TOO_SMALL)
    if q.blur < t.min_blur:
        reasons.append(Refusal.BLURRED)
    lm = face.landmarks
    if lm is None or abs(lm.pose.yaw) > t.max_enrol_yaw or abs(lm.pose.pitch) > t.max_enrol_pitch:
        reasons.append(Refusal.NOT_FRONTAL)
    if lm is not None and max(lm.ear_left, lm.ear_right) < t.min_ear:
        reasons.append(Refusal.EYES_CLOSED)
    if lm is None or face.occlusion >= t.enrol_occlusion or lm.presence < t.min_presence:
        reasons.append(Refusal.MASKED_OR_OCCLUDED)
    if q.brightness < t.min_brightness:
        reasons.append(Refusal.TOO_DARK)
    return reasons


def enrol(frame_bgr: np.ndarray, pack: ModelPack | None = None, embed_refused: bool = False) -> Enrolment:
    """Run the gates on a registration photo; embed the face when it passes (or always with
    ``embed_refused``, for evaluation)."""
    if pack is None:
        from proctor_faces.packs import load_pack

        pack = load_pack()
    work, faces = analyse_work(frame_bgr, pack)
    reasons = gate_reasons(faces, pack)
    face = faces[0] if faces else None
    emb = None
    if face is not None and (not reasons or embed_refused):
        emb = embed_face(work, face, pack)
    return Enrolment(accepted=not reasons, reasons=reasons, face=face, embedding=emb,
                     template_tag=pack.template_tag())


def embed_face(work: Work, face: Face, pack: ModelPack) -> np.ndarray:
    """Embed a face returned by :func:`analyse_work` (its coordinates are in the input frame)."""
    dx, dy = work.offset
    return pack.embedder.embed(work.frame, shift_detection(face.detection, dx, dy))
