"""Kafka side of auth-face: the events it publishes (audit, second-device incidents; built here and
sent through the outbox) and the roster it keeps from exam-session's session events."""

from __future__ import annotations

import hashlib
from collections.abc import Awaitable, Callable
from datetime import datetime

from proctor.common.v1 import common_pb2
from proctor.events.v1 import audit_pb2, incident_pb2, session_pb2
from proctor_runtime import topics
from proctor_runtime.events import meta, ts
from proctor_runtime.kafka import Record, Subscription

PRODUCER = "auth-face"
SUCCESS, FAILURE, DENIED = (audit_pb2.AUDIT_OUTCOME_SUCCESS, audit_pb2.AUDIT_OUTCOME_FAILURE,
                            audit_pb2.AUDIT_OUTCOME_DENIED)


def audit_event(actor: common_pb2.Actor, action: str, sitting_id: str, candidate_id: str, now: datetime, *,
                reason: str = "", outcome: int = SUCCESS, outcome_reason: str = "", target_type: str = "candidate",
                target_id: str = "", client_address: str = "", device_id: str = "", session_id: str = "",
                attributes: dict[str, str] | None = None) -> audit_pb2.AuditEvent:
    return audit_pb2.AuditEvent(
        meta=meta(sitting_id=sitting_id, candidate_id=candidate_id, producer=PRODUCER, event_time=now),
        actor=actor, action=action, target=audit_pb2.AuditTarget(type=target_type, id=target_id or candidate_id),
        reason=reason, outcome=outcome, outcome_reason=outcome_reason, client_address=client_address,
        device_id=device_id, session_id=session_id, attributes=attributes or {})


def second_device_incident(sitting_id: str, candidate_id: str, room_id: str, now: datetime, *,
                           active_session_id: str, active_device_id: str, device_id: str,
                           client_address: str) -> incident_pb2.IncidentEvent:
    """A refused login from a second device while a session is active elsewhere. The id is
    deterministic per (active session, attempting device): repeated attempts are one incident."""
    raw = f"{sitting_id}|{candidate_id}|SECOND_DEVICE_LOGIN|{active_session_id}|{device_id}"
    incident_id = "inc-" + hashlib.sha256(raw.encode()).hexdigest()[:24]
    incident = common_pb2.Incident(
        incident_id=incident_id, sitting_id=sitting_id, candidate_id=candidate_id, room_id=room_id,
        kind=common_pb2.INCIDENT_KIND_SECOND_DEVICE_LOGIN, severity=common_pb2.SEVERITY_HIGH, confidence=1.0,
        start_time=ts(now), end_time=ts(now), detected_at=ts(now), detector="auth-face-single-login@1",
        source=common_pb2.INCIDENT_SOURCE_AUTH,
        summary=common_pb2.LocalizedText(
            en=f"login from a second device ({device_id}) refused while signed in on {active_device_id}",
            zh=f"考生已在设备 {active_device_id} 登录，另一设备（{device_id}）的登录被拒绝"),
        attributes={"active_session_id": active_session_id, "active_device_id": active_device_id,
                    "attempted_device_id": device_id, "client_address": client_address})
    return incident_pb2.IncidentEvent(
        meta=meta(sitting_id=sitting_id, candidate_id=candidate_id, producer=PRODUCER, event_time=now,
                  event_id=f"{incident_id}:1"),
        change=incident_pb2.INCIDENT_CHANGE_OPENED, incident=incident, revision=1)


RosterUpdate = Callable[[str, str, str, str, int], Awaitable[None]]


def subscriptions(update_roster: RosterUpdate) -> list[Subscription]:
    """Every session event carries the candidate's room: keep (sitting, candidate) -> room for the
    proctor scopes of the manual-review queue and the incidents."""

    async def on_session_event(record: Record[session_pb2.SessionEvent]) -> None:
        e = record.value
        if e.meta.sitting_id and e.meta.candidate_id and e.room_id:
            await update_roster(e.meta.sitting_id, e.meta.candidate_id, e.room_id, e.display_name,
                                e.state_version)

    return [Subscription(topics.SESSION_EVENTS.name, session_pb2.SessionEvent, on_session_event)]
