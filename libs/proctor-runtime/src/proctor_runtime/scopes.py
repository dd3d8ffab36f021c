"""Who may see which rooms, and who did it: shared by every service that serves proctors."""

from __future__ import annotations

from collections.abc import Sequence

from proctor.common.v1 import common_pb2
from proctor_runtime.errors import PermissionDenied
from proctor_runtime.tokens import Claims, Role, require_role

OBSERVERS = (Role.STAFF, Role.PROCTOR, Role.CHIEF_PROCTOR, Role.SERVICE)


def room_scope(claims: Claims | None, sitting_id: str, requested: Sequence[str],
               roles: Sequence[Role] = OBSERVERS) -> list[str] | None:
    """The rooms the caller may see in ``sitting_id`` (None = every room of the sitting).
    A proctor asking for a room outside their token's rooms is refused, naming that room only."""
    claims = require_role(claims, *roles)
    if claims.role in (Role.STAFF, Role.SERVICE):
        return list(requested) or None
    if claims.sitting_id and claims.sitting_id != sitting_id:
        raise PermissionDenied("OUT_OF_SCOPE", "this proctor token is for another sitting",
                               "无权查看其他考试场次")
    if claims.role == Role.CHIEF_PROCTOR:
        return list(requested) or None
    allowed = set(claims.rooms)
    outside = [r for r in requested if r not in allowed]
    if outside:
        raise PermissionDenied("OUT_OF_SCOPE", f"room {outside[0]!r} is not in your scope",
                               "无权查看该考场", {"room_id": outside[0]})
    return list(requested) or sorted(allowed)


def actor(claims: Claims) -> common_pb2.Actor:
    kind = {Role.CANDIDATE: common_pb2.ACTOR_KIND_CANDIDATE, Role.PHONE: common_pb2.ACTOR_KIND_DEVICE,
            Role.PROCTOR: common_pb2.ACTOR_KIND_PROCTOR, Role.CHIEF_PROCTOR: common_pb2.ACTOR_KIND_PROCTOR,
            Role.STAFF: common_pb2.ACTOR_KIND_STAFF, Role.SERVICE: common_pb2.ACTOR_KIND_SERVICE}
    return common_pb2.Actor(kind=kind[claims.role], id=claims.sub,
                            display_name=claims.extra.get("name", ""))
