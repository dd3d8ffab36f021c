"""Per-frame signals: what one sampled frame says, before any temporal logic.

- :func:`frame_stats` (every frame, ~0.2 ms): brightness and contrast of a small grey copy (too dark,
  camera covered) and the thumbnails of the change gate and of the phone's scene reference.
- :func:`analyse_faces` (desktop camera, the expensive part): ``proctor_faces.analyse`` reduced to
  face count, the largest face's box, detector score, mesh presence, mask/occlusion score, whether
  the detector keypoints say "profile", head pose and iris position.
- :func:`detect_faces` (phone evidence): the counting detector alone (is anybody's face in view).
- :func:`judge_desktop` / :func:`judge_phone`: the per-frame verdict of each signal (abnormal, normal
  or unknown), with value hysteresis (an active signal needs a clearly normal value to clear) and
  head pose / gaze relative to the candidate's calibrated neutral pose.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

import cv2
import numpy as np

from anomaly.rules import DetectorSettings
from proctor.common.v1 import common_pb2 as c
from proctor_faces import ModelPack, analyse_work, embed_face
from proctor_faces.analysis import PROFILE_RATIO, keypoint_yaw_ratio

STATS_SIZE = (128, 96)
THUMB_SIZE = (32, 24)
EYE_BAND = (32, 16)
SCENE_SIZE = (80, 60)
SCENE_GRID = (4, 4)


@dataclass(frozen=True)
class FrameStats:
    mean: float  # grey level 0-255 of the whole frame
    std: float  # contrast of the whole frame (a covered lens is nearly uniform)
    thumb: np.ndarray  # 32x24 grey float32: the change gate
    grey: np.ndarray  # 128x96 grey uint8


@dataclass(frozen=True)
class FaceSignals:
    """The face facts of one analysed frame (coordinates in the frame's pixels)."""

    face_count: int = 0
    box: tuple[int, int, int, int] | None = None  # x, y, w, h of the largest face
    boxes: tuple[tuple[int, int, int, int], ...] = ()
    score: float = 0.0  # detector score of the largest face
    other_score: float = 0.0  # best detector score among the other faces
    size_px: float = 0.0
    has_mesh: bool = False
    presence: float = 0.0  # the mesh's face-presence score
    occlusion: float = 0.0  # the pack's mask/occlusion score
    profile: bool = False  # detector keypoints: the nose far outside the eyes (head turned >= ~60 deg)
    yaw: float | None = None  # pack pose (degrees), not yet relative to the candidate's neutral pose
    pitch: float | None = None
    gaze: tuple[float, float] | None = None  # mean iris position (eye coordinates)
    ear: float = 0.0
    # what the models ran on and the largest face (proctor_faces Work, Face): the identity check embeds
    # the face from it instead of sending a crop; not a face fact, never compared
    source: tuple[Any, Any] | None = field(default=None, compare=False, repr=False)


@dataclass
class Calibration:
    """The candidate's neutral head pose and iris position, measured on the first frontal-ish frames
    of the exam (median of ``calibration_samples`` frames)."""

    neutral_yaw: float = 0.0
    neutral_pitch: float = 0.0
    gaze_x: float = 0.0
    samples: int = 0
    complete: bool = False
    gaze_samples: int = 0
    gaze_complete: bool = False
    _yaws: list[float] = field(default_factory=list)
    _pitches: list[float] = field(default_factory=list)
    _gazes: list[float] = field(default_factory=list)

    @property
    def gaze_ready(self) -> bool:
        return self.complete and self.gaze_complete

    def offer(self, faces: FaceSignals, settings: DetectorSettings) -> bool:
        """Add a frame if it is a usable neutral sample; True when this completed the calibration.
        Usable: one face, mesh confirmed, not profile, within a wide frontal band (camera placements
        differ: a laptop camera below the eyes reads +20 deg pitch on a candidate looking at the screen)."""
        if self.complete and self.gaze_complete:
            return False
        if faces.face_count != 1 or not faces.has_mesh or faces.profile or faces.yaw is None or faces.pitch is None:
            return False
        if abs(faces.yaw) > settings.calibration_max_yaw or abs(faces.pitch) > settings.calibration_max_pitch:
            return False
        if not self.complete:
            self._yaws.append(faces.yaw)
            self._pitches.append(faces.pitch)
        if faces.gaze is not None and not self.gaze_complete:
            self._gazes.append(faces.gaze[0])
            self.gaze_x, self.gaze_samples = float(np.median(self._gazes)), len(self._gazes)
            self.gaze_complete = self.gaze_samples >= settings.calibration_samples
        if self.complete:
            return False
        self.samples = len(self._yaws)
        self.neutral_yaw, self.neutral_pitch = float(np.median(self._yaws)), float(np.median(self._pitches))
        if self.samples >= settings.calibration_samples:
            self.complete = True
            return True
        return False

    def give_up(self) -> None:
        """The calibration window passed without enough frontal frames: use what there is (the pack's
        own neutral pose, 0/0, when nothing was usable)."""
        self.complete = True


@dataclass(frozen=True)
class Observation:
    """One signal's verdict on one frame: abnormal True/False, or None = cannot tell (no face to
    judge a mask on, calibration not done): the temporal logic ignores it."""

    abnormal: bool | None
    score: float = 0.0  # how bad (0..1): the worst frame becomes the evidence
    confidence: float = 0.0  # how sure (0..1)
    note: str = ""
    attributes: dict[str, str] = field(default_factory=dict)


NONE = Observation(None)
NORMAL = Observation(False)


# ------------------------------------------------------------------ measuring

def frame_stats(image: np.ndarray) -> FrameStats:
    # nearest-neighbour to 4x the size, then an integer-ratio area filter: ~0.1 ms instead of ~1 ms for
    # a direct area resize from 848x480; every output pixel still averages 16 input pixels
    w, h = STATS_SIZE
    coarse = cv2.resize(image, (4 * w, 4 * h), interpolation=cv2.INTER_NEAREST)
    small = cv2.resize(coarse, STATS_SIZE, interpolation=cv2.INTER_AREA)
    grey = cv2.cvtColor(small, cv2.COLOR_BGR2GRAY) if small.ndim == 3 else small
    thumb = cv2.resize(grey, THUMB_SIZE, interpolation=cv2.INTER_AREA).astype(np.float32)
    return FrameStats(mean=float(grey.mean()), std=float(grey.std()), thumb=thumb, grey=grey)


def face_thumb(image: np.ndarray, box: tuple[int, int, int, int] | None) -> np.ndarray | None:
    """A 32x16 grey copy of the eye band of the face box (15-55% of its height): the change gate's
    view of where the eyes look. A move of the irises alone (head still) changes it by 10-12 grey
    levels on the real selfie clips, 2-8 between still frames."""
    if box is None:
        return None
    x, y, w, h = box
    crop = image[max(0, y + int(0.15 * h)):max(0, y + int(0.55 * h)), max(0, x):max(0, x + w)]
    if crop.size == 0:
        return None
    crop = cv2.resize(crop, EYE_BAND, interpolation=cv2.INTER_AREA)
    grey = cv2.cvtColor(crop, cv2.COLOR_BGR2GRAY) if crop.ndim == 3 else crop
    return grey.astype(np.float32)


def change(a: np.ndarray | None, b: np.ndarray | None) -> float:
    """How much two thumbnails differ: the largest mean absolute difference over 4x4 blocks after
    removing the global brightness shift (auto exposure), in grey levels. inf when incomparable."""
    if a is None or b is None or a.shape != b.shape:
        return float("inf")
    d = a - b
    d = np.abs(d - float(d.mean()))
    h, w = d.shape
    bh, bw = max(1, h // 4), max(1, w // 4)
    blocks = d[:bh * 4, :bw * 4].reshape(4, bh, 4, bw).mean(axis=(1, 3))
    return float(blocks.max())


def _box(det_box: tuple[float, float, float, float], w: int, h: int) -> tuple[int, int, int, int]:
    x0, y0, x1, y1 = (round(v) for v in det_box)
    x0, y0 = max(0, x0), max(0, y0)
    x1, y1 = min(w, x1), min(h, y1)
    return x0, y0, max(0, x1 - x0), max(0, y1 - y0)


def analyse_faces(image: np.ndarray, pack: ModelPack, settings: DetectorSettings) -> FaceSignals:
    """The desktop camera's face facts (landmarks for the largest face only)."""
    work, found = analyse_work(image, pack, max_faces=1)
    if not found:
        return FaceSignals()
    h, w = image.shape[:2]
    faces = sorted(found, key=lambda f: -(f.detection.width * f.detection.height))
    main = faces[0]
    lm = main.landmarks
    t = pack.thresholds
    out = FaceSignals(
        face_count=len(faces), box=_box(main.detection.box, w, h),
        boxes=tuple(_box(f.detection.box, w, h) for f in faces[:8]), score=float(main.detection.score),
        other_score=max((float(f.detection.score) for f in faces[1:]), default=0.0),
        size_px=float(main.quality.size_px), has_mesh=lm is not None,
        presence=float(lm.presence) if lm is not None else 0.0, occlusion=float(main.occlusion),
        profile=abs(keypoint_yaw_ratio(main.detection)) >= PROFILE_RATIO, source=(work, main))
    if lm is not None and lm.presence >= t.min_presence:
        iris = main.quality.size_px >= settings.iris_min_face_px and lm.ear >= t.min_ear
        out = replace(out, yaw=float(lm.pose.yaw), pitch=float(lm.pose.pitch), ear=float(lm.ear),
                      gaze=(float(lm.gaze[0]), float(lm.gaze[1])) if iris else None)
    elif lm is not None and out.profile:
        out = replace(out, yaw=float(lm.pose.yaw), pitch=float(lm.pose.pitch))
    return out


def face_embedding(faces: FaceSignals, pack: ModelPack) -> np.ndarray | None:
    """The pack's embedding of the largest face of an analysed frame (what auth-face would compute from
    a crop, without its decode and detection), or None when the analysis kept no face to embed."""
    if faces.source is None:
        return None
    work, face = faces.source
    return embed_face(work, face, pack)


def detect_faces(image: np.ndarray, pack: ModelPack) -> FaceSignals:
    """The phone's question: is anybody's face in view (the counting detector, no mesh: a face seen
    from the side still counts)."""
    t = pack.thresholds
    dets = sorted((d for d in pack.counter.detect(image) if d.score >= t.detect_score),
                  key=lambda d: -(d.width * d.height))
    if not dets:
        return FaceSignals()
    h, w = image.shape[:2]
    main = dets[0]
    return FaceSignals(face_count=len(dets), box=_box(main.box, w, h), boxes=tuple(_box(d.box, w, h) for d in dets[:8]),
                       score=float(main.score), size_px=float(min(main.width, main.height)))


# ------------------------------------------------------------------ judging

def covered(stats: FrameStats, settings: DetectorSettings, active: bool) -> bool:
    """A nearly uniform picture (lens covered, camera against a surface): almost no contrast on a
    small copy (sensor noise averages out there), or contrast tiny for the brightness (a lit
    sheet of paper). A dark room keeps its structure: that is TOO_DARK. An active signal needs
    clearly more contrast to clear."""
    k = 1.5 if active else 1.0
    return stats.std < settings.covered_std * k or stats.std < settings.covered_ratio * k * stats.mean


def dark(stats: FrameStats, settings: DetectorSettings, active: bool) -> bool:
    """The whole picture is dark (the room's light, not a face's brightness, which depends on skin
    tone). TOO_DARK is raised only when, in addition, no face is clearly seen: a dark room with the
    candidate's face visible serves the purpose."""
    limit = settings.dark_mean + (10.0 if active else 0.0)
    return stats.mean < limit


def judgeable_face(faces: FaceSignals, pack: ModelPack) -> bool:
    """A face the mask/occlusion verdict is meaningful on: big enough, not in profile."""
    return faces.face_count > 0 and not faces.profile and faces.size_px >= pack.thresholds.min_face_px


def judge_desktop(stats: FrameStats, faces: FaceSignals | None, cal: Calibration, active: dict[int, bool],
                  pack: ModelPack, settings: DetectorSettings) -> dict[int, Observation]:
    """Verdicts of the desktop camera's frame signals. ``faces`` is None when the frame was not
    analysed because the picture is uniform (covered lens: no face verdict then)."""
    out: dict[int, Observation] = {}
    is_covered = covered(stats, settings, active.get(c.INCIDENT_KIND_CAMERA_COVERED, False))
    is_dark = not is_covered and dark(stats, settings, active.get(c.INCIDENT_KIND_TOO_DARK, False))
    seen = faces is not None and faces.face_count > 0
    out[c.INCIDENT_KIND_CAMERA_COVERED] = (
        Observation(True, 0.9, 0.9 if stats.std < settings.covered_std / 2 else 0.7,
                    f"uniform picture (contrast {stats.std:.1f})", {"contrast": f"{stats.std:.1f}"})
        if is_covered and not seen else NORMAL)
    visible = faces is not None and faces.has_mesh and faces.presence >= pack.thresholds.min_presence
    out[c.INCIDENT_KIND_TOO_DARK] = (
        Observation(True, 0.6, 0.8, f"dark picture (mean grey {stats.mean:.0f}/255), no clear face",
                    {"brightness": f"{stats.mean:.0f}"})
        if is_dark and not visible else NORMAL)
    if faces is None:
        for kind in FACE_KINDS:
            out[kind] = NONE
        return out
    t = pack.thresholds
    n = faces.face_count
    if n == 0:
        out[c.INCIDENT_KIND_NO_FACE] = (NONE if is_covered or is_dark else
                                        Observation(True, 0.7, 0.8 if stats.mean >= 60 else 0.6, "no face in view",
                                                    {"face_count": "0"}))
    elif faces.presence < t.min_presence and faces.size_px < t.min_face_px and not (is_covered or is_dark):
        # the largest "face" is small and the face mesh does not confirm it: a face-like shape in a mirror, a
        # picture or a pattern of the empty room (it flickers in and out of detection), not a candidate at
        # their desk. It does not break a run of empty frames, with less confidence than an empty frame
        out[c.INCIDENT_KIND_NO_FACE] = Observation(
            True, 0.6, 0.5, f"no clear face (a {faces.size_px:.0f}-px shape the face mesh does not confirm)",
            {"face_count": "0", "unconfirmed_px": f"{faces.size_px:.0f}"})
    else:
        out[c.INCIDENT_KIND_NO_FACE] = NORMAL
    out[c.INCIDENT_KIND_MULTIPLE_FACES] = (
        Observation(True, min(1.0, 0.6 + 0.1 * (n - 2)), max(0.5, faces.other_score), f"{n} faces in view",
                    {"face_count": str(n)})
        if n >= 2 else NORMAL)
    cover = _judge_cover(faces, active, pack)
    out.update(cover)
    if not faces.profile and any(cover[k].abnormal for k in (c.INCIDENT_KIND_FACE_MASKED,
                                                             c.INCIDENT_KIND_FACE_OCCLUDED)):
        # the head pose comes from the face mesh, which a mask or a hand over the face distorts: the gaze of a
        # covered face is unknown (the cover is its own incident), a profile still counts (the detector's)
        out[c.INCIDENT_KIND_GAZE_AWAY] = NONE
    else:
        out[c.INCIDENT_KIND_GAZE_AWAY] = judge_gaze(faces, cal, active.get(c.INCIDENT_KIND_GAZE_AWAY, False),
                                                    t.away_yaw, t.away_pitch, settings)
    return out


FACE_KINDS = (c.INCIDENT_KIND_NO_FACE, c.INCIDENT_KIND_MULTIPLE_FACES, c.INCIDENT_KIND_FACE_MASKED,
              c.INCIDENT_KIND_FACE_OCCLUDED, c.INCIDENT_KIND_GAZE_AWAY)


def _judge_cover(faces: FaceSignals, active: dict[int, bool], pack: ModelPack) -> dict[int, Observation]:
    """Masked: the mesh sees a face and the occlusion model says the lower face is covered.
    Occluded: the detector sees a face the mesh does not confirm (a hand, an object)."""
    t = pack.thresholds
    if not judgeable_face(faces, pack):
        return {c.INCIDENT_KIND_FACE_MASKED: NONE, c.INCIDENT_KIND_FACE_OCCLUDED: NONE}
    if not faces.has_mesh or faces.presence < t.min_presence:
        occ = Observation(True, 0.6 + 0.4 * (1 - faces.presence), 0.6 + 0.3 * (1 - faces.presence),
                          f"face not fully visible (mesh presence {faces.presence:.2f})",
                          {"presence": f"{faces.presence:.2f}"})
        return {c.INCIDENT_KIND_FACE_OCCLUDED: occ, c.INCIDENT_KIND_FACE_MASKED: NONE}
    limit = t.occlusion - (0.1 if active.get(c.INCIDENT_KIND_FACE_MASKED, False) else 0.0)
    masked = (Observation(True, faces.occlusion, faces.occlusion, f"lower face covered (score {faces.occlusion:.2f})",
                          {"occlusion": f"{faces.occlusion:.2f}"})
              if faces.occlusion >= limit else NORMAL)
    return {c.INCIDENT_KIND_FACE_MASKED: masked, c.INCIDENT_KIND_FACE_OCCLUDED: NORMAL}


def judge_gaze(faces: FaceSignals, cal: Calibration, active: bool, away_yaw: float, away_pitch: float,
               settings: DetectorSettings) -> Observation:
    """Away from the screen: the head turned beyond the pack's away thresholds from the candidate's
    neutral pose, or in profile; or the eyes held off-centre (iris moved by ``iris_away`` half-eye
    widths from the neutral, ~10 deg) without the head turning the other way to compensate. An
    active signal clears 5 deg / 0.04 inside the thresholds (hysteresis). Before the calibration is
    complete only a profile or a pose beyond the calibration band plus the away threshold counts as
    away, and a pose frontal by the pack's thresholds as normal; unknown without a usable face."""
    if faces.face_count == 0:
        return NONE
    if faces.profile:
        return Observation(True, 0.9, 0.8, "head turned to profile", {"yaw_deg": "profile"})
    if faces.yaw is None or faces.pitch is None:
        return NONE
    if not cal.complete:
        # no neutral pose yet: only a pose no plausible neutral (the calibration band) explains is away
        if abs(faces.yaw) >= settings.calibration_max_yaw + away_yaw or \
                abs(faces.pitch) >= settings.calibration_max_pitch + away_pitch:
            return Observation(True, 0.8, 0.7, f"head yaw {faces.yaw:+.0f}, pitch {faces.pitch:+.0f} deg",
                               {"yaw_deg": f"{faces.yaw:.0f}", "pitch_deg": f"{faces.pitch:.0f}"})
        # ... and frontal by the pack's own thresholds is clearly not away
        return NORMAL if abs(faces.yaw) < away_yaw and abs(faces.pitch) < away_pitch else NONE
    slack = 5.0 if active else 0.0
    dyaw, dpitch = faces.yaw - cal.neutral_yaw, faces.pitch - cal.neutral_pitch
    ratio = max(abs(dyaw) / (away_yaw - slack), abs(dpitch) / (away_pitch - slack))
    attrs = {"yaw_deg": f"{dyaw:.0f}", "pitch_deg": f"{dpitch:.0f}"}
    note = f"head yaw {dyaw:+.0f}, pitch {dpitch:+.0f} deg from neutral"
    eyes = 0.0
    if faces.gaze is not None and cal.gaze_ready and abs(dyaw) < away_yaw:
        dgx = faces.gaze[0] - cal.gaze_x
        limit = settings.iris_away - (0.04 if active else 0.0)
        world = dyaw + settings.iris_gain_deg * dgx  # where the eyes point, head + eyes (image x)
        if abs(world) >= settings.iris_gain_deg * limit * 0.5:
            eyes = abs(dgx) / limit
        attrs["iris_dx"] = f"{dgx:+.2f}"
        if eyes >= 1.0:
            note = f"eyes held {'image-left' if dgx < 0 else 'image-right'} (iris {dgx:+.2f}), head still"
    worst = max(ratio, eyes)
    if worst < 1.0:
        return Observation(False, attributes=attrs)
    score = min(1.0, 0.5 + 0.25 * (worst - 1.0))
    return Observation(True, score, min(0.9, 0.6 + 0.2 * (worst - 1.0)), note, attrs)


def judge_phone(stats: FrameStats, faces: FaceSignals | None, moved: float | None, active: dict[int, bool],
                settings: DetectorSettings) -> dict[int, Observation]:
    """Phone evidence camera: covered, candidate visible (a face in view), camera moved (share of the
    scene's cells that no longer match the reference built on the first frames)."""
    is_covered = covered(stats, settings, active.get(c.INCIDENT_KIND_PHONE_CAMERA_COVERED, False))
    seen = faces is not None and faces.face_count > 0
    out: dict[int, Observation] = {c.INCIDENT_KIND_PHONE_CAMERA_COVERED: (
        Observation(True, 0.9, 0.8, f"uniform picture (contrast {stats.std:.1f})", {"contrast": f"{stats.std:.1f}"})
        if is_covered and not seen else NORMAL)}
    if faces is None or is_covered:
        out[c.INCIDENT_KIND_PHONE_CANDIDATE_NOT_VISIBLE] = NONE
    else:
        out[c.INCIDENT_KIND_PHONE_CANDIDATE_NOT_VISIBLE] = (
            NORMAL if seen else Observation(True, 0.6, 0.6, "no face in the phone's view", {"face_count": "0"}))
    if moved is None or is_covered:
        out[c.INCIDENT_KIND_PHONE_CAMERA_MOVED] = NONE
    else:
        limit = settings.phone_moved_fraction - (0.15 if active.get(c.INCIDENT_KIND_PHONE_CAMERA_MOVED, False) else 0)
        out[c.INCIDENT_KIND_PHONE_CAMERA_MOVED] = (
            Observation(True, moved, min(0.9, moved), f"{moved:.0%} of the scene changed",
                        {"scene_changed": f"{moved:.2f}"})
            if moved >= limit else NORMAL)
    return out


# ------------------------------------------------------------------ phone scene reference

def scene_edges(stats: FrameStats) -> np.ndarray:
    """Gradient magnitude of a small grey copy: the scene's structure, insensitive to exposure."""
    small = cv2.resize(stats.grey, SCENE_SIZE, interpolation=cv2.INTER_AREA).astype(np.float32)
    g = cv2.GaussianBlur(small, (3, 3), 0)
    gx = cv2.Sobel(g, cv2.CV_32F, 1, 0, ksize=3)
    gy = cv2.Sobel(g, cv2.CV_32F, 0, 1, ksize=3)
    return np.asarray(cv2.magnitude(gx, gy), np.float32)


@dataclass
class SceneReference:
    """The phone camera's scene on its first frames (per-pixel median of their edge maps)."""

    frames: int
    _stack: list[np.ndarray] = field(default_factory=list)
    reference: np.ndarray | None = None

    def offer(self, edges: np.ndarray) -> None:
        if self.reference is not None:
            return
        self._stack.append(edges)
        if len(self._stack) >= self.frames:
            self.reference = np.median(np.stack(self._stack), axis=0).astype(np.float32)
            self._stack.clear()

    def changed(self, edges: np.ndarray) -> float | None:
        """Share of the grid cells whose structure no longer correlates with the reference (None while
        the reference is being built). A person moving covers some cells; a moved camera, nearly all."""
        if self.reference is None:
            return None
        gh, gw = SCENE_GRID
        h, w = edges.shape
        ch, cw = h // gh, w // gw

        def cells(img: np.ndarray) -> np.ndarray:  # (cells, pixels per cell), float64 as numpy's reductions
            grid = img[:gh * ch, :gw * cw].astype(np.float64).reshape(gh, ch, gw, cw)
            return grid.transpose(0, 2, 1, 3).reshape(gh * gw, ch * cw)

        a, b = cells(self.reference), cells(edges)
        da, db = a - a.mean(axis=1, keepdims=True), b - b.mean(axis=1, keepdims=True)
        sa, sb = np.sqrt((da * da).mean(axis=1)), np.sqrt((db * db).mean(axis=1))
        flat_a, flat_b = sa < 2.0, sb < 2.0
        counted = int((~(flat_a & flat_b)).sum())  # flat in both (a wall): no evidence either way
        one_flat = flat_a ^ flat_b
        both = ~flat_a & ~flat_b
        ncc = (da[both] * db[both]).mean(axis=1) / (sa[both] * sb[both])
        changed = int(one_flat.sum()) + int((ncc < 0.4).sum())
        return changed / counted if counted else 0.0
