"""Building event envelopes (``EventMeta``) and converting times for protobuf messages."""

from __future__ import annotations

import os
import time
import uuid
from datetime import UTC, datetime

from google.protobuf.timestamp_pb2 import Timestamp

from proctor.events.v1 import meta_pb2
from proctor_runtime.context import current_request_id

SCHEMA_VERSION = 1


def uuid7() -> str:
    """A time-ordered UUID (RFC 9562 version 7): sortable event ids."""
    ms = time.time_ns() // 1_000_000
    raw = bytearray(ms.to_bytes(6, "big") + os.urandom(10))
    raw[6] = (raw[6] & 0x0F) | 0x70
    raw[8] = (raw[8] & 0x3F) | 0x80
    return str(uuid.UUID(bytes=bytes(raw)))


def ts(value: datetime) -> Timestamp:
    out = Timestamp()
    out.FromDatetime(value.astimezone(UTC))
    return out


def from_ts(value: Timestamp) -> datetime:
    return value.ToDatetime(tzinfo=UTC)


def meta(*, sitting_id: str, candidate_id: str, producer: str, event_time: datetime,
         event_id: str = "", request_id: str = "") -> meta_pb2.EventMeta:
    return meta_pb2.EventMeta(
        event_id=event_id or uuid7(), schema_version=SCHEMA_VERSION, sitting_id=sitting_id,
        candidate_id=candidate_id, event_time=ts(event_time), producer=producer,
        request_id=request_id or current_request_id())
