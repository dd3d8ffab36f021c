"""The insightface pack: SCRFD detector + ArcFace embedder (ONNX, through ``insightface`` and
``onnxruntime``) loaded from a mounted model directory, with FaceMesh for landmarks and pose.

Nothing is ever downloaded: the directory must hold the models (for example the licensed
``buffalo_l`` pack: ``det_10g.onnx`` and ``w600k_r50.onnx``; other files are ignored). Every
``*.onnx`` file is routed by insightface's own rule (input shape / output count); exactly one
detector (SCRFD) and one recogniser (ArcFace) must be found."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import numpy as np

from proctor_faces.packs.base import ModelPack, Thresholds
from proctor_faces.packs.mediapipe import FaceMesh
from proctor_faces.types import Detection


def _version(path: Path) -> str:
    digest = hashlib.sha256(path.read_bytes()).hexdigest()[:12]
    return f"{path.name}#sha256:{digest}"


def _session_kwargs(threads: int) -> dict[str, Any]:
    import onnxruntime

    opts = onnxruntime.SessionOptions()
    opts.intra_op_num_threads = threads
    opts.inter_op_num_threads = 1
    return {"providers": ["CPUExecutionProvider"], "sess_options": opts}


class ScrfdDetector:
    id = "scrfd"

    def __init__(self, model: Any, path: Path, score_threshold: float, input_size: int = 640) -> None:
        self.model = model
        self.version = _version(path)
        self.input_size = (input_size, input_size)
        model.prepare(-1, input_size=self.input_size, det_thresh=score_threshold, nms_thresh=0.4)

    def detect(self, frame_bgr: np.ndarray) -> list[Detection]:
        boxes, kps = self.model.detect(frame_bgr, input_size=self.input_size)
        out = []
        for i, b in enumerate(boxes):
            points = kps[i].astype(np.float32) if kps is not None else np.zeros((5, 2), np.float32)
            out.append(Detection(box=(float(b[0]), float(b[1]), float(b[2]), float(b[3])),
                                 score=float(b[4]), keypoints=points))
        return out


class ArcFaceEmbedder:
    id = "arcface"

    def __init__(self, model: Any, path: Path) -> None:
        self.model = model
        self.version = _version(path)
        self.dim = int(model.output_shape[-1])

    def embed(self, frame_bgr: np.ndarray, detection: Detection) -> np.ndarray:
        from insightface.utils import face_align

        kps = detection.keypoints[:5]
        crop = face_align.norm_crop(frame_bgr, landmark=kps, image_size=self.model.input_size[0])
        vec = np.asarray(self.model.get_feat(crop), np.float32).reshape(-1)
        return vec / (np.linalg.norm(vec) + 1e-12)


def route_models(model_dir: Path, threads: int) -> dict[str, tuple[Any, Path]]:
    """Load every ONNX model in the directory with insightface's router; keep detection and
    recognition models, keyed by insightface's task name."""
    from insightface.model_zoo import get_model

    if not model_dir.is_dir():
        raise FileNotFoundError(f"insightface model directory not found: {model_dir}")
    found: dict[str, tuple[Any, Path]] = {}
    for path in sorted(model_dir.glob("*.onnx")):
        model = get_model(str(path), **_session_kwargs(threads))
        task = getattr(model, "taskname", None)
        if task in ("detection", "recognition"):
            if task in found:
                raise ValueError(f"two {task} models in {model_dir}: {found[task][1].name}, {path.name}")
            found[task] = (model, path)
    missing = {"detection", "recognition"} - found.keys()
    if missing:
        raise ValueError(f"{model_dir} lacks a {' and a '.join(sorted(missing))} ONNX model")
    return found


def build_insightface_pack(model_dir: Path, thresholds: Thresholds, config: dict[str, Any],
                           threads: int) -> ModelPack:
    models = route_models(model_dir, threads)
    detector = ScrfdDetector(*models["detection"], score_threshold=thresholds.detect_score)
    return ModelPack(id=config["pack"]["id"], version=config["pack"]["version"], detector=detector,
                     landmarker=FaceMesh(threads, pitch_offset=thresholds.pitch_offset),
                     embedder=ArcFaceEmbedder(*models["recognition"]), thresholds=thresholds, threads=threads)
