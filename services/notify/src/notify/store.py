"""PostgreSQL access: the roster, the incident log, the feeds, help chat and notices.

Appending to a feed takes the feed's head row lock last and keeps it to the commit, so sequence
order is commit order. Callers append feeds in sorted key order (no deadlocks between batches).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from psycopg import AsyncConnection
from psycopg_pool import AsyncConnectionPool

from notify import cursors, metrics
from notify.hub import CHANNEL, Entry
from proctor.common.v1 import common_pb2
from proctor.notify.v1 import notify_pb2 as pb
from proctor_runtime.events import from_ts


@dataclass(frozen=True)
class FeedRow:
    sitting_id: str
    kind: int  # FeedItemKind
    room_id: str
    candidate_id: str
    severity: int
    source_ms: int
    item: pb.ProctorFeedItem  # without cursor / sequence / appended_at


@dataclass(frozen=True)
class NoticeRow:
    notice: common_pb2.Notice


@dataclass
class Appends:
    """What one transaction adds to feeds; written (and announced) just before it commits."""

    feed: list[FeedRow] = field(default_factory=list)
    notices: list[NoticeRow] = field(default_factory=list)
    # after write(): the appended entries per feed, ready for this replica's hub once committed
    entries: dict[str, list[Entry]] = field(default_factory=dict)

    async def write(self, conn: AsyncConnection, now: datetime) -> list[str]:
        """Append everything; returns the changed feed names (also sent with pg_notify)."""
        changed: list[str] = []
        micros = int(now.timestamp() * 1_000_000)
        by_sitting: dict[str, list[FeedRow]] = {}
        for row in self.feed:
            by_sitting.setdefault(row.sitting_id, []).append(row)
        for sitting_id in sorted(by_sitting):
            rows = by_sitting[sitting_id]
            cur = await conn.execute(
                "INSERT INTO feed_heads (sitting_id, last_seq) VALUES (%s, %s) ON CONFLICT (sitting_id)"
                " DO UPDATE SET last_seq = feed_heads.last_seq + EXCLUDED.last_seq RETURNING last_seq",
                (sitting_id, len(rows)))
            last = (await cur.fetchone() or (0,))[0]
            first = last - len(rows) + 1
            async with conn.cursor() as c:
                await c.executemany(
                    "INSERT INTO feed (sitting_id, seq, kind, room_id, candidate_id, severity, source_ms,"
                    " appended_at, item) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s)",
                    [(sitting_id, first + i, r.kind, r.room_id, r.candidate_id, r.severity, r.source_ms, now,
                      r.item.SerializeToString()) for i, r in enumerate(rows)])
            feed = cursors.proctor_feed(sitting_id)
            changed.append(feed)
            out = self.entries[feed] = []
            for i, r in enumerate(rows):
                item = pb.ProctorFeedItem()
                item.CopyFrom(r.item)
                item.cursor, item.sequence = cursors.encode(feed, first + i), first + i
                item.appended_at.seconds, item.appended_at.nanos = micros // 1_000_000, micros % 1_000_000 * 1000
                out.append(Entry(first + i, item, r.room_id, r.kind, r.severity, 0, r.source_ms))
        by_candidate: dict[tuple[str, str], list[NoticeRow]] = {}
        for n in self.notices:
            by_candidate.setdefault((n.notice.sitting_id, n.notice.candidate_id), []).append(n)
        if by_candidate:  # a notice is shown once: its id is the idempotency key (one query for the batch)
            cur = await conn.execute("SELECT notice_id FROM notices WHERE notice_id = ANY(%s)",
                                     ([n.notice.notice_id for n in self.notices],))
            seen = {row[0] for row in await cur.fetchall()}
        for key in sorted(by_candidate):
            fresh = []
            for n in by_candidate[key]:
                if n.notice.notice_id not in seen:
                    seen.add(n.notice.notice_id)
                    fresh.append(n)
            if not fresh:
                continue
            cur = await conn.execute(
                "INSERT INTO notice_heads (sitting_id, candidate_id, last_seq) VALUES (%s, %s, %s)"
                " ON CONFLICT (sitting_id, candidate_id) DO UPDATE SET last_seq = notice_heads.last_seq"
                " + EXCLUDED.last_seq RETURNING last_seq", (*key, len(fresh)))
            last = (await cur.fetchone() or (0,))[0]
            first = last - len(fresh) + 1
            async with conn.cursor() as c:
                await c.executemany(
                    "INSERT INTO notices (sitting_id, candidate_id, seq, notice_id, target_device, notice)"
                    " VALUES (%s, %s, %s, %s, %s, %s)",
                    [(*key, first + i, n.notice.notice_id, n.notice.target_device, n.notice.SerializeToString())
                     for i, n in enumerate(fresh)])
            feed = cursors.notice_feed(*key)
            changed.append(feed)
            self.entries[feed] = [
                Entry(first + i, pb.CandidateNoticeItem(cursor=cursors.encode(feed, first + i), notice=n.notice),
                      device=n.notice.target_device) for i, n in enumerate(fresh)]
            for n in fresh:
                metrics.NOTICES_SENT.labels(common_pb2.NoticeKind.Name(n.notice.kind)).inc()
        for name in changed:
            await conn.execute("SELECT pg_notify(%s, %s)", (CHANNEL, name))
        return changed


class Store:
    def __init__(self, pool: AsyncConnectionPool) -> None:
        self.pool = pool

    # --- feeds -----------------------------------------------------------------------------
    async def feed_head(self, feed: str) -> int:
        async with self.pool.connection() as conn:
            if feed.startswith("s:"):
                cur = await conn.execute("SELECT last_seq FROM feed_heads WHERE sitting_id = %s", (feed[2:],))
            else:
                _, sitting_id, candidate_id = feed.split(":", 2)
                cur = await conn.execute(
                    "SELECT last_seq FROM notice_heads WHERE sitting_id = %s AND candidate_id = %s",
                    (sitting_id, candidate_id))
            row = await cur.fetchone()
        return int(row[0]) if row else 0

    async def first_retained(self, feed: str) -> int:
        """The oldest sequence still stored in a proctor feed (0 when nothing was pruned yet)."""
        async with self.pool.connection() as conn:
            cur = await conn.execute("SELECT min(seq) FROM feed WHERE sitting_id = %s", (feed[2:],))
            row = await cur.fetchone()
        return int(row[0]) if row and row[0] is not None else 0

    async def prune(self, older_than: datetime, batch: int = 10_000) -> int:
        """Delete proctor feed rows appended before ``older_than`` (the incident log, chat and notices
        are kept: they are the record; the feed is only the live stream's replay window)."""
        total = 0
        while True:  # in batches: short transactions, no long lock on a big feed
            async with self.pool.connection() as conn:
                cur = await conn.execute(
                    "DELETE FROM feed WHERE ctid IN (SELECT ctid FROM feed WHERE appended_at < %s LIMIT %s)",
                    (older_than, batch))
            total += cur.rowcount
            if cur.rowcount < batch:
                return total

    async def fetch(self, feed: str, after: int, limit: int, rooms: frozenset[str] | None = None) -> list[Entry]:
        """Rows after ``after`` (only those of ``rooms`` when given: a proctor catching up)."""
        if feed.startswith("s:"):
            return await self._fetch_proctor(feed, after, limit, rooms)
        return await self._fetch_notices(feed, after, limit)

    async def _fetch_proctor(self, feed: str, after: int, limit: int, rooms: frozenset[str] | None) -> list[Entry]:
        where, args = _scope("sitting_id = %s AND seq > %s", [feed[2:], after], sorted(rooms) if rooms else None)
        async with self.pool.connection() as conn:
            cur = await conn.execute(
                f"SELECT seq, kind, room_id, severity, source_ms, appended_at, item FROM feed WHERE {where}"
                " ORDER BY seq LIMIT %s", [*args, limit])
            rows = await cur.fetchall()
        out = []
        for seq, kind, room_id, severity, source_ms, appended_at, raw in rows:
            item = pb.ProctorFeedItem.FromString(raw)
            item.cursor = cursors.encode(feed, seq)
            item.sequence = seq
            micros = int(appended_at.timestamp() * 1_000_000)
            item.appended_at.seconds, item.appended_at.nanos = micros // 1_000_000, micros % 1_000_000 * 1000
            out.append(Entry(seq, item, room_id, kind, severity, 0, source_ms))
        return out

    async def _fetch_notices(self, feed: str, after: int, limit: int) -> list[Entry]:
        _, sitting_id, candidate_id = feed.split(":", 2)
        async with self.pool.connection() as conn:
            cur = await conn.execute(
                "SELECT seq, target_device, notice FROM notices WHERE sitting_id = %s AND candidate_id = %s"
                " AND seq > %s ORDER BY seq LIMIT %s", (sitting_id, candidate_id, after, limit))
            rows = await cur.fetchall()
        return [Entry(seq, pb.CandidateNoticeItem(cursor=cursors.encode(feed, seq),
                                                  notice=common_pb2.Notice.FromString(raw)), device=device)
                for seq, device, raw in rows]

    # --- roster ----------------------------------------------------------------------------
    async def roster(self, sitting_id: str, rooms: Sequence[str] | None) -> list[common_pb2.CandidateSnapshot]:
        async with self.pool.connection() as conn:
            if rooms is None:
                cur = await conn.execute("SELECT snapshot FROM roster WHERE sitting_id = %s ORDER BY candidate_id",
                                         (sitting_id,))
            else:
                cur = await conn.execute(
                    "SELECT snapshot FROM roster WHERE sitting_id = %s AND room_id = ANY(%s) ORDER BY candidate_id",
                    (sitting_id, list(rooms)))
            return [common_pb2.CandidateSnapshot.FromString(r[0]) for r in await cur.fetchall()]

    async def candidate(self, sitting_id: str, candidate_id: str) -> common_pb2.CandidateSnapshot | None:
        async with self.pool.connection() as conn:
            cur = await conn.execute("SELECT snapshot FROM roster WHERE sitting_id = %s AND candidate_id = %s",
                                     (sitting_id, candidate_id))
            row = await cur.fetchone()
        return common_pb2.CandidateSnapshot.FromString(row[0]) if row else None

    async def sitting_known(self, sitting_id: str) -> bool:
        async with self.pool.connection() as conn:
            cur = await conn.execute(
                "SELECT EXISTS (SELECT 1 FROM roster WHERE sitting_id = %s)"
                " OR EXISTS (SELECT 1 FROM feed_heads WHERE sitting_id = %s)", (sitting_id, sitting_id))
            row = await cur.fetchone()
        return bool(row and row[0])

    # --- incidents -------------------------------------------------------------------------
    async def incident(self, incident_id: str) -> pb.IncidentView | None:
        async with self.pool.connection() as conn:
            cur = await conn.execute("SELECT view FROM incidents WHERE incident_id = %s", (incident_id,))
            row = await cur.fetchone()
        return pb.IncidentView.FromString(row[0]) if row else None

    async def history(self, incident_id: str) -> list[pb.IncidentAction]:
        async with self.pool.connection() as conn:
            cur = await conn.execute("SELECT action FROM incident_actions WHERE incident_id = %s ORDER BY id",
                                     (incident_id,))
            return [pb.IncidentAction.FromString(r[0]) for r in await cur.fetchall()]

    async def unresolved(self, sitting_id: str, rooms: Sequence[str] | None) -> list[pb.IncidentView]:
        where, args = _scope("sitting_id = %s AND status <> %s", [sitting_id, common_pb2.INCIDENT_STATUS_RESOLVED],
                             rooms)
        async with self.pool.connection() as conn:
            cur = await conn.execute(f"SELECT view FROM incidents WHERE {where} ORDER BY start_time, incident_id",
                                     args)
            return [pb.IncidentView.FromString(r[0]) for r in await cur.fetchall()]

    async def list_incidents(self, req: pb.ListIncidentsRequest, rooms: Sequence[str] | None,
                             after: tuple[datetime, str] | None, limit: int) -> tuple[list[pb.IncidentView], int]:
        where, args = _scope("sitting_id = %s", [req.sitting_id], rooms)
        if req.candidate_id:
            where += " AND candidate_id = %s"
            args.append(req.candidate_id)
        for column, values in (("kind", req.kinds), ("status", req.statuses), ("verdict", req.verdicts)):
            if values:
                where += f" AND {column} = ANY(%s)"
                args.append([int(v) for v in values])
        if req.min_severity:
            where += " AND severity >= %s"
            args.append(int(req.min_severity))
        if req.started_between.HasField("start_time"):
            where += " AND start_time >= %s"
            args.append(from_ts(req.started_between.start_time))
        if req.started_between.HasField("end_time"):
            where += " AND start_time < %s"
            args.append(from_ts(req.started_between.end_time))
        async with self.pool.connection() as conn:
            cur = await conn.execute(f"SELECT count(*) FROM incidents WHERE {where}", args)
            total = int((await cur.fetchone() or (0,))[0])
            page_where, page_args = where, list(args)
            if after is not None:
                page_where += " AND (start_time, incident_id) > (%s, %s)"
                page_args += [after[0], after[1]]
            cur = await conn.execute(
                f"SELECT view FROM incidents WHERE {page_where} ORDER BY start_time, incident_id LIMIT %s",
                [*page_args, limit])
            views = [pb.IncidentView.FromString(r[0]) for r in await cur.fetchall()]
        return views, total

    async def summarize(self, sitting_id: str, rooms: Sequence[str] | None,
                        candidate_id: str) -> list[tuple[str, int, int, int, int]]:
        where, args = _scope("sitting_id = %s", [sitting_id], rooms)
        if candidate_id:
            where += " AND candidate_id = %s"
            args.append(candidate_id)
        async with self.pool.connection() as conn:
            cur = await conn.execute(
                f"SELECT room_id, kind, status, verdict, count(*) FROM incidents WHERE {where}"
                " GROUP BY room_id, kind, status, verdict ORDER BY room_id, kind, status, verdict", args)
            return [(r[0], r[1], r[2], r[3], int(r[4])) for r in await cur.fetchall()]

    # --- help chat -------------------------------------------------------------------------
    async def threads(self, sitting_id: str, rooms: Sequence[str] | None, only_unanswered: bool, offset: int,
                      limit: int) -> list[pb.HelpThreadSummary]:
        where, args = _scope("sitting_id = %s", [sitting_id], rooms)
        if only_unanswered:
            where += " AND unanswered > 0"
        async with self.pool.connection() as conn:
            cur = await conn.execute(
                "SELECT thread_id, candidate_id, room_id, message_count, unanswered, last_message FROM help_threads"
                f" WHERE {where} ORDER BY last_at DESC, thread_id OFFSET %s LIMIT %s", [*args, offset, limit])
            rows = await cur.fetchall()
        return [pb.HelpThreadSummary(thread_id=t, sitting_id=sitting_id, candidate_id=c, room_id=r, message_count=n,
                                     unanswered=u, last_message=common_pb2.ChatMessage.FromString(m))
                for t, c, r, n, u, m in rows]

    async def latest_thread(self, sitting_id: str, candidate_id: str) -> str:
        async with self.pool.connection() as conn:
            cur = await conn.execute(
                "SELECT thread_id FROM help_threads WHERE sitting_id = %s AND candidate_id = %s"
                " ORDER BY last_at DESC LIMIT 1", (sitting_id, candidate_id))
            row = await cur.fetchone()
        return str(row[0]) if row else ""

    async def thread_messages(self, sitting_id: str, candidate_id: str, thread_id: str, offset: int,
                              limit: int) -> list[common_pb2.ChatMessage]:
        async with self.pool.connection() as conn:
            cur = await conn.execute(
                "SELECT message FROM help_messages WHERE thread_id = %s AND sitting_id = %s AND candidate_id = %s"
                " ORDER BY sent_at, message_id OFFSET %s LIMIT %s",
                (thread_id, sitting_id, candidate_id, offset, limit))
            return [common_pb2.ChatMessage.FromString(r[0]) for r in await cur.fetchall()]

    async def message_by_client_id(self, sitting_id: str, candidate_id: str, author_id: str,
                                   client_message_id: str) -> common_pb2.ChatMessage | None:
        async with self.pool.connection() as conn:
            cur = await conn.execute(
                "SELECT message FROM help_messages WHERE sitting_id = %s AND candidate_id = %s AND author_id = %s"
                " AND client_message_id = %s", (sitting_id, candidate_id, author_id, client_message_id))
            row = await cur.fetchone()
        return common_pb2.ChatMessage.FromString(row[0]) if row else None

    async def notice(self, notice_id: str) -> common_pb2.Notice | None:
        async with self.pool.connection() as conn:
            cur = await conn.execute("SELECT notice FROM notices WHERE notice_id = %s", (notice_id,))
            row = await cur.fetchone()
        return common_pb2.Notice.FromString(row[0]) if row else None


def _scope(where: str, args: list[object], rooms: Sequence[str] | None) -> tuple[str, list[object]]:
    if rooms is not None:
        where += " AND room_id = ANY(%s)"
        args.append(list(rooms))
    return where, args


async def store_help_message(conn: AsyncConnection, msg: common_pb2.ChatMessage, appends: Appends,
                             source_ms: int) -> bool:
    """Insert a chat message, update its thread and append it to the proctor feed; False if known."""
    cur = await conn.execute(
        "INSERT INTO help_messages (message_id, thread_id, sitting_id, candidate_id, direction, author_id,"
        " client_message_id, sent_at, message) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s)"
        " ON CONFLICT DO NOTHING RETURNING 1",
        (msg.message_id, msg.thread_id, msg.sitting_id, msg.candidate_id, msg.direction, msg.author.id,
         msg.client_message_id, from_ts(msg.sent_at), msg.SerializeToString()))
    if await cur.fetchone() is None:
        return False
    from_candidate = msg.direction == common_pb2.CHAT_DIRECTION_CANDIDATE_TO_PROCTOR
    cur = await conn.execute(
        "INSERT INTO help_threads AS t (thread_id, sitting_id, candidate_id, room_id, message_count, unanswered,"
        " last_at, last_message) VALUES (%s, %s, %s, %s, 1, %s, %s, %s) ON CONFLICT (thread_id) DO UPDATE SET"
        " message_count = t.message_count + 1,"
        " unanswered = CASE WHEN %s THEN t.unanswered + 1 ELSE 0 END,"
        " room_id = CASE WHEN EXCLUDED.room_id <> '' THEN EXCLUDED.room_id ELSE t.room_id END,"
        " last_at = GREATEST(t.last_at, EXCLUDED.last_at), last_message = EXCLUDED.last_message RETURNING unanswered",
        (msg.thread_id, msg.sitting_id, msg.candidate_id, msg.room_id, 1 if from_candidate else 0,
         from_ts(msg.sent_at), msg.SerializeToString(), from_candidate))
    unanswered = int((await cur.fetchone() or (0,))[0])
    appends.feed.append(FeedRow(msg.sitting_id, pb.FEED_ITEM_KIND_HELP, msg.room_id, msg.candidate_id, 0, source_ms,
                                pb.ProctorFeedItem(help=pb.HelpUpdate(message=msg, unanswered_in_thread=unanswered))))
    return True
