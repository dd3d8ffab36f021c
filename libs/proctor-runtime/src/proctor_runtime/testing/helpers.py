"""Helpers every service's tests share: bearer metadata, asserting a precise refusal, and reading a
sitting's events back from Kafka."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

import grpc
import pytest
from confluent_kafka import OFFSET_BEGINNING, Consumer, TopicPartition

from proctor.common.v1 import common_pb2
from proctor_runtime.interceptor import ERROR_DETAIL_KEY

Metadata = tuple[tuple[str, str], ...]


def bearer(token: str) -> Metadata:
    return (("authorization", f"Bearer {token}"),)


def detail(err: grpc.aio.AioRpcError) -> common_pb2.ErrorDetail:
    for key, value in err.trailing_metadata() or ():
        if key == ERROR_DETAIL_KEY:
            return common_pb2.ErrorDetail.FromString(value)
    raise AssertionError(f"no error detail in {err}")


async def refused(call: Awaitable[Any], code: grpc.StatusCode, reason: str) -> common_pb2.ErrorDetail:
    """Await ``call``; it must fail with ``code`` and an ErrorDetail whose reason is ``reason``."""
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await call
    assert err.value.code() == code, err.value.details()
    got = detail(err.value)
    assert got.reason == reason, got
    return got


def _read_events(bootstrap: str, topic: str, message_type: Any, sitting_id: str,
                 done: Callable[[list[Any]], bool], timeout_s: float) -> list[Any]:
    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": f"t-{uuid.uuid4().hex}",
                         "enable.auto.commit": False})
    partitions = consumer.list_topics(topic, timeout=10).topics[topic].partitions
    consumer.assign([TopicPartition(topic, p, OFFSET_BEGINNING) for p in partitions])
    out: list[Any] = []
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline and not done(out):
        msg = consumer.poll(0.3)
        if msg is None or msg.error():
            continue
        event = message_type.FromString(msg.value())
        if event.meta.sitting_id == sitting_id:
            out.append(event)
    consumer.close()
    return out


async def kafka_events(bootstrap: str, topic: str, message_type: Any, sitting_id: str,
                       expect: int | Callable[[list[Any]], bool], timeout_s: float = 20.0) -> list[Any]:
    """This sitting's events on ``topic`` (read from the start, no consumer group) until ``expect`` (a
    count or a predicate) holds; in a thread, so the service under test keeps running."""
    done = expect if callable(expect) else (lambda got: len(got) >= expect)
    return await asyncio.to_thread(_read_events, bootstrap, topic, message_type, sitting_id, done, timeout_s)
