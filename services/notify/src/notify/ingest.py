"""Kafka in: incidents, session events (the roster), help messages, notices and upload facts.

Each partition's share of a consumed batch is applied in one transaction (``batch_handler``), so
1,000 incidents/s cost a few commits, not a thousand. Every handler is idempotent: incidents by
detection revision, roster rows by state version, messages and notices by their ids.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime
from typing import Any

from psycopg import AsyncConnection
from psycopg_pool import AsyncConnectionPool

from notify import metrics, texts
from notify.store import Appends, FeedRow, NoticeRow, store_help_message
from proctor.common.v1 import common_pb2
from proctor.events.v1 import incident_pb2, media_pb2, messaging_pb2, session_pb2
from proctor.notify.v1 import notify_pb2 as pb
from proctor_runtime import topics
from proctor_runtime.events import from_ts, ts
from proctor_runtime.kafka import Record, Subscription

log = logging.getLogger(__name__)

UPDATE_KIND = {incident_pb2.INCIDENT_CHANGE_OPENED: pb.INCIDENT_UPDATE_KIND_OPENED,
               incident_pb2.INCIDENT_CHANGE_UPDATED: pb.INCIDENT_UPDATE_KIND_UPDATED,
               incident_pb2.INCIDENT_CHANGE_CLOSED: pb.INCIDENT_UPDATE_KIND_CLOSED}
ACTION_KIND = {pb.INCIDENT_UPDATE_KIND_OPENED: pb.INCIDENT_ACTION_KIND_OPENED,
               pb.INCIDENT_UPDATE_KIND_UPDATED: pb.INCIDENT_ACTION_KIND_UPDATED,
               pb.INCIDENT_UPDATE_KIND_CLOSED: pb.INCIDENT_ACTION_KIND_CLOSED}
ROSTER_KINDS = frozenset({
    session_pb2.SESSION_EVENT_KIND_TRANSITION, session_pb2.SESSION_EVENT_KIND_CANDIDATE_UPDATED,
    session_pb2.SESSION_EVENT_KIND_PHONE_BOUND, session_pb2.SESSION_EVENT_KIND_PHONE_REBOUND,
    session_pb2.SESSION_EVENT_KIND_DEVICE_OFFLINE, session_pb2.SESSION_EVENT_KIND_DEVICE_ONLINE,
    session_pb2.SESSION_EVENT_KIND_ZERO_SCORE_RECORDED, session_pb2.SESSION_EVENT_KIND_ATTEMPT_STARTED,
    session_pb2.SESSION_EVENT_KIND_ANSWERS_FLAGGED})


class Ingest:
    def __init__(self, pool: AsyncConnectionPool, clock: Callable[[], datetime], auto_warnings: bool,
                 on_commit: Callable[[Appends], None]) -> None:
        self.pool = pool
        self.clock = clock
        self.auto_warnings = auto_warnings
        self.on_commit = on_commit  # what was appended, for this replica's hub

    def subscriptions(self) -> list[Subscription]:
        def sub(spec: topics.TopicSpec, message: Any, batch: Callable[[list[Record[Any]]], Any]) -> Subscription:
            async def one(record: Record[Any]) -> None:
                await batch([record])
            return Subscription(spec.name, message, one, batch)

        return [sub(topics.INCIDENTS, incident_pb2.IncidentEvent, self.incidents),
                sub(topics.SESSION_EVENTS, session_pb2.SessionEvent, self.session_events),
                sub(topics.HELP_MESSAGES, messaging_pb2.HelpMessage, self.help_messages),
                sub(topics.NOTIFICATIONS, messaging_pb2.Notification, self.notifications),
                sub(topics.MEDIA_STREAMS, media_pb2.MediaStreamEvent, self.media_streams)]

    async def _commit(self, work: Callable[[AsyncConnection, Appends], Any]) -> None:
        appends = Appends()
        async with self.pool.connection() as conn, conn.transaction():
            await work(conn, appends)
            changed = await appends.write(conn, self.clock())
        if changed:
            self.on_commit(appends)
        for row in appends.feed:
            metrics.FEED_APPENDED.labels(pb.FeedItemKind.Name(row.kind)).inc()

    # --- incidents -------------------------------------------------------------------------
    async def incidents(self, records: list[Record[incident_pb2.IncidentEvent]]) -> None:
        async def work(conn: AsyncConnection, appends: Appends) -> None:
            ids = list({r.value.incident.incident_id for r in records})
            cur = await conn.execute("SELECT incident_id, view FROM incidents WHERE incident_id = ANY(%s) FOR UPDATE",
                                     (ids,))
            known = {i: pb.IncidentView.FromString(v) for i, v in await cur.fetchall()}
            rooms = await _rooms(conn, {(r.value.incident.sitting_id, r.value.incident.candidate_id)
                                        for r in records if not r.value.incident.room_id})
            changed: dict[str, pb.IncidentView] = {}
            actions: list[tuple[str, pb.IncidentAction]] = []
            now = self.clock()
            for record in records:
                event = record.value
                inc = event.incident
                if not inc.incident_id or not inc.sitting_id or not inc.candidate_id:
                    log.warning("incident event without ids skipped", extra={"offset": record.offset})
                    metrics.INCIDENTS_APPLIED.labels("invalid").inc()
                    continue
                view = known.get(inc.incident_id)
                if view is not None and event.revision <= view.detection_revision:
                    metrics.INCIDENTS_APPLIED.labels("duplicate").inc()
                    continue
                incident = common_pb2.Incident()
                incident.CopyFrom(inc)
                if not incident.room_id:
                    incident.room_id = (view.incident.room_id if view is not None else "") or rooms.get(
                        (inc.sitting_id, inc.candidate_id), "")
                kind = UPDATE_KIND.get(event.change, pb.INCIDENT_UPDATE_KIND_UPDATED)
                if view is None:
                    view = pb.IncidentView(status=common_pb2.INCIDENT_STATUS_NEW, revision=0,
                                           first_seen_at=ts(now))
                    kind = pb.INCIDENT_UPDATE_KIND_OPENED
                    if self.auto_warnings:
                        warning = texts.auto_warning(incident, now)
                        if warning is not None:
                            appends.notices.append(NoticeRow(warning))
                view.incident.CopyFrom(incident)
                view.active = not incident.HasField("end_time")
                view.revision += 1
                view.detection_revision = event.revision
                known[inc.incident_id] = changed[inc.incident_id] = view
                actions.append((inc.incident_id, pb.IncidentAction(
                    kind=ACTION_KIND[kind], at=ts(now), revision=view.revision,
                    actor=common_pb2.Actor(kind=common_pb2.ACTOR_KIND_SERVICE, id=event.meta.producer))))
                item = pb.ProctorFeedItem(incident=pb.IncidentUpdate(kind=kind, incident=view))
                appends.feed.append(FeedRow(inc.sitting_id, pb.FEED_ITEM_KIND_INCIDENT, incident.room_id,
                                            inc.candidate_id, incident.severity, record.timestamp_ms, item))
                metrics.INCIDENTS_APPLIED.labels("applied").inc()
            if changed:
                await save_views(conn, list(changed.values()))
                await save_actions(conn, actions)

        await self._commit(work)

    # --- roster ----------------------------------------------------------------------------
    async def session_events(self, records: list[Record[session_pb2.SessionEvent]]) -> None:
        async def work(conn: AsyncConnection, appends: Appends) -> None:
            keys = list({(r.value.meta.sitting_id, r.value.meta.candidate_id) for r in records})
            cur = await conn.execute(
                "SELECT sitting_id, candidate_id, state_version, snapshot FROM roster"
                " WHERE (sitting_id, candidate_id) IN (SELECT * FROM unnest(%s::text[], %s::text[])) FOR UPDATE",
                ([k[0] for k in keys], [k[1] for k in keys]))
            known = {(s, c): (v, common_pb2.CandidateSnapshot.FromString(b)) for s, c, v, b in await cur.fetchall()}
            changed: dict[tuple[str, str], tuple[int, common_pb2.CandidateSnapshot]] = {}
            for record in records:
                event = record.value
                key = (event.meta.sitting_id, event.meta.candidate_id)
                if not all(key) or event.kind not in ROSTER_KINDS:
                    continue
                version, snap = known.get(key, (0, None))
                if snap is not None and event.state_version and event.state_version <= version:
                    continue
                previous = snap.state if snap is not None else common_pb2.CANDIDATE_STATE_UNSPECIFIED
                snap = apply_session_event(snap, event)
                known[key] = changed[key] = (event.state_version or version, snap)
                item = pb.ProctorFeedItem(candidate=pb.CandidateUpdate(
                    candidate=snap, previous_state=previous, reason=event.reason))
                appends.feed.append(FeedRow(key[0], pb.FEED_ITEM_KIND_CANDIDATE, snap.room_id, key[1], 0,
                                            record.timestamp_ms, item))
            if not changed:
                return
            async with conn.cursor() as c:
                await c.executemany(
                    "INSERT INTO roster (sitting_id, candidate_id, room_id, state_version, snapshot)"
                    " VALUES (%s, %s, %s, %s, %s) ON CONFLICT (sitting_id, candidate_id) DO UPDATE SET"
                    " room_id = EXCLUDED.room_id, state_version = EXCLUDED.state_version, snapshot = EXCLUDED.snapshot",
                    [(s, c, snap.room_id, v, snap.SerializeToString()) for (s, c), (v, snap) in changed.items()])
            await _place_roomless_incidents(conn, appends, {k: snap.room_id for k, (_, snap) in changed.items()
                                                             if snap.room_id}, self.clock())

        await self._commit(work)

    # --- help chat, notices, upload facts ---------------------------------------------------
    async def help_messages(self, records: list[Record[messaging_pb2.HelpMessage]]) -> None:
        async def work(conn: AsyncConnection, appends: Appends) -> None:
            rooms = await _rooms(conn, {(r.value.message.sitting_id, r.value.message.candidate_id)
                                        for r in records if not r.value.message.room_id})
            for record in records:
                msg = common_pb2.ChatMessage()
                msg.CopyFrom(record.value.message)
                if not (msg.message_id and msg.sitting_id and msg.candidate_id):
                    continue
                msg.room_id = msg.room_id or rooms.get((msg.sitting_id, msg.candidate_id), "")
                msg.thread_id = msg.thread_id or f"{msg.sitting_id}:{msg.candidate_id}"
                if await store_help_message(conn, msg, appends, record.timestamp_ms):
                    metrics.HELP_MESSAGES.labels(common_pb2.ChatDirection.Name(msg.direction)).inc()

        await self._commit(work)

    async def notifications(self, records: list[Record[messaging_pb2.Notification]]) -> None:
        async def work(_conn: AsyncConnection, appends: Appends) -> None:
            for record in records:
                notice = record.value.notice
                if notice.notice_id and notice.sitting_id and notice.candidate_id:
                    appends.notices.append(NoticeRow(notice))

        await self._commit(work)

    async def media_streams(self, records: list[Record[media_pb2.MediaStreamEvent]]) -> None:
        async def work(_conn: AsyncConnection, appends: Appends) -> None:
            for record in records:
                notice = texts.upload_notice(record.value, self.clock())
                if notice is not None:
                    appends.notices.append(NoticeRow(notice))

        await self._commit(work)


async def save_views(conn: AsyncConnection, views: list[pb.IncidentView]) -> None:
    async with conn.cursor() as c:
        await c.executemany(
            "INSERT INTO incidents (incident_id, sitting_id, candidate_id, room_id, kind, severity, status, verdict,"
            " start_time, revision, detection_revision, view) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)"
            " ON CONFLICT (incident_id) DO UPDATE SET room_id = EXCLUDED.room_id, kind = EXCLUDED.kind,"
            " severity = EXCLUDED.severity, status = EXCLUDED.status, verdict = EXCLUDED.verdict,"
            " start_time = EXCLUDED.start_time, revision = EXCLUDED.revision,"
            " detection_revision = EXCLUDED.detection_revision, view = EXCLUDED.view",
            [(v.incident.incident_id, v.incident.sitting_id, v.incident.candidate_id, v.incident.room_id,
              v.incident.kind, v.incident.severity, v.status, v.verdict,
              from_ts(v.incident.start_time) if v.incident.HasField("start_time") else from_ts(v.first_seen_at),
              v.revision, v.detection_revision, v.SerializeToString()) for v in views])


async def save_actions(conn: AsyncConnection, actions: list[tuple[str, pb.IncidentAction]]) -> None:
    """Append to incidents' histories: (incident id, action) pairs."""
    async with conn.cursor() as c:
        await c.executemany("INSERT INTO incident_actions (incident_id, action) VALUES (%s, %s)",
                            [(incident_id, action.SerializeToString()) for incident_id, action in actions])


async def _place_roomless_incidents(conn: AsyncConnection, appends: Appends, rooms: dict[tuple[str, str], str],
                                    now: datetime) -> None:
    """Incidents that reached notify before their candidate's room (the detector and the session service
    publish on different topics, which are not ordered with each other) get the room now, and the room's
    proctors get them in their feed: until then only the chief proctors of the sitting saw them."""
    if not rooms:
        return
    cur = await conn.execute(
        "SELECT view FROM incidents WHERE room_id = '' AND (sitting_id, candidate_id) IN"
        " (SELECT * FROM unnest(%s::text[], %s::text[])) ORDER BY start_time FOR UPDATE",
        ([k[0] for k in rooms], [k[1] for k in rooms]))
    views = [pb.IncidentView.FromString(v) for (v,) in await cur.fetchall()]
    if not views:
        return
    source_ms = int(now.timestamp() * 1000)
    actions: list[tuple[str, pb.IncidentAction]] = []
    for view in views:
        view.incident.room_id = rooms[(view.incident.sitting_id, view.incident.candidate_id)]
        view.revision += 1
        item = pb.ProctorFeedItem(incident=pb.IncidentUpdate(kind=pb.INCIDENT_UPDATE_KIND_UPDATED, incident=view))
        appends.feed.append(FeedRow(view.incident.sitting_id, pb.FEED_ITEM_KIND_INCIDENT, view.incident.room_id,
                                    view.incident.candidate_id, view.incident.severity, source_ms, item))
        actions.append((view.incident.incident_id, pb.IncidentAction(  # every revision is in the history
            kind=pb.INCIDENT_ACTION_KIND_UPDATED, at=ts(now), revision=view.revision,
            actor=common_pb2.Actor(kind=common_pb2.ACTOR_KIND_SERVICE, id="notify"),
            note=f"room {view.incident.room_id} (known after the incident)")))
    await save_views(conn, views)
    await save_actions(conn, actions)
    metrics.INCIDENTS_APPLIED.labels("room_filled").inc(len(views))


async def _rooms(conn: AsyncConnection, keys: set[tuple[str, str]]) -> dict[tuple[str, str], str]:
    if not keys:
        return {}
    cur = await conn.execute(
        "SELECT sitting_id, candidate_id, room_id FROM roster"
        " WHERE (sitting_id, candidate_id) IN (SELECT * FROM unnest(%s::text[], %s::text[]))",
        ([k[0] for k in keys], [k[1] for k in keys]))
    return {(s, c): r for s, c, r in await cur.fetchall()}


def apply_session_event(snap: common_pb2.CandidateSnapshot | None,
                        event: session_pb2.SessionEvent) -> common_pb2.CandidateSnapshot:
    out = common_pb2.CandidateSnapshot()
    if snap is not None:
        out.CopyFrom(snap)
    out.sitting_id, out.candidate_id = event.meta.sitting_id, event.meta.candidate_id
    if event.room_id:
        out.room_id = event.room_id
    if event.display_name:
        out.display_name = event.display_name
    if event.attempt_number:
        out.attempt_number = event.attempt_number
    if event.to_state and event.to_state != out.state:
        out.state = event.to_state
        out.state_since.CopyFrom(event.meta.event_time)
    kind = event.kind
    if kind in (session_pb2.SESSION_EVENT_KIND_PHONE_BOUND, session_pb2.SESSION_EVENT_KIND_PHONE_REBOUND) or (
            event.to_state == common_pb2.CANDIDATE_STATE_PHONE_BOUND):
        out.phone_bound = True
        out.phone_online = True
        out.phone_last_seen.CopyFrom(event.meta.event_time)
    if event.to_state == common_pb2.CANDIDATE_STATE_LOGGED_IN:
        out.desktop_online = True
        out.desktop_last_seen.CopyFrom(event.meta.event_time)
    if kind in (session_pb2.SESSION_EVENT_KIND_DEVICE_OFFLINE, session_pb2.SESSION_EVENT_KIND_DEVICE_ONLINE):
        online = kind == session_pb2.SESSION_EVENT_KIND_DEVICE_ONLINE
        conn = event.connectivity
        if conn.device_kind == common_pb2.DEVICE_KIND_PHONE:
            out.phone_online = online
            out.phone_last_seen.CopyFrom(conn.last_seen if conn.HasField("last_seen") else event.meta.event_time)
        else:
            out.desktop_online = online
            out.desktop_last_seen.CopyFrom(conn.last_seen if conn.HasField("last_seen") else event.meta.event_time)
    if kind == session_pb2.SESSION_EVENT_KIND_ZERO_SCORE_RECORDED or event.HasField("abandon"):
        out.zero_score = event.abandon.zero_score if event.HasField("abandon") else True
    return out
