"""Mask / lower-face occlusion features and score.

A worn mask (or a hand, a scarf) replaces the skin, lips and nostrils of the lower face with a
surface whose colour and texture do not match the upper face. Features, all measured on the frame
at FaceMesh points (patch radius 4% of the face width), in CIELAB:

0. chroma distance (a*, b*) between the lower face (lips, philtrum, chin, lower cheeks) and the
   upper-face skin (forehead, between the brows, upper cheeks)
1. lightness difference |L_lower - L_upper| / 100
2. lip redness: a* of the lips minus a* of the upper-face skin (lips are redder than skin)
3. lower-face texture: mean gradient magnitude of the lower face / that of the upper face
4. 1 - the FaceMesh face-presence score (it falls for masked faces)
5. lower-face chroma spread: std of (a*, b*) across lower-face patches
6. skin share: the share of the lower face's pixels (the hull of mouth, chin and lower cheeks)
   whose (a*, b*) lies within 6 units of the upper-face skin, relative to that share in the
   forehead/upper-cheek hull (a mask's fabric is rarely the wearer's skin colour everywhere)

The score is a logistic model over these features; its weights live in the pack config together
with how they were fitted."""

from __future__ import annotations

import math

import cv2
import numpy as np

UPPER_SKIN = [151, 108, 337, 9, 67, 297, 117, 346, 101, 330]
LOWER = [0, 17, 200, 164, 206, 426, 61, 291, 18, 199, 57, 287]
LIPS = [0, 17, 13, 14, 37, 267, 84, 314]
LOWER_HULL = [205, 425, 436, 216, 432, 212, 152, 176, 400, 377, 148, 432, 422, 2, 164]
UPPER_HULL = [151, 108, 337, 9, 117, 346, 118, 347, 69, 299]
FEATURES = ("chroma_gap", "light_gap", "lip_redness", "texture_ratio", "absence", "lower_spread",
            "skin_share")
SKIN_AB = 6.0


def _patch_stats(lab_sums: np.ndarray, grad_sums: np.ndarray, pts: np.ndarray,
                 r: int) -> tuple[np.ndarray, np.ndarray]:
    """Mean CIELAB and mean gradient of the (2r+1)-px square patch at each point (clipped to the region;
    patches wholly outside are skipped), from the region's integral images (``cv2.integral``)."""
    h, w = grad_sums.shape[0] - 1, grad_sums.shape[1] - 1
    xi, yi = np.round(pts[:, 0]).astype(np.int64), np.round(pts[:, 1]).astype(np.int64)
    x0, x1 = np.maximum(0, xi - r), np.minimum(w, xi + r + 1)
    y0, y1 = np.maximum(0, yi - r), np.minimum(h, yi + r + 1)
    inside = (x1 > x0) & (y1 > y0)
    if not inside.any():
        return np.zeros((1, 3)), np.zeros(1)
    x0, x1, y0, y1 = x0[inside], x1[inside], y0[inside], y1[inside]
    area = ((x1 - x0) * (y1 - y0)).astype(np.float64)
    means = (lab_sums[y1, x1] - lab_sums[y0, x1] - lab_sums[y1, x0] + lab_sums[y0, x0]) / area[:, None]
    grads = (grad_sums[y1, x1] - grad_sums[y0, x1] - grad_sums[y1, x0] + grad_sums[y0, x0]) / area
    return means, grads


def features(frame_bgr: np.ndarray, points: np.ndarray, presence: float) -> np.ndarray:
    p = points[:468, :2]
    x0, y0 = np.floor(p.min(0)).astype(int)
    x1, y1 = np.ceil(p.max(0)).astype(int)
    face_w = max(8.0, float(x1 - x0))
    # work on the face region at a fixed scale (face width ~ 100 px) so texture is comparable
    h, w = frame_bgr.shape[:2]
    m = int(face_w * 0.1)
    rx0, ry0, rx1, ry1 = max(0, x0 - m), max(0, y0 - m), min(w, x1 + m), min(h, y1 + m)
    region = frame_bgr[ry0:ry1, rx0:rx1]
    if region.size == 0:
        return np.array([0.0, 0.0, 0.0, 1.0, 1.0 - presence, 0.0, 1.0])
    k = 100.0 / face_w
    region = cv2.resize(region, None, fx=k, fy=k, interpolation=cv2.INTER_AREA if k < 1 else cv2.INTER_LINEAR)
    lab = cv2.cvtColor(region, cv2.COLOR_BGR2LAB).astype(np.float32)
    lab[..., 0] *= 100.0 / 255.0
    lab[..., 1:] -= 128.0
    grey = cv2.GaussianBlur(lab[..., 0], (3, 3), 0)
    grad = cv2.magnitude(cv2.Sobel(grey, cv2.CV_32F, 1, 0), cv2.Sobel(grey, cv2.CV_32F, 0, 1))
    local = (p - (rx0, ry0)) * k
    r = 4
    lab_sums, grad_sums = cv2.integral(lab, sdepth=cv2.CV_64F), cv2.integral(grad, sdepth=cv2.CV_64F)
    up, up_g = _patch_stats(lab_sums, grad_sums, local[UPPER_SKIN], r)
    lo, lo_g = _patch_stats(lab_sums, grad_sums, local[LOWER], r)
    lips, _ = _patch_stats(lab_sums, grad_sums, local[LIPS], r)
    skin = np.median(up, 0)
    lower = np.median(lo, 0)
    chroma_gap = float(np.linalg.norm(lower[1:] - skin[1:]))
    light_gap = abs(float(lower[0] - skin[0])) / 100.0
    lip_red = float(np.median(lips[:, 1]) - skin[1])
    texture = float(np.mean(lo_g) / (np.mean(up_g) + 1e-3))
    spread = float(np.linalg.norm(lo[:, 1:].std(0)))
    share = _skin_share(lab, local, LOWER_HULL, skin) / max(_skin_share(lab, local, UPPER_HULL, skin), 0.05)
    return np.array([chroma_gap, light_gap, lip_red, math.log(texture + 1e-3), 1.0 - presence, spread,
                     min(share, 2.0)])


def _skin_share(lab: np.ndarray, local: np.ndarray, idx: list[int], skin: np.ndarray) -> float:
    hull = cv2.convexHull(np.round(local[idx]).astype(np.int32))
    # the hull's pixels, found in its bounding box (clipped to the region) rather than the whole region
    h, w = lab.shape[:2]
    bx0, by0 = max(0, int(hull[:, 0, 0].min())), max(0, int(hull[:, 0, 1].min()))
    bx1, by1 = min(w, int(hull[:, 0, 0].max()) + 1), min(h, int(hull[:, 0, 1].max()) + 1)
    if bx1 <= bx0 or by1 <= by0:
        return 0.0
    mask = np.zeros((by1 - by0, bx1 - bx0), np.uint8)
    cv2.fillConvexPoly(mask, hull - np.array([bx0, by0], np.int32), 1)
    sel = mask.astype(bool)
    if not sel.any():
        return 0.0
    ab = lab[by0:by1, bx0:bx1][sel][:, 1:]
    return float((np.linalg.norm(ab - skin[1:], axis=1) < SKIN_AB).mean())


def score(feats: np.ndarray, weights: list[float], bias: float, mean: list[float], scale: list[float]) -> float:
    z = (feats - np.asarray(mean)) / np.asarray(scale)
    return float(1.0 / (1.0 + math.exp(-(float(np.dot(z, weights)) + bias))))
