"""The proctors of the local sitting: one notify stream per room (as the console keeps one), every
incident logged with how long it took to reach the proctor, help answered, one verdict given; and
each candidate's notice stream (warnings, help replies, upload status) as the desktop client shows it."""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import grpc

from proctor.common.v1 import common_pb2 as c
from proctor.notify.v1 import notify_pb2 as pb
from proctor.notify.v1 import notify_pb2_grpc
from proctor_cli.retry import retried
from proctor_runtime.tokens import Role, TokenSigner

CONFIRM = frozenset({c.INCIDENT_KIND_MULTIPLE_FACES, c.INCIDENT_KIND_SECOND_MONITOR})


def _name(kind: int) -> str:
    return c.IncidentKind.Name(kind).replace("INCIDENT_KIND_", "")


@dataclass
class ProctorDesk:
    stub: notify_pb2_grpc.NotifyStub
    admin: TokenSigner
    sitting_id: str
    rooms: list[str]
    log: Callable[[str, str], None]
    delivered: Counter[str] = field(default_factory=Counter)
    latencies_ms: list[float] = field(default_factory=list)
    verdicts: Counter[str] = field(default_factory=Counter)
    replies: int = 0
    notices: Counter[str] = field(default_factory=Counter)
    reconnects: int = 0
    _tasks: list[asyncio.Task[None]] = field(default_factory=list)
    _seen: set[str] = field(default_factory=set)

    def token(self, room: str) -> tuple[tuple[str, str], ...]:
        token = self.admin.issue(sub=f"proctor-{room}", role=Role.PROCTOR, ttl_s=3600, sitting_id=self.sitting_id,
                                 rooms=(room,), extra={"name": f"监考 {room}"})[0]
        return (("authorization", f"Bearer {token}"),)

    async def open(self) -> None:
        ready = [asyncio.Event() for _ in self.rooms]
        self._tasks += [asyncio.create_task(self._watch(room, ev)) for room, ev in zip(self.rooms, ready, strict=True)]
        async with asyncio.timeout(30):
            await asyncio.gather(*(ev.wait() for ev in ready))

    def follow_candidate(self, candidate_id: str, md: Any) -> None:
        self._tasks.append(asyncio.create_task(self._notices(candidate_id, md)))

    async def close(self) -> None:
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    async def _watch(self, room: str, ready: asyncio.Event) -> None:
        """The room's feed as the console keeps it: on a broken stream (notify restarting, a network
        drop) reconnect with the last cursor, which replays exactly what was missed."""
        md = self.token(room)

        def open_feed(cursor: str) -> Any:
            return self.stub.SubscribeIncidents(pb.SubscribeIncidentsRequest(
                sitting_id=self.sitting_id, resume_cursor=cursor), metadata=md)

        async def on_item(item: pb.ProctorFeedItem) -> None:
            kind = item.WhichOneof("item")
            if kind == "snapshot_complete" and not ready.is_set():
                self.log(f"proctor {room}", f"console open: {item.snapshot_complete.candidates} candidates")
                ready.set()
            elif kind == "incident" and item.incident.kind == pb.INCIDENT_UPDATE_KIND_OPENED:
                await self._incident(room, md, item.incident.incident)
            elif kind == "help" and item.help.message.direction == c.CHAT_DIRECTION_CANDIDATE_TO_PROCTOR:
                await self._answer(room, md, item.help.message)

        await self._follow(f"proctor {room}", open_feed, on_item)

    async def _follow(self, who: str, open_feed: Callable[[str], Any], on_item: Callable[[Any], Any]) -> None:
        cursor, backoff = "", 0.2
        while True:
            try:
                async for item in open_feed(cursor):
                    backoff = 0.2
                    if item.cursor:
                        cursor = item.cursor  # delivered: a reconnect resumes after it
                    await on_item(item)
                return
            except grpc.aio.AioRpcError as exc:
                code = exc.code()
                if code in (grpc.StatusCode.CANCELLED, grpc.StatusCode.UNAUTHENTICATED,
                            grpc.StatusCode.PERMISSION_DENIED):
                    return
                if code in (grpc.StatusCode.INVALID_ARGUMENT, grpc.StatusCode.OUT_OF_RANGE):
                    if not cursor:
                        self.log(who, f"feed refused: {code.name} {exc.details()}")
                        return
                    cursor = ""  # expired or not valid any more: start again from a snapshot
                self.reconnects += 1
                self.log(who, f"feed broken ({code.name}); reconnecting from the last cursor")
                await asyncio.sleep(backoff)
                backoff = min(2.0, backoff * 2)

    async def _incident(self, room: str, md: Any, view: pb.IncidentView) -> None:
        inc = view.incident
        if inc.incident_id in self._seen:
            return
        self._seen.add(inc.incident_id)
        latency = time.time() * 1000 - inc.detected_at.ToMilliseconds() if inc.detected_at.seconds else 0.0
        self.latencies_ms.append(latency)
        self.delivered[_name(inc.kind)] += 1
        self.log(f"proctor {room}", f"incident {_name(inc.kind)} for {inc.candidate_id}: "
                 f"{inc.summary.zh or inc.summary.en} (on screen {latency:.0f} ms after detection)")
        if inc.kind in CONFIRM:
            resolve = pb.ResolveIncidentRequest(incident_id=inc.incident_id, verdict=c.VERDICT_CONFIRMED,
                                                note="seen on the recording", expected_revision=view.revision)
            view = await retried(lambda: self.stub.ResolveIncident(resolve, metadata=md))
            self.verdicts[c.Verdict.Name(view.verdict)] += 1
            self.log(f"proctor {room}", f"{_name(inc.kind)} of {inc.candidate_id} resolved: CONFIRMED")

    async def _answer(self, room: str, md: Any, msg: c.ChatMessage) -> None:
        self.log(f"proctor {room}", f"help from {msg.candidate_id}: {msg.text!r}")
        reply = pb.ReplyHelpRequest(
            sitting_id=self.sitting_id, candidate_id=msg.candidate_id, thread_id=msg.thread_id,
            text="已收到，请继续作答，录像不受影响 / Noted; keep answering, the recording is fine",
            client_message_id=f"reply-{msg.message_id}")
        await retried(lambda: self.stub.ReplyHelp(reply, metadata=md))
        self.replies += 1

    async def _notices(self, candidate_id: str, md: Any) -> None:
        def open_feed(cursor: str) -> Any:
            return self.stub.SubscribeCandidateNotices(pb.SubscribeCandidateNoticesRequest(
                sitting_id=self.sitting_id, candidate_id=candidate_id, resume_cursor=cursor), metadata=md)

        async def on_item(item: pb.CandidateNoticeItem) -> None:
            if item.WhichOneof("item") == "notice":
                notice = item.notice
                self.notices[c.NoticeKind.Name(notice.kind).replace("NOTICE_KIND_", "")] += 1
                text = notice.help_reply.text if notice.HasField("help_reply") else \
                    f"{notice.text.zh} / {notice.text.en}"
                self.log(candidate_id, f"notice on screen ({c.NoticeKind.Name(notice.kind)[12:]}): {text}")

        await self._follow(candidate_id, open_feed, on_item)

    def summary(self) -> dict[str, Any]:
        ordered = sorted(self.latencies_ms)
        p99 = ordered[min(len(ordered) - 1, int(0.99 * len(ordered)))] if ordered else 0.0
        return {"incidents_delivered": dict(self.delivered), "verdicts": dict(self.verdicts),
                "help_replies": self.replies, "notices_shown": dict(self.notices),
                "feed_reconnects": self.reconnects,
                "detection_to_proctor_p99_ms": round(p99, 1)}
