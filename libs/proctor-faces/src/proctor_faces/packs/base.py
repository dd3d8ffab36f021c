"""The model pack interface: detector, landmarks/pose and embedder, each with an id and a version,
assembled with calibrated thresholds into a pack that is loaded once per process and warmed up."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import numpy as np

from proctor_faces.types import Detection, Landmarks


@runtime_checkable
class Detector(Protocol):
    id: str
    version: str

    def detect(self, frame_bgr: np.ndarray) -> list[Detection]:
        """All faces above the detector's score threshold, after NMS, in frame pixels."""
        ...


@runtime_checkable
class LandmarkModel(Protocol):
    id: str
    version: str

    def landmarks(self, frame_bgr: np.ndarray, detection: Detection) -> Landmarks | None:
        """Mesh, pose, eyes and presence for one detected face; None if the model sees no face."""
        ...


@runtime_checkable
class Embedder(Protocol):
    id: str
    version: str
    dim: int

    def embed(self, frame_bgr: np.ndarray, detection: Detection) -> np.ndarray:
        """Aligned crop -> L2-normalised float32 embedding of length ``dim``."""
        ...


@dataclass(frozen=True)
class Thresholds:
    """Calibrated decision thresholds of one pack (read from the pack's JSON config)."""

    verify_distance: float  # distance <= this: same person
    verify_margin: float  # |distance - threshold| < margin: INCONCLUSIVE rather than a guess
    detect_score: float  # detector score to consider a face (then confirmed by the mesh)
    strong_score: float  # detector score that counts a face without the mesh's confirmation
    min_face_px: int  # enrolment: short side of the face box
    min_blur: float  # enrolment: variance of Laplacian at 112 px
    min_brightness: float
    max_enrol_yaw: float
    max_enrol_pitch: float
    min_ear: float  # eyes closed below this
    occlusion: float  # masked or occluded at or above this score (frame analysis, verification)
    enrol_occlusion: float  # enrolment refuses as MASKED_OR_OCCLUDED at or above this score
    away_yaw: float
    away_pitch: float
    pitch_offset: float  # the landmark model's pitch on a neutral frontal face (subtracted)
    min_presence: float  # the mesh's face-presence score under which the face counts as occluded
    raw: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> Thresholds:
        t = config["thresholds"]
        names = [f for f in cls.__dataclass_fields__ if f != "raw"]
        return cls(**{n: t[n] for n in names}, raw=config)


def read_config(path: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return data


@dataclass
class ModelPack:
    """Detector + landmarks + embedder + thresholds. Build through :func:`proctor_faces.load_pack`."""

    id: str
    version: str
    detector: Detector
    landmarker: LandmarkModel
    embedder: Embedder
    thresholds: Thresholds
    threads: int = 1
    count_detector: Detector | None = None  # a detector for counting small faces (defaults to detector)
    warmed: bool = False

    @property
    def counter(self) -> Detector:
        return self.count_detector or self.detector

    def describe(self) -> dict[str, Any]:
        parts = {"detector": self.detector, "landmarks": self.landmarker, "embedder": self.embedder}
        return {"pack": self.id, "version": self.version, "threads": self.threads,
                **{k: {"id": v.id, "version": v.version} for k, v in parts.items()}}

    @property
    def config_digest(self) -> str:
        raw = json.dumps(self.thresholds.raw, sort_keys=True).encode()
        return hashlib.sha256(raw).hexdigest()[:16]

    def template_tag(self) -> str:
        """What a stored template must carry: embeddings of two packs are not comparable."""
        return f"{self.id}@{self.version}/{self.embedder.id}@{self.embedder.version}"

    def warm(self) -> None:
        """Run every model once on a synthetic frame so the first real request is not slow."""
        frame = np.full((480, 640, 3), 127, np.uint8)
        self.counter.detect(frame)
        self.detector.detect(frame)
        fake = Detection(box=(240.0, 160.0, 400.0, 320.0), score=1.0,
                         keypoints=np.array([[290, 220], [350, 220], [320, 260], [320, 290],
                                             [250, 230], [390, 230]], np.float32))
        self.landmarker.landmarks(frame, fake)
        self.embedder.embed(frame, fake)
        self.warmed = True
