"""Image geometry used by the packs: letterboxing, rotated ROI crops with OpenCV, weighted NMS."""

from __future__ import annotations

import math

import cv2
import numpy as np


def letterbox(frame_bgr: np.ndarray, size: int) -> tuple[np.ndarray, float, int, int]:
    """Fit the frame into a ``size`` x ``size`` RGB canvas (black borders, centred), as a detector's input:
    a (1, size, size, 3) float32 tensor scaled to [-1, 1] (black = -1). Returns it, the scale and the
    left/top padding in canvas pixels. Only the resized picture is converted (the borders are filled)."""
    h, w = frame_bgr.shape[:2]
    scale = size / max(h, w)
    nw, nh = max(1, round(w * scale)), max(1, round(h * scale))
    interp = cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR
    resized = cv2.cvtColor(cv2.resize(frame_bgr, (nw, nh), interpolation=interp), cv2.COLOR_BGR2RGB)
    px, py = (size - nw) // 2, (size - nh) // 2
    tensor = np.full((1, size, size, 3), -1.0, np.float32)
    tensor[0, py:py + nh, px:px + nw] = resized / np.float32(127.5) - np.float32(1.0)
    return tensor, scale, px, py


def roi_matrix(center: tuple[float, float], size: float, angle: float, out: int) -> np.ndarray:
    """2x3 affine map from crop pixels (0..out) to frame pixels for a square ROI rotated by
    ``angle`` radians (MediaPipe's convention: positive turns the x axis towards +y)."""
    c, s = math.cos(angle), math.sin(angle)
    k = size / out
    a = np.array([[k * c, -k * s], [k * s, k * c]], np.float64)
    t = np.asarray(center, np.float64) - a @ np.array([out / 2.0, out / 2.0])
    return np.hstack([a, t[:, None]])


def crop_roi(frame_bgr: np.ndarray, matrix: np.ndarray, out: int) -> np.ndarray:
    """The ROI given by ``matrix`` (crop -> frame) resampled to ``out`` x ``out`` RGB uint8.
    Large ROIs are first shrunk with INTER_AREA so the bilinear warp does not alias."""
    m = matrix.copy()
    k = math.hypot(m[0, 0], m[1, 0])  # frame pixels per crop pixel
    src = frame_bgr
    if k > 2.0:
        corners = np.array([[0, 0, 1], [out, 0, 1], [out, out, 1], [0, out, 1]], np.float64) @ m.T
        h, w = frame_bgr.shape[:2]
        x0 = int(max(0, math.floor(corners[:, 0].min()) - 2))
        y0 = int(max(0, math.floor(corners[:, 1].min()) - 2))
        x1 = int(min(w, math.ceil(corners[:, 0].max()) + 2))
        y1 = int(min(h, math.ceil(corners[:, 1].max()) + 2))
        if x1 - x0 >= 4 and y1 - y0 >= 4:
            f = 1.5 / k
            region = frame_bgr[y0:y1, x0:x1]
            src = cv2.resize(region, (max(1, round((x1 - x0) * f)), max(1, round((y1 - y0) * f))),
                             interpolation=cv2.INTER_AREA)
            m[:, 2] -= (x0, y0)
            m *= np.array([[f, f, f], [f, f, f]])
    crop = cv2.warpAffine(src, m, (out, out), flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP,
                          borderMode=cv2.BORDER_CONSTANT, borderValue=(0, 0, 0))
    return cv2.cvtColor(crop, cv2.COLOR_BGR2RGB)


def apply_affine(matrix: np.ndarray, points_xy: np.ndarray) -> np.ndarray:
    return points_xy @ matrix[:, :2].T + matrix[:, 2]


def iou(box: np.ndarray, boxes: np.ndarray) -> np.ndarray:
    x0 = np.maximum(box[0], boxes[:, 0])
    y0 = np.maximum(box[1], boxes[:, 1])
    x1 = np.minimum(box[2], boxes[:, 2])
    y1 = np.minimum(box[3], boxes[:, 3])
    inter = np.clip(x1 - x0, 0, None) * np.clip(y1 - y0, 0, None)
    area = (box[2] - box[0]) * (box[3] - box[1])
    areas = (boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])
    return np.asarray(inter / np.maximum(area + areas - inter, 1e-9))


def weighted_nms(boxes: np.ndarray, points: np.ndarray, scores: np.ndarray,
                 iou_threshold: float) -> list[tuple[np.ndarray, np.ndarray, float]]:
    """MediaPipe's weighted NMS: overlapping boxes are merged, weighted by score; the merged
    detection keeps the best score. ``points`` is (N, K, 2)."""
    order = np.argsort(-scores)
    boxes, points, scores = boxes[order], points[order], scores[order]
    alive = np.ones(len(scores), bool)
    out = []
    for i in range(len(scores)):
        if not alive[i]:
            continue
        group = alive & (iou(boxes[i], boxes) > iou_threshold)
        group[i] = True
        w = scores[group][:, None]
        box = (boxes[group] * w).sum(0) / w.sum()
        pts = (points[group] * w[:, :, None]).sum(0) / w.sum()
        out.append((box, pts, float(scores[i])))
        alive &= ~group
    return out


def pad_frame(frame_bgr: np.ndarray, ratio: float) -> tuple[np.ndarray, int, int]:
    """Pad a tight face crop on every side by ``ratio`` of its long side with its border colour
    (replicated edge, blurred), so a detector trained on scenes sees a whole head."""
    h, w = frame_bgr.shape[:2]
    p = round(max(h, w) * ratio)
    padded = cv2.copyMakeBorder(frame_bgr, p, p, p, p, cv2.BORDER_REPLICATE)
    return padded, p, p
