"""Evaluation on labelled data in the shared formats (``manifest.csv``, ``pairs.csv``): the
acceptance metrics of the verification, the enrolment gates and the frame detectors."""

from __future__ import annotations

import csv
import re
from collections import Counter, defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from proctor_faces.analysis import analyse_work, is_away
from proctor_faces.enrol import embed_face, gate_reasons
from proctor_faces.packs.base import ModelPack
from proctor_faces.verify import distance


@dataclass
class FileResult:
    """What one image yields (cached per pack and path within a process)."""

    face_count: int
    refusals: list[str]
    embedding: np.ndarray | None
    masked: bool | None  # None when no face
    occlusion: float | None
    yaw: float | None
    pitch: float | None
    raw_pitch: float | None
    occlusion_features: np.ndarray | None
    size_px: float | None
    blur: float | None
    brightness: float | None
    ear: float | None


_CACHE: dict[tuple[str, str], FileResult] = {}


def read_image(path: Path) -> np.ndarray:
    img = cv2.imread(str(path), cv2.IMREAD_COLOR)
    if img is None:
        raise ValueError(f"not a readable image: {path}")
    return img


def analyse_file(path: Path, pack: ModelPack) -> FileResult:
    key = (pack.template_tag() + pack.config_digest, str(path.resolve()))
    if key in _CACHE:
        return _CACHE[key]
    from proctor_faces import occlusion

    work, faces = analyse_work(read_image(path), pack)
    refusals = [str(r) for r in gate_reasons(faces, pack)]
    t = pack.thresholds
    res = FileResult(len(faces), refusals, None, None, None, None, None, None, None, None, None, None, None)
    if faces:
        face = faces[0]
        res.embedding = embed_face(work, face, pack)
        res.masked = face.landmarks is None or face.occlusion >= t.occlusion
        res.occlusion = face.occlusion
        res.size_px, res.blur, res.brightness = face.quality.size_px, face.quality.blur, face.quality.brightness
        if face.landmarks is not None:
            lm = face.landmarks
            res.yaw, res.pitch, res.raw_pitch = lm.pose.yaw, lm.pose.pitch, lm.pose.pitch + t.pitch_offset
            res.ear = max(lm.ear_left, lm.ear_right)
            dx, dy = work.offset
            pts = lm.points.copy()
            pts[:, :2] += (dx, dy)
            res.occlusion_features = occlusion.features(work.frame, pts, lm.presence)
    _CACHE[key] = res
    return res


def read_manifest(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def label(row: dict[str, str], key: str) -> str | None:
    m = re.search(rf"(?:^|;\s*){re.escape(key)}=([^;]+)", row.get("label_details", ""))
    return m.group(1).strip() if m else None


# ---------------------------------------------------------------- verification

def roc_points(genuine: np.ndarray, impostor: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(thresholds, FAR, FRR) with 'accept' meaning distance <= threshold."""
    th = np.unique(np.concatenate([genuine, impostor, [0.0, 4.0]]))
    far = np.searchsorted(np.sort(impostor), th, side="right") / max(len(impostor), 1)
    frr = 1.0 - np.searchsorted(np.sort(genuine), th, side="right") / max(len(genuine), 1)
    return th, far, frr


def eer(genuine: np.ndarray, impostor: np.ndarray) -> tuple[float, float]:
    th, far, frr = roc_points(genuine, impostor)
    i = int(np.argmin(np.abs(far - frr)))
    return float((far[i] + frr[i]) / 2), float(th[i])


def tar_at_far(genuine: np.ndarray, impostor: np.ndarray, target: float) -> tuple[float, float]:
    """Best TAR with FAR <= target, and the threshold reaching it."""
    th, far, frr = roc_points(genuine, impostor)
    ok = np.flatnonzero(far <= target)
    i = int(ok[-1])
    return float(1.0 - frr[i]), float(th[i])


def pair_distances(pairs_csv: Path, root: Path, pack: ModelPack) -> list[tuple[float, bool]]:
    """(distance, same person) of every pair whose two photos pass the enrolment gates."""
    with pairs_csv.open(newline="", encoding="utf-8") as fh:
        pairs = list(csv.DictReader(fh))
    out = []
    for p in pairs:
        a, b = analyse_file(root / p["file_a"], pack), analyse_file(root / p["file_b"], pack)
        if a.refusals or b.refusals or a.embedding is None or b.embedding is None:
            continue
        out.append((distance(a.embedding, b.embedding), p["same_identity"].strip() == "1"))
    return out


def eval_verify(pairs_csv: Path, root: Path, pack: ModelPack) -> dict[str, Any]:
    with pairs_csv.open(newline="", encoding="utf-8") as fh:
        pairs = list(csv.DictReader(fh))
    files = sorted({p["file_a"] for p in pairs} | {p["file_b"] for p in pairs})
    results = {f: analyse_file(root / f, pack) for f in files}
    refused = {f: r.refusals for f, r in results.items() if r.refusals}
    scored = pair_distances(pairs_csv, root, pack)
    g = np.array([d for d, same in scored if same])
    i = np.array([d for d, same in scored if not same])
    thr = pack.thresholds.verify_distance
    e, e_thr = eer(g, i)
    tar1, thr1 = tar_at_far(g, i, 0.01)
    tar01, thr01 = tar_at_far(g, i, 0.001)
    reasons = Counter(r for rs in refused.values() for r in rs)
    return {
        "pack": pack.template_tag(), "pairs": len(pairs), "pairs_scored": len(g) + len(i),
        "genuine_pairs": len(g), "impostor_pairs": len(i), "photos": len(files),
        "failure_to_enrol": round(len(refused) / len(files), 4), "refused_photos": len(refused),
        "refusal_reasons": dict(reasons), "eer": round(e, 4), "eer_threshold": round(e_thr, 4),
        "tar_at_far_1pct": round(tar1, 4), "threshold_at_far_1pct": round(thr1, 4),
        "tar_at_far_0_1pct": round(tar01, 4), "threshold_at_far_0_1pct": round(thr01, 4),
        "threshold": thr, "far_at_threshold": round(float((i <= thr).mean()), 4),
        "frr_at_threshold": round(float((g > thr).mean()), 4),
        "genuine_distance_max": round(float(g.max()), 4), "impostor_distance_min": round(float(i.min()), 4),
    }


# ---------------------------------------------------------------- enrolment gates

def eval_quality(manifest: Path, root: Path, pack: ModelPack) -> dict[str, Any]:
    per: dict[str, Counter[str]] = defaultdict(Counter)
    masked_total = masked_refused = clean_total = clean_accepted = 0
    for row in read_manifest(manifest):
        cat = row["category"]
        if cat == "video":
            continue
        res = analyse_file(root / row["file"], pack)
        key = cat if cat != "masked" else f"masked_{label(row, 'mask') or 'unknown'}"
        per[key]["accepted" if not res.refusals else "refused"] += 1
        for r in res.refusals:
            per[key][r] += 1
        if label(row, "mask") == "yes":
            masked_total += 1
            masked_refused += bool(res.refusals)
        if cat == "verification":
            clean_total += 1
            clean_accepted += not res.refusals
    return {
        "pack": pack.template_tag(),
        "categories": {k: {"accepted": v["accepted"], "refused": v["refused"],
                           "reasons": {r: n for r, n in v.items() if r not in ("accepted", "refused")}}
                       for k, v in sorted(per.items())},
        "masked_refusal_rate": round(masked_refused / max(masked_total, 1), 4),
        "clean_acceptance_rate": round(clean_accepted / max(clean_total, 1), 4),
    }


# ---------------------------------------------------------------- frame detectors

def _rate(hits: int, total: int) -> float:
    return round(hits / total, 4) if total else 0.0


def pose_label(row: dict[str, str]) -> str | None:
    """'away' / 'frontal' by the testdata README's rule where angles are given, else the label."""
    yaw, pitch = label(row, "yaw_deg"), label(row, "pitch_deg")
    if yaw is not None and pitch is not None:
        y, p = abs(float(yaw)), abs(float(pitch))
        if y >= 30 or p >= 25:
            return "away"
        if y < 20 and p < 15:
            return "frontal"
        return "intermediate"
    return label(row, "pose")


def eval_faces(manifest: Path, root: Path, pack: ModelPack) -> dict[str, Any]:
    t = pack.thresholds
    c: Counter[str] = Counter()
    for row in read_manifest(manifest):
        cat = row["category"]
        if cat == "video":
            continue
        res = analyse_file(root / row["file"], pack)
        n = res.face_count
        if cat == "multi_face":
            truth = int(label(row, "face_count") or 0)
            c["multi"] += 1
            c["multi_ge2"] += n >= 2
            c["multi_exact"] += n == truth
        elif cat == "no_face":
            c["noface"] += 1
            c["noface_zero"] += n == 0
        elif cat == "verification":
            c["single"] += 1
            c["single_one"] += n == 1
        elif cat == "masked":
            truth_mask = label(row, "mask") == "yes"
            flagged = bool(res.masked)
            c["mask_tp"] += truth_mask and flagged
            c["mask_fp"] += (not truth_mask) and flagged
            c["mask_pos"] += truth_mask
        elif cat == "pose_away":
            truth_pose = pose_label(row)
            if truth_pose not in ("away", "frontal"):
                continue
            away = res.yaw is not None and is_away_values(res.yaw, res.pitch or 0.0, t.away_yaw, t.away_pitch)
            c["away_tp"] += truth_pose == "away" and away
            c["away_fp"] += truth_pose == "frontal" and away
            c["away_pos"] += truth_pose == "away"
            c["frontal"] += truth_pose == "frontal"
    return {
        "pack": pack.template_tag(),
        "multi_face_recall": _rate(c["multi_ge2"], c["multi"]),
        "face_count_exact": _rate(c["multi_exact"], c["multi"]),
        "no_face_specificity": _rate(c["noface_zero"], c["noface"]),
        "single_face_accuracy": _rate(c["single_one"], c["single"]),
        "mask_precision": _rate(c["mask_tp"], c["mask_tp"] + c["mask_fp"]),
        "mask_recall": _rate(c["mask_tp"], c["mask_pos"]),
        "away_precision": _rate(c["away_tp"], c["away_tp"] + c["away_fp"]),
        "away_recall": _rate(c["away_tp"], c["away_pos"]),
        "counts": {"multi_face": c["multi"], "no_face": c["noface"], "verification": c["single"],
                   "masked_yes": c["mask_pos"], "away": c["away_pos"], "frontal": c["frontal"]},
    }


def is_away_values(yaw: float, pitch: float, away_yaw: float, away_pitch: float) -> bool:
    from proctor_faces.types import Pose

    return is_away(Pose(yaw, pitch, 0.0), away_yaw, away_pitch)
