"""Per-request context (request id, authenticated principal) carried through asyncio tasks."""

from __future__ import annotations

from contextvars import ContextVar
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from proctor_runtime.tokens import Claims

_request_id: ContextVar[str] = ContextVar("request_id", default="")
_claims: ContextVar[Claims | None] = ContextVar("claims", default=None)


def current_request_id() -> str:
    return _request_id.get()


def set_request_id(value: str) -> None:
    _request_id.set(value)


def current_claims() -> Claims | None:
    return _claims.get()


def set_claims(claims: Claims | None) -> None:
    _claims.set(claims)
