"""Kafka side of the worker: what it consumes (segments received, stream verdicts) and the events it
queues through the outbox (MediaSegmentStored, MediaStreamEvent STREAM_STITCHED).

Event ids are deterministic: ``<stream_id>:<segment_index>:stored`` and ``<stream_id>:stream_stitched``.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta

from google.protobuf.duration_pb2 import Duration

from media_ingest.processing.db import SegmentRow, StreamRow
from proctor.common.v1 import common_pb2 as common
from proctor.events.v1 import media_pb2 as media
from proctor_runtime import topics
from proctor_runtime.events import meta, ts
from proctor_runtime.kafka import Record, Subscription

PRODUCER = "media-worker"
CLOSING_KINDS = (media.MEDIA_STREAM_EVENT_KIND_STREAM_VERIFIED,
                 media.MEDIA_STREAM_EVENT_KIND_STREAM_VERIFICATION_FAILED)


def segment_id(stream_id: str, index: int) -> str:
    return f"{stream_id}:{index}"


def duration(microseconds: int) -> Duration:
    out = Duration()
    out.FromTimedelta(timedelta(microseconds=microseconds))
    return out


def segment_stored(received: media.MediaSegmentReceived, row: SegmentRow, playlist_uri: str,
                   fmt: common.MediaFormat, has_video: bool, has_audio: bool) -> media.MediaSegmentStored:
    sid = segment_id(received.stream_id, received.segment_index)
    return media.MediaSegmentStored(
        meta=meta(sitting_id=received.meta.sitting_id, candidate_id=received.meta.candidate_id, producer=PRODUCER,
                  event_time=row.processed_at, event_id=f"{sid}:stored", request_id=received.meta.request_id),
        segment_id=sid, stream_id=received.stream_id, stream_kind=received.stream_kind,
        attempt_number=received.attempt_number, segment_index=received.segment_index,
        media_start_time=ts(row.media_start_time), media_end_time=ts(row.media_end_time),
        duration=duration(row.duration_us), stream_offset=duration(row.stream_offset_us),
        object_uri=row.object_uri, raw_object_uri=row.raw_object_uri, thumbnail_uri=row.thumbnail_uri,
        playlist_uri=playlist_uri, keyframe_interval=duration(row.keyframe_interval_us),
        keyframe_count=row.keyframe_count, format=fmt, has_video=has_video, has_audio=has_audio,
        action=row.action, probe=media.ProbeResult(ok=row.ok, flags=row.flags, detail=row.detail),
        received_at=ts(row.received_at), processed_at=ts(row.processed_at))


def stream_stitched(stream: StreamRow, now: datetime, total_bytes: int, not_listed: list[int],
                    problems: list[str]) -> media.MediaStreamEvent:
    ref = stream.ref
    return media.MediaStreamEvent(
        meta=meta(sitting_id=ref.sitting_id, candidate_id=ref.candidate_id, producer=PRODUCER, event_time=now,
                  event_id=f"{ref.stream_id}:stream_stitched"),
        kind=media.MEDIA_STREAM_EVENT_KIND_STREAM_STITCHED, stream_id=ref.stream_id, stream_kind=ref.stream_kind,
        attempt_number=ref.attempt_number, device_kind=ref.device_kind,
        segment_count=stream.closed_segment_count or 0, total_bytes=total_bytes,
        chain_head=stream.closed_chain_head or b"", late=stream.closed_late, missing_segments=not_listed,
        problems=problems, playlist_uri=stream.playlist_uri)


SegmentHandler = Callable[[Record[media.MediaSegmentReceived]], Awaitable[None]]
StreamHandler = Callable[[Record[media.MediaStreamEvent]], Awaitable[None]]


def subscriptions(on_segment: SegmentHandler, on_stream: StreamHandler) -> list[Subscription]:
    async def on_stream_event(record: Record[media.MediaStreamEvent]) -> None:
        if record.value.kind in CLOSING_KINDS and record.value.stream_id:
            await on_stream(record)

    return [Subscription(topics.MEDIA_SEGMENTS_RECEIVED.name, media.MediaSegmentReceived, on_segment),
            Subscription(topics.MEDIA_STREAMS.name, media.MediaStreamEvent, on_stream_event)]
