"""Kafka side of exam-session: the events it publishes (built here) and the topics it consumes."""

from __future__ import annotations

import hashlib
from datetime import datetime
from typing import TYPE_CHECKING

from exam_session.domain import Candidate, Sitting, State
from proctor.common.v1 import common_pb2
from proctor.events.v1 import audit_pb2, incident_pb2, media_pb2, session_pb2
from proctor_runtime import topics
from proctor_runtime.errors import NotFound
from proctor_runtime.events import meta, ts
from proctor_runtime.kafka import PermanentError, Record, Subscription

if TYPE_CHECKING:
    from exam_session.logic import ExamSessionLogic

PRODUCER = "exam-session"
SYSTEM = common_pb2.Actor(kind=common_pb2.ACTOR_KIND_SYSTEM, id="exam-session")


def session_event(c: Candidate, s: Sitting, now: datetime, *, to_state: State, version: int,
                  actor: common_pb2.Actor, reason: str, kind: int = session_pb2.SESSION_EVENT_KIND_TRANSITION,
                  note: str = "", attempt_number: int | None = None) -> session_pb2.SessionEvent:
    return session_pb2.SessionEvent(
        meta=meta(sitting_id=c.sitting_id, candidate_id=c.candidate_id, producer=PRODUCER,
                  event_time=now, event_id=f"{c.sitting_id}:{c.candidate_id}:{version}:{kind}"),
        kind=kind, from_state=int(c.state), to_state=int(to_state), reason=reason, actor=actor,
        note=note, room_id=c.room_id, display_name=c.display_name, sitting_kind=int(s.kind),
        attempt_number=attempt_number if attempt_number is not None else c.attempt_number,
        state_version=version)


def registered_event(sitting_id: str, candidate_id: str, name: str, room: str, s: Sitting,
                     now: datetime, updated: bool) -> session_pb2.SessionEvent:
    kind = (session_pb2.SESSION_EVENT_KIND_CANDIDATE_UPDATED if updated
            else session_pb2.SESSION_EVENT_KIND_TRANSITION)
    return session_pb2.SessionEvent(
        meta=meta(sitting_id=sitting_id, candidate_id=candidate_id, producer=PRODUCER, event_time=now),
        kind=kind, to_state=int(State.REGISTERED), reason="IMPORTED", actor=SYSTEM, room_id=room,
        display_name=name, sitting_kind=int(s.kind), state_version=1)


def incident_id(c: Candidate, kind: int, start: datetime) -> str:
    """Deterministic: the same fact always gives the same incident id (no duplicates)."""
    raw = f"{c.sitting_id}|{c.candidate_id}|{c.attempt_number}|{kind}|{start.isoformat()}"
    return "inc-" + hashlib.sha256(raw.encode()).hexdigest()[:24]


def session_incident(c: Candidate, now: datetime, *, kind: int, severity: int, start: datetime,
                     summary_en: str, summary_zh: str, change: int = incident_pb2.INCIDENT_CHANGE_OPENED,
                     end: datetime | None = None, revision: int = 1,
                     attributes: dict[str, str] | None = None) -> incident_pb2.IncidentEvent:
    iid = incident_id(c, kind, start)
    incident = common_pb2.Incident(
        incident_id=iid, sitting_id=c.sitting_id, candidate_id=c.candidate_id, room_id=c.room_id,
        attempt_number=c.attempt_number, kind=kind, severity=severity, confidence=1.0,
        start_time=ts(start), detected_at=ts(now), detector="exam-session-rules@1",
        source=common_pb2.INCIDENT_SOURCE_SESSION,
        summary=common_pb2.LocalizedText(en=summary_en, zh=summary_zh), attributes=attributes or {})
    if end is not None:
        incident.end_time.CopyFrom(ts(end))
    return incident_pb2.IncidentEvent(
        meta=meta(sitting_id=c.sitting_id, candidate_id=c.candidate_id, producer=PRODUCER,
                  event_time=now, event_id=f"{iid}:{revision}"),
        change=change, incident=incident, revision=revision)


def audit_event(actor: common_pb2.Actor, action: str, sitting_id: str, candidate_id: str,
                reason: str, now: datetime, outcome: int = audit_pb2.AUDIT_OUTCOME_SUCCESS,
                attributes: dict[str, str] | None = None, device_id: str = "") -> audit_pb2.AuditEvent:
    return audit_pb2.AuditEvent(
        meta=meta(sitting_id=sitting_id, candidate_id=candidate_id, producer=PRODUCER, event_time=now),
        actor=actor, action=action, target=audit_pb2.AuditTarget(type="candidate", id=candidate_id),
        reason=reason, outcome=outcome, attributes=attributes or {}, device_id=device_id)


# --- consumed topics ---------------------------------------------------------------------------------

def subscriptions(logic: ExamSessionLogic) -> list[Subscription]:
    async def on_media_stream(record: Record[media_pb2.MediaStreamEvent]) -> None:
        try:
            await handle_media_stream(record.value)
        except NotFound as exc:  # an event for a candidate this service does not know: dead-letter
            raise PermanentError(f"{exc.reason}: {exc.message_en}") from exc

    async def handle_media_stream(event: media_pb2.MediaStreamEvent) -> None:
        if event.kind == media_pb2.MEDIA_STREAM_EVENT_KIND_ROOM_SCAN_RECORDED:
            await logic.room_scan_recorded(event.meta.sitting_id, event.meta.candidate_id,
                                           event.meta.event_id)
        elif event.kind == media_pb2.MEDIA_STREAM_EVENT_KIND_CANDIDATE_UPLOAD_COMPLETE:
            await logic.upload_complete(event.meta.sitting_id, event.meta.candidate_id,
                                        event.attempt_number, event.meta.event_id)

    return [Subscription(topics.MEDIA_STREAMS.name, media_pb2.MediaStreamEvent, on_media_stream)]
