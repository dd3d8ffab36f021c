"""Domain values <-> protobuf messages (enum names are shared: ``Issue.FACE_MASKED`` is
``QUALITY_ISSUE_CODE_FACE_MASKED``)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from auth_face import domain
from auth_face.domain import Decision, Issue, LoginFailure, Match, QualityVerdict, Step
from auth_face.store import ReviewRow, SessionRow
from proctor.auth.v1 import auth_face_pb2 as pb
from proctor.common.v1 import common_pb2
from proctor_runtime.events import ts


def issue_code(issue: Issue) -> int:
    return int(pb.QualityIssueCode.Value(f"QUALITY_ISSUE_CODE_{issue.value}"))


def action(step: Step) -> int:
    return int(pb.LivenessAction.Value(f"LIVENESS_ACTION_{step.value}"))


def text(en: str, zh: str) -> common_pb2.LocalizedText:
    return common_pb2.LocalizedText(en=en, zh=zh)


def quality(v: QualityVerdict) -> pb.FaceQuality:
    out = pb.FaceQuality(accepted=v.accepted, face_count=v.face_count, face_height_px=v.face_height_px,
                         sharpness=v.sharpness, yaw_deg=v.yaw_deg, pitch_deg=v.pitch_deg,
                         detector_score=v.detector_score)
    for i in v.issues:
        out.issues.add(code=issue_code(i.code), message=text(*i.text), measured=i.measured, limit=i.limit)
    return out


def failure(f: LoginFailure) -> pb.LoginFailure:
    out = pb.LoginFailure(reason=int(pb.LoginFailureReason.Value(f"LOGIN_FAILURE_REASON_{f.reason.value}")),
                          message=text(*f.text))
    if f.issue is not None:
        out.quality_issue = issue_code(f.issue)
    if f.step_index is not None:
        out.step_index = f.step_index
    return out


def failures_blob(failures: Sequence[LoginFailure]) -> bytes:
    """The last failures, kept for the review queue (a LoginFailure list is stored as a response)."""
    return pb.VerifyLoginResponse(failures=[failure(f) for f in failures]).SerializeToString()


def failures_from_blob(raw: bytes | None) -> list[pb.LoginFailure]:
    return list(pb.VerifyLoginResponse.FromString(raw).failures) if raw else []


def match(m: Match) -> pb.MatchResult:
    return pb.MatchResult(decision=int(pb.MatchDecision.Value(f"MATCH_DECISION_{m.decision.value}")),
                          distance=m.distance if m.distance is not None else 0.0, threshold=m.threshold,
                          inconclusive_reasons=[issue_code(r) for r in m.reasons]
                          if m.decision is Decision.INCONCLUSIVE else [])


def step_proto(index: int, step: Step, min_s: float, max_s: float) -> pb.LivenessStep:
    out = pb.LivenessStep(index=index, action=action(step), instruction=text(*domain.STEP_TEXT[step]))
    out.min_duration.FromMilliseconds(int(min_s * 1000))
    out.max_duration.FromMilliseconds(int(max_s * 1000))
    return out


def session_info(s: SessionRow, now: datetime) -> pb.SessionInfo:
    out = pb.SessionInfo(session_id=s.session_id, sitting_id=s.sitting_id, candidate_id=s.candidate_id,
                         device_id=s.device_id, status=int(domain.session_status(s.revoked_at, s.expires_at, now)),
                         origin=s.origin, issued_at=ts(s.issued_at), expires_at=ts(s.expires_at),
                         revoke_reason=s.revoke_reason)
    if s.revoked_at is not None:
        out.revoked_at.CopyFrom(ts(s.revoked_at))
    return out


def review_item(r: ReviewRow, photo_kept_template: str = "") -> pb.ManualReviewItem:
    out = pb.ManualReviewItem(review_id=r.review_id, sitting_id=r.sitting_id, candidate_id=r.candidate_id,
                              room_id=r.room_id, status=r.status, created_at=ts(r.created_at),
                              failed_attempts=r.failed_attempts, last_failures=failures_from_blob(r.last_failures),
                              resolution_reason=r.resolution_reason)
    if photo_kept_template:
        out.id_photo_uri = f"auth-face://templates/{photo_kept_template}/photo"
    if r.resolved_at is not None:
        out.resolved_at.CopyFrom(ts(r.resolved_at))
        out.resolved_by.CopyFrom(common_pb2.Actor(kind=r.resolved_kind, id=r.resolved_by,
                                                  display_name=r.resolved_name))
    return out
