"""A real notify (in process) on the real PostgreSQL and Kafka, and helpers to produce the events
it consumes and to open its streams."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import grpc
from pydantic import SecretStr

from notify.app import build
from notify.config import Settings
from proctor.common.v1 import common_pb2 as c
from proctor.events.v1 import incident_pb2, messaging_pb2, session_pb2
from proctor.notify.v1 import notify_pb2 as pb
from proctor.notify.v1 import notify_pb2_grpc
from proctor_runtime import topics
from proctor_runtime.events import meta, ts
from proctor_runtime.kafka import EventProducer
from proctor_runtime.service import ServiceHost
from proctor_runtime.testing.helpers import bearer
from proctor_runtime.testing.plugin import start_group_at_end
from proctor_runtime.tokens import Role, TokenSigner, generate_key
from proctor_storage import FilesystemStore

CONSUMED = [topics.INCIDENTS.name, topics.SESSION_EVENTS.name, topics.HELP_MESSAGES.name,
            topics.NOTIFICATIONS.name, topics.MEDIA_STREAMS.name]


@dataclass
class NotifyHarness:
    host: ServiceHost
    stub: notify_pb2_grpc.NotifyStub
    channel: grpc.aio.Channel
    producer: EventProducer
    admin: TokenSigner
    auth: TokenSigner
    bootstrap: str
    sitting_id: str = field(default_factory=lambda: f"s-{uuid.uuid4().hex[:8]}")
    _versions: dict[str, int] = field(default_factory=dict)
    _revisions: dict[str, int] = field(default_factory=dict)

    # --- tokens ----------------------------------------------------------------------------
    def proctor(self, *rooms: str, sub: str = "p1", sitting_id: str = "") -> tuple[tuple[str, str], ...]:
        return bearer(self.admin.issue(sub=sub, role=Role.PROCTOR, ttl_s=3600,
                                       sitting_id=sitting_id or self.sitting_id, rooms=rooms)[0])

    def chief(self) -> tuple[tuple[str, str], ...]:
        return bearer(self.admin.issue(sub="chief", role=Role.CHIEF_PROCTOR, ttl_s=3600,
                                       sitting_id=self.sitting_id)[0])

    def staff(self) -> tuple[tuple[str, str], ...]:
        return bearer(self.admin.issue(sub="staff", role=Role.STAFF, ttl_s=3600)[0])

    def candidate(self, candidate_id: str, role: Role = Role.CANDIDATE) -> tuple[tuple[str, str], ...]:
        return bearer(self.auth.issue(sub=candidate_id, role=role, ttl_s=3600, sitting_id=self.sitting_id,
                                      candidate_id=candidate_id, device_id=f"{candidate_id}-{role}")[0])

    # --- events ----------------------------------------------------------------------------
    async def register(self, candidate_id: str, room_id: str, name: str = "") -> None:
        """Import a candidate (a REGISTERED transition) and wait until notify's roster has it."""
        await self.transition(candidate_id, c.CANDIDATE_STATE_REGISTERED, room_id=room_id,
                              name=name or f"Candidate {candidate_id}")
        store = self.host.logic.store  # type: ignore[attr-defined]
        async with asyncio.timeout(20):
            while await store.candidate(self.sitting_id, candidate_id) is None:
                await asyncio.sleep(0.05)

    async def transition(self, candidate_id: str, to_state: int, room_id: str = "", name: str = "",
                         reason: str = "TEST") -> None:
        version = self._versions.get(candidate_id, 0) + 1
        self._versions[candidate_id] = version
        event = session_pb2.SessionEvent(
            meta=meta(sitting_id=self.sitting_id, candidate_id=candidate_id, producer="exam-session",
                      event_time=datetime.now(UTC)),
            kind=session_pb2.SESSION_EVENT_KIND_TRANSITION, to_state=to_state, reason=reason, room_id=room_id,
            display_name=name, state_version=version)
        await self.producer.send(topics.SESSION_EVENTS.name, candidate_id, event)

    def incident(self, candidate_id: str, kind: int = c.INCIDENT_KIND_MULTIPLE_FACES,
                 severity: int = c.SEVERITY_HIGH, summary: str = "2 faces", incident_id: str = "") -> c.Incident:
        now = datetime.now(UTC)
        return c.Incident(
            incident_id=incident_id or f"inc-{uuid.uuid4().hex[:10]}", sitting_id=self.sitting_id,
            candidate_id=candidate_id, attempt_number=1, kind=kind, severity=severity, confidence=0.9,
            start_time=ts(now - timedelta(seconds=3)), detected_at=ts(now), detector="test@1",
            source=c.INCIDENT_SOURCE_DETECTOR, summary=c.LocalizedText(en=summary, zh=summary),
            evidence=[c.Evidence(thumbnail_uri="", stream_id="st-1", stream_kind=c.STREAM_KIND_DESKTOP_CAMERA,
                                 captured_at=ts(now))])

    async def publish(self, incident: c.Incident, change: int = incident_pb2.INCIDENT_CHANGE_OPENED,
                      revision: int | None = None) -> int:
        rev = revision if revision is not None else self._revisions.get(incident.incident_id, 0) + 1
        self._revisions[incident.incident_id] = max(rev, self._revisions.get(incident.incident_id, 0))
        event = incident_pb2.IncidentEvent(
            meta=meta(sitting_id=incident.sitting_id, candidate_id=incident.candidate_id, producer="anomaly",
                      event_time=datetime.now(UTC), event_id=f"{incident.incident_id}:{rev}"),
            change=change, incident=incident, revision=rev)
        await self.producer.send(topics.INCIDENTS.name, incident.candidate_id, event)
        return rev

    async def help_from(self, candidate_id: str, text: str, room_id: str = "") -> c.ChatMessage:
        msg = c.ChatMessage(message_id=f"m-{uuid.uuid4().hex[:10]}", thread_id=f"{self.sitting_id}:{candidate_id}",
                            sitting_id=self.sitting_id, candidate_id=candidate_id, room_id=room_id,
                            direction=c.CHAT_DIRECTION_CANDIDATE_TO_PROCTOR, text=text,
                            author=c.Actor(kind=c.ACTOR_KIND_CANDIDATE, id=candidate_id),
                            sent_at=ts(datetime.now(UTC)), client_message_id=uuid.uuid4().hex)
        await self.producer.send(topics.HELP_MESSAGES.name, candidate_id, messaging_pb2.HelpMessage(
            meta=meta(sitting_id=self.sitting_id, candidate_id=candidate_id, producer="exam-session",
                      event_time=datetime.now(UTC), event_id=msg.message_id), message=msg))
        return msg

    # --- streams ---------------------------------------------------------------------------
    def feed(self, md: Any, **request: Any) -> Stream:
        request.setdefault("sitting_id", self.sitting_id)
        return Stream(self.stub.SubscribeIncidents(pb.SubscribeIncidentsRequest(**request), metadata=md))

    def notices(self, md: Any, candidate_id: str, cursor: str = "") -> Stream:
        return Stream(self.stub.SubscribeCandidateNotices(pb.SubscribeCandidateNoticesRequest(
            sitting_id=self.sitting_id, candidate_id=candidate_id, resume_cursor=cursor), metadata=md))


class Stream:
    """A server stream read item by item with a timeout (keepalives skipped unless asked for)."""

    def __init__(self, call: Any) -> None:
        self.call = call
        self._it: AsyncIterator[Any] = call.__aiter__()
        self.cursor = ""

    async def next(self, timeout_s: float = 10.0, keepalives: bool = False) -> Any:
        async with asyncio.timeout(timeout_s):
            while True:
                item = await anext(self._it)
                if item.cursor:
                    self.cursor = item.cursor
                if keepalives or item.WhichOneof("item") != "keepalive":
                    return item

    async def until(self, predicate: Any, timeout_s: float = 10.0) -> list[Any]:
        """Items up to and including the first that satisfies ``predicate``."""
        out: list[Any] = []
        async with asyncio.timeout(timeout_s):
            while True:
                item = await self.next(timeout_s)
                out.append(item)
                if predicate(item):
                    return out

    async def quiet(self, seconds: float) -> list[Any]:
        """Everything (but keepalives) that arrives within ``seconds``."""
        out: list[Any] = []
        try:
            async with asyncio.timeout(seconds):
                while True:
                    out.append(await self.next(seconds + 1))
        except TimeoutError:
            pass
        return out

    def cancel(self) -> None:
        self.call.cancel()


async def start_notify(pg_dsn: str, kafka_bootstrap: str, media_root: Path, **overrides: Any) -> NotifyHarness:
    topics.ensure_topics(kafka_bootstrap, topics.new_topics())
    admin_signing, admin_public = generate_key("admin-1")
    auth_signing, auth_public = generate_key("auth-face-1")
    group = f"notify-test-{uuid.uuid4().hex[:6]}"
    start_group_at_end(kafka_bootstrap, group, CONSUMED)
    values: dict[str, Any] = dict(database_url=SecretStr(pg_dsn), kafka_bootstrap=kafka_bootstrap,
                                  kafka_group_id=group, token_public_keys=",".join([admin_public, auth_public]),
                                  http_port=-1, shutdown_grace_s=1, keepalive_s=2.0)
    values.update(overrides)
    settings = Settings(**values)
    host = await build(settings, objects=FilesystemStore(media_root))
    await host.start()
    async with asyncio.timeout(30):
        await host.consumers[0].ready.wait()
    channel = grpc.aio.insecure_channel(f"127.0.0.1:{host.port}")
    producer = EventProducer(kafka_bootstrap, "notify-test")
    return NotifyHarness(host, notify_pb2_grpc.NotifyStub(channel), channel, producer, TokenSigner(admin_signing),
                         TokenSigner(auth_signing), kafka_bootstrap)


async def stop_notify(h: NotifyHarness) -> None:
    await h.channel.close()
    await h.producer.close()
    await h.host.stop()
