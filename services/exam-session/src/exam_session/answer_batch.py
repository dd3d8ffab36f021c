"""The answering hot path: saves and advances of many candidates written by one statement.

Answer saves and advances are most of exam-session's traffic (a candidate saves and moves on twenty
or more times per sitting, everyone at once). The general path (``ExamSessionLogic.answering``) takes
four round trips per call: begin, lock and read the candidate, write, commit. This module takes one
round trip for a whole batch of calls, in the manner of a group commit:

* ``SeenCache`` remembers, per candidate, what the last answering call of this replica saw and
  wrote (the candidate row, the revision of the current answer and the answer rows just ahead).
* The logic decides a call from that memory with the same domain rules as the general path and
  builds the response, then hands the write to ``AnswerBatcher`` as an ``Op`` that carries what it
  expected: state, state version, attempt, position, end time and device of the candidate, and the
  revision of the current answer.
* The batcher sends the ops queued meanwhile as one statement in its own implicit transaction. The
  statement locks each candidate row (in candidate order; a row locked by another transaction is
  skipped and its op reported stale, so a batch never waits for anyone), writes only
  the ops whose candidate and answer are still exactly as expected, stores their responses for
  idempotent replay, and reports each op as applied, a duplicate (the client request id was used
  before: its stored response), or stale.
* A stale op, or any error of the statement (the whole statement then rolled back), sends the
  call down the general path, which reads the row again under its lock and answers
  authoritatively. The memory is therefore only a hint: it can make a call slower, never wrong.

One candidate has at most one op in a statement in flight; its next op waits for the next batch.
"""

from __future__ import annotations

import asyncio
import logging
from collections import OrderedDict, deque
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from psycopg_pool import AsyncConnectionPool

from exam_session.domain import Candidate, State
from exam_session.metrics import ANSWER_BATCH_SIZE, ANSWER_PATHS
from exam_session.store import AnswerRow

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Seen:
    """What this replica last saw of a candidate that is answering: the candidate row, the revision of
    the current question's answer row (-1: none) and the answer rows after it up to ``known_to`` (an
    index missing from ``ahead`` has no row). The current answer's content is not kept: the
    decisions need only its revision, and essays are large."""

    candidate: Candidate
    revision: int
    ahead: dict[int, AnswerRow]
    known_to: int
    current_row: AnswerRow | None = None  # the current answer row itself: read, never remembered

    @classmethod
    def of(cls, c: Candidate, answers: dict[int, AnswerRow], known_to: int) -> Seen:
        current = answers.get(c.current_index)
        return cls(c, current.revision if current else -1,
                   {i: a for i, a in answers.items() if i > c.current_index}, known_to, current)

    def after(self, op: Op, following: AnswerRow | None = None, following_known: bool = False) -> Seen:
        """The candidate once ``op`` is written (``following``: the row at the new position + 1)."""
        if op.next_index is None:
            return replace(self, revision=op.revision, current_row=None)
        nxt = op.next_index
        ahead = {i: a for i, a in self.ahead.items() if i > nxt}
        if following is not None:
            ahead[nxt + 1] = following
        landed = self.ahead.get(nxt)
        return Seen(replace(self.candidate, current_index=nxt), landed.revision if landed else -1, ahead,
                    max(self.known_to, nxt + 1) if following_known else self.known_to)


class SeenCache:
    """A bounded LRU of ``Seen`` by (sitting, candidate)."""

    def __init__(self, capacity: int) -> None:
        self.capacity = capacity
        self._entries: OrderedDict[tuple[str, str], Seen] = OrderedDict()

    def get(self, sitting_id: str, candidate_id: str) -> Seen | None:
        key = (sitting_id, candidate_id)
        seen = self._entries.get(key)
        if seen is not None:
            self._entries.move_to_end(key)
        return seen

    def put(self, seen: Seen) -> None:
        if self.capacity <= 0:
            return
        key = (seen.candidate.sitting_id, seen.candidate.candidate_id)
        self._entries[key] = replace(seen, current_row=None) if seen.current_row is not None else seen
        self._entries.move_to_end(key)
        while len(self._entries) > self.capacity:
            self._entries.popitem(last=False)

    def forget(self, sitting_id: str, candidate_id: str) -> None:
        self._entries.pop((sitting_id, candidate_id), None)

    def __len__(self) -> int:
        return len(self._entries)


@dataclass(frozen=True)
class Op:
    """One save or advance, decided from ``candidate`` as seen; written only if that still holds."""

    candidate: Candidate
    question_id: str  # the current question (saved, or locked by an advance)
    client_request_id: str
    kind: str  # "save" | "advance": the stored response's kind
    response: bytes  # the serialized response, stored for idempotent replay
    expect_revision: int  # revision of the current question's answer row; -1: no row yet
    answer: bytes | None  # the answer row's content after the op
    revision: int  # the answer row's revision after the op
    keep: bool  # an advance without a final answer: the stored answer stays as it is
    next_index: int | None  # an advance: the new position (the current answer gets locked)
    now: datetime
    client_time: datetime | None


@dataclass(frozen=True)
class Outcome:
    applied: bool
    stored: tuple[str, bytes] | None = None  # an earlier call with the same client request id
    following: AnswerRow | None = None  # an applied advance: the answer at next_index + 1, if any


STALE = Outcome(applied=False)

# One statement for a batch of ops of one sitting. ``c`` locks the candidates that are exactly as
# their op saw them (and whose request id is new); ``ins``/``upd`` write the current answer only if
# its row is as seen (absent, or at the expected revision and unlocked); the position and the stored
# response follow only the written ops. Data-modifying CTEs always run to completion, in one
# transaction: all or nothing.
BATCH_SQL = """
WITH o AS (
  SELECT * FROM unnest(%(cid)s::text[], %(rid)s::text[], %(kind)s::text[], %(resp)s::bytea[],
    %(ver)s::bigint[], %(att)s::int[], %(cur)s::int[], %(ends)s::timestamptz[], %(dev)s::text[],
    %(qid)s::text[], %(xrev)s::bigint[], %(ans)s::bytea[], %(rev)s::bigint[], %(keep)s::bool[],
    %(nxt)s::int[], %(now)s::timestamptz[], %(ct)s::timestamptz[]) WITH ORDINALITY
    AS t(cid, rid, kind, resp, ver, att, cur, ends, dev, qid, xrev, ans, rev, keep, nxt, now, ct, i)
),
dup AS (
  SELECT o.cid, r.kind, r.response FROM o CROSS JOIN LATERAL (
    SELECT kind, response FROM requests r
    WHERE r.sitting_id = %(s)s AND r.candidate_id = o.cid AND r.client_request_id = o.rid OFFSET 0) r
  WHERE o.rid <> ''
),
c AS (
  SELECT l.cid FROM (SELECT * FROM o ORDER BY cid) s CROSS JOIN LATERAL (
    SELECT y.candidate_id AS cid FROM candidates y
    WHERE y.sitting_id = %(s)s AND y.candidate_id = s.cid AND y.state = %(in_exam)s
      AND y.state_version = s.ver AND y.attempt_number = s.att AND y.current_index = s.cur
      AND y.attempt_ends_at IS NOT DISTINCT FROM s.ends AND y.desktop_device_id = s.dev
    FOR UPDATE SKIP LOCKED OFFSET 0) l
  WHERE NOT EXISTS (SELECT 1 FROM dup WHERE dup.cid = s.cid)
),
ins AS (
  INSERT INTO answers (sitting_id, candidate_id, attempt_number, question_index, question_id, answer,
    revision, saved_at, client_time, locked_at, source)
  SELECT %(s)s, o.cid, o.att, o.cur, o.qid, o.ans, o.rev, o.now, o.ct,
    CASE WHEN o.nxt IS NULL THEN NULL ELSE o.now END, 1
  FROM o JOIN c ON c.cid = o.cid WHERE o.xrev < 0
  ON CONFLICT DO NOTHING RETURNING candidate_id AS cid
),
upd AS (
  UPDATE answers x SET
    answer = CASE WHEN o.keep THEN x.answer ELSE o.ans END, revision = o.rev,
    saved_at = CASE WHEN o.keep THEN x.saved_at ELSE o.now END,
    client_time = CASE WHEN o.keep THEN x.client_time ELSE o.ct END,
    source = CASE WHEN o.keep THEN x.source ELSE 1 END,
    locked_at = CASE WHEN o.nxt IS NULL THEN NULL ELSE o.now END
  FROM o JOIN c ON c.cid = o.cid
  WHERE o.xrev >= 0 AND x.sitting_id = %(s)s AND x.candidate_id = o.cid AND x.attempt_number = o.att
    AND x.question_index = o.cur AND x.revision = o.xrev AND x.locked_at IS NULL
  RETURNING x.candidate_id AS cid
),
w AS (SELECT cid FROM ins UNION ALL SELECT cid FROM upd),
v AS (SELECT o.cid, o.nxt FROM o JOIN w ON w.cid = o.cid WHERE o.nxt IS NOT NULL),
p AS (
  UPDATE candidates y SET current_index = v.nxt FROM v
  WHERE y.sitting_id = %(s)s AND y.candidate_id = ANY (ARRAY(SELECT cid FROM v)) AND y.candidate_id = v.cid
  RETURNING 1
),
r AS (
  INSERT INTO requests (sitting_id, candidate_id, client_request_id, kind, response)
  SELECT %(s)s, o.cid, o.rid, o.kind, o.resp FROM o JOIN w ON w.cid = o.cid WHERE o.rid <> ''
  RETURNING 1
)
SELECT o.i, w.cid IS NOT NULL, d.kind, d.response, n.question_index, n.question_id, n.answer,
  n.revision, n.saved_at, n.client_time, n.locked_at, n.source
FROM o
LEFT JOIN w ON w.cid = o.cid
LEFT JOIN dup d ON d.cid = o.cid
LEFT JOIN LATERAL (
  SELECT * FROM answers n WHERE w.cid IS NOT NULL AND o.nxt IS NOT NULL AND n.sitting_id = %(s)s
    AND n.candidate_id = o.cid AND n.attempt_number = o.att AND n.question_index = o.nxt + 1 OFFSET 0) n ON true
"""


def _literal(items: list[str | None]) -> str:
    return "{" + ",".join("NULL" if x is None else x for x in items) + "}"


def _texts(values: list[str]) -> str:
    """A PostgreSQL array literal of text (every element quoted, backslash and quote escaped)."""
    return _literal(['"' + v.replace("\\", "\\\\").replace('"', '\\"') + '"' for v in values])


def _byteas(values: list[bytes | None]) -> str:
    return _literal([None if v is None else '"\\\\x' + v.hex() + '"' for v in values])


def _ints(values: list[int | None]) -> str:
    return _literal([None if v is None else str(int(v)) for v in values])


def _bools(values: list[bool]) -> str:
    return _literal(["t" if v else "f" for v in values])


def _times(values: list[datetime | None]) -> str:
    for v in values:
        if v is not None and v.tzinfo is None:
            raise ValueError("answer batch times must be timezone-aware")
    return _literal([None if v is None else '"' + v.isoformat() + '"' for v in values])


def batch_params(sitting_id: str, ops: list[Op]) -> dict[str, Any]:
    """The statement's parameters: one array literal per column, written here rather than by psycopg's
    generic list adapter (which costs ~1 us per element in Python: 4x the whole batch's conversion)."""
    cs = [op.candidate for op in ops]
    return {
        "s": sitting_id, "in_exam": int(State.IN_EXAM),
        "cid": _texts([c.candidate_id for c in cs]), "rid": _texts([op.client_request_id for op in ops]),
        "kind": _texts([op.kind for op in ops]), "resp": _byteas([op.response for op in ops]),
        "ver": _ints([c.state_version for c in cs]), "att": _ints([c.attempt_number for c in cs]),
        "cur": _ints([c.current_index for c in cs]), "ends": _times([c.attempt_ends_at for c in cs]),
        "dev": _texts([c.desktop_device_id for c in cs]), "qid": _texts([op.question_id for op in ops]),
        "xrev": _ints([op.expect_revision for op in ops]), "ans": _byteas([op.answer for op in ops]),
        "rev": _ints([op.revision for op in ops]), "keep": _bools([op.keep for op in ops]),
        "nxt": _ints([op.next_index for op in ops]), "now": _times([op.now for op in ops]),
        "ct": _times([op.client_time for op in ops]),
    }


def outcomes(rows: list[tuple[Any, ...]], count: int) -> list[Outcome]:
    out = [STALE] * count
    for row in rows:
        applied, kind, response = row[1], row[2], row[3]
        stored = (kind, bytes(response)) if kind is not None else None
        following = None
        if row[4] is not None:
            following = AnswerRow(row[4], row[5], bytes(row[6]) if row[6] is not None else None, *row[7:12])
        out[row[0] - 1] = Outcome(applied=bool(applied), stored=stored, following=following)
    return out


@dataclass
class AnswerBatcher:
    """Queues ops and writes them in batches: up to ``max_batch`` ops of one sitting per statement,
    at most ``max_in_flight`` statements at once (each on a connection of ``pool``, which must be in
    autocommit mode: the statement is its own transaction)."""

    pool: AsyncConnectionPool
    max_batch: int = 64
    max_in_flight: int = 2
    _queue: deque[tuple[str, Op, asyncio.Future[Outcome]]] = field(default_factory=deque)
    _busy: set[tuple[str, str]] = field(default_factory=set)
    _in_flight: int = 0
    _tasks: set[asyncio.Task[None]] = field(default_factory=set)

    async def submit(self, sitting_id: str, op: Op) -> Outcome:
        future: asyncio.Future[Outcome] = asyncio.get_running_loop().create_future()
        self._queue.append((sitting_id, op, future))
        self._drain()
        return await future

    def _drain(self) -> None:
        while self._in_flight < self.max_in_flight and self._queue:
            sitting_id, batch = self._take()
            if not batch:
                return
            self._in_flight += 1
            task = asyncio.create_task(self._run(sitting_id, batch), name="answer-batch")
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    def _take(self) -> tuple[str, list[tuple[Op, asyncio.Future[Outcome]]]]:
        sitting: str | None = None
        batch: list[tuple[Op, asyncio.Future[Outcome]]] = []
        left: deque[tuple[str, Op, asyncio.Future[Outcome]]] = deque()
        while self._queue:
            item = self._queue.popleft()
            sitting_id, op, future = item
            key = (sitting_id, op.candidate.candidate_id)
            if future.done():  # the caller went away before its op was sent
                continue
            if len(batch) < self.max_batch and sitting in (None, sitting_id) and key not in self._busy:
                sitting = sitting_id
                self._busy.add(key)
                batch.append((op, future))
            else:
                left.append(item)
        self._queue = left
        return sitting or "", batch

    async def _run(self, sitting_id: str, batch: list[tuple[Op, asyncio.Future[Outcome]]]) -> None:
        ops = [op for op, _ in batch]
        try:
            results = await self._write(sitting_id, ops)
        except Exception as exc:  # noqa: BLE001 - rolled back: every op goes down the general path
            log.warning("answer batch failed; its calls take the general path",
                        extra={"ops": len(ops), "error": f"{type(exc).__name__}: {exc}"})
            results = [STALE] * len(ops)
        finally:
            for op in ops:
                self._busy.discard((sitting_id, op.candidate.candidate_id))
            self._in_flight -= 1
        ANSWER_BATCH_SIZE.observe(len(ops))
        for (_, future), result in zip(batch, results, strict=True):
            ANSWER_PATHS["batched" if result.applied else "duplicate" if result.stored is not None else "stale"].inc()
            if not future.done():
                future.set_result(result)
        self._drain()

    async def _write(self, sitting_id: str, ops: list[Op]) -> list[Outcome]:
        async with self.pool.connection() as conn:
            cur = await conn.execute(BATCH_SQL, batch_params(sitting_id, ops))
            return outcomes(await cur.fetchall(), len(ops))

    async def stop(self) -> None:
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)
