"""Live analysis stills (``SubmitStills``): while an analysed stream records (the desktop camera, the
phone's evidence video), its client sends one JPEG still per ``UploadLimits.still_interval`` as it is
captured; each valid still is published as ``MediaStill`` on ``proctor.media-stills.v1`` for anomaly,
which so sees the candidate within a second instead of a segment later. The segments stay the record.

A call is all or nothing: any bad still refuses the whole call and nothing is published. Accepted
stills are answered once Kafka has every one of them (``acks=all``), in capture order on the
candidate's partition. Nothing is written to PostgreSQL; the stream's row (owner, state, anchor) is
read at most once per ``still_stream_cache_s`` per stream, since at one call per second per stream that
read would otherwise be the call's main cost. A stream closed meanwhile on another replica (or by this
one) may so take stills for that long after it closed; harmless, they are analysis input only.
"""

from __future__ import annotations

import asyncio
import time
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from confluent_kafka import KafkaError, KafkaException
from google.protobuf.duration_pb2 import Duration
from psycopg_pool import AsyncConnectionPool

from media_ingest import access, metrics, store
from media_ingest.config import Settings
from media_ingest.events import PRODUCER
from media_ingest.store import StreamRow
from media_ingest.uploads import not_ready, stream_closed, stream_not_found, utcnow
from proctor.common.v1 import common_pb2
from proctor.events.v1 import media_pb2
from proctor.media.v1 import media_ingest_pb2 as pb
from proctor_runtime import topics
from proctor_runtime.errors import (
    DomainError,
    FailedPrecondition,
    InvalidArgument,
    ResourceExhausted,
    Unavailable,
)
from proctor_runtime.events import meta, ts
from proctor_runtime.kafka import EventProducer
from proctor_runtime.ratelimit import RateLimiter
from proctor_runtime.tokens import Claims, Role, require_role

JPEG_START = b"\xff\xd8\xff"  # SOI + the first marker's 0xFF
JPEG_END = b"\xff\xd9"        # EOI
EARLIEST_NS = 60 * 10**9          # a still may be captured this long before the stream's anchor (clock skew)
LATEST_NS = 24 * 3600 * 10**9     # and at most this long after it
CACHE_ENTRIES = 10_000            # stream rows kept (about 1 KB each)


class StreamCache:
    """Stream rows by id, each for ``ttl_s`` (monotonic time), at most ``size`` of them (least recently
    used dropped first). ``ttl_s`` 0 keeps nothing."""

    def __init__(self, ttl_s: float, size: int = CACHE_ENTRIES, now: Callable[[], float] = time.monotonic) -> None:
        self.ttl_s, self.size, self.now = ttl_s, size, now
        self._rows: OrderedDict[str, tuple[float, StreamRow]] = OrderedDict()

    def get(self, stream_id: str) -> StreamRow | None:
        entry = self._rows.get(stream_id)
        if entry is None:
            return None
        if entry[0] <= self.now():
            del self._rows[stream_id]
            return None
        self._rows.move_to_end(stream_id)
        return entry[1]

    def put(self, row: StreamRow) -> None:
        if self.ttl_s <= 0:
            return
        self._rows[row.stream_id] = (self.now() + self.ttl_s, row)
        self._rows.move_to_end(row.stream_id)
        while len(self._rows) > self.size:
            self._rows.popitem(last=False)


def anchor_of(s: StreamRow) -> datetime:
    """Zero of the stream's timeline: the declared capture start, else the open time (as the worker's)."""
    return s.client_start_time or s.opened_at


def is_jpeg(data: bytes) -> bool:
    """A JPEG's frame: SOI and a marker first, EOI last (zero padding after it allowed)."""
    body = data.rstrip(b"\x00")
    return len(body) >= len(JPEG_START) + len(JPEG_END) and body.startswith(JPEG_START) and body.endswith(JPEG_END)


def check_still(index: int, still: pb.Still, anchor_ns: int, max_bytes: int) -> None:
    """One still's rules (no I/O); raises the refusal of the whole call."""
    where = {"index": str(index)}
    if len(still.jpeg) > max_bytes:
        raise ResourceExhausted("STILL_TOO_LARGE", f"stills[{index}] has {len(still.jpeg)} bytes; a still may have "
                                f"at most {max_bytes}", "分析截图过大", {**where, "max_bytes": str(max_bytes)})
    if not is_jpeg(still.jpeg):
        raise InvalidArgument("STILL_NOT_JPEG", f"stills[{index}] is not a JPEG image (it must start with FF D8 FF "
                              "and end with FF D9)", "分析截图不是有效的 JPEG 图像", where)
    if not still.HasField("captured_at"):
        raise InvalidArgument("STILL_TIME_INVALID", f"stills[{index}].captured_at is required",
                              "分析截图缺少拍摄时间", where)
    captured = still.captured_at.ToNanoseconds()
    if not anchor_ns - EARLIEST_NS <= captured <= anchor_ns + LATEST_NS:
        raise InvalidArgument("STILL_TIME_INVALID", f"stills[{index}].captured_at is outside the recording (from "
                              "1 minute before its start to 24 hours after it); check the device clock",
                              "分析截图的拍摄时间不在录像时间范围内，请检查设备时钟", where)


@dataclass
class Stills:
    settings: Settings
    pool: AsyncConnectionPool
    producer: EventProducer
    ready: Callable[[], bool]  # the upload server's readiness (migrations done)
    clock: Callable[[], datetime] = utcnow
    streams: StreamCache = field(init=False)

    def __post_init__(self) -> None:
        self.streams = StreamCache(self.settings.still_stream_cache_s)
        # per stream, checked after the ownership: nobody drains another device's allowance
        self.limiter = RateLimiter(per_minute=self.settings.stills_per_minute_per_stream,
                                   burst=max(self.settings.stills_burst_per_stream, self.settings.max_stills_per_call))

    async def submit(self, claims: Claims | None, req: pb.SubmitStillsRequest) -> pb.SubmitStillsResponse:
        kind = "unknown"
        try:
            caller = self._check_call(claims, req)
            s = await self._stream(req.stream_id)
            kind = metrics.stream_kind(s.kind)
            self._check_stream(caller, s)
            self.limiter.check(s.stream_id, cost=len(req.stills))
            anchor_ns = ts(anchor_of(s)).ToNanoseconds()
            for i, still in enumerate(req.stills):
                check_still(i, still, anchor_ns, self.settings.still_max_bytes)
            now = self.clock()
            await self._publish(s, [_event(s, still, anchor_ns, now) for still in req.stills])
        except DomainError as exc:
            metrics.STILLS.labels(kind, exc.reason).inc(len(req.stills))
            raise
        metrics.STILLS.labels(kind, "OK").inc(len(req.stills))
        metrics.STILL_BYTES.labels(kind).inc(sum(len(still.jpeg) for still in req.stills))
        return pb.SubmitStillsResponse(accepted=len(req.stills))

    def _check_call(self, claims: Claims | None, req: pb.SubmitStillsRequest) -> Claims:
        """Readiness, the caller's role and the call's shape (before any read)."""
        if not self.ready():
            raise not_ready()
        caller = require_role(claims, Role.CANDIDATE, Role.PHONE)
        if not req.stream_id:
            raise InvalidArgument("FIELD_REQUIRED", "stream_id is required", "缺少录像流标识", {"field": "stream_id"})
        if not req.stills:
            raise InvalidArgument("FIELD_REQUIRED", "stills is empty: send at least one still", "请求缺少分析截图",
                                  {"field": "stills"})
        most = self.settings.max_stills_per_call
        if len(req.stills) > most:
            raise InvalidArgument("TOO_MANY_STILLS", f"{len(req.stills)} stills in one call; at most {most} "
                                  "(UploadLimits.max_stills_per_call): send the rest in further calls",
                                  "一次提交的分析截图过多，请分批发送", {"max_stills": str(most)})
        return caller

    def _check_stream(self, caller: Claims, s: StreamRow) -> None:
        """The caller is the stream's owning device, the stream is open and its kind takes stills."""
        access.owns(caller, s.sitting_id, s.candidate_id, s.kind, s.device_id)
        if s.state != pb.STREAM_STATE_OPEN:
            raise stream_closed(s)
        if self.settings.still_seconds(s.kind) is None:
            name = common_pb2.StreamKind.Name(s.kind)
            raise FailedPrecondition("STILLS_NOT_ANALYSED", f"{name} streams take no stills "
                                     "(UploadLimits.still_interval is unset)", "该类录像无需提交分析截图",
                                     {"stream_kind": name})

    async def _stream(self, stream_id: str) -> StreamRow:
        s = self.streams.get(stream_id)
        if s is None:
            async with self.pool.connection() as conn:
                s = await store.get_stream(conn, stream_id)
            if s is None:
                raise stream_not_found(stream_id)
            self.streams.put(s)
        return s

    async def _publish(self, s: StreamRow, stills: Sequence[media_pb2.MediaStill]) -> None:
        """Hand every still to Kafka (in capture order, keyed by candidate) and wait until all are durable."""
        timeout = self.settings.still_publish_timeout_s
        sends = [self.producer.send(topics.MEDIA_STILLS.name, s.candidate_id, m) for m in stills]
        try:
            async with asyncio.timeout(timeout):
                results = await asyncio.gather(*sends, return_exceptions=True)
        except TimeoutError as exc:
            raise events_unavailable(f"Kafka did not confirm them within {timeout:g} s") from exc
        for result in results:
            if isinstance(result, KafkaException):
                raise events_unavailable(f"Kafka refused them: {_kafka_error(result)}") from result
            if isinstance(result, BaseException):
                raise result


def _event(s: StreamRow, still: pb.Still, anchor_ns: int, now: datetime) -> media_pb2.MediaStill:
    captured = still.captured_at.ToNanoseconds()
    offset = Duration()
    offset.FromNanoseconds(max(0, captured - anchor_ns))
    return media_pb2.MediaStill(
        meta=meta(sitting_id=s.sitting_id, candidate_id=s.candidate_id, producer=PRODUCER, event_time=now,
                  event_id=f"{s.stream_id}:{captured // 1_000_000}:still"),
        stream_id=s.stream_id, stream_kind=s.kind, attempt_number=s.attempt_number, captured_at=still.captured_at,
        stream_offset=offset, jpeg=still.jpeg, received_at=ts(now), device_kind=s.device_kind)


def events_unavailable(why: str) -> Unavailable:
    return Unavailable("EVENTS_UNAVAILABLE", f"the stills could not be handed to the analysis ({why}); some may "
                       "have arrived: send them all again (a still sent twice is analysed once)",
                       "暂时无法接收分析截图，请稍后重新发送")


def _kafka_error(exc: KafkaException) -> str:
    err = exc.args[0] if exc.args else None
    return f"{err.name()}: {err.str()}" if isinstance(err, KafkaError) else str(exc)
