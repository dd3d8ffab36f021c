"""Face model packs and the face analysis shared by auth-face and anomaly.

- :func:`load_pack` / :class:`ModelPack`: detector + landmarks/pose + embedder with calibrated
  thresholds, loaded once per process and warmed (``PROCTOR_FACES_*`` settings).
- :func:`analyse`: faces in a frame with pose, eyes, mask/occlusion score and quality.
- :func:`enrol` (quality gates), :func:`verify` (MATCH / MISMATCH / INCONCLUSIVE),
  :mod:`proctor_faces.liveness` (challenge / response), :mod:`proctor_faces.evaluation`,
  :func:`proctor_faces.bench.bench`.
"""

from proctor_faces.analysis import analyse, analyse_work, is_away
from proctor_faces.config import FacesSettings
from proctor_faces.enrol import Enrolment, Refusal, embed_face, enrol
from proctor_faces.packs import ModelPack, build_pack, load_pack
from proctor_faces.types import Detection, Face, FrameAnalysis, Landmarks, Pose, Quality
from proctor_faces.verify import Decision, Inconclusive, TemplateMismatch, Verification, distance, verify

__all__ = [
    "Decision", "Detection", "Enrolment", "Face", "FacesSettings", "FrameAnalysis", "Inconclusive",
    "Landmarks", "ModelPack", "Pose", "Quality", "Refusal", "TemplateMismatch", "Verification",
    "analyse", "analyse_work", "build_pack", "distance", "embed_face", "enrol", "is_away", "load_pack",
    "verify",
]
