"""Who may touch what: a candidate only their own session, a phone only its binding, a proctor only
their rooms, staff everything."""

from __future__ import annotations

from collections.abc import Sequence

from exam_session.domain import Candidate
from proctor_runtime.errors import PermissionDenied, Unauthenticated
from proctor_runtime.scopes import OBSERVERS, actor, room_scope

__all__ = ["OBSERVERS", "actor", "device_matches", "not_yours", "observer_of", "own_target", "require_observer",
           "require_staff", "room_scope"]
from proctor_runtime.tokens import Claims, Role, require_role

STAFF = (Role.STAFF,)


def not_yours() -> PermissionDenied:
    return PermissionDenied("NOT_YOUR_CANDIDATE", "this token belongs to another candidate or sitting",
                            "无权访问其他考生的信息")


def own_target(claims: Claims | None, sitting_id: str, candidate_id: str,
               roles: Sequence[Role] = (Role.CANDIDATE,)) -> Claims:
    claims = require_role(claims, *roles)
    if claims.sitting_id != sitting_id or claims.candidate_id != candidate_id:
        raise not_yours()
    return claims


def device_matches(claims: Claims, c: Candidate) -> None:
    """The token's device must be the candidate's current desktop (or phone) device."""
    bound = c.phone_device_id if claims.role == Role.PHONE else c.desktop_device_id
    if bound and claims.device_id != bound:
        raise Unauthenticated("DEVICE_REPLACED", "this device was replaced by another one",
                              "该设备已被其他设备替换，请重新登录")
    if not bound and claims.role == Role.PHONE:
        raise Unauthenticated("DEVICE_REPLACED", "this phone is no longer bound", "该手机已解除绑定")


def observer_of(claims: Claims | None, c: Candidate) -> None:
    """A proctor may look at candidates of their rooms; candidates/phones only at themselves."""
    if claims is not None and claims.role in (Role.CANDIDATE, Role.PHONE):
        if claims.sitting_id != c.sitting_id or claims.candidate_id != c.candidate_id:
            raise not_yours()
        device_matches(claims, c)
        return
    rooms = room_scope(claims, c.sitting_id, [])
    if rooms is not None and c.room_id not in rooms:
        raise PermissionDenied("OUT_OF_SCOPE", "this candidate is not in your rooms",
                               "该考生不在您负责的考场", {"room_id": c.room_id})


def require_staff(claims: Claims | None, *, allow_chief: bool = False, allow_service: bool = False,
                  sitting_id: str = "") -> Claims:
    roles = [Role.STAFF]
    if allow_chief:
        roles.append(Role.CHIEF_PROCTOR)
    if allow_service:
        roles.append(Role.SERVICE)
    claims = require_role(claims, *roles)
    if claims.role == Role.CHIEF_PROCTOR and claims.sitting_id != sitting_id:
        raise PermissionDenied("OUT_OF_SCOPE", "this chief proctor token is for another sitting",
                               "无权操作其他考试场次")
    return claims


def require_observer(claims: Claims | None) -> Claims:
    return require_role(claims, *OBSERVERS)
