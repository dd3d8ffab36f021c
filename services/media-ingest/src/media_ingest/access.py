"""Who may touch which stream: a candidate token its own desktop streams, the bound phone's device
token its own phone streams (both from the device that opened them), proctors the candidates of
their rooms (read-only), staff and services everything (staff may close a stream as incomplete)."""

from __future__ import annotations

from proctor.common.v1 import common_pb2
from proctor_runtime.errors import PermissionDenied
from proctor_runtime.tokens import Claims, Role, require_role

PHONE_KINDS = (common_pb2.STREAM_KIND_PHONE_EVIDENCE, common_pb2.STREAM_KIND_PHONE_ROOM_SCAN)
DESKTOP_KINDS = (common_pb2.STREAM_KIND_DESKTOP_CAMERA, common_pb2.STREAM_KIND_DESKTOP_SCREEN)
OBSERVERS = (Role.STAFF, Role.SERVICE, Role.PROCTOR, Role.CHIEF_PROCTOR)
ACTOR_KIND = {Role.CANDIDATE: common_pb2.ACTOR_KIND_CANDIDATE, Role.PHONE: common_pb2.ACTOR_KIND_DEVICE,
              Role.PROCTOR: common_pb2.ACTOR_KIND_PROCTOR, Role.CHIEF_PROCTOR: common_pb2.ACTOR_KIND_PROCTOR,
              Role.STAFF: common_pb2.ACTOR_KIND_STAFF, Role.SERVICE: common_pb2.ACTOR_KIND_SERVICE}


def not_your_stream() -> PermissionDenied:
    return PermissionDenied("NOT_YOUR_STREAM", "this recording belongs to another candidate or device",
                            "无权访问其他考生或设备的录像")


def token_fits_kind(claims: Claims, kind: int) -> None:
    """Desktop kinds need the candidate token, phone kinds the phone's device token."""
    wanted = Role.PHONE if kind in PHONE_KINDS else Role.CANDIDATE
    if claims.role != wanted:
        device = "手机" if wanted == Role.PHONE else "电脑客户端"
        raise PermissionDenied("WRONG_TOKEN_KIND", f"{common_pb2.StreamKind.Name(kind)} is uploaded with a "
                               f"{wanted} token, not a {claims.role} token", f"该录像只能由{device}上传")


def owns(claims: Claims, sitting_id: str, candidate_id: str, kind: int, device_id: str) -> None:
    """The caller is the candidate's device that owns this stream."""
    if claims.sitting_id != sitting_id or claims.candidate_id != candidate_id:
        raise not_your_stream()
    token_fits_kind(claims, kind)
    if claims.device_id and device_id and claims.device_id != device_id:
        raise not_your_stream()


def may_observe(claims: Claims | None, sitting_id: str, candidate_id: str, room_id: str, kind: int | None = None,
                device_id: str = "") -> Claims:
    """Read access: the owner (kind given: that stream; else any of the candidate's), proctors of the
    candidate's room, chief proctors of the sitting, staff, services."""
    claims = require_role(claims, Role.CANDIDATE, Role.PHONE, *OBSERVERS)
    if claims.role in (Role.CANDIDATE, Role.PHONE):
        if claims.sitting_id != sitting_id or claims.candidate_id != candidate_id:
            raise not_your_stream()
        if kind is not None:
            owns(claims, sitting_id, candidate_id, kind, device_id)
        return claims
    if claims.role in (Role.STAFF, Role.SERVICE):
        return claims
    if claims.sitting_id and claims.sitting_id != sitting_id:
        raise PermissionDenied("OUT_OF_SCOPE", "this proctor token is for another sitting", "无权查看其他考试场次")
    if claims.role == Role.PROCTOR and room_id not in claims.rooms:
        raise PermissionDenied("OUT_OF_SCOPE", "this candidate is not in your rooms", "该考生不在您负责的考场",
                               {"room_id": room_id})
    return claims


def actor(claims: Claims) -> common_pb2.Actor:
    return common_pb2.Actor(kind=ACTOR_KIND[claims.role], id=claims.sub, display_name=claims.extra.get("name", ""))
