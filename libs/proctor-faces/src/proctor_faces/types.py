"""Plain result types shared by the model packs and the analysis functions (no model code here)."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


@dataclass(frozen=True)
class Detection:
    """One face from a detector, in pixel coordinates of the analysed frame."""

    box: tuple[float, float, float, float]  # x0, y0, x1, y1
    score: float
    keypoints: np.ndarray  # (K, 2): K = 6 for BlazeFace, 5 for SCRFD

    @property
    def width(self) -> float:
        return self.box[2] - self.box[0]

    @property
    def height(self) -> float:
        return self.box[3] - self.box[1]


@dataclass(frozen=True)
class Pose:
    """Head pose in degrees. yaw > 0: the candidate turns to their own left (the nose moves to the
    image right in an unmirrored frame); pitch > 0: head tilted up; roll > 0: clockwise in the image."""

    yaw: float
    pitch: float
    roll: float


@dataclass(frozen=True)
class Landmarks:
    """FaceMesh output for one face: 468 points (x, y in pixels, z in the same scale), eyes refined
    with the iris model, iris centres, eye openness (EAR) and the mesh's face-presence score."""

    points: np.ndarray  # (468, 3)
    presence: float
    pose: Pose
    ear_left: float  # the eye on the image left (the candidate's right eye)
    ear_right: float
    iris_left: tuple[float, float]  # iris centre in eye coordinates: x in [-1, 1] corner to corner
    iris_right: tuple[float, float]

    @property
    def ear(self) -> float:
        return (self.ear_left + self.ear_right) / 2.0

    @property
    def gaze(self) -> tuple[float, float]:
        """Mean iris position of both eyes (eye coordinates). Eyes turned away with the head still
        show here, not in the pose: compare with the candidate's own baseline."""
        return ((self.iris_left[0] + self.iris_right[0]) / 2.0, (self.iris_left[1] + self.iris_right[1]) / 2.0)


@dataclass(frozen=True)
class Quality:
    size_px: float  # face box short side in pixels
    interocular_px: float
    blur: float  # variance of the Laplacian on the face normalised to 112 px
    brightness: float  # mean grey level in the face box, 0-255
    frontalness: float  # 1 = frontal, 0 = |yaw| >= 45 or |pitch| >= 35 (after the neutral offset)


@dataclass(frozen=True)
class Face:
    detection: Detection
    landmarks: Landmarks | None  # None when the mesh found no face in the detector's box
    occlusion: float  # mask / occlusion score in [0, 1]; >= the pack's threshold means masked
    quality: Quality

    @property
    def pose(self) -> Pose | None:
        return self.landmarks.pose if self.landmarks else None


@dataclass(frozen=True)
class FrameAnalysis:
    width: int
    height: int
    faces: list[Face] = field(default_factory=list)
    padded: bool = False  # the frame was padded (tight crop) before detection

    @property
    def face_count(self) -> int:
        return len(self.faces)

    def main_face(self) -> Face | None:
        """The largest face (the candidate in front of the camera)."""
        if not self.faces:
            return None
        return max(self.faces, key=lambda f: f.detection.width * f.detection.height)
