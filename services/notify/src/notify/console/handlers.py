"""The console's HTTP routes: each one is a translation of JSON/query <-> one notify gRPC call."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import grpc
from aiohttp import web

from notify.console import convert as cv
from notify.console.errors import ConsoleError, from_rpc_error, json_error
from notify.console.feed import STREAMS_ENDED, STREAMS_OPEN, FeedLimits, FeedPump
from notify.console.thumbnails import ThumbnailUnavailable, read_thumbnail
from notify.console.upstream import NotifyClient, caller_of, request_id_of
from proctor.common.v1 import common_pb2
from proctor.notify.v1 import notify_pb2
from proctor_storage import SegmentStore

log = logging.getLogger(__name__)

FIRST_ITEM_WAIT_S = 2.0  # an immediate refusal of the feed becomes an HTTP status, not an SSE event
NOTICE_PRESETS = {
    "keep_face_in_view": common_pb2.LocalizedText(zh="请保持面部在画面内", en="keep your face in view"),
}


@dataclass
class ConsoleState:
    client: NotifyClient
    store: SegmentStore | None
    limits: FeedLimits
    stopping: asyncio.Event = field(default_factory=asyncio.Event)
    feeds: set[asyncio.Task[Any]] = field(default_factory=set)

    async def wait_feeds_closed(self, timeout_s: float) -> None:
        if self.feeds:
            await asyncio.wait(set(self.feeds), timeout=timeout_s)


def ok(data: dict[str, Any], request: web.Request) -> web.Response:
    return web.Response(text=json.dumps(data, ensure_ascii=False), content_type="application/json",
                        headers={"X-Request-Id": request_id_of(request)})


class Handlers:
    def __init__(self, state: ConsoleState) -> None:
        self.state = state
        self.client = state.client

    # ------------------------------------------------------------------ incidents

    async def list_incidents(self, request: web.Request) -> web.Response:
        req = notify_pb2.ListIncidentsRequest(
            sitting_id=cv.query_str(request, "sitting", required=True),
            room_ids=cv.query_list(request, "room"),
            candidate_id=cv.query_str(request, "candidate"),
            kinds=cv.query_enums(request, "kind", common_pb2.IncidentKind, "INCIDENT_KIND_"),
            statuses=cv.query_enums(request, "status", common_pb2.IncidentStatus, "INCIDENT_STATUS_"),
            verdicts=cv.query_enums(request, "verdict", common_pb2.Verdict, "VERDICT_"),
            page_size=cv.query_uint(request, "page_size", 200, 1000),
            page_token=cv.query_str(request, "page_token"))
        severity = cv.query_str(request, "min_severity")
        if severity:
            req.min_severity = cv.enum_value(common_pb2.Severity, "SEVERITY_", severity, "min_severity")
        response = await self.client.list_incidents(req, caller_of(request))
        return ok(cv.list_json(response), request)

    async def get_incident(self, request: web.Request) -> web.Response:
        req = notify_pb2.GetIncidentRequest(incident_id=_path_id(request, "incident_id"))
        return ok(cv.detail_json(await self.client.get_incident(req, caller_of(request))), request)

    async def acknowledge(self, request: web.Request) -> web.Response:
        body = await cv.read_json(request)
        req = notify_pb2.AcknowledgeIncidentRequest(incident_id=_path_id(request, "incident_id"),
                                                    note=cv.body_str(body, "note", cv.MAX_NOTE_CHARS))
        revision = cv.body_revision(body)
        if revision is not None:
            req.expected_revision = revision
        return ok({"incident": cv.view_json(await self.client.acknowledge(req, caller_of(request)))}, request)

    async def resolve(self, request: web.Request) -> web.Response:
        body = await cv.read_json(request)
        verdict = cv.body_str(body, "verdict", 40, required=True)
        req = notify_pb2.ResolveIncidentRequest(
            incident_id=_path_id(request, "incident_id"),
            verdict=cv.enum_value(common_pb2.Verdict, "VERDICT_", verdict, "verdict"),
            note=cv.body_str(body, "note", cv.MAX_NOTE_CHARS))
        revision = cv.body_revision(body)
        if revision is not None:
            req.expected_revision = revision
        return ok({"incident": cv.view_json(await self.client.resolve(req, caller_of(request)))}, request)

    async def escalate(self, request: web.Request) -> web.Response:
        body = await cv.read_json(request)
        target = cv.body_str(body, "target", 40) or "chief_proctor"
        req = notify_pb2.EscalateIncidentRequest(
            incident_id=_path_id(request, "incident_id"),
            target=cv.enum_value(notify_pb2.EscalationTarget, "ESCALATION_TARGET_", target, "target"),
            reason=cv.body_str(body, "reason", cv.MAX_NOTE_CHARS))
        revision = cv.body_revision(body)
        if revision is not None:
            req.expected_revision = revision
        return ok({"incident": cv.view_json(await self.client.escalate(req, caller_of(request)))}, request)

    async def thumbnail(self, request: web.Request) -> web.Response:
        incident_id = _path_id(request, "incident_id")
        index = int(request.match_info["index"])
        detail = await self.client.get_incident(notify_pb2.GetIncidentRequest(incident_id=incident_id),
                                                caller_of(request))
        evidence = detail.view.incident.evidence
        if detail.view.incident.incident_id != incident_id or index >= len(evidence) \
                or not evidence[index].thumbnail_uri:
            raise ConsoleError(404, "THUMBNAIL_NOT_FOUND", "this evidence has no thumbnail", "该证据没有缩略图",
                               code="NOT_FOUND")
        if self.state.store is None:
            raise ConsoleError(404, "THUMBNAILS_UNAVAILABLE", "thumbnails are not configured on this server",
                               "此服务器未配置缩略图存储", code="NOT_FOUND")
        try:
            data, content_type = await asyncio.to_thread(read_thumbnail, self.state.store,
                                                         evidence[index].thumbnail_uri)
        except ThumbnailUnavailable as exc:
            raise ConsoleError(exc.status, exc.reason, exc.message_en, exc.message_zh,
                               code="NOT_FOUND" if exc.status == 404 else "UNAVAILABLE") from None
        return web.Response(body=data, content_type=content_type,
                            headers={"Cache-Control": "private, no-store", "X-Request-Id": request_id_of(request)})

    # ------------------------------------------------------------------ help chat and notices

    async def list_threads(self, request: web.Request) -> web.Response:
        req = notify_pb2.ListHelpThreadsRequest(
            sitting_id=cv.query_str(request, "sitting", required=True), room_ids=cv.query_list(request, "room"),
            only_unanswered=cv.query_bool(request, "only_unanswered"),
            page_size=cv.query_uint(request, "page_size", 200, 1000), page_token=cv.query_str(request, "page_token"))
        return ok(cv.message_json(await self.client.list_threads(req, caller_of(request))), request)

    async def list_thread(self, request: web.Request) -> web.Response:
        req = notify_pb2.ListHelpThreadRequest(
            sitting_id=cv.query_str(request, "sitting", required=True),
            candidate_id=_path_id(request, "candidate_id"), thread_id=cv.query_str(request, "thread"),
            page_size=cv.query_uint(request, "page_size", 500, 1000), page_token=cv.query_str(request, "page_token"))
        return ok(cv.message_json(await self.client.list_thread(req, caller_of(request))), request)

    async def reply(self, request: web.Request) -> web.Response:
        body = await cv.read_json(request)
        req = notify_pb2.ReplyHelpRequest(
            sitting_id=cv.body_str(body, "sitting_id", required=True),
            candidate_id=_path_id(request, "candidate_id"), thread_id=cv.body_str(body, "thread_id"),
            text=cv.body_str(body, "text", cv.MAX_TEXT_CHARS),
            client_message_id=cv.body_str(body, "client_message_id") or uuid.uuid4().hex)
        return ok({"message": cv.message_json(await self.client.reply(req, caller_of(request)))}, request)

    async def send_notice(self, request: web.Request) -> web.Response:
        body = await cv.read_json(request)
        req = notify_pb2.SendCandidateNoticeRequest(
            sitting_id=cv.body_str(body, "sitting_id", required=True),
            candidate_id=_path_id(request, "candidate_id"),
            kind=cv.enum_value(common_pb2.NoticeKind, "NOTICE_KIND_",
                               cv.body_str(body, "kind", 40) or "warning", "kind"),
            severity=cv.enum_value(common_pb2.Severity, "SEVERITY_",
                                   cv.body_str(body, "severity", 40) or "medium", "severity"),
            related_incident_id=cv.body_str(body, "related_incident_id"),
            client_request_id=cv.body_str(body, "client_request_id") or uuid.uuid4().hex)
        req.text.CopyFrom(_notice_text(body))
        device = cv.body_str(body, "target_device", 40)
        if device:
            req.target_device = cv.enum_value(common_pb2.DeviceKind, "DEVICE_KIND_", device,
                                              "target_device")
        return ok({"notice": cv.message_json(await self.client.send_notice(req, caller_of(request)))}, request)

    # ------------------------------------------------------------------ live feed

    async def feed(self, request: web.Request) -> web.StreamResponse:
        caller = caller_of(request)
        req = _subscribe_request(request)
        call = self.client.subscribe(req, caller)
        task = asyncio.current_task()
        if task is not None:
            self.state.feeds.add(task)
        STREAMS_OPEN.inc()
        outcome = "client_gone"
        items = call.__aiter__()
        first: asyncio.Future[notify_pb2.ProctorFeedItem] = asyncio.ensure_future(anext(items))
        try:
            await asyncio.wait({first}, timeout=FIRST_ITEM_WAIT_S)
            if first.done() and first.exception() is not None:
                outcome = "upstream_error"
                return _refusal(first.exception(), request)
            response = web.StreamResponse(headers={
                "Content-Type": "text/event-stream; charset=utf-8", "X-Accel-Buffering": "no",
                "X-Request-Id": caller.request_id})
            await response.prepare(request)
            await response.write(b"retry: 1000\n: connected\n\n")
            pump = FeedPump(_chain(first, items), response.write, self.state.limits, caller.request_id)
            outcome = await _run_until_stopped(pump, self.state.stopping)
            if outcome == "too_slow" and request.transport is not None:
                request.transport.abort()  # whatever the browser did not read is discarded
            return response
        finally:
            call.cancel()
            first.cancel()  # a no-op once done
            if first.done() and not first.cancelled():
                first.exception()  # retrieved, so asyncio does not warn about it
            STREAMS_OPEN.dec()
            STREAMS_ENDED.labels(outcome).inc()
            if task is not None:
                self.state.feeds.discard(task)
            log.info("console feed ended", extra={"outcome": outcome, "request_id": caller.request_id})


async def _run_until_stopped(pump: FeedPump, stopping: asyncio.Event) -> str:
    run = asyncio.create_task(pump.run())
    stop = asyncio.create_task(stopping.wait())
    try:
        await asyncio.wait({run, stop}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        stop.cancel()
        if not run.done():
            run.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await run
    return "shutdown" if run.cancelled() else run.result()


async def _chain(first: asyncio.Future[notify_pb2.ProctorFeedItem],
                 rest: AsyncIterator[notify_pb2.ProctorFeedItem]) -> AsyncIterator[notify_pb2.ProctorFeedItem]:
    try:
        yield await first
    except StopAsyncIteration:
        return
    async for item in rest:
        yield item


def _refusal(exc: BaseException | None, request: web.Request) -> web.Response:
    if isinstance(exc, grpc.aio.AioRpcError):
        status, body = from_rpc_error(exc, request_id_of(request))
        return json_error(status, body, request_id_of(request))
    if isinstance(exc, StopAsyncIteration):
        raise ConsoleError(502, "FEED_ENDED", "the feed ended at once", "实时推送立即结束", code="UNAVAILABLE")
    raise ConsoleError(502, "UPSTREAM_FAILED", "the notify service failed", "通知服务出错", code="INTERNAL")


def _subscribe_request(request: web.Request) -> notify_pb2.SubscribeIncidentsRequest:
    cursor = cv.query_str(request, "cursor") or request.headers.get("Last-Event-ID", "")
    if len(cursor) > 1024:
        raise ConsoleError(400, "CURSOR_INVALID", "the cursor is too long", "游标无效", {"field": "cursor"})
    req = notify_pb2.SubscribeIncidentsRequest(
        sitting_id=cv.query_str(request, "sitting", required=True), room_ids=cv.query_list(request, "room"),
        resume_cursor=cursor,
        kinds=cv.query_enums(request, "item", notify_pb2.FeedItemKind, "FEED_ITEM_KIND_"))
    start = cv.query_str(request, "start")
    if start:
        req.start = cv.enum_value(notify_pb2.FeedStart, "FEED_START_", start, "start")
    severity = cv.query_str(request, "min_severity")
    if severity:
        req.min_severity = cv.enum_value(common_pb2.Severity, "SEVERITY_", severity, "min_severity")
    return req


def _path_id(request: web.Request, name: str) -> str:
    value = request.match_info[name]
    if not value or len(value) > cv.MAX_ID_CHARS:
        raise ConsoleError(400, "INVALID_ID", f"{name} is empty or too long", f"{name} 为空或过长", {"field": name})
    return value


def _notice_text(body: dict[str, Any]) -> common_pb2.LocalizedText:
    preset = cv.body_str(body, "preset", 40)
    if preset:
        text = NOTICE_PRESETS.get(preset)
        if text is None:
            raise ConsoleError(400, "INVALID_VALUE", f"preset: unknown value {preset!r}", "preset 的取值无效",
                               {"field": "preset"})
        return text
    raw = body.get("text")
    if not isinstance(raw, dict):
        raise ConsoleError(400, "TEXT_REQUIRED", "give text {zh, en} or a preset", "请填写通知内容或选择预设",
                           {"field": "text"})
    return common_pb2.LocalizedText(zh=cv.body_str(raw, "zh", cv.MAX_TEXT_CHARS),
                                    en=cv.body_str(raw, "en", cv.MAX_TEXT_CHARS))
