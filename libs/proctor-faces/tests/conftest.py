"""Shared fixtures: one default pack per test session and real face images that ship with the
installed packages (scikit-image's astronaut, the insightface wheel's sample photos)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import cv2
import numpy as np
import pytest

from proctor_faces import FacesSettings, ModelPack, build_pack


@pytest.fixture(scope="session")
def pack() -> ModelPack:
    p = build_pack(FacesSettings())
    p.warm()
    return p


def insightface_image(name: str) -> np.ndarray:
    spec = importlib.util.find_spec("insightface")
    assert spec is not None and spec.submodule_search_locations
    path = Path(next(iter(spec.submodule_search_locations))) / "data" / "images" / name
    img = cv2.imread(str(path))
    assert img is not None, path
    return img


@pytest.fixture(scope="session")
def astronaut() -> np.ndarray:
    from skimage import data

    return cv2.cvtColor(np.asarray(data.astronaut()), cv2.COLOR_RGB2BGR)


@pytest.fixture(scope="session")
def hanks() -> np.ndarray:
    return insightface_image("Tom_Hanks_54745.png")


@pytest.fixture(scope="session")
def group() -> np.ndarray:
    return insightface_image("t1.jpg")
