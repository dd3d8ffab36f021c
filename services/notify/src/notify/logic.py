"""The RPCs: proctor feed, incident handling, help chat and candidate notices. Every rule about
who may see or do what is here; the servicer only converts."""

from __future__ import annotations

import asyncio
import base64
import time
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime

from psycopg import AsyncConnection
from psycopg_pool import AsyncConnectionPool

from notify import cursors, metrics
from notify.config import Settings
from notify.hub import Entry, FeedHub, Subscriber
from notify.ingest import save_actions, save_views
from notify.store import Appends, FeedRow, NoticeRow, Store, store_help_message
from proctor.common.v1 import common_pb2 as c
from proctor.events.v1 import audit_pb2, messaging_pb2
from proctor.notify.v1 import notify_pb2 as pb
from proctor_runtime import outbox, topics
from proctor_runtime.errors import (
    Aborted,
    FailedPrecondition,
    InvalidArgument,
    NotFound,
    PermissionDenied,
    ResourceExhausted,
)
from proctor_runtime.events import from_ts, meta, ts, uuid7
from proctor_runtime.scopes import actor, room_scope
from proctor_runtime.tokens import Claims, Role, require_role

OBSERVERS = (Role.PROCTOR, Role.CHIEF_PROCTOR, Role.STAFF)
MAX_NOTE = 2000
MAX_PAGE = 1000


def utcnow() -> datetime:
    return datetime.now(UTC)


def out_of_scope() -> PermissionDenied:
    return PermissionDenied("OUT_OF_SCOPE", "this is outside the rooms of your token", "不在您负责的考场范围内")


def _page_token(value: str) -> str:
    return base64.urlsafe_b64encode(value.encode()).decode()


def _read_token(token: str) -> str:
    try:
        return base64.urlsafe_b64decode(token.encode()).decode()
    except (ValueError, UnicodeDecodeError):
        raise InvalidArgument("PAGE_TOKEN_INVALID", "the page token is not valid", "分页标记无效") from None


def _offset(token: str) -> int:
    if not token:
        return 0
    try:
        return max(0, int(_read_token(token)))
    except ValueError:
        raise InvalidArgument("PAGE_TOKEN_INVALID", "the page token is not valid", "分页标记无效") from None


class NotifyLogic:
    def __init__(self, settings: Settings, pool: AsyncConnectionPool, hub: FeedHub, relay: outbox.OutboxRelay,
                 clock: Callable[[], datetime] = utcnow) -> None:
        self.settings = settings
        self.pool = pool
        self.store = Store(pool)
        self.hub = hub
        self.relay = relay
        self.clock = clock

    # --- scope -----------------------------------------------------------------------------
    def _may_see(self, claims: Claims | None, sitting_id: str, room_id: str) -> Claims:
        claims = require_role(claims, *OBSERVERS)
        rooms = room_scope(claims, sitting_id, [], OBSERVERS)
        if rooms is not None and room_id not in rooms:
            raise out_of_scope()
        return claims

    async def _incident_for(self, claims: Claims | None, incident_id: str) -> tuple[Claims, pb.IncidentView]:
        view = await self.store.incident(incident_id) if incident_id else None
        if view is None:
            raise NotFound("INCIDENT_NOT_FOUND", f"no incident {incident_id!r}", "未找到该异常事件")
        checked = self._may_see(claims, view.incident.sitting_id, view.incident.room_id)
        return checked, view

    async def _candidate_for(self, claims: Claims | None, sitting_id: str,
                             candidate_id: str) -> tuple[Claims, c.CandidateSnapshot]:
        claims = require_role(claims, *OBSERVERS)
        room_scope(claims, sitting_id, [], OBSERVERS)  # sitting scope first: reveal nothing of others
        snap = await self.store.candidate(sitting_id, candidate_id)
        if snap is None:
            raise NotFound("CANDIDATE_NOT_FOUND", f"no candidate {candidate_id!r} in sitting {sitting_id!r}",
                           "未找到该考生")
        return self._may_see(claims, sitting_id, snap.room_id), snap

    # --- proctor feed ----------------------------------------------------------------------
    async def subscribe_incidents(self, claims: Claims | None,
                                  req: pb.SubscribeIncidentsRequest) -> AsyncIterator[pb.ProctorFeedItem]:
        claims = require_role(claims, *OBSERVERS)
        if not req.sitting_id:
            raise InvalidArgument("SITTING_REQUIRED", "sitting_id is required", "缺少考试场次")
        rooms = room_scope(claims, req.sitting_id, list(req.room_ids), OBSERVERS)
        feed = cursors.proctor_feed(req.sitting_id)
        head = await self.store.feed_head(feed)
        after = cursors.decode(req.resume_cursor, feed, head, await self.store.first_retained(feed)) \
            if req.resume_cursor else None
        # a proctor token names its sitting, so its feed may be watched before anything happened in it;
        # a staff token does not, and a sitting nothing is known of is most likely a typo
        if after is None and not claims.sitting_id and not await self.store.sitting_known(req.sitting_id):
            raise NotFound("SITTING_NOT_FOUND", f"nothing is known of sitting {req.sitting_id!r}", "未找到该考试场次")
        kinds = frozenset(req.kinds)
        room_set = frozenset(rooms) if rooms is not None else None

        def accept(e: Entry) -> bool:
            if room_set is not None and e.room_id not in room_set:
                return False
            if kinds and e.kind not in kinds:
                return False
            return not (e.kind == pb.FEED_ITEM_KIND_INCIDENT and e.severity < req.min_severity)

        async def prelude() -> AsyncIterator[pb.ProctorFeedItem]:
            if after is not None or req.start in (pb.FEED_START_NOW, pb.FEED_START_BEGINNING):
                return
            candidates = incidents = 0
            if not kinds or pb.FEED_ITEM_KIND_CANDIDATE in kinds:
                for snap in await self.store.roster(req.sitting_id, rooms):
                    candidates += 1
                    yield pb.ProctorFeedItem(candidate=pb.CandidateUpdate(candidate=snap, snapshot=True))
            if not kinds or pb.FEED_ITEM_KIND_INCIDENT in kinds:
                for view in await self.store.unresolved(req.sitting_id, rooms):
                    if view.incident.severity >= req.min_severity:
                        incidents += 1
                        yield pb.ProctorFeedItem(incident=pb.IncidentUpdate(
                            kind=pb.INCIDENT_UPDATE_KIND_SNAPSHOT, incident=view))
            yield pb.ProctorFeedItem(cursor=cursors.encode(feed, head), sequence=head,
                                     snapshot_complete=pb.SnapshotComplete(candidates=candidates, incidents=incidents))

        if after is None and req.start == pb.FEED_START_BEGINNING:
            after = max(0, await self.store.first_retained(feed) - 1)
        start = after if after is not None else head
        sub = Subscriber(feed, self.settings.subscriber_buffer, room_set)
        async for item in self._follow(sub, start, accept, prelude(), "proctor"):
            yield item

    async def subscribe_notices(self, claims: Claims | None,
                                req: pb.SubscribeCandidateNoticesRequest) -> AsyncIterator[pb.CandidateNoticeItem]:
        claims = require_role(claims, Role.CANDIDATE, Role.PHONE)
        if claims.sitting_id != req.sitting_id or claims.candidate_id != req.candidate_id:
            raise PermissionDenied("NOT_YOUR_CANDIDATE", "this token belongs to another candidate or sitting",
                                   "无权访问其他考生的信息")
        feed = cursors.notice_feed(req.sitting_id, req.candidate_id)
        head = await self.store.feed_head(feed)
        start = cursors.decode(req.resume_cursor, feed, head) if req.resume_cursor else 0
        device = c.DEVICE_KIND_PHONE if claims.role == Role.PHONE else c.DEVICE_KIND_DESKTOP

        def accept(e: Entry) -> bool:
            return e.device in (c.DEVICE_KIND_UNSPECIFIED, device)

        async def nothing() -> AsyncIterator[pb.CandidateNoticeItem]:
            return
            yield

        sub = Subscriber(feed, self.settings.subscriber_buffer)
        async for item in self._follow(sub, start, accept, nothing(), "candidate"):
            yield item

    async def _follow(self, sub: Subscriber, start: int, accept: Callable[[Entry], bool],
                      prelude: AsyncIterator[object], kind: str) -> AsyncIterator[object]:
        """Register for live rows first, then the prelude and the stored rows after ``start``,
        then live rows: each sequence delivered once, in order."""
        if self.hub.subscriber_count >= self.settings.max_subscriptions:
            raise ResourceExhausted("TOO_MANY_SUBSCRIPTIONS", "this server has too many open streams; retry",
                                    "服务器连接数已满，请稍后重试")
        sub.task = asyncio.current_task()
        await self.hub.register(sub)
        metrics.SUBSCRIBERS.labels(kind).inc()
        reason = "client_gone"
        last = start
        try:
            async for item in prelude:
                yield item
            # catch up from the tables. Everything after the hub's position when we registered is
            # offered live, and the tables hold at least that much now: no gap, duplicates skipped by seq
            while True:
                page = await self.store.fetch(sub.feed, last, self.settings.catch_up_page, sub.rooms)
                for entry in page:
                    last = entry.seq
                    if accept(entry):
                        yield self._delivered(entry, kind)
                if len(page) < self.settings.catch_up_page:
                    break
            while True:
                entries = await sub.take(self.settings.keepalive_s)
                if sub.too_slow:
                    reason = "too_slow"
                    raise ResourceExhausted("SUBSCRIBER_TOO_SLOW", "the stream fell too far behind; resume from the "
                                            "last cursor", "连接过慢已断开，请从上次位置继续")
                if not entries:
                    yield self._keepalive(sub.feed, max(last, self.hub.position(sub.feed)), kind)
                    continue
                for entry in entries:
                    if entry.seq <= last:
                        continue
                    last = entry.seq
                    if accept(entry):
                        yield self._delivered(entry, kind)
        except asyncio.CancelledError:
            if sub.too_slow:
                reason = "too_slow"
                raise ResourceExhausted("SUBSCRIBER_TOO_SLOW", "the stream fell too far behind; resume from the "
                                        "last cursor", "连接过慢已断开，请从上次位置继续") from None
            raise
        except ResourceExhausted:
            raise
        except Exception:
            reason = "error"
            raise
        finally:
            self.hub.unregister(sub)
            metrics.SUBSCRIBERS.labels(kind).dec()
            metrics.DISCONNECTS.labels(kind, reason).inc()

    def _delivered(self, entry: Entry, kind: str) -> object:
        message = entry.message
        if kind == "proctor":
            metrics.FEED_DELIVERED.labels(pb.FeedItemKind.Name(entry.kind)).inc()
            if entry.kind == pb.FEED_ITEM_KIND_INCIDENT and entry.source_ms:
                metrics.INCIDENT_DELIVERY_SECONDS.observe(max(0.0, time.time() - entry.source_ms / 1000))
                detected = message.incident.incident.incident.detected_at
                if detected.seconds:
                    metrics.INCIDENT_DETECTION_TO_DELIVERY_SECONDS.observe(
                        max(0.0, time.time() - detected.ToMilliseconds() / 1000))
        return message

    def _keepalive(self, feed: str, seq: int, kind: str) -> object:
        cursor = cursors.encode(feed, seq)
        now = ts(self.clock())
        if kind == "proctor":
            return pb.ProctorFeedItem(cursor=cursor, sequence=seq, keepalive=pb.Keepalive(server_time=now))
        return pb.CandidateNoticeItem(cursor=cursor, keepalive=pb.Keepalive(server_time=now))

    # --- incident handling -----------------------------------------------------------------
    async def _change(self, claims: Claims | None, incident_id: str, expected: int | None,
                      decide: Callable[[Claims, pb.IncidentView], pb.IncidentAction | None],
                      update_kind: int, audit_action: str) -> pb.IncidentView:
        claims = require_role(claims, *OBSERVERS)
        now = self.clock()
        appends = Appends()
        async with self.pool.connection() as conn, conn.transaction():
            # one read: the locked row is both what the scope is checked on and what is changed
            cur = await conn.execute("SELECT view FROM incidents WHERE incident_id = %s FOR UPDATE", (incident_id,))
            row = await cur.fetchone()
            if row is None:
                raise NotFound("INCIDENT_NOT_FOUND", f"no incident {incident_id!r}", "未找到该异常事件")
            view = pb.IncidentView.FromString(row[0])
            checked = self._may_see(claims, view.incident.sitting_id, view.incident.room_id)
            action = decide(checked, view)
            if action is None:
                return view  # idempotent repeat
            if expected is not None and expected != view.revision:
                raise Aborted("REVISION_MISMATCH", f"the incident changed (revision {view.revision}); reload it",
                              "该事件已被他人更新，请刷新", {"revision": str(view.revision)})
            who = actor(checked)
            view.revision += 1
            action.actor.CopyFrom(who)
            action.at.CopyFrom(ts(now))
            action.revision = view.revision
            await save_views(conn, [view])
            await save_actions(conn, [(incident_id, action)])
            inc = view.incident
            appends.feed.append(FeedRow(inc.sitting_id, pb.FEED_ITEM_KIND_INCIDENT, inc.room_id, inc.candidate_id,
                                        inc.severity, int(time.time() * 1000), pb.ProctorFeedItem(
                                            incident=pb.IncidentUpdate(kind=update_kind, incident=view, actor=who))))
            await self._audit(conn, checked, audit_action, inc.sitting_id, inc.candidate_id, "incident", incident_id,
                              action.note, now, {"verdict": c.Verdict.Name(view.verdict)})
            await appends.write(conn, now)
        self._committed(appends)
        metrics.INCIDENT_ACTIONS.labels(audit_action.rsplit(".", 1)[-1]).inc()
        return view

    def _committed(self, appends: Appends) -> None:
        self.hub.publish(appends.entries)
        self.relay.wake()

    async def _audit(self, conn: AsyncConnection, claims: Claims, action: str, sitting_id: str, candidate_id: str,
                     target_type: str, target_id: str, reason: str, now: datetime,
                     attributes: dict[str, str] | None = None) -> None:
        event = audit_pb2.AuditEvent(
            meta=meta(sitting_id=sitting_id, candidate_id=candidate_id, producer="notify", event_time=now),
            actor=actor(claims), action=action, target=audit_pb2.AuditTarget(type=target_type, id=target_id),
            reason=reason, outcome=audit_pb2.AUDIT_OUTCOME_SUCCESS, attributes=attributes or {})
        await outbox.add(conn, topics.AUDIT.name, candidate_id or claims.sub, event)

    @staticmethod
    def _note(note: str) -> str:
        if len(note) > MAX_NOTE:
            raise InvalidArgument("NOTE_TOO_LONG", f"the note is longer than {MAX_NOTE} characters",
                                  f"备注不能超过 {MAX_NOTE} 个字符")
        return note

    async def acknowledge(self, claims: Claims | None, req: pb.AcknowledgeIncidentRequest) -> pb.IncidentView:
        note = self._note(req.note)

        def decide(_who: Claims, view: pb.IncidentView) -> pb.IncidentAction | None:
            if view.status != c.INCIDENT_STATUS_NEW:
                return None
            view.status = c.INCIDENT_STATUS_ACKNOWLEDGED
            view.acknowledged_by.CopyFrom(actor(_who))
            view.acknowledged_at.CopyFrom(ts(self.clock()))
            return pb.IncidentAction(kind=pb.INCIDENT_ACTION_KIND_ACKNOWLEDGED, note=note)

        expected = req.expected_revision if req.HasField("expected_revision") else None
        return await self._change(claims, req.incident_id, expected, decide, pb.INCIDENT_UPDATE_KIND_ACKNOWLEDGED,
                                  "notify.incident.acknowledge")

    async def resolve(self, claims: Claims | None, req: pb.ResolveIncidentRequest) -> pb.IncidentView:
        note = self._note(req.note)
        if req.verdict == c.VERDICT_UNSPECIFIED or req.verdict not in c.Verdict.values():
            raise InvalidArgument("VERDICT_REQUIRED", "a verdict is required (confirmed, false alarm, needs review)",
                                  "请选择处理结论")

        def decide(who: Claims, view: pb.IncidentView) -> pb.IncidentAction | None:
            if view.status == c.INCIDENT_STATUS_RESOLVED:
                if view.verdict == req.verdict:
                    return None
                if who.role not in (Role.CHIEF_PROCTOR, Role.STAFF) or not note.strip():
                    raise FailedPrecondition(
                        "ALREADY_RESOLVED", "another verdict was given; only a chief proctor or staff may change it, "
                        "with a note", "该事件已有处理结论，仅主考或工作人员可附说明修改")
            view.status = c.INCIDENT_STATUS_RESOLVED
            view.verdict = req.verdict
            view.note = note
            view.resolved_by.CopyFrom(actor(who))
            view.resolved_at.CopyFrom(ts(self.clock()))
            return pb.IncidentAction(kind=pb.INCIDENT_ACTION_KIND_RESOLVED, verdict=req.verdict, note=note)

        expected = req.expected_revision if req.HasField("expected_revision") else None
        return await self._change(claims, req.incident_id, expected, decide, pb.INCIDENT_UPDATE_KIND_RESOLVED,
                                  "notify.incident.resolve")

    async def escalate(self, claims: Claims | None, req: pb.EscalateIncidentRequest) -> pb.IncidentView:
        reason = self._note(req.reason)
        if req.target == pb.ESCALATION_TARGET_UNSPECIFIED or req.target not in pb.EscalationTarget.values():
            raise InvalidArgument("TARGET_REQUIRED", "say whom to escalate to", "请选择上报对象")

        def decide(_who: Claims, view: pb.IncidentView) -> pb.IncidentAction | None:
            if view.status == c.INCIDENT_STATUS_RESOLVED:
                raise FailedPrecondition("ALREADY_RESOLVED", "the incident is resolved", "该事件已处理完毕")
            if view.status == c.INCIDENT_STATUS_ESCALATED and view.escalated_to == req.target:
                return None
            view.status = c.INCIDENT_STATUS_ESCALATED
            view.escalated_to = req.target
            view.escalation_reason = reason
            return pb.IncidentAction(kind=pb.INCIDENT_ACTION_KIND_ESCALATED, escalated_to=req.target, note=reason)

        expected = req.expected_revision if req.HasField("expected_revision") else None
        return await self._change(claims, req.incident_id, expected, decide, pb.INCIDENT_UPDATE_KIND_ESCALATED,
                                  "notify.incident.escalate")

    async def get_incident(self, claims: Claims | None, req: pb.GetIncidentRequest) -> pb.IncidentDetail:
        _, view = await self._incident_for(claims, req.incident_id)
        return pb.IncidentDetail(view=view, history=await self.store.history(req.incident_id))

    async def list_incidents(self, claims: Claims | None, req: pb.ListIncidentsRequest) -> pb.ListIncidentsResponse:
        claims = require_role(claims, *OBSERVERS)
        rooms = room_scope(claims, req.sitting_id, list(req.room_ids), OBSERVERS)
        size = min(req.page_size or 100, MAX_PAGE)
        after = None
        if req.page_token:
            when, _, incident_id = _read_token(req.page_token).partition("|")
            try:
                after = (datetime.fromisoformat(when), incident_id)
            except ValueError:
                raise InvalidArgument("PAGE_TOKEN_INVALID", "the page token is not valid", "分页标记无效") from None
        views, total = await self.store.list_incidents(req, rooms, after, size)
        token = ""
        if len(views) == size:
            last = views[-1].incident
            start = from_ts(last.start_time) if last.HasField("start_time") else from_ts(views[-1].first_seen_at)
            token = _page_token(f"{start.isoformat()}|{last.incident_id}")
        return pb.ListIncidentsResponse(incidents=views, next_page_token=token, total_size=total)

    async def summarize(self, claims: Claims | None, req: pb.SummarizeIncidentsRequest) -> pb.IncidentSummary:
        claims = require_role(claims, *OBSERVERS)
        rooms = room_scope(claims, req.sitting_id, list(req.room_ids), OBSERVERS)
        rows = await self.store.summarize(req.sitting_id, rooms, req.candidate_id)
        counts = [pb.IncidentCount(room_id=r, kind=k, status=s, verdict=v, count=n) for r, k, s, v, n in rows]
        return pb.IncidentSummary(counts=counts, total=sum(n.count for n in counts))

    # --- help chat -------------------------------------------------------------------------
    async def reply_help(self, claims: Claims | None, req: pb.ReplyHelpRequest) -> c.ChatMessage:
        text = req.text.strip()
        if not text:
            raise InvalidArgument("MESSAGE_EMPTY", "the message is empty", "消息不能为空")
        if len(req.text) > self.settings.max_chat_chars:
            raise InvalidArgument("MESSAGE_TOO_LONG", f"the message is longer than {self.settings.max_chat_chars} "
                                  "characters", f"消息不能超过 {self.settings.max_chat_chars} 个字符")
        checked, snap = await self._candidate_for(claims, req.sitting_id, req.candidate_id)
        who = actor(checked)
        if req.client_message_id:
            known = await self.store.message_by_client_id(req.sitting_id, req.candidate_id, who.id,
                                                          req.client_message_id)
            if known is not None:
                return known
        thread = req.thread_id or await self.store.latest_thread(req.sitting_id, req.candidate_id) or (
            f"{req.sitting_id}:{req.candidate_id}")
        now = self.clock()
        msg = c.ChatMessage(message_id=uuid7(), thread_id=thread, sitting_id=req.sitting_id,
                            candidate_id=req.candidate_id, room_id=snap.room_id,
                            direction=c.CHAT_DIRECTION_PROCTOR_TO_CANDIDATE, text=req.text, author=who,
                            sent_at=ts(now), client_message_id=req.client_message_id)
        appends = Appends()
        async with self.pool.connection() as conn, conn.transaction():
            if not await store_help_message(conn, msg, appends, int(time.time() * 1000)):
                known = await self.store.message_by_client_id(req.sitting_id, req.candidate_id, who.id,
                                                              req.client_message_id)
                return known or msg
            appends.notices.append(NoticeRow(c.Notice(
                notice_id=f"help:{msg.message_id}", sitting_id=msg.sitting_id, candidate_id=msg.candidate_id,
                kind=c.NOTICE_KIND_HELP_REPLY, severity=c.SEVERITY_INFO,
                text=c.LocalizedText(zh=f"监考老师回复：{msg.text}", en=f"The proctor replied: {msg.text}"),
                created_at=msg.sent_at, help_reply=msg)))
            await outbox.add(conn, topics.HELP_MESSAGES.name, msg.candidate_id, messaging_pb2.HelpMessage(
                meta=meta(sitting_id=msg.sitting_id, candidate_id=msg.candidate_id, producer="notify",
                          event_time=now, event_id=msg.message_id), message=msg))
            await appends.write(conn, now)
        self._committed(appends)
        metrics.HELP_MESSAGES.labels(c.ChatDirection.Name(msg.direction)).inc()
        return msg

    async def list_help_threads(self, claims: Claims | None,
                                req: pb.ListHelpThreadsRequest) -> pb.ListHelpThreadsResponse:
        claims = require_role(claims, *OBSERVERS)
        rooms = room_scope(claims, req.sitting_id, list(req.room_ids), OBSERVERS)
        size, offset = min(req.page_size or 100, MAX_PAGE), _offset(req.page_token)
        threads = await self.store.threads(req.sitting_id, rooms, req.only_unanswered, offset, size)
        token = _page_token(str(offset + size)) if len(threads) == size else ""
        return pb.ListHelpThreadsResponse(threads=threads, next_page_token=token)

    async def list_help_thread(self, claims: Claims | None,
                               req: pb.ListHelpThreadRequest) -> pb.ListHelpThreadResponse:
        if claims is not None and claims.role in (Role.CANDIDATE, Role.PHONE):
            if claims.sitting_id != req.sitting_id or claims.candidate_id != req.candidate_id:
                raise PermissionDenied("NOT_YOUR_CANDIDATE", "this token belongs to another candidate or sitting",
                                       "无权访问其他考生的信息")
        else:
            await self._candidate_for(claims, req.sitting_id, req.candidate_id)
        thread = req.thread_id or await self.store.latest_thread(req.sitting_id, req.candidate_id)
        size, offset = min(req.page_size or 100, MAX_PAGE), _offset(req.page_token)
        messages = await self.store.thread_messages(req.sitting_id, req.candidate_id, thread, offset, size) \
            if thread else []
        token = _page_token(str(offset + size)) if len(messages) == size else ""
        return pb.ListHelpThreadResponse(messages=messages, next_page_token=token)

    # --- notices ---------------------------------------------------------------------------
    async def send_notice(self, claims: Claims | None, req: pb.SendCandidateNoticeRequest) -> c.Notice:
        if req.kind not in (c.NOTICE_KIND_WARNING, c.NOTICE_KIND_INFO):
            raise InvalidArgument("NOTICE_KIND_INVALID", "a proctor sends WARNING or INFO notices",
                                  "仅可发送警告或提示")
        if not (req.text.zh.strip() or req.text.en.strip()):
            raise InvalidArgument("TEXT_REQUIRED", "the notice needs a text", "提醒内容不能为空")
        limit = self.settings.max_notice_chars
        if len(req.text.zh) > limit or len(req.text.en) > limit:
            raise InvalidArgument("TEXT_TOO_LONG", f"the notice is longer than {limit} characters",
                                  f"提醒内容不能超过 {limit} 个字符")
        checked, _snap = await self._candidate_for(claims, req.sitting_id, req.candidate_id)
        notice_id = f"{req.sitting_id}:{req.candidate_id}:proctor:{checked.sub}:{req.client_request_id or uuid7()}"
        known = await self.store.notice(notice_id)
        if known is not None:
            return known
        now = self.clock()
        notice = c.Notice(notice_id=notice_id, sitting_id=req.sitting_id, candidate_id=req.candidate_id,
                          kind=req.kind, severity=req.severity or c.SEVERITY_MEDIUM, text=req.text,
                          target_device=req.target_device, created_at=ts(now),
                          related_incident_id=req.related_incident_id)
        appends = Appends(notices=[NoticeRow(notice)])
        async with self.pool.connection() as conn, conn.transaction():
            if req.related_incident_id:
                cur = await conn.execute("SELECT revision FROM incidents WHERE incident_id = %s AND candidate_id = %s",
                                         (req.related_incident_id, req.candidate_id))
                row = await cur.fetchone()
                if row is not None:
                    await save_actions(conn, [(req.related_incident_id, pb.IncidentAction(
                        kind=pb.INCIDENT_ACTION_KIND_NOTICE_SENT, actor=actor(checked), at=ts(now),
                        note=req.text.zh or req.text.en, revision=int(row[0])))])
            await self._audit(conn, checked, "notify.notice.send", req.sitting_id, req.candidate_id, "candidate",
                              req.candidate_id, req.text.zh or req.text.en, now)
            await appends.write(conn, now)
        self._committed(appends)
        return notice
