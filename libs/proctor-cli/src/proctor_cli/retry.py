"""How our simulated and demo clients retry: as the real desktop client and console do."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Any

import grpc

from proctor.common.v1.common_pb2 import ErrorDetail
from proctor_runtime.interceptor import ERROR_DETAIL_KEY

RETRYABLE = frozenset({grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.RESOURCE_EXHAUSTED})
PATIENCE_S = 180.0  # how long a client keeps retrying one operation before it reports an error


async def retried(call: Callable[[], Awaitable[Any]], patience_s: float = PATIENCE_S) -> Any:
    """A client's answer to a service that is restarting (UNAVAILABLE: back off 0.2 s doubling to 2 s,
    try again) or busy (RESOURCE_EXHAUSTED: wait as told by ``retry_after_ms``). Every call retried this
    way is idempotent: the request (and its client_request_id) is the same each time."""
    give_up = time.monotonic() + patience_s
    backoff = 0.2
    while True:
        try:
            return await call()
        except grpc.aio.AioRpcError as exc:
            if exc.code() not in RETRYABLE or time.monotonic() > give_up:
                raise
            wait_s = backoff
            if exc.code() == grpc.StatusCode.RESOURCE_EXHAUSTED:
                wait_s = 1.0
                for key, value in exc.trailing_metadata() or ():
                    if key == ERROR_DETAIL_KEY:
                        wait_s = float(ErrorDetail.FromString(value).metadata.get("retry_after_ms", 1000)) / 1000
                wait_s += 0.1
            else:
                backoff = min(2.0, backoff * 2)
            await asyncio.sleep(wait_s)
