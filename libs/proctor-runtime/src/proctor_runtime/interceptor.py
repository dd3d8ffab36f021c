"""One server interceptor for every service: request ids, authentication, metrics, error mapping.

- ``x-request-id`` from the caller's metadata (or a new one) is set for logs and error details.
- ``authorization: Bearer <token>`` is verified with the service's public keys; a bad token is
  UNAUTHENTICATED; a method outside ``public_methods`` without a token is UNAUTHENTICATED too.
  The verified claims are available to handlers through ``proctor_runtime.context.current_claims``;
  handlers decide authorisation (which sitting, candidate, room) with ``require_role`` and friends.
- ``DomainError`` becomes its status code with the message and an ``ErrorDetail`` in the binary
  trailing metadata ``proctor-error-bin``; any other exception is INTERNAL, logged, never leaked.
- Request bytes that do not parse as the method's request type are INVALID_ARGUMENT
  REQUEST_MALFORMED (gRPC itself would answer UNKNOWN without a detail); out-of-range timestamps
  and durations, and strings with NUL, are INVALID_ARGUMENT FIELD_INVALID (``proctor_runtime.validation``).
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Collection
from typing import Any

import grpc
import psycopg
from grpc.aio import AbortError
from psycopg_pool import PoolTimeout

from proctor_runtime import metrics
from proctor_runtime.context import current_request_id, set_claims, set_request_id
from proctor_runtime.errors import DomainError, InvalidArgument, Unauthenticated, Unavailable
from proctor_runtime.tokens import TokenVerifier
from proctor_runtime.validation import check_request

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


class _Malformed:
    """What the tolerant deserializer returns for bytes that are not the request type."""

    def __init__(self, error: str) -> None:
        self.error = error


def _tolerant(deserializer: Callable[[bytes], Any] | None) -> Callable[[bytes], Any] | None:
    if deserializer is None:
        return None

    def deserialize(raw: bytes) -> Any:
        try:
            return deserializer(raw)
        except Exception as exc:  # noqa: BLE001 - any parse failure is the caller's malformed request
            return _Malformed(str(exc))

    return deserialize


def _parsed(request: Any) -> Any:
    if isinstance(request, _Malformed):
        raise InvalidArgument("REQUEST_MALFORMED", f"the request is not a valid protobuf message ({request.error})",
                              "请求格式错误，无法解析")
    check_request(request)
    return request


async def _parsed_stream(requests: AsyncIterator[Any]) -> AsyncIterator[Any]:
    async for request in requests:
        yield _parsed(request)


class ServiceInterceptor(grpc.aio.ServerInterceptor):
    def __init__(self, service: str, verifier: TokenVerifier,
                 public_methods: Collection[str] = ()) -> None:
        self.service = service
        self.verifier = verifier
        self.public_methods = frozenset(public_methods)
        self._wrapped: dict[str, grpc.RpcMethodHandler] = {}  # one wrapper per method, built once

    async def intercept_service(
        self, continuation: Callable[[grpc.HandlerCallDetails], Awaitable[grpc.RpcMethodHandler]],
        handler_call_details: grpc.HandlerCallDetails,
    ) -> grpc.RpcMethodHandler:
        method: str = handler_call_details.method  # type: ignore[attr-defined]
        cached = self._wrapped.get(method)
        if cached is not None:
            return cached
        handler = await continuation(handler_call_details)
        if handler is None or method.startswith(ALWAYS_PUBLIC):
            return handler
        wrapped = _Method(self, method).wrap(handler)
        self._wrapped[method] = wrapped
        return wrapped


class _Method:
    """Authentication, metrics and error mapping around one method's behaviour."""

    def __init__(self, owner: ServiceInterceptor, method: str) -> None:
        self.verifier = owner.verifier
        self.method = method
        self.public = method in owner.public_methods
        self.service = owner.service
        self.seconds = metrics.GRPC_SECONDS.labels(owner.service, method)
        self.in_flight = metrics.GRPC_IN_FLIGHT.labels(owner.service)
        self._handled: dict[str, Any] = {}

    def wrap(self, handler: grpc.RpcMethodHandler) -> grpc.RpcMethodHandler:
        kwargs: dict[str, Any] = {"request_deserializer": _tolerant(handler.request_deserializer),
                                  "response_serializer": handler.response_serializer}
        if handler.unary_unary:
            return grpc.unary_unary_rpc_method_handler(self.wrap_unary(handler.unary_unary, False), **kwargs)
        if handler.stream_unary:
            return grpc.stream_unary_rpc_method_handler(self.wrap_unary(handler.stream_unary, True), **kwargs)
        if handler.unary_stream:
            return grpc.unary_stream_rpc_method_handler(self.wrap_stream(handler.unary_stream, False), **kwargs)
        return grpc.stream_stream_rpc_method_handler(self.wrap_stream(handler.stream_stream, True), **kwargs)

    def _authenticate(self, context: grpc.aio.ServicerContext) -> str:
        """Set the request id and the verified claims for this call; returns the request id."""
        header, request_id = "", ""
        for key, value in context.invocation_metadata() or ():
            if key == "authorization":
                header = value if isinstance(value, str) else ""
            elif key == "x-request-id":
                request_id = value if isinstance(value, str) else ""
        # a log-correlation id, not a secret: 128 random bits without uuid4's getrandom system call per call
        request_id = request_id or f"{random.getrandbits(128):032x}"
        set_request_id(request_id)
        if not header:
            set_claims(None)
            if not self.public:
                raise Unauthenticated("TOKEN_MISSING",
                                      "this call needs 'authorization: Bearer <token>'",
                                      "缺少身份令牌，请先登录")
            return request_id
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token:
            raise Unauthenticated("TOKEN_INVALID", "authorization must be 'Bearer <token>'",
                                  "身份令牌格式错误")
        set_claims(self.verifier.verify(token.strip()))
        return request_id

    async def _fail(self, context: grpc.aio.ServicerContext, exc: BaseException) -> None:
        if isinstance(exc, AbortError):
            raise exc
        request_id = current_request_id()
        if isinstance(exc, psycopg.OperationalError | PoolTimeout):
            # the database went away mid-call (a crash, a failover, a restart): a retryable UNAVAILABLE the
            # clients back off on, not an INTERNAL error (the fault campaign crashes PostgreSQL mid-sitting)
            log.warning("database unavailable in %s: %s", self.method, exc)
            exc = Unavailable("DATABASE_UNAVAILABLE", "the service's database is unavailable; retry shortly",
                              "服务暂时不可用，请稍后重试", {"retry_after_ms": "1000"})
        if isinstance(exc, DomainError):
            await context.abort(exc.code, exc.message, trailing_metadata=(
                (ERROR_DETAIL_KEY, error_detail_bytes(exc, request_id)),))
        log.exception("unhandled error in %s", self.method)
        await context.abort(grpc.StatusCode.INTERNAL, f"internal error (request id {request_id})")

    def _record(self, context: grpc.aio.ServicerContext, started: float, failed: bool) -> None:
        code = context.code()
        if code is None:
            name = "UNKNOWN" if failed else "OK"
        else:
            name = code.name if isinstance(code, grpc.StatusCode) else str(code)
        counter = self._handled.get(name)
        if counter is None:
            counter = self._handled[name] = metrics.GRPC_HANDLED.labels(self.service, self.method, name)
        counter.inc()
        self.seconds.observe(time.perf_counter() - started)
        self.in_flight.dec()

    def wrap_unary(self, behavior: Callable[..., Awaitable[Any]],
                   client_stream: bool) -> Callable[..., Awaitable[Any]]:
        async def wrapped(request: Any, context: grpc.aio.ServicerContext) -> Any:
            started, failed = time.perf_counter(), True
            self.in_flight.inc()
            try:
                self._authenticate(context)
                request = _parsed_stream(request) if client_stream else _parsed(request)
                response = await behavior(request, context)
                failed = False
                return response
            except Exception as exc:  # noqa: BLE001 - mapped to a status in _fail
                await self._fail(context, exc)
            finally:
                self._record(context, started, failed)

        return wrapped

    def wrap_stream(self, behavior: Callable[..., Any], client_stream: bool) -> Callable[..., AsyncIterator[Any]]:
        async def wrapped(request: Any, context: grpc.aio.ServicerContext) -> AsyncIterator[Any]:
            started, failed = time.perf_counter(), True
            self.in_flight.inc()
            try:
                self._authenticate(context)
                request = _parsed_stream(request) if client_stream else _parsed(request)
                async for item in behavior(request, context):
                    yield item
                failed = False
            except Exception as exc:  # noqa: BLE001 - mapped to a status in _fail
                await self._fail(context, exc)
            finally:
                self._record(context, started, failed)

        return wrapped
