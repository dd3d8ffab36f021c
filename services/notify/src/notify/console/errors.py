"""HTTP errors of the console: gRPC status -> HTTP status, with the server's ErrorDetail (zh/en).

The console decides nothing itself: every refusal comes from notify's gRPC server and is passed
on with its reason and texts. The only errors made here are about the HTTP request itself
(malformed JSON, an unknown filter value) and the console's own resources (thumbnails).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import grpc
from aiohttp import web

from proctor.common.v1 import common_pb2
from proctor_runtime.interceptor import ERROR_DETAIL_KEY

HTTP_STATUS: Mapping[grpc.StatusCode, int] = {
    grpc.StatusCode.INVALID_ARGUMENT: 400,
    grpc.StatusCode.OUT_OF_RANGE: 400,
    grpc.StatusCode.UNAUTHENTICATED: 401,
    grpc.StatusCode.PERMISSION_DENIED: 403,
    grpc.StatusCode.NOT_FOUND: 404,
    grpc.StatusCode.ALREADY_EXISTS: 409,
    grpc.StatusCode.ABORTED: 409,
    grpc.StatusCode.FAILED_PRECONDITION: 409,
    grpc.StatusCode.RESOURCE_EXHAUSTED: 429,
    grpc.StatusCode.UNIMPLEMENTED: 501,
    grpc.StatusCode.UNAVAILABLE: 503,
    grpc.StatusCode.CANCELLED: 503,
    grpc.StatusCode.DEADLINE_EXCEEDED: 504,
}
# INTERNAL, UNKNOWN, DATA_LOSS: the upstream failed; nothing of it is passed on but the request id
UPSTREAM_FAILED = 502


class ConsoleError(Exception):
    """A refusal made by the console about the HTTP request itself."""

    def __init__(self, status: int, reason: str, message_en: str, message_zh: str,
                 metadata: Mapping[str, str] | None = None, code: str = "INVALID_ARGUMENT") -> None:
        super().__init__(message_en)
        self.status = status
        self.body = error_body(code, reason, message_en, message_zh, metadata or {})


def bad_request(reason: str, message_en: str, message_zh: str, field: str = "") -> ConsoleError:
    return ConsoleError(400, reason, message_en, message_zh, {"field": field} if field else None)


def error_body(code: str, reason: str, message_en: str, message_zh: str,
               metadata: Mapping[str, str]) -> dict[str, Any]:
    return {"error": {"code": code, "reason": reason, "message_en": message_en, "message_zh": message_zh,
                      "metadata": dict(metadata)}}


def detail_of(err: grpc.aio.AioRpcError) -> common_pb2.ErrorDetail | None:
    for key, value in err.trailing_metadata() or ():
        if key == ERROR_DETAIL_KEY and isinstance(value, bytes):
            try:
                return common_pb2.ErrorDetail.FromString(value)
            except Exception:  # noqa: BLE001 - a garbled detail is treated as absent
                return None
    return None


def from_rpc_error(err: grpc.aio.AioRpcError, request_id: str) -> tuple[int, dict[str, Any]]:
    """The HTTP status and JSON body for a failed gRPC call."""
    code = err.code()
    status = HTTP_STATUS.get(code, UPSTREAM_FAILED)
    detail = detail_of(err)
    if detail is not None and status != UPSTREAM_FAILED:
        metadata = dict(detail.metadata)
        metadata.setdefault("request_id", request_id)
        return status, error_body(code.name, detail.reason, detail.message_en,
                                  detail.message_zh or detail.message_en, metadata)
    if status == UPSTREAM_FAILED:
        return status, error_body(code.name, "UPSTREAM_FAILED",
                                  f"the notify service failed (request id {request_id})",
                                  f"通知服务出错（请求编号 {request_id}）", {"request_id": request_id})
    if code == grpc.StatusCode.UNAVAILABLE:
        return status, error_body(code.name, "UPSTREAM_UNAVAILABLE", "the notify service is unavailable; retrying",
                                  "通知服务暂时不可用，正在重试", {"request_id": request_id})
    if code == grpc.StatusCode.DEADLINE_EXCEEDED:
        return status, error_body(code.name, "UPSTREAM_TIMEOUT", "the notify service did not answer in time",
                                  "通知服务响应超时", {"request_id": request_id})
    # a status without ErrorDetail: pass the code on, never the raw details text
    return status, error_body(code.name, code.name, f"request refused ({code.name})",
                              f"请求被拒绝（{code.name}）", {"request_id": request_id})


def json_error(status: int, body: Mapping[str, Any], request_id: str) -> web.Response:
    return web.Response(status=status, text=json.dumps(body, ensure_ascii=False),
                        content_type="application/json", headers={"X-Request-Id": request_id})
