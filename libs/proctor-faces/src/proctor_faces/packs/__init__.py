"""Model packs: ``load_pack(settings)`` builds the configured pack once per process and warms it."""

from __future__ import annotations

import functools
import logging
from pathlib import Path

import cv2

from proctor_faces.config import FacesSettings
from proctor_faces.packs.base import Detector, Embedder, LandmarkModel, ModelPack, Thresholds, read_config

__all__ = ["Detector", "Embedder", "LandmarkModel", "ModelPack", "Thresholds", "build_pack", "load_pack"]

log = logging.getLogger(__name__)
CONFIG_DIR = Path(__file__).parent


def pack_config_path(name: str) -> Path:
    return CONFIG_DIR / f"{name}_pack.json"


def build_pack(settings: FacesSettings) -> ModelPack:
    """A new pack (not cached, not warmed): tests and calibration use this directly."""
    config = read_config(settings.config_file or pack_config_path(settings.pack))
    thresholds = Thresholds.from_config(config)
    cv2.setNumThreads(settings.threads)
    if settings.pack == "insightface":
        from proctor_faces.packs.insightface_pack import build_insightface_pack

        if settings.model_dir is None:
            raise ValueError("PROCTOR_FACES_MODEL_DIR must name the mounted insightface model directory")
        return build_insightface_pack(settings.model_dir, thresholds, config, settings.threads)
    from proctor_faces.packs.dlib_resnet import DlibResNet
    from proctor_faces.packs.mediapipe import BlazeFace, FaceMesh

    t = thresholds
    return ModelPack(
        id=config["pack"]["id"], version=config["pack"]["version"],
        detector=BlazeFace("short", settings.threads, score_threshold=t.detect_score),
        count_detector=BlazeFace("full", settings.threads, score_threshold=t.detect_score),
        landmarker=FaceMesh(settings.threads, pitch_offset=t.pitch_offset),
        embedder=DlibResNet(), thresholds=t, threads=settings.threads)


@functools.cache
def load_pack(settings: FacesSettings | None = None) -> ModelPack:
    """The process-wide pack for these settings, loaded once and warmed up."""
    pack = build_pack(settings or FacesSettings())
    pack.warm()
    log.info("face model pack ready", extra={"pack": pack.describe()})
    return pack
