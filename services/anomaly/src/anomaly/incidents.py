"""Turning the tracker's IncidentChanges into IncidentEvents: the envelope, the room, the model pack,
and the evidence thumbnails stored in object storage (the event carries their URIs, never bytes).

The event id is ``<incident_id>:<revision>``: reprocessing the same input yields the same ids, and
consumers (notify, the report) deduplicate on it.
"""

from __future__ import annotations

import tempfile
from datetime import timedelta
from pathlib import Path

from google.protobuf.duration_pb2 import Duration

from anomaly.model import Evidence, IncidentChange
from proctor.common.v1 import common_pb2
from proctor.events.v1 import incident_pb2
from proctor_runtime.events import meta, ts
from proctor_storage import SegmentStore

PRODUCER = "anomaly"
TELEMETRY_KINDS = {  # incident kinds decided from telemetry rather than from frames
    common_pb2.INCIDENT_KIND_SECOND_MONITOR, common_pb2.INCIDENT_KIND_FOCUS_LOST,
    common_pb2.INCIDENT_KIND_SCREENSHOT_ATTEMPT, common_pb2.INCIDENT_KIND_VIRTUAL_MACHINE,
    common_pb2.INCIDENT_KIND_REMOTE_DESKTOP, common_pb2.INCIDENT_KIND_PROHIBITED_PROCESS}


def _duration(value: timedelta) -> Duration:
    out = Duration()
    out.FromTimedelta(max(value, timedelta(0)))
    return out


def store_evidence(store: SegmentStore, prefix: str, sitting_id: str, candidate_id: str, change: IncidentChange,
                   index: int, evidence: Evidence) -> str:
    """Store the evidence frame once per (incident, revision, index); returns its URI ('' without a frame)."""
    if not evidence.jpeg:
        return ""
    key = f"{prefix}/{sitting_id}/{candidate_id}/{change.incident_id}-r{change.revision}-{index}.jpg"
    with tempfile.NamedTemporaryFile(suffix=".jpg") as handle:
        Path(handle.name).write_bytes(evidence.jpeg)
        return store.put_file(key, Path(handle.name), "image/jpeg")


def incident_event(change: IncidentChange, *, sitting_id: str, candidate_id: str, room_id: str, attempt: int,
                   pack: common_pb2.ModelPackRef, evidence_uris: list[str],
                   playlists: dict[str, str]) -> incident_pb2.IncidentEvent:
    telemetry = change.kind in TELEMETRY_KINDS
    body = common_pb2.Incident(
        incident_id=change.incident_id, sitting_id=sitting_id, candidate_id=candidate_id, room_id=room_id,
        attempt_number=attempt, kind=change.kind, severity=change.severity, confidence=change.confidence,
        start_time=ts(change.start), detected_at=ts(change.detected_at), detector=change.detector,
        source=common_pb2.INCIDENT_SOURCE_TELEMETRY if telemetry else common_pb2.INCIDENT_SOURCE_DETECTOR,
        summary=common_pb2.LocalizedText(en=change.summary_en, zh=change.summary_zh),
        attributes=change.attributes)
    if not telemetry:
        body.model_pack.CopyFrom(pack)
    if change.end is not None:
        body.end_time.CopyFrom(ts(change.end))
    for evidence, uri in zip(change.evidence, evidence_uris, strict=True):
        stream_id = evidence.segment_id.rsplit(":", 1)[0]
        item = common_pb2.Evidence(thumbnail_uri=uri, stream_id=stream_id, stream_kind=evidence.stream_kind,
                                   segment_id=evidence.segment_id,
                                   start_offset=_duration(evidence.stream_offset),
                                   captured_at=ts(evidence.captured_at), playlist_uri=playlists.get(stream_id, ""),
                                   note=evidence.note)
        if change.end is not None:
            item.end_offset.CopyFrom(_duration(evidence.stream_offset + (change.end - evidence.captured_at)))
        body.evidence.append(item)
    return incident_pb2.IncidentEvent(
        meta=meta(sitting_id=sitting_id, candidate_id=candidate_id, producer=PRODUCER, event_time=change.detected_at,
                  event_id=f"{change.incident_id}:{change.revision}"),
        change=change.change, incident=body, revision=change.revision)
