"""The events media-ingest publishes (through its outbox), and the protobuf views of its rows.

Kafka carries references (object URIs), never media bytes. Event ids are deterministic, so a
retried transaction or a relay restart never announces the same fact twice under two ids.
"""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta

from google.protobuf.duration_pb2 import Duration

from media_ingest.store import SegmentRow, StreamRow, UploadRow
from proctor.common.v1 import common_pb2
from proctor.events.v1 import audit_pb2, incident_pb2, media_pb2
from proctor.media.v1 import media_ingest_pb2 as pb
from proctor_runtime.events import meta, ts

PRODUCER = "media-ingest"
FINAL_STATES = (pb.STREAM_STATE_VERIFIED, pb.STREAM_STATE_VERIFICATION_FAILED)


def duration_ms(ms: int | None) -> Duration:
    out = Duration()
    if ms:
        out.FromTimedelta(timedelta(milliseconds=ms))
    return out


def stream_info(s: StreamRow) -> pb.MediaStreamInfo:
    out = pb.MediaStreamInfo(
        stream_id=s.stream_id, sitting_id=s.sitting_id, candidate_id=s.candidate_id,
        attempt_number=s.attempt_number, kind=s.kind, format=common_pb2.MediaFormat.FromString(s.format),
        device_kind=s.device_kind, device_id=s.device_id, state=s.state, client_stream_key=s.client_stream_key,
        opened_at=ts(s.opened_at), segments_complete=s.segments_complete,
        contiguous_segments=s.contiguous_segments, bytes_committed=s.bytes_committed, late=s.late,
        upload_deadline=ts(s.upload_deadline), last_activity_at=ts(s.last_activity_at),
        chain_head=s.chain_head, problems=s.problems)
    if s.closed_at:
        out.closed_at.CopyFrom(ts(s.closed_at))
    if s.verified_at:
        out.verified_at.CopyFrom(ts(s.verified_at))
    return out


def manifest_segment(g: SegmentRow) -> pb.ManifestSegment:
    out = pb.ManifestSegment(segment_index=g.segment_index, size_bytes=g.size_bytes or 0, sha256=g.sha256 or b"",
                             chain_hash=g.chain_hash or b"", object_uri=g.object_uri or "", late=g.late,
                             media_duration=duration_ms(g.media_duration_ms))
    for name, value in (("client_start_time", g.client_start_time), ("client_end_time", g.client_end_time),
                        ("committed_at", g.committed_at)):
        if value is not None:
            getattr(out, name).CopyFrom(ts(value))
    return out


def segment_received(s: StreamRow, g: SegmentRow) -> media_pb2.MediaSegmentReceived:
    assert g.committed_at is not None
    out = media_pb2.MediaSegmentReceived(
        meta=meta(sitting_id=s.sitting_id, candidate_id=s.candidate_id, producer=PRODUCER,
                  event_time=g.committed_at, event_id=f"{s.stream_id}:{g.segment_index}:received"),
        stream_id=s.stream_id, stream_kind=s.kind, attempt_number=s.attempt_number,
        segment_index=g.segment_index, object_uri=g.object_uri or "", size_bytes=g.size_bytes or 0,
        sha256=g.sha256 or b"", declared_format=common_pb2.MediaFormat.FromString(s.format),
        media_duration=duration_ms(g.media_duration_ms), committed_at=ts(g.committed_at), late=g.late,
        device_kind=s.device_kind)
    if g.client_start_time:
        out.client_start_time.CopyFrom(ts(g.client_start_time))
    if g.client_end_time:
        out.client_end_time.CopyFrom(ts(g.client_end_time))
    return out


def stream_event(s: StreamRow, kind: int, now: datetime, *, missing: list[int] | None = None,
                 suffix: str = "") -> media_pb2.MediaStreamEvent:
    name = media_pb2.MediaStreamEventKind.Name(kind).removeprefix("MEDIA_STREAM_EVENT_KIND_").lower()
    return media_pb2.MediaStreamEvent(
        meta=meta(sitting_id=s.sitting_id, candidate_id=s.candidate_id, producer=PRODUCER, event_time=now,
                  event_id=f"{s.stream_id}:{name}{suffix}"),
        kind=kind, stream_id=s.stream_id, stream_kind=s.kind, attempt_number=s.attempt_number,
        device_kind=s.device_kind, segment_count=s.close_segment_count or s.contiguous_segments,
        total_bytes=s.bytes_committed, chain_head=s.chain_head, late=s.late, missing_segments=missing or [],
        problems=s.problems, upload_deadline=ts(s.upload_deadline))


def summary(s: StreamRow) -> media_pb2.StreamSummary:
    return media_pb2.StreamSummary(stream_id=s.stream_id, stream_kind=s.kind,
                                   segment_count=s.close_segment_count or s.contiguous_segments,
                                   total_bytes=s.bytes_committed, verified=s.state == pb.STREAM_STATE_VERIFIED,
                                   late=s.late)


def candidate_event(u: UploadRow, streams: list[StreamRow], progress: common_pb2.UploadProgress, kind: int,
                    now: datetime) -> media_pb2.MediaStreamEvent:
    name = media_pb2.MediaStreamEventKind.Name(kind).removeprefix("MEDIA_STREAM_EVENT_KIND_").lower()
    return media_pb2.MediaStreamEvent(
        meta=meta(sitting_id=u.sitting_id, candidate_id=u.candidate_id, producer=PRODUCER, event_time=now,
                  event_id=f"{u.sitting_id}:{u.candidate_id}:{u.attempt_number}:{name}"),
        kind=kind, attempt_number=u.attempt_number, streams=[summary(s) for s in streams], progress=progress,
        late=progress.late, upload_deadline=ts(u.upload_deadline))


def incident(*, sitting_id: str, candidate_id: str, room_id: str, attempt: int, kind: int, severity: int,
             start: datetime, now: datetime, en: str, zh: str, anchor: str,
             attributes: dict[str, str]) -> incident_pb2.IncidentEvent:
    raw = f"{sitting_id}|{candidate_id}|{attempt}|{kind}|media-ingest|{anchor}"
    iid = "inc-" + hashlib.sha256(raw.encode()).hexdigest()[:24]
    body = common_pb2.Incident(
        incident_id=iid, sitting_id=sitting_id, candidate_id=candidate_id, room_id=room_id, attempt_number=attempt,
        kind=kind, severity=severity, confidence=1.0, start_time=ts(start), detected_at=ts(now),
        detector="media-ingest-verify@1", source=common_pb2.INCIDENT_SOURCE_MEDIA,
        summary=common_pb2.LocalizedText(en=en, zh=zh), attributes=attributes)
    return incident_pb2.IncidentEvent(
        meta=meta(sitting_id=sitting_id, candidate_id=candidate_id, producer=PRODUCER, event_time=now,
                  event_id=f"{iid}:1"),
        change=incident_pb2.INCIDENT_CHANGE_OPENED, incident=body, revision=1)


def audit(actor: common_pb2.Actor, action: str, s: StreamRow, reason: str, now: datetime,
          attributes: dict[str, str]) -> audit_pb2.AuditEvent:
    return audit_pb2.AuditEvent(
        meta=meta(sitting_id=s.sitting_id, candidate_id=s.candidate_id, producer=PRODUCER, event_time=now),
        actor=actor, action=action, target=audit_pb2.AuditTarget(type="media_stream", id=s.stream_id),
        reason=reason, outcome=audit_pb2.AUDIT_OUTCOME_SUCCESS, attributes=attributes)

