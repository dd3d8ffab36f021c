"""``analyse(frame) -> FrameAnalysis``: the per-frame facts both services build on (faces with box,
score, landmarks, pose, eyes, mask/occlusion score and quality)."""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import cv2
import numpy as np

from proctor_faces import geometry, occlusion
from proctor_faces.packs.base import ModelPack
from proctor_faces.types import Detection, Face, FrameAnalysis, Landmarks, Pose, Quality

PAD_RATIO = 0.3  # tight crops: pad by 30% of the long side on every side before the fallback pass
PROFILE_RATIO = 1.5  # |nose offset| / eye distance above which the detector keypoints say "profile"
PROFILE_YAW = 60.0


@dataclass
class Work:
    """The frame the models ran on (the input, or the input padded) and its offset to the input."""

    frame: np.ndarray
    offset: tuple[int, int] = (0, 0)
    faces: list[tuple[Detection, Landmarks | None]] = field(default_factory=list)


def detect_faces(frame_bgr: np.ndarray, pack: ModelPack) -> Work:
    """Faces in the frame. First pass: the counting (full-range) detector on the frame; a face
    counts if its score clears ``detect_score`` and the mesh agrees it is a face (presence >= 0.5),
    or its score alone is high (``strong_score``). When nothing counts (a tight face crop, a masked
    face), a second pass adds the near-face detector and a padded copy of the frame."""
    t = pack.thresholds
    dets = [d for d in pack.counter.detect(frame_bgr) if d.score >= t.detect_score]
    kept = _confirmed(frame_bgr, dets, pack)
    if kept:
        return Work(frame_bgr, (0, 0), kept)
    padded, px, py = geometry.pad_frame(frame_bgr, PAD_RATIO)
    shifted = [shift_detection(d, px, py) for d in pack.detector.detect(frame_bgr) if d.score >= t.detect_score]
    found = shifted + [d for det in {id(pack.counter): pack.counter, id(pack.detector): pack.detector}.values()
                       for d in det.detect(padded) if d.score >= t.detect_score]
    h, w = frame_bgr.shape[:2]
    inside = [d for d in found if _plausible_in_crop(d, px, py, w, h)]
    kept = _confirmed(padded, _dedupe(inside), pack)
    return Work(padded, (px, py), kept)


def _plausible_in_crop(d: Detection, px: int, py: int, w: int, h: int) -> bool:
    """On the padded copy, a face must be centred inside the original frame and not be larger than
    it (the replicated border otherwise yields frame-sized ghosts on blurred or flat images)."""
    cx, cy = (d.box[0] + d.box[2]) / 2 - px, (d.box[1] + d.box[3]) / 2 - py
    return 0 <= cx < w and 0 <= cy < h and max(d.width, d.height) <= 1.1 * max(w, h)


def _confirmed(frame: np.ndarray, dets: list[Detection],
               pack: ModelPack) -> list[tuple[Detection, Landmarks | None]]:
    t = pack.thresholds
    out: list[tuple[Detection, Landmarks | None]] = []
    for d in dets:
        if d.score >= t.strong_score:
            out.append((d, None))
            continue
        lm = pack.landmarker.landmarks(frame, d)
        if lm is not None and lm.presence >= t.min_presence:
            out.append((d, lm))
    return out


def _dedupe(dets: list[Detection], iou: float = 0.3) -> list[Detection]:
    out: list[Detection] = []
    for d in sorted(dets, key=lambda d: -d.score):
        box = np.array(d.box)
        if not out or geometry.iou(box, np.array([o.box for o in out])).max() <= iou:
            out.append(d)
    return out


def shift_detection(d: Detection, dx: float, dy: float) -> Detection:
    x0, y0, x1, y1 = d.box
    return replace(d, box=(x0 + dx, y0 + dy, x1 + dx, y1 + dy), keypoints=d.keypoints + np.array([dx, dy], np.float32))


def analyse(frame_bgr: np.ndarray, pack: ModelPack | None = None, max_faces: int = 8) -> FrameAnalysis:
    """Analyse one BGR frame. Landmarks, pose, occlusion and quality are computed for the
    ``max_faces`` largest faces (all faces are counted)."""
    work, faces = analyse_work(frame_bgr, pack, max_faces)
    h, w = frame_bgr.shape[:2]
    return FrameAnalysis(width=w, height=h, faces=faces, padded=work.offset != (0, 0))


def analyse_work(frame_bgr: np.ndarray, pack: ModelPack | None = None,
                 max_faces: int = 8) -> tuple[Work, list[Face]]:
    """:func:`analyse`, also returning the frame the models ran on (to embed a face from it).
    Face coordinates are in the input frame (a padded pass is shifted back)."""
    if pack is None:
        from proctor_faces.packs import load_pack

        pack = load_pack()
    work = detect_faces(frame_bgr, pack)
    order = sorted(work.faces, key=lambda f: -(f[0].width * f[0].height))
    faces = []
    for i, (det, lm) in enumerate(order):
        if lm is None and i < max_faces:
            lm = pack.landmarker.landmarks(work.frame, det)
        faces.append(describe_face(work, det, lm if i < max_faces else None, pack))
    return work, faces


def describe_face(work: Work, det: Detection, lm: Landmarks | None, pack: ModelPack) -> Face:
    t = pack.thresholds
    occ = 0.0
    if lm is not None:
        lm = replace(lm, pose=_profile_override(det, lm.pose))
        weights = t.raw["occlusion_model"]
        feats = occlusion.features(work.frame, lm.points, lm.presence)
        occ = occlusion.score(feats, weights["weights"], weights["bias"], weights["mean"], weights["scale"])
    quality = face_quality(work.frame, det, lm, t.away_yaw, t.away_pitch)
    dx, dy = work.offset
    if (dx, dy) != (0, 0):
        det = shift_detection(det, -dx, -dy)
        if lm is not None:
            pts = lm.points.copy()
            pts[:, :2] -= (dx, dy)
            lm = replace(lm, points=pts)
    return Face(detection=det, landmarks=lm, occlusion=occ, quality=quality)


def keypoint_yaw_ratio(det: Detection) -> float:
    """Nose offset from the eyes' midpoint along the eye line, in eye distances (0 when frontal)."""
    k = det.keypoints
    axis = k[1] - k[0]
    dist = float(np.linalg.norm(axis)) + 1e-6
    return float((k[2] - (k[0] + k[1]) / 2) @ axis) / dist**2


def _profile_override(det: Detection, pose: Pose) -> Pose:
    """FaceMesh has no profile training data: near profile it returns a frontal-looking mesh. The
    detector keypoints still show the nose far outside the eyes (``keypoint_yaw_ratio``), so they
    decide there; the side comes from the nose's offset from the box centre (the eye keypoints
    are unreliable in a profile, the nose is not)."""
    if abs(keypoint_yaw_ratio(det)) < PROFILE_RATIO:
        return pose
    x0, _, x1, _ = det.box
    sign = 1.0 if det.keypoints[2][0] > (x0 + x1) / 2 else -1.0
    yaw = abs(pose.yaw) if pose.yaw * sign > 0 else 0.0
    return replace(pose, yaw=sign * max(PROFILE_YAW, yaw))


def face_quality(frame: np.ndarray, det: Detection, lm: Landmarks | None, away_yaw: float,
                 away_pitch: float) -> Quality:
    x0, y0, x1, y1 = (round(v) for v in det.box)
    h, w = frame.shape[:2]
    crop = frame[max(0, y0):min(h, y1), max(0, x0):min(w, x1)]
    if crop.size == 0:
        return Quality(size_px=0.0, interocular_px=0.0, blur=0.0, brightness=0.0, frontalness=0.0)
    grey = cv2.cvtColor(crop, cv2.COLOR_BGR2GRAY)
    norm = cv2.resize(grey, (112, 112), interpolation=cv2.INTER_AREA if grey.shape[0] > 112 else cv2.INTER_LINEAR)
    blur = float(cv2.Laplacian(norm, cv2.CV_64F).var())
    iod = float(np.linalg.norm(det.keypoints[0] - det.keypoints[1]))
    frontal = 0.0
    if lm is not None:
        iod = float(np.linalg.norm(lm.points[33, :2] - lm.points[263, :2]))
        frontal = max(0.0, 1.0 - max(abs(lm.pose.yaw) / (away_yaw * 1.8), abs(lm.pose.pitch) / (away_pitch * 1.75)))
    return Quality(size_px=float(min(det.width, det.height)), interocular_px=iod, blur=blur,
                   brightness=float(grey.mean()), frontalness=round(frontal, 4))


def is_away(pose: Pose | None, yaw: float, pitch: float) -> bool:
    return pose is not None and (abs(pose.yaw) >= yaw or abs(pose.pitch) >= pitch)


def to_dict(a: FrameAnalysis, occlusion_threshold: float) -> dict[str, object]:
    """A JSON-friendly summary (no mesh points)."""
    faces = []
    for f in a.faces:
        item: dict[str, object] = {"box": [round(v, 1) for v in f.detection.box],
                                   "score": round(f.detection.score, 3),
                                   "occlusion": round(f.occlusion, 3),
                                   "masked": f.occlusion >= occlusion_threshold,
                                   "quality": {k: round(v, 3) for k, v in vars(f.quality).items()}}
        if f.landmarks is not None:
            lm = f.landmarks
            item.update(pose={k: round(v, 1) for k, v in vars(lm.pose).items()}, presence=round(lm.presence, 3),
                        ear=[round(lm.ear_left, 3), round(lm.ear_right, 3)],
                        iris=[[round(v, 3) for v in lm.iris_left], [round(v, 3) for v in lm.iris_right]])
        faces.append(item)
    return {"width": a.width, "height": a.height, "padded": a.padded, "face_count": a.face_count, "faces": faces}
