"""One server interceptor for every service: request ids, authentication, metrics, error mapping.

- ``x-request-id`` from the caller's metadata (or a new one) is set for logs and error details.
- ``authorization: Bearer <token>`` is verified with the service's public keys; a bad token is
  UNAUTHENTICATED; a method outside ``public_methods`` without a token is UNAUTHENTICATED too.
  The verified claims are available to handlers through ``proctor_runtime.context.current_claims``;
  handlers decide authorisation (which sitting, candidate, room) with ``require_role`` and friends.
- ``DomainError`` becomes its status code with the message and an ``ErrorDetail`` in the binary
  trailing metadata ``proctor-error-bin``; any other exception is INTERNAL, logged, never leaked.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Collection
from typing import Any

import grpc
from grpc.aio import AbortError

from proctor_runtime import metrics
from proctor_runtime.context import set_claims, set_request_id
from proctor_runtime.errors import DomainError, Unauthenticated
from proctor_runtime.tokens import TokenVerifier

log = logging.getLogger(__name__)

ERROR_DETAIL_KEY = "proctor-error-bin"
ALWAYS_PUBLIC = ("/grpc.health.v1.Health/", "/grpc.reflection.")


def error_detail_bytes(error: DomainError, request_id: str) -> bytes:
    from proctor.common.v1 import common_pb2

    detail = common_pb2.ErrorDetail(reason=error.reason, message_en=error.message_en,
                                    message_zh=error.message_zh, metadata=error.metadata)
    if request_id:
        detail.metadata["request_id"] = request_id
    return detail.SerializeToString()


def _metadata(details: grpc.HandlerCallDetails) -> dict[str, str]:
    out: dict[str, str] = {}
    for key, value in details.invocation_metadata or ():
        if isinstance(value, str):
            out[key.lower()] = value
    return out


class ServiceInterceptor(grpc.aio.ServerInterceptor):
    def __init__(self, service: str, verifier: TokenVerifier,
                 public_methods: Collection[str] = ()) -> None:
        self.service = service
        self.verifier = verifier
        self.public_methods = frozenset(public_methods)

    def _is_public(self, method: str) -> bool:
        return method in self.public_methods or method.startswith(ALWAYS_PUBLIC)

    async def intercept_service(
        self, continuation: Callable[[grpc.HandlerCallDetails], Awaitable[grpc.RpcMethodHandler]],
        handler_call_details: grpc.HandlerCallDetails,
    ) -> grpc.RpcMethodHandler:
        handler = await continuation(handler_call_details)
        if handler is None:
            return handler
        method: str = handler_call_details.method  # type: ignore[attr-defined]
        if method.startswith(ALWAYS_PUBLIC):
            return handler
        meta = _metadata(handler_call_details)
        call = _Call(self, method, meta)
        kwargs: dict[str, Any] = {"request_deserializer": handler.request_deserializer,
                                  "response_serializer": handler.response_serializer}
        if handler.unary_unary:
            return grpc.unary_unary_rpc_method_handler(call.wrap_unary(handler.unary_unary), **kwargs)
        if handler.stream_unary:
            return grpc.stream_unary_rpc_method_handler(call.wrap_unary(handler.stream_unary), **kwargs)
        if handler.unary_stream:
            return grpc.unary_stream_rpc_method_handler(call.wrap_stream(handler.unary_stream), **kwargs)
        return grpc.stream_stream_rpc_method_handler(call.wrap_stream(handler.stream_stream), **kwargs)


class _Call:
    """The per-call wrapper around one handler behaviour."""

    def __init__(self, owner: ServiceInterceptor, method: str, meta: dict[str, str]) -> None:
        self.owner = owner
        self.method = method
        self.meta = meta
        self.request_id = meta.get("x-request-id") or uuid.uuid4().hex

    def _authenticate(self) -> None:
        set_request_id(self.request_id)
        header = self.meta.get("authorization", "")
        if not header:
            set_claims(None)
            if not self.owner._is_public(self.method):
                raise Unauthenticated("TOKEN_MISSING",
                                      "this call needs 'authorization: Bearer <token>'",
                                      "缺少身份令牌，请先登录")
            return
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token:
            raise Unauthenticated("TOKEN_INVALID", "authorization must be 'Bearer <token>'",
                                  "身份令牌格式错误")
        set_claims(self.owner.verifier.verify(token.strip()))

    async def _fail(self, context: grpc.aio.ServicerContext, exc: BaseException) -> str:
        if isinstance(exc, AbortError):
            raise exc
        if isinstance(exc, DomainError):
            code = exc.code
            await context.abort(code, exc.message, trailing_metadata=(
                (ERROR_DETAIL_KEY, error_detail_bytes(exc, self.request_id)),))
        log.exception("unhandled error in %s", self.method)
        await context.abort(grpc.StatusCode.INTERNAL,
                            f"internal error (request id {self.request_id})")
        raise AssertionError("unreachable")  # context.abort always raises

    def _record(self, context: grpc.aio.ServicerContext, started: float, failed: bool) -> None:
        code = context.code() if hasattr(context, "code") else None
        if code is None:
            name = "UNKNOWN" if failed else "OK"
        else:
            name = code.name if isinstance(code, grpc.StatusCode) else str(code)
        service = self.owner.service
        metrics.GRPC_HANDLED.labels(service, self.method, name).inc()
        metrics.GRPC_SECONDS.labels(service, self.method).observe(time.perf_counter() - started)
        metrics.GRPC_IN_FLIGHT.labels(service).dec()

    def wrap_unary(self, behavior: Callable[..., Awaitable[Any]]) -> Callable[..., Awaitable[Any]]:
        async def wrapped(request: Any, context: grpc.aio.ServicerContext) -> Any:
            started, failed = time.perf_counter(), True
            metrics.GRPC_IN_FLIGHT.labels(self.owner.service).inc()
            try:
                self._authenticate()
                response = await behavior(request, context)
                failed = False
                return response
            except Exception as exc:
                await self._fail(context, exc)
            finally:
                self._record(context, started, failed)

        return wrapped

    def wrap_stream(self, behavior: Callable[..., Any]) -> Callable[..., AsyncIterator[Any]]:
        async def wrapped(request: Any, context: grpc.aio.ServicerContext) -> AsyncIterator[Any]:
            started, failed = time.perf_counter(), True
            metrics.GRPC_IN_FLIGHT.labels(self.owner.service).inc()
            try:
                self._authenticate()
                async for item in behavior(request, context):
                    yield item
                failed = False
            except Exception as exc:
                await self._fail(context, exc)
            finally:
                self._record(context, started, failed)

        return wrapped
