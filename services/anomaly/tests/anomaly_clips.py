"""Test material for the anomaly tracker on a fresh machine: real faces that ship with installed
packages (scikit-image's astronaut, the insightface wheel's sample photos) composed into short
H.264 / VP9 clips with PyAV, and scripted face facts for pure temporal tests."""

from __future__ import annotations

import functools
import importlib.util
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from fractions import Fraction
from pathlib import Path

import av
import cv2
import numpy as np

from anomaly.model import Frame
from anomaly.signals import FaceSignals
from proctor.common.v1 import common_pb2 as c

T0 = datetime(2026, 6, 7, 9, 0, tzinfo=UTC)


@functools.cache
def session_pack():
    from proctor_faces import FacesSettings, build_pack

    pack = build_pack(FacesSettings())
    pack.warm()
    return pack


def insightface_image(name: str) -> np.ndarray:
    spec = importlib.util.find_spec("insightface")
    assert spec is not None and spec.submodule_search_locations
    path = Path(next(iter(spec.submodule_search_locations))) / "data" / "images" / name
    img = cv2.imread(str(path))
    assert img is not None, path
    return img


@functools.cache
def astronaut() -> np.ndarray:
    from skimage import data

    return cv2.cvtColor(np.asarray(data.astronaut()), cv2.COLOR_RGB2BGR)


def group_member() -> np.ndarray:
    """Head and shoulders of the frontal man on the left of the insightface wheel's group photo (his
    face is at x 52-169, y 275-391 of t1.jpg): another person for identity swaps."""
    return np.ascontiguousarray(insightface_image("t1.jpg")[190:480, 0:240])


def astronaut_portrait() -> np.ndarray:
    """Head and shoulders of the astronaut (her face is at x 174-279, y 70-175 of the 512x512 photo)."""
    return np.ascontiguousarray(astronaut()[0:330, 80:380])


def webcam_frame(face: np.ndarray, size: tuple[int, int] = (640, 480), face_height: int = 300,
                 x: int | None = None) -> np.ndarray:
    """A webcam-like frame: a textured room background with ``face`` (a portrait) pasted in."""
    w, h = size
    frame = room(size)
    fh, fw = face.shape[:2]
    scale = face_height / fh
    face = cv2.resize(face, (max(1, round(fw * scale)), face_height), interpolation=cv2.INTER_AREA)
    fh, fw = face.shape[:2]
    x0 = (w - fw) // 2 if x is None else x
    y0 = max(0, (h - fh) // 2)
    frame[y0:y0 + fh, x0:x0 + fw] = face[: h - y0, : w - x0]
    return frame


@functools.cache
def _room(w: int, h: int) -> np.ndarray:
    rng = np.random.default_rng(7)
    base = np.zeros((h, w, 3), np.uint8)
    base[:] = (150, 160, 170)
    for _ in range(24):  # shelves, a door, posters without faces
        x0, y0 = int(rng.integers(0, w - 40)), int(rng.integers(0, h - 40))
        x1, y1 = x0 + int(rng.integers(20, 200)), y0 + int(rng.integers(20, 160))
        colour = tuple(int(v) for v in rng.integers(10, 245, 3))
        cv2.rectangle(base, (x0, y0), (min(x1, w - 1), min(y1, h - 1)), colour, -1)
    noise = rng.normal(0, 6, base.shape)
    return np.clip(base + noise, 0, 255).astype(np.uint8)


def room(size: tuple[int, int] = (640, 480)) -> np.ndarray:
    return _room(*size).copy()


def uniform(size: tuple[int, int] = (640, 480), level: int = 20) -> np.ndarray:
    return np.full((size[1], size[0], 3), level, np.uint8)


def write_clip(path: Path, scenes: Iterable[tuple[np.ndarray, float]], fps: int = 10, gop: int = 10,
               codec: str = "libx264", rotation: int | None = None, jitter: float = 2.0) -> Path:
    """Encode ``(image, seconds)`` scenes into a clip; every frame gets a little sensor noise (a still
    picture from a real camera is never bit-identical). ``rotation`` writes a display matrix
    (counter-clockwise degrees, as phones do: -90 for a portrait picture stored sideways)."""
    scenes = list(scenes)
    h, w = scenes[0][0].shape[:2]
    rng = np.random.default_rng(11)
    noise = [rng.normal(0, jitter, (h, w, 3)).astype(np.float32) for _ in range(5)]
    with av.open(str(path), "w") as out:
        stream = out.add_stream(codec, rate=fps)
        stream.width, stream.height, stream.pix_fmt = w, h, "yuv420p"
        stream.codec_context.gop_size = gop
        stream.codec_context.time_base = Fraction(1, fps)
        if codec == "libx264":
            stream.codec_context.options = {"preset": "ultrafast", "sc_threshold": "0", "bf": "0"}
        if rotation is not None:
            stream.set_display_rotation(rotation)
        pts = 0
        for image, seconds in scenes:
            base = image.astype(np.float32)
            for i in range(round(seconds * fps)):
                noisy = np.clip(base + noise[(pts + i) % len(noise)], 0, 255).astype(np.uint8)
                frame = av.VideoFrame.from_ndarray(noisy, format="bgr24")
                frame.pts = pts + i
                frame.time_base = Fraction(1, fps)
                for packet in stream.encode(frame):
                    out.mux(packet)
            pts += round(seconds * fps)
        for packet in stream.encode(None):
            out.mux(packet)
    return path


def frame_at(seconds: float, image: np.ndarray | None = None, kind: int = c.STREAM_KIND_DESKTOP_CAMERA,
             segment: str = "stream-1:0") -> Frame:
    return Frame(stream_kind=kind, captured_at=T0 + timedelta(seconds=seconds), stream_offset=timedelta(seconds=seconds),
                 segment_id=segment, image=image if image is not None else textured(int(seconds * 1000)))


def textured(seed: int = 0, size: tuple[int, int] = (320, 240)) -> np.ndarray:
    """A picture with contrast (not 'covered') whose content differs per seed (the change gate
    never reuses it)."""
    rng = np.random.default_rng(seed)
    return rng.integers(30, 220, (size[1], size[0], 3), dtype=np.uint8)


@dataclass
class Script:
    """Scripted face facts, keyed by capture second: the tracker's face models replaced for pure tests
    of its logic (``monkeypatch.setattr(anomaly.tracker, "analyse_faces", script)``)."""

    by_second: dict[int, FaceSignals]
    default: FaceSignals
    calls: int = 0

    def __call__(self, image: np.ndarray, pack: object, settings: object) -> FaceSignals:
        self.calls += 1
        key = int(image[0, 0, 0])  # frames built by ``scripted_frame`` carry their second here
        return self.by_second.get(key, self.default)


def scripted_frame(second: int, kind: int = c.STREAM_KIND_DESKTOP_CAMERA, segment: str = "stream-1:0") -> Frame:
    image = textured(second)
    image[0, 0, 0] = second % 256
    return frame_at(float(second), image, kind, segment)


def one_face(yaw: float = 0.0, pitch: float = 0.0, gaze: float = 0.0, occlusion: float = 0.05, presence: float = 1.0,
             box: tuple[int, int, int, int] = (100, 60, 120, 120), count: int = 1, profile: bool = False) -> FaceSignals:
    return FaceSignals(face_count=count, box=box, boxes=(box,) * count, score=0.9, other_score=0.8 if count > 1 else 0.0,
                       size_px=float(min(box[2], box[3])), has_mesh=True, presence=presence, occlusion=occlusion,
                       profile=profile, yaw=yaw, pitch=pitch, gaze=(gaze, 0.0), ear=0.3)


NO_FACE = FaceSignals()
