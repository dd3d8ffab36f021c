"""Gathering the review report over gRPC: exam-session (sitting, rooms, candidates, state history),
notify (incident log with handling history, room summary, help chat) and media-ingest (upload status,
manifests and stitched playlists), read with one staff or reviewer token. The result is a
``model.Report``; nothing here renders or writes files.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, TypeVar

import grpc

from proctor.common.v1 import common_pb2
from proctor.exam.v1 import exam_session_pb2 as epb
from proctor.exam.v1 import exam_session_pb2_grpc
from proctor.media.v1 import media_ingest_pb2 as mpb
from proctor.media.v1 import media_ingest_pb2_grpc
from proctor.notify.v1 import notify_pb2 as npb
from proctor.notify.v1 import notify_pb2_grpc
from proctor_cli.report.model import (
    CandidateReport,
    Report,
    RoomReport,
    StreamUpload,
    UploadSummary,
    build_timeline,
    incident_entry,
    seconds,
)
from proctor_runtime.interceptor import ERROR_DETAIL_KEY

T = TypeVar("T")
CALL_TIMEOUT_S = 30.0
UNREACHABLE = {grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED}


class ReportError(Exception):
    """A readable reason the report cannot be made (unknown target, a service down or refusing)."""


class ServiceFailed(ReportError):
    def __init__(self, service: str, target: str, exc: grpc.aio.AioRpcError) -> None:
        self.service, self.target, self.code = service, target, exc.code()
        self.reason, text = "", exc.details() or ""
        for key, value in exc.trailing_metadata() or ():
            if key == ERROR_DETAIL_KEY and isinstance(value, bytes):
                detail = common_pb2.ErrorDetail.FromString(value)
                self.reason, text = detail.reason, detail.message_en or text
        if self.code in UNREACHABLE:
            message = f"{service} at {target} is unreachable ({self.code.name}: {exc.details()})"
        else:
            message = f"{service} at {target} refused: {self.code.name} {self.reason} {text}".rstrip()
        super().__init__(message)


@dataclass(frozen=True)
class Targets:
    exam_session: str
    notify: str
    media_ingest: str


class Gatherer:
    """Reads one report's data from the three services over one channel each."""

    def __init__(self, targets: Targets, token: str, concurrency: int = 16) -> None:
        self.targets = targets
        self.metadata = (("authorization", f"Bearer {token}"),)
        self.limit = asyncio.Semaphore(max(1, concurrency))
        self.channels = [grpc.aio.insecure_channel(t) for t in (targets.exam_session, targets.notify,
                                                                  targets.media_ingest)]
        self.exam = exam_session_pb2_grpc.ExamSessionStub(self.channels[0])
        self.notify = notify_pb2_grpc.NotifyStub(self.channels[1])
        self.media = media_ingest_pb2_grpc.MediaIngestStub(self.channels[2])

    async def close(self) -> None:
        for channel in self.channels:
            await channel.close()

    async def call(self, service: str, method: Callable[..., Awaitable[T]], request: Any) -> T:
        target = {"exam-session": self.targets.exam_session, "notify": self.targets.notify,
                  "media-ingest": self.targets.media_ingest}[service]
        async with self.limit:
            try:
                return await method(request, metadata=self.metadata, timeout=CALL_TIMEOUT_S)
            except grpc.aio.AioRpcError as exc:
                raise ServiceFailed(service, target, exc) from exc

    # --- exam-session ----------------------------------------------------------------------------

    async def sitting(self, sitting_id: str) -> epb.Sitting:
        try:
            return await self.call("exam-session", self.exam.GetSitting, epb.GetSittingRequest(sitting_id=sitting_id))
        except ServiceFailed as exc:
            if exc.code == grpc.StatusCode.NOT_FOUND:
                raise ReportError(f"sitting {sitting_id!r} not found (exam-session at {exc.target})") from exc
            raise

    async def candidate_status(self, sitting_id: str, candidate_id: str) -> epb.CandidateStatus:
        request = epb.GetCandidateStateRequest(sitting_id=sitting_id, candidate_id=candidate_id, include_history=True)
        try:
            return await self.call("exam-session", self.exam.GetCandidateState, request)
        except ServiceFailed as exc:
            if exc.code == grpc.StatusCode.NOT_FOUND:
                raise ReportError(f"candidate {candidate_id!r} not found in sitting {sitting_id!r}") from exc
            raise

    async def candidate_ids(self, sitting_id: str, room_ids: list[str]) -> list[str]:
        out: list[str] = []
        token = ""
        while True:
            page = await self.call("exam-session", self.exam.ListCandidates, epb.ListCandidatesRequest(
                sitting_id=sitting_id, room_ids=room_ids, page_size=2000, page_token=token))
            out += [c.candidate_id for c in page.candidates]
            if not page.next_page_token:
                return out
            token = page.next_page_token

    # --- notify ----------------------------------------------------------------------------------

    async def incidents(self, sitting_id: str, room_ids: list[str], candidate_id: str) -> list[npb.IncidentDetail]:
        views: list[npb.IncidentView] = []
        token = ""
        while True:
            page = await self.call("notify", self.notify.ListIncidents, npb.ListIncidentsRequest(
                sitting_id=sitting_id, room_ids=room_ids, candidate_id=candidate_id, page_size=1000,
                page_token=token))
            views += page.incidents
            if not page.next_page_token:
                break
            token = page.next_page_token
        return list(await asyncio.gather(*(self.call("notify", self.notify.GetIncident, npb.GetIncidentRequest(
            incident_id=v.incident.incident_id)) for v in views)))

    async def summary(self, sitting_id: str, room_ids: list[str]) -> npb.IncidentSummary:
        return await self.call("notify", self.notify.SummarizeIncidents,
                               npb.SummarizeIncidentsRequest(sitting_id=sitting_id, room_ids=room_ids))

    async def help_thread(self, sitting_id: str, candidate_id: str) -> tuple[list[common_pb2.ChatMessage], str]:
        """The candidate's help chat, oldest first, and a note when notify has no record of the candidate."""
        out: list[common_pb2.ChatMessage] = []
        token = ""
        while True:
            try:
                page = await self.call("notify", self.notify.ListHelpThread, npb.ListHelpThreadRequest(
                    sitting_id=sitting_id, candidate_id=candidate_id, page_size=500, page_token=token))
            except ServiceFailed as exc:
                if exc.code == grpc.StatusCode.NOT_FOUND and exc.reason == "CANDIDATE_NOT_FOUND":
                    return [], "notify has no record of this candidate (CANDIDATE_NOT_FOUND): no help chat"
                raise
            out += page.messages
            if not page.next_page_token:
                return out, ""
            token = page.next_page_token

    # --- media-ingest ----------------------------------------------------------------------------

    async def upload(self, sitting_id: str, candidate_id: str) -> UploadSummary:
        try:
            status = await self.call("media-ingest", self.media.GetUploadStatus,
                                     mpb.GetUploadStatusRequest(sitting_id=sitting_id, candidate_id=candidate_id))
        except ServiceFailed as exc:
            if exc.code == grpc.StatusCode.NOT_FOUND and exc.reason == "UPLOAD_NOT_FOUND":
                return UploadSummary(None)
            raise
        streams = await asyncio.gather(*(self.stream(info) for info in status.streams))
        return UploadSummary(status, list(streams))

    async def stream(self, info: mpb.MediaStreamInfo) -> StreamUpload:
        segments, missing, media_s, playlist, token = 0, set[int](), 0.0, "", ""
        try:
            while True:
                page = await self.call("media-ingest", self.media.GetManifest, mpb.GetManifestRequest(
                    stream_id=info.stream_id, page_size=5000, page_token=token))
                segments += len(page.segments)
                media_s += sum(seconds(s.media_duration) for s in page.segments)
                missing.update(page.missing_segments)
                playlist = page.playlist_uri or playlist
                if not page.next_page_token:
                    break
                token = page.next_page_token
        except ServiceFailed as exc:
            if exc.code in UNREACHABLE:
                raise
            return StreamUpload(info, manifest_error=str(exc))
        return StreamUpload(info, segments, tuple(sorted(missing)), media_s, playlist)


async def gather_report(gatherer: Gatherer, sitting_id: str, candidate_id: str = "", room_id: str = "",
                        now: datetime | None = None) -> Report:
    """Everything the report shows, for one candidate, one room or the whole sitting."""
    sitting = await gatherer.sitting(sitting_id)
    rooms = {r.room_id: r for r in (await gatherer.call(
        "exam-session", gatherer.exam.ListRooms, epb.ListRoomsRequest(sitting_id=sitting_id))).rooms}
    statuses: dict[str, epb.CandidateStatus] = {}
    if candidate_id:
        statuses[candidate_id] = await gatherer.candidate_status(sitting_id, candidate_id)
        scope, scope_id, room_ids = "candidate", candidate_id, [statuses[candidate_id].candidate.room_id]
        ids = [candidate_id]
    elif room_id:
        if room_id not in rooms:
            known = ", ".join(sorted(rooms)) or "none"
            raise ReportError(f"room {room_id!r} not found in sitting {sitting_id!r} (rooms this token may see: "
                              f"{known})")
        scope, scope_id, room_ids = "room", room_id, [room_id]
        ids = await gatherer.candidate_ids(sitting_id, room_ids)
    else:
        scope, scope_id, room_ids = "sitting", "", []
        ids = await gatherer.candidate_ids(sitting_id, [])
    # one candidate: all of their incidents, even one notify could not place in a room yet
    summary, details = await asyncio.gather(gatherer.summary(sitting_id, room_ids), gatherer.incidents(
        sitting_id, [] if candidate_id else room_ids, candidate_id))
    by_candidate: dict[str, list[npb.IncidentDetail]] = {}
    for detail in details:
        by_candidate.setdefault(detail.view.incident.candidate_id, []).append(detail)

    async def one(cid: str) -> CandidateReport:
        async def state() -> epb.CandidateStatus:
            return statuses[cid] if cid in statuses else await gatherer.candidate_status(sitting_id, cid)

        status, (help_, note), upload = await asyncio.gather(state(), gatherer.help_thread(sitting_id, cid),
                                                             gatherer.upload(sitting_id, cid))
        entries = [incident_entry(d, upload) for d in by_candidate.get(cid, [])]
        entries.sort(key=lambda e: (e.incident.start_time.seconds, e.incident.start_time.nanos,
                                    e.incident.incident_id))
        report = CandidateReport(status=status, incidents=entries, help=help_, upload=upload,
                                 notes=[note] if note else [])
        report.timeline = build_timeline(report, sitting)
        return report

    candidates = list(await asyncio.gather(*(one(cid) for cid in ids)))
    if scope == "sitting":
        room_reports = [RoomReport("", None, summary)] + [RoomReport(r, rooms[r], summary) for r in sorted(rooms)]
    else:
        room_reports = [RoomReport(r, rooms.get(r), summary) for r in room_ids]
    return Report(sitting=sitting, scope=scope, scope_id=scope_id, rooms=room_reports, candidates=candidates,
                  generated_at=now or datetime.now(UTC))
