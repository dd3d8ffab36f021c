"""Head pose, eye openness and iris position from a FaceMesh (no learned parameters).

Pose: the face's left-right axis is the mean of the vectors between mirror-symmetric mesh points,
its up axis the mean vector from the mouth/chin points to the eyes/forehead points made orthogonal
to it; the face normal is their cross product. The mesh's x, y are frame pixels and z is depth in
the same scale (MediaPipe), so this is a weak-perspective 3D estimate. On a neutral frontal face
the up axis leans back a little: the pack's calibrated ``pitch_offset`` is subtracted."""

from __future__ import annotations

import math

import numpy as np

from proctor_faces.types import Pose

# mirror pairs (image-left index, image-right index): face oval, eyes, brows, lips
_PAIRS = np.array([
    (109, 338), (67, 297), (103, 332), (54, 284), (21, 251), (162, 389), (127, 356), (234, 454),
    (93, 323), (132, 361), (58, 288), (172, 397), (136, 365), (150, 379), (149, 378), (176, 400),
    (148, 377), (33, 263), (133, 362), (160, 387), (158, 385), (144, 373), (153, 380),
    (46, 276), (53, 283), (52, 282), (65, 295), (55, 285), (70, 300), (105, 334), (107, 336),
    (61, 291), (146, 375), (91, 321), (181, 405), (84, 314), (185, 409), (40, 270), (39, 269),
    (37, 267),
])
_UPPER = [33, 133, 263, 362, 70, 105, 107, 300, 334, 336, 9, 151, 108, 337]
_LOWER = [61, 291, 0, 17, 146, 375, 91, 321, 152, 148, 377, 176, 400]


def face_axes(points: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Unit vectors (right, up, forward) of the face in camera coordinates (x right, y down,
    z away from the camera). ``forward`` points out of the face."""
    p = points[:468]
    right = (p[_PAIRS[:, 1]] - p[_PAIRS[:, 0]]).mean(0)
    right /= np.linalg.norm(right) + 1e-12
    up = p[_UPPER].mean(0) - p[_LOWER].mean(0)
    up -= right * float(up @ right)
    up /= np.linalg.norm(up) + 1e-12
    # x right, y down, z away: on a frontal face right = +x, up = -y, so right x up = -z (out of the face)
    forward = np.cross(right, up)
    return right, up, forward


def pose_from_mesh(points: np.ndarray, pitch_offset: float = 0.0) -> Pose:
    right, _, fwd = face_axes(points)
    yaw = math.degrees(math.atan2(fwd[0], -fwd[2]))
    pitch = math.degrees(math.atan2(-fwd[1], math.hypot(fwd[0], fwd[2]))) - pitch_offset
    roll = math.degrees(math.atan2(right[1], right[0]))
    return Pose(yaw=yaw, pitch=pitch, roll=roll)


def _ear(p: np.ndarray, corner_a: int, corner_b: int, top: tuple[int, int], bottom: tuple[int, int]) -> float:
    width = np.linalg.norm(p[corner_a, :2] - p[corner_b, :2])
    gaps = sum(np.linalg.norm(p[t, :2] - p[b, :2]) for t, b in zip(top, bottom, strict=True))
    return float(gaps / (2.0 * width + 1e-9))


def eye_openness(points: np.ndarray) -> tuple[float, float]:
    """Eye aspect ratio (Soukupova & Cech 2016) of the image-left and image-right eye."""
    return (_ear(points, 33, 133, (160, 158), (144, 153)),
            _ear(points, 362, 263, (385, 387), (380, 373)))


def iris_position(points: np.ndarray, eye: int) -> tuple[float, float]:
    """Iris centre relative to the eye: x in [-1, 1] from the image-left corner to the image-right
    corner, y > 0 below the line between the corners, in units of half the eye width."""
    a, b = ((33, 133), (362, 263))[eye]
    if len(points) <= 468 + eye:
        return (0.0, 0.0)
    pa, pb, iris = points[a, :2], points[b, :2], points[468 + eye, :2]
    axis = pb - pa
    half = np.linalg.norm(axis) / 2 + 1e-9
    u = axis / (2 * half)
    rel = iris - (pa + pb) / 2
    return (float(rel @ u / half), float((u[0] * rel[1] - u[1] * rel[0]) / half))
