"""Decoding untrusted images and clips with limits: byte size, pixel count (checked from the header,
before anything is decompressed), format, truncation. Every refusal is a precise INVALID_ARGUMENT."""

from __future__ import annotations

import io
import tempfile
import warnings
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from proctor_runtime.errors import InvalidArgument

IMAGE_FORMATS = ("JPEG", "PNG")
CLIP_SUFFIXES = {"webm": ".webm", "mp4": ".mp4", "quicktime": ".mov", "x-matroska": ".mkv"}


@dataclass(frozen=True)
class Limits:
    max_bytes: int
    max_pixels: int


def not_an_image(field: str, detail: str = "") -> InvalidArgument:
    return InvalidArgument("NOT_AN_IMAGE", f"{field} is not a JPEG or PNG image{detail}",
                           "上传的文件不是有效的图片（仅支持 JPEG 或 PNG）", {"field": field})


def too_many_bytes(field: str, size: int, limit: int) -> InvalidArgument:
    got, cap = f"{size / 2**20:.1f} MiB", f"{limit / 2**20:.0f} MiB"
    return InvalidArgument("IMAGE_TOO_LARGE", f"{field} is {got}; the limit is {cap}",
                           f"文件过大（{got}），上限为 {cap}",
                           {"field": field, "max_bytes": str(limit), "bytes": str(size)})


def too_many_pixels(field: str, width: int, height: int, limit: int) -> InvalidArgument:
    mp, cap = f"{width * height / 1e6:.1f}", f"{limit / 1e6:g}"
    return InvalidArgument(
        "IMAGE_TOO_LARGE", f"{field} is {width}x{height} ({mp} megapixels); the limit is {cap} megapixels",
        f"图片尺寸过大（{width}x{height}，{mp} 百万像素），上限为 {cap} 百万像素",
        {"field": field, "max_pixels": str(limit), "pixels": str(width * height)})


def decode_image(data: bytes, limits: Limits, field: str, exif_orientation: bool = False) -> np.ndarray:
    """JPEG or PNG bytes -> a BGR array (uint8, HxWx3)."""
    if not data:
        raise InvalidArgument("FIELD_REQUIRED", f"{field} is empty", "缺少图片", {"field": field})
    if len(data) > limits.max_bytes:
        raise too_many_bytes(field, len(data), limits.max_bytes)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", Image.DecompressionBombWarning)
        try:
            image = Image.open(io.BytesIO(data))
        except Image.DecompressionBombError:
            raise InvalidArgument("IMAGE_TOO_LARGE", f"{field} has far too many pixels", "图片尺寸过大",
                                  {"field": field, "max_pixels": str(limits.max_pixels)}) from None
        except (UnidentifiedImageError, OSError, ValueError, SyntaxError):
            raise not_an_image(field) from None
        if image.format not in IMAGE_FORMATS:
            raise not_an_image(field, f" (it is {image.format})")
        width, height = image.size
        if width * height > limits.max_pixels:
            raise too_many_pixels(field, width, height, limits.max_pixels)
        if width < 1 or height < 1:
            raise not_an_image(field)
        try:
            image.load()
        except OSError as exc:
            if "truncated" in str(exc) or "broken data stream" in str(exc):
                raise InvalidArgument("IMAGE_TRUNCATED", f"{field} is truncated (incomplete upload?)",
                                      "图片不完整（上传中断？），请重新上传", {"field": field}) from None
            raise not_an_image(field) from None
        except (ValueError, SyntaxError, Image.DecompressionBombError):
            raise not_an_image(field) from None
    if exif_orientation:
        image = ImageOps.exif_transpose(image)
    rgb = np.asarray(image.convert("RGB"))
    return cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR)


def decode_clip(data: bytes, mime_type: str, limits: Limits, max_frames: int, target_fps: int,
                field: str = "clip.data") -> list[tuple[float, np.ndarray]]:
    """A short clip -> (seconds from its start, BGR frame), sampled at about ``target_fps``."""
    if not data:
        raise InvalidArgument("FIELD_REQUIRED", f"{field} is empty", "缺少视频", {"field": field})
    if len(data) > limits.max_bytes:
        raise too_many_bytes(field, len(data), limits.max_bytes)
    subtype = mime_type.split(";")[0].split("/")[-1].strip().lower()
    suffix = CLIP_SUFFIXES.get(subtype, ".bin")
    with tempfile.TemporaryDirectory(prefix="auth-face-clip-") as tmp:
        path = Path(tmp) / f"clip{suffix}"
        path.write_bytes(data)
        cap = cv2.VideoCapture(str(path))
        try:
            return _read_frames(cap, limits, max_frames, target_fps, field)
        finally:
            cap.release()


def _read_frames(cap: cv2.VideoCapture, limits: Limits, max_frames: int, target_fps: int,
                 field: str) -> list[tuple[float, np.ndarray]]:
    bad = InvalidArgument("NOT_AN_IMAGE", f"{field} is not a playable video clip", "视频无法解码",
                          {"field": field})
    if not cap.isOpened():
        raise bad
    fps = cap.get(cv2.CAP_PROP_FPS) or float(target_fps)
    step = max(1, round(fps / max(1, target_fps)))
    out: list[tuple[float, np.ndarray]] = []
    index = 0
    while len(out) < max_frames:
        ok, frame = cap.read()
        if not ok or frame is None:
            break
        if index == 0:
            h, w = frame.shape[:2]
            if w * h > limits.max_pixels:
                raise too_many_pixels(field, w, h, limits.max_pixels)
        if index % step == 0:
            out.append((index / fps, frame))  # container timestamps are unreliable (webm): frame index
        index += 1
    if not out:
        raise bad
    return out
