"""Who may call what: staff enrol, delete and override; proctors (their rooms), chief proctors (their
sitting) and staff work the manual-review queue; only services re-verify; a candidate token only
reaches its own enrolment and sessions."""

from __future__ import annotations

from collections.abc import Sequence

from proctor.common.v1 import common_pb2
from proctor_runtime.errors import PermissionDenied, Unauthenticated
from proctor_runtime.tokens import Claims, Role, require_role

ACTOR_KIND = {Role.CANDIDATE: common_pb2.ACTOR_KIND_CANDIDATE, Role.PHONE: common_pb2.ACTOR_KIND_DEVICE,
              Role.PROCTOR: common_pb2.ACTOR_KIND_PROCTOR, Role.CHIEF_PROCTOR: common_pb2.ACTOR_KIND_PROCTOR,
              Role.STAFF: common_pb2.ACTOR_KIND_STAFF, Role.SERVICE: common_pb2.ACTOR_KIND_SERVICE}
SYSTEM = common_pb2.Actor(kind=common_pb2.ACTOR_KIND_SYSTEM, id="auth-face")


def not_yours() -> PermissionDenied:
    return PermissionDenied("NOT_YOUR_CANDIDATE", "this token belongs to another candidate or sitting",
                            "无权访问其他考生的信息")


def authenticated(claims: Claims | None) -> Claims:
    if claims is None:
        raise Unauthenticated("TOKEN_MISSING", "this call needs 'authorization: Bearer <token>'", "缺少身份令牌")
    return claims


def staff(claims: Claims | None) -> Claims:
    return require_role(claims, Role.STAFF)


def service(claims: Claims | None) -> Claims:
    return require_role(claims, Role.SERVICE)


def own_or(claims: Claims | None, sitting_id: str, candidate_id: str, *roles: Role) -> Claims:
    """A candidate token for exactly this sitting and candidate, or one of ``roles``."""
    claims = require_role(claims, Role.CANDIDATE, *roles)
    if claims.role == Role.CANDIDATE and (claims.sitting_id != sitting_id or claims.candidate_id != candidate_id):
        raise not_yours()
    return claims


def reviewer(claims: Claims | None, sitting_id: str, room_id: str) -> Claims:
    """Staff; a chief proctor of the sitting; a proctor of the sitting and the candidate's room."""
    rooms = room_scope(claims, sitting_id, [])
    if rooms is not None and room_id not in rooms:
        raise PermissionDenied("OUT_OF_SCOPE", "this candidate is not in your rooms", "该考生不在您负责的考场",
                               {"room_id": room_id})
    assert claims is not None
    return claims


def room_scope(claims: Claims | None, sitting_id: str, requested: Sequence[str]) -> list[str] | None:
    """The rooms the caller may see (None = every room of the sitting)."""
    claims = require_role(claims, Role.STAFF, Role.CHIEF_PROCTOR, Role.PROCTOR)
    if claims.role == Role.STAFF:
        return list(requested) or None
    if claims.sitting_id and claims.sitting_id != sitting_id:
        raise PermissionDenied("OUT_OF_SCOPE", "this proctor token is for another sitting", "无权查看其他考试场次")
    if claims.role == Role.CHIEF_PROCTOR:
        return list(requested) or None
    allowed = set(claims.rooms)
    outside = [r for r in requested if r not in allowed]
    if outside:
        raise PermissionDenied("OUT_OF_SCOPE", f"room {outside[0]!r} is not in your scope", "无权查看该考场",
                               {"room_id": outside[0]})
    return list(requested) or sorted(allowed)


def actor(claims: Claims) -> common_pb2.Actor:
    return common_pb2.Actor(kind=ACTOR_KIND[claims.role], id=claims.sub, display_name=claims.extra.get("name", ""))


def candidate_actor(candidate_id: str) -> common_pb2.Actor:
    return common_pb2.Actor(kind=common_pb2.ACTOR_KIND_CANDIDATE, id=candidate_id)
