"""Domain errors, each mapped by the shared interceptor to a precise gRPC status.

Domain code raises these; it never imports grpc. The interceptor aborts the call with the
status code, the English message as details and an ``ErrorDetail`` (reason, en, zh-CN,
metadata) in the binary trailing metadata ``proctor-error-bin``. Anything else that escapes a
handler is a bug: INTERNAL, logged with its traceback, with no internals in the message.
"""

from __future__ import annotations

from collections.abc import Mapping

import grpc


class DomainError(Exception):
    code: grpc.StatusCode = grpc.StatusCode.FAILED_PRECONDITION

    def __init__(self, reason: str, message_en: str, message_zh: str = "",
                 metadata: Mapping[str, str] | None = None) -> None:
        super().__init__(message_en)
        self.reason = reason
        self.message_en = message_en
        self.message_zh = message_zh or message_en
        self.metadata = dict(metadata or {})

    @property
    def message(self) -> str:
        """What a person reads: zh-CN and English together when both exist."""
        if self.message_zh and self.message_zh != self.message_en:
            return f"{self.message_zh} / {self.message_en}"
        return self.message_en


class InvalidArgument(DomainError):
    code = grpc.StatusCode.INVALID_ARGUMENT


class NotFound(DomainError):
    code = grpc.StatusCode.NOT_FOUND


class AlreadyExists(DomainError):
    code = grpc.StatusCode.ALREADY_EXISTS


class FailedPrecondition(DomainError):
    code = grpc.StatusCode.FAILED_PRECONDITION


class OutOfRange(DomainError):
    code = grpc.StatusCode.OUT_OF_RANGE


class PermissionDenied(DomainError):
    code = grpc.StatusCode.PERMISSION_DENIED


class Unauthenticated(DomainError):
    code = grpc.StatusCode.UNAUTHENTICATED


class ResourceExhausted(DomainError):
    code = grpc.StatusCode.RESOURCE_EXHAUSTED


class Aborted(DomainError):
    code = grpc.StatusCode.ABORTED


class Unavailable(DomainError):
    code = grpc.StatusCode.UNAVAILABLE


class DeadlineExceeded(DomainError):
    code = grpc.StatusCode.DEADLINE_EXCEEDED
