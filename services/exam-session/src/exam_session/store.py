"""PostgreSQL persistence of sittings, candidates, answers, transitions and idempotency records.

Every mutation runs in a transaction that first locks the candidate row (``lock_candidate``),
so one candidate's changes are serialised and their outbox events are ordered.
"""

from __future__ import annotations

import functools
import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from psycopg import AsyncConnection, sql
from psycopg.rows import dict_row

from exam_session.domain import Candidate, State
from proctor_runtime.errors import FailedPrecondition, InvalidArgument, NotFound

if TYPE_CHECKING:
    from exam_session.answer_batch import Op

PARTITIONED = ("candidates", "answers", "requests", "transitions")
# the general answering path reads the answers of the current question and of this many after it
ANSWERS_AHEAD = 2

CANDIDATE_COLUMNS = (
    "sitting_id, candidate_id, display_name, room_id, state, state_since, state_version, "
    "attempt_number, current_index, attempt_ends_at, desktop_device_id, desktop_token_iat, "
    "phone_device_id, room_scanned, upload_complete, desktop_last_seen, phone_last_seen, "
    "clock_offset_ms, zero_score, zero_score_reason, extra, heartbeat_samples, "
    "desktop_offline_since, phone_offline_since, telemetry_seq_desktop, telemetry_seq_phone")


def partition_suffix(sitting_id: str) -> str:
    return "p" + hashlib.sha256(sitting_id.encode()).hexdigest()[:20]


@dataclass
class CandidateRow:
    """A candidate plus the bookkeeping columns the domain does not need."""

    candidate: Candidate
    heartbeat_samples: int
    desktop_offline_since: datetime | None
    phone_offline_since: datetime | None
    telemetry_seq: dict[str, int]


def _candidate(row: dict[str, Any]) -> CandidateRow:
    c = Candidate(
        sitting_id=row["sitting_id"], candidate_id=row["candidate_id"], state=State(row["state"]),
        state_since=row["state_since"], state_version=row["state_version"], room_id=row["room_id"],
        display_name=row["display_name"], attempt_number=row["attempt_number"],
        current_index=row["current_index"], attempt_ends_at=row["attempt_ends_at"],
        desktop_device_id=row["desktop_device_id"], desktop_token_iat=row["desktop_token_iat"],
        phone_device_id=row["phone_device_id"], room_scanned=row["room_scanned"],
        upload_complete=row["upload_complete"], desktop_last_seen=row["desktop_last_seen"],
        phone_last_seen=row["phone_last_seen"], clock_offset_ms=row["clock_offset_ms"],
        zero_score=row["zero_score"], zero_score_reason=row["zero_score_reason"],
        extra=row["extra"] or {})
    return CandidateRow(c, row["heartbeat_samples"], row["desktop_offline_since"],
                        row["phone_offline_since"],
                        {"desktop": row["telemetry_seq_desktop"], "phone": row["telemetry_seq_phone"]})


# --- sittings -------------------------------------------------------------------------------------

async def insert_sitting(conn: AsyncConnection, *, sitting_id: str, name: str, kind: int,
                         time_zone: str, times: Sequence[datetime], spec: bytes,
                         created_by: str) -> bool:
    """Insert the sitting and create its partitions; False if the id exists already."""
    suffix = partition_suffix(sitting_id)
    cur = await conn.execute(
        "INSERT INTO sittings (sitting_id, name, kind, time_zone, login_opens, waiting_room_opens,"
        " start_at, last_entry, end_at, upload_deadline, spec, spec_sha256, partition_suffix,"
        " created_by) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)"
        " ON CONFLICT (sitting_id) DO NOTHING RETURNING sitting_id",
        (sitting_id, name, kind, time_zone, *times, spec, hashlib.sha256(spec).digest(), suffix,
         created_by))
    if await cur.fetchone() is None:
        return False
    for table in PARTITIONED:
        await conn.execute(sql.SQL("CREATE TABLE {} PARTITION OF {} FOR VALUES IN ({})").format(
            sql.Identifier(f"{table}_{suffix}"), sql.Identifier(table), sql.Literal(sitting_id)))
    return True


async def load_sitting_spec(conn: AsyncConnection, sitting_id: str) -> tuple[bytes, datetime] | None:
    cur = await conn.execute("SELECT spec, created_at FROM sittings WHERE sitting_id = %s",
                             (sitting_id,))
    row = await cur.fetchone()
    return (bytes(row[0]), row[1]) if row else None


async def list_sitting_specs(conn: AsyncConnection, limit: int, after: str,
                             active_from: datetime | None, active_to: datetime | None,
                             ) -> list[tuple[bytes, datetime]]:
    cur = await conn.execute(
        "SELECT spec, created_at FROM sittings WHERE sitting_id > %s"
        " AND (%s::timestamptz IS NULL OR upload_deadline >= %s)"
        " AND (%s::timestamptz IS NULL OR login_opens <= %s)"
        " ORDER BY sitting_id LIMIT %s",
        (after, active_from, active_from, active_to, active_to, limit))
    return [(bytes(r[0]), r[1]) for r in await cur.fetchall()]


async def due_sittings(conn: AsyncConnection, now: datetime) -> list[str]:
    """Sittings whose time-driven transitions are not all done yet."""
    cur = await conn.execute(
        "SELECT sitting_id FROM sittings WHERE login_opens <= %s AND NOT swept_deadline",
        (now,))
    return [r[0] for r in await cur.fetchall()]


async def mark_swept(conn: AsyncConnection, sitting_id: str, column: str) -> None:
    assert column in ("swept_absent", "swept_deadline")
    await conn.execute(sql.SQL("UPDATE sittings SET {} = true WHERE sitting_id = %s").format(
        sql.Identifier(column)), (sitting_id,))


# --- candidates -----------------------------------------------------------------------------------

async def lock_candidate(conn: AsyncConnection, sitting_id: str, candidate_id: str) -> CandidateRow:
    async with conn.cursor(row_factory=dict_row) as cur:
        await cur.execute(f"SELECT {CANDIDATE_COLUMNS} FROM candidates WHERE sitting_id = %s"
                          " AND candidate_id = %s FOR UPDATE", (sitting_id, candidate_id))
        row = await cur.fetchone()
    if row is None:
        raise NotFound("CANDIDATE_NOT_FOUND", f"no candidate {candidate_id!r} in sitting {sitting_id!r}",
                       "考生不存在", {"candidate_id": candidate_id})
    return _candidate(row)


async def get_candidate(conn: AsyncConnection, sitting_id: str, candidate_id: str) -> CandidateRow:
    async with conn.cursor(row_factory=dict_row) as cur:
        await cur.execute(f"SELECT {CANDIDATE_COLUMNS} FROM candidates WHERE sitting_id = %s"
                          " AND candidate_id = %s", (sitting_id, candidate_id))
        row = await cur.fetchone()
    if row is None:
        raise NotFound("CANDIDATE_NOT_FOUND", f"no candidate {candidate_id!r} in sitting {sitting_id!r}",
                       "考生不存在", {"candidate_id": candidate_id})
    return _candidate(row)


async def list_candidates(conn: AsyncConnection, sitting_id: str, rooms: Sequence[str] | None,
                          states: Sequence[int], after: str, limit: int) -> list[CandidateRow]:
    async with conn.cursor(row_factory=dict_row) as cur:
        await cur.execute(
            f"SELECT {CANDIDATE_COLUMNS} FROM candidates WHERE sitting_id = %s"
            " AND (%s::text[] IS NULL OR room_id = ANY(%s)) AND (cardinality(%s::smallint[]) = 0"
            " OR state = ANY(%s)) AND candidate_id > %s ORDER BY candidate_id LIMIT %s",
            (sitting_id, rooms, rooms, list(states), list(states), after, limit))
        return [_candidate(r) for r in await cur.fetchall()]


async def count_candidates(conn: AsyncConnection, sitting_id: str, rooms: Sequence[str] | None,
                           states: Sequence[int]) -> int:
    cur = await conn.execute(
        "SELECT count(*) FROM candidates WHERE sitting_id = %s"
        " AND (%s::text[] IS NULL OR room_id = ANY(%s)) AND (cardinality(%s::smallint[]) = 0"
        " OR state = ANY(%s))", (sitting_id, rooms, rooms, list(states), list(states)))
    row = await cur.fetchone()
    return int(row[0]) if row else 0


async def room_counts(conn: AsyncConnection, sitting_id: str) -> dict[str, dict[int, int]]:
    cur = await conn.execute("SELECT room_id, state, count(*) FROM candidates WHERE sitting_id = %s"
                             " GROUP BY room_id, state ORDER BY room_id", (sitting_id,))
    out: dict[str, dict[int, int]] = {}
    for room, state, count in await cur.fetchall():
        out.setdefault(room, {})[state] = count
    return out


@dataclass(frozen=True)
class ImportRow:
    candidate_id: str
    display_name: str
    room_id: str
    id_photo_ref: str
    extra: dict[str, str]


async def upsert_candidates(conn: AsyncConnection, sitting_id: str, rows: Sequence[ImportRow],
                            now: datetime) -> dict[str, str]:
    """Insert or update; returns candidate_id -> created | updated | unchanged."""
    ids = [r.candidate_id for r in rows]
    cur = await conn.execute(
        "SELECT candidate_id, display_name, room_id, id_photo_ref, extra FROM candidates"
        " WHERE sitting_id = %s AND candidate_id = ANY(%s) FOR UPDATE", (sitting_id, ids))
    existing = {r[0]: r[1:] for r in await cur.fetchall()}
    outcome: dict[str, str] = {}
    new_rows, changed = [], []
    for r in rows:
        before = existing.get(r.candidate_id)
        if before is None:
            new_rows.append(r)
            outcome[r.candidate_id] = "created"
        elif tuple(before) != (r.display_name, r.room_id, r.id_photo_ref, r.extra):
            changed.append(r)
            outcome[r.candidate_id] = "updated"
        else:
            outcome[r.candidate_id] = "unchanged"
    async with conn.cursor() as c:
        if new_rows:
            await c.executemany(
                "INSERT INTO candidates (sitting_id, candidate_id, display_name, room_id,"
                " id_photo_ref, extra, state, state_since) VALUES (%s, %s, %s, %s, %s, %s, %s, %s)",
                [(sitting_id, r.candidate_id, r.display_name, r.room_id, r.id_photo_ref,
                  json.dumps(r.extra), int(State.REGISTERED), now) for r in new_rows])
        if changed:
            await c.executemany(
                "UPDATE candidates SET display_name = %s, room_id = %s, id_photo_ref = %s,"
                " extra = %s WHERE sitting_id = %s AND candidate_id = %s",
                [(r.display_name, r.room_id, r.id_photo_ref, json.dumps(r.extra), sitting_id,
                  r.candidate_id) for r in changed])
    return outcome


_TRANSITION_INSERT = (
    "INSERT INTO transitions (sitting_id, candidate_id, from_state, to_state, at, actor_kind,"
    " actor_id, reason, note, attempt_number) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s)")


@functools.lru_cache(maxsize=512)
def _update_sql(columns: tuple[str, ...], transition: bool) -> str:
    """UPDATE of the given candidate columns (then, for a transition, its history row in the same
    statement: one round trip). Cached: the same few column sets recur on every call."""
    assignments = sql.SQL(", ").join(sql.SQL("{} = %s").format(sql.Identifier(k)) for k in columns)
    update = sql.SQL("UPDATE candidates SET {} WHERE sitting_id = %s AND candidate_id = %s").format(
        assignments).as_string(None)
    return f"WITH u AS ({update} RETURNING 1) {_TRANSITION_INSERT}" if transition else update


async def update_candidate(conn: AsyncConnection, c: Candidate, **changes: Any) -> None:
    """Write changed columns of a locked candidate row."""
    if not changes:
        return
    await conn.execute(_update_sql(tuple(changes), False), (*changes.values(), c.sitting_id, c.candidate_id))


async def record_transition(conn: AsyncConnection, c: Candidate, to_state: State, now: datetime,
                            actor_kind: int, actor_id: str, reason: str, note: str = "",
                            **changes: Any) -> int:
    """Move a locked candidate to ``to_state`` and record it in its history; returns the new state
    version."""
    version = c.state_version + 1
    changes = {"state": int(to_state), "state_since": now, "state_version": version, **changes}
    await conn.execute(_update_sql(tuple(changes), True), (
        *changes.values(), c.sitting_id, c.candidate_id,
        c.sitting_id, c.candidate_id, int(c.state), int(to_state), now, actor_kind, actor_id, reason, note,
        changes.get("attempt_number", c.attempt_number)))
    return version


async def history(conn: AsyncConnection, sitting_id: str, candidate_id: str) -> list[tuple[Any, ...]]:
    cur = await conn.execute(
        "SELECT from_state, to_state, at, actor_kind, actor_id, reason, attempt_number, note"
        " FROM transitions WHERE sitting_id = %s AND candidate_id = %s ORDER BY seq",
        (sitting_id, candidate_id))
    return list(await cur.fetchall())


# --- idempotency ----------------------------------------------------------------------------------

async def stored_response(conn: AsyncConnection, c: Candidate, client_request_id: str,
                          kind: str) -> bytes | None:
    if not client_request_id:
        return None
    cur = await conn.execute(
        "SELECT response, kind FROM requests WHERE sitting_id = %s AND candidate_id = %s"
        " AND client_request_id = %s", (c.sitting_id, c.candidate_id, client_request_id))
    row = await cur.fetchone()
    if row is None:
        return None
    if row[1] != kind:
        raise InvalidArgument("REQUEST_ID_REUSED", "client_request_id was already used for another call",
                              "请求编号已被其他操作使用", {"field": "client_request_id"})
    return bytes(row[0])


async def store_response(conn: AsyncConnection, c: Candidate, client_request_id: str, kind: str,
                         response: bytes) -> None:
    if client_request_id:
        await conn.execute(
            "INSERT INTO requests (sitting_id, candidate_id, client_request_id, kind, response)"
            " VALUES (%s, %s, %s, %s, %s)",
            (c.sitting_id, c.candidate_id, client_request_id, kind, response))


# --- answers --------------------------------------------------------------------------------------

@dataclass(frozen=True)
class AnswerRow:
    question_index: int
    question_id: str
    answer: bytes | None
    revision: int
    saved_at: datetime
    client_time: datetime | None
    locked_at: datetime | None
    source: int


async def save_answer(conn: AsyncConnection, c: Candidate, index: int, question_id: str,
                      answer: bytes | None, now: datetime, client_time: datetime | None,
                      source: int = 1, lock: bool = False) -> int:
    """Upsert the answer of question ``index``; returns its new revision."""
    cur = await conn.execute(
        "INSERT INTO answers AS a (sitting_id, candidate_id, attempt_number, question_index,"
        " question_id, answer, revision, saved_at, client_time, locked_at, source)"
        " VALUES (%s, %s, %s, %s, %s, %s, 1, %s, %s, %s, %s)"
        " ON CONFLICT (sitting_id, candidate_id, attempt_number, question_index) DO UPDATE SET"
        " answer = EXCLUDED.answer, revision = a.revision + 1, saved_at = EXCLUDED.saved_at,"
        " client_time = EXCLUDED.client_time, source = EXCLUDED.source,"
        " locked_at = COALESCE(a.locked_at, EXCLUDED.locked_at)"
        " WHERE a.locked_at IS NULL RETURNING revision",
        (c.sitting_id, c.candidate_id, c.attempt_number, index, question_id, answer, now,
         client_time, now if lock else None, source))
    row = await cur.fetchone()
    if row is None:  # the row is locked: never overwrite a locked answer
        raise FailedPrecondition("QUESTION_LOCKED", "this question is locked", "该题已锁定")
    return int(row[0])


async def lock_answer(conn: AsyncConnection, c: Candidate, index: int, question_id: str,
                      now: datetime) -> None:
    await conn.execute(
        "INSERT INTO answers AS a (sitting_id, candidate_id, attempt_number, question_index,"
        " question_id, answer, revision, saved_at, locked_at) VALUES (%s, %s, %s, %s, %s, NULL, 0,"
        " %s, %s) ON CONFLICT (sitting_id, candidate_id, attempt_number, question_index) DO UPDATE"
        " SET locked_at = COALESCE(a.locked_at, EXCLUDED.locked_at)",
        (c.sitting_id, c.candidate_id, c.attempt_number, index, question_id, now, now))


async def get_answer(conn: AsyncConnection, c: Candidate, index: int) -> AnswerRow | None:
    rows = await list_answers(conn, c.sitting_id, c.candidate_id, c.attempt_number, index)
    return rows[0] if rows else None


async def list_answers(conn: AsyncConnection, sitting_id: str, candidate_id: str,
                       attempt_number: int, only_index: int | None = None) -> list[AnswerRow]:
    cur = await conn.execute(
        "SELECT question_index, question_id, answer, revision, saved_at, client_time, locked_at,"
        " source FROM answers WHERE sitting_id = %s AND candidate_id = %s AND attempt_number = %s"
        " AND (%s::int IS NULL OR question_index = %s) ORDER BY question_index",
        (sitting_id, candidate_id, attempt_number, only_index, only_index))
    return [AnswerRow(r[0], r[1], bytes(r[2]) if r[2] is not None else None, *r[3:])
            for r in await cur.fetchall()]


async def flag_answer(conn: AsyncConnection, c: Candidate, question_id: str, client_request_id: str,
                      answer: bytes | None, client_time: datetime, now: datetime, reason: str) -> None:
    await conn.execute(
        "INSERT INTO flagged_answers (sitting_id, candidate_id, attempt_number, question_id,"
        " client_request_id, answer, client_time, received_at, reason) VALUES"
        " (%s, %s, %s, %s, %s, %s, %s, %s, %s) ON CONFLICT DO NOTHING",
        (c.sitting_id, c.candidate_id, c.attempt_number, question_id, client_request_id, answer,
         client_time, now, reason))


async def list_flagged(conn: AsyncConnection, sitting_id: str, candidate_id: str,
                       attempt_number: int) -> list[tuple[Any, ...]]:
    cur = await conn.execute(
        "SELECT question_id, answer, client_time, received_at, reason FROM flagged_answers"
        " WHERE sitting_id = %s AND candidate_id = %s AND attempt_number = %s"
        " ORDER BY client_time", (sitting_id, candidate_id, attempt_number))
    return list(await cur.fetchall())


# --- bind codes -------------------------------------------------------------------------------------

async def insert_bind_code(conn: AsyncConnection, c: Candidate, code_sha256: bytes, now: datetime,
                           expires: datetime) -> None:
    # each new code invalidates the candidate's earlier unused ones
    await conn.execute(
        "UPDATE bind_codes SET expires_at = least(expires_at, %s) WHERE sitting_id = %s"
        " AND candidate_id = %s AND used_at IS NULL", (now, c.sitting_id, c.candidate_id))
    await conn.execute(
        "INSERT INTO bind_codes (code_sha256, sitting_id, candidate_id, issued_at, expires_at)"
        " VALUES (%s, %s, %s, %s, %s)", (code_sha256, c.sitting_id, c.candidate_id, now, expires))


async def find_bind_code(conn: AsyncConnection, code_sha256: bytes) -> tuple[Any, ...] | None:
    cur = await conn.execute(
        "SELECT sitting_id, candidate_id, expires_at, used_at, used_by_device FROM bind_codes"
        " WHERE code_sha256 = %s FOR UPDATE", (code_sha256,))
    return await cur.fetchone()


async def use_bind_code(conn: AsyncConnection, code_sha256: bytes, now: datetime, device: str) -> None:
    await conn.execute("UPDATE bind_codes SET used_at = %s, used_by_device = %s WHERE code_sha256 = %s",
                       (now, device, code_sha256))


# --- connectivity ---------------------------------------------------------------------------------

async def open_offline_period(conn: AsyncConnection, c: Candidate, device_kind: int,
                              since: datetime) -> None:
    await conn.execute(
        "INSERT INTO connectivity (sitting_id, candidate_id, device_kind, offline_from)"
        " VALUES (%s, %s, %s, %s) ON CONFLICT DO NOTHING",
        (c.sitting_id, c.candidate_id, device_kind, since))


async def close_offline_period(conn: AsyncConnection, c: Candidate, device_kind: int,
                               since: datetime, until: datetime) -> None:
    await conn.execute(
        "UPDATE connectivity SET offline_to = %s WHERE sitting_id = %s AND candidate_id = %s"
        " AND device_kind = %s AND offline_from = %s",
        (until, c.sitting_id, c.candidate_id, device_kind, since))


# --- sweeps -----------------------------------------------------------------------------------------

async def lock_due(conn: AsyncConnection, sitting_id: str, where: str, params: Sequence[Any],
                   limit: int) -> list[CandidateRow]:
    """Lock up to ``limit`` candidates matching ``where`` (skipping rows other replicas hold)."""
    async with conn.cursor(row_factory=dict_row) as cur:
        await cur.execute(
            f"SELECT {CANDIDATE_COLUMNS} FROM candidates WHERE sitting_id = %s AND ({where})"
            " LIMIT %s FOR UPDATE SKIP LOCKED", (sitting_id, *params, limit))
        return [_candidate(r) for r in await cur.fetchall()]


# --- the answering hot path: one read, one write --------------------------------------------------

async def lock_for_answering(conn: AsyncConnection, sitting_id: str, candidate_id: str,
                             client_request_id: str) -> tuple[CandidateRow, tuple[str, bytes] | None,
                                                              dict[int, AnswerRow]]:
    """Lock the candidate and read, in the same statement, the stored response of
    ``client_request_id`` and the answers of the current question and the ``ANSWERS_AHEAD`` next."""
    async with conn.cursor(row_factory=dict_row, binary=True) as cur:
        await cur.execute(
            f"SELECT {', '.join('c.' + col.strip() for col in CANDIDATE_COLUMNS.split(','))},"
            " r.kind AS r_kind, r.response AS r_response,"
            " a.question_index AS a_index, a.question_id AS a_qid, a.answer AS a_answer,"
            " a.revision AS a_revision, a.saved_at AS a_saved_at, a.client_time AS a_client_time,"
            " a.locked_at AS a_locked_at, a.source AS a_source"
            " FROM candidates c"
            " LEFT JOIN requests r ON r.sitting_id = c.sitting_id AND r.candidate_id = c.candidate_id"
            "  AND r.client_request_id = %s"
            " LEFT JOIN answers a ON a.sitting_id = c.sitting_id AND a.candidate_id = c.candidate_id"
            "  AND a.attempt_number = c.attempt_number"
            "  AND a.question_index BETWEEN c.current_index AND c.current_index + %s"
            " WHERE c.sitting_id = %s AND c.candidate_id = %s FOR UPDATE OF c",
            (client_request_id, ANSWERS_AHEAD, sitting_id, candidate_id))
        rows = await cur.fetchall()
    if not rows:
        raise NotFound("CANDIDATE_NOT_FOUND", f"no candidate {candidate_id!r} in sitting {sitting_id!r}",
                       "考生不存在", {"candidate_id": candidate_id})
    first = rows[0]
    stored = (first["r_kind"], bytes(first["r_response"])) if first["r_kind"] is not None else None
    answers = {r["a_index"]: AnswerRow(r["a_index"], r["a_qid"],
                                       bytes(r["a_answer"]) if r["a_answer"] is not None else None,
                                       r["a_revision"], r["a_saved_at"], r["a_client_time"], r["a_locked_at"],
                                       r["a_source"])
               for r in rows if r["a_index"] is not None}
    return _candidate(first), stored, answers


async def write_answering(conn: AsyncConnection, op: Op) -> None:
    """One statement: upsert the answer (or only lock it), move the position, store the response."""
    c, lock = op.candidate, op.next_index is not None
    await conn.execute(
        "WITH a AS (INSERT INTO answers AS x (sitting_id, candidate_id, attempt_number, question_index,"
        "  question_id, answer, revision, saved_at, client_time, locked_at, source)"
        "  VALUES (%(s)s, %(c)s, %(att)s, %(i)s, %(q)s, %(ans)s, %(rev)s, %(now)s, %(ct)s, %(lock)s, 1)"
        "  ON CONFLICT (sitting_id, candidate_id, attempt_number, question_index) DO UPDATE SET"
        "  answer = CASE WHEN %(keep)s THEN x.answer ELSE EXCLUDED.answer END,"
        "  revision = CASE WHEN %(keep)s THEN x.revision ELSE EXCLUDED.revision END,"
        "  saved_at = CASE WHEN %(keep)s THEN x.saved_at ELSE EXCLUDED.saved_at END,"
        "  client_time = CASE WHEN %(keep)s THEN x.client_time ELSE EXCLUDED.client_time END,"
        "  source = CASE WHEN %(keep)s THEN x.source ELSE 1 END,"
        "  locked_at = COALESCE(x.locked_at, EXCLUDED.locked_at)"
        "  WHERE x.locked_at IS NULL RETURNING 1),"
        " p AS (UPDATE candidates SET current_index = %(next)s WHERE %(next)s::int IS NOT NULL"
        "  AND sitting_id = %(s)s AND candidate_id = %(c)s RETURNING 1),"
        " r AS (INSERT INTO requests (sitting_id, candidate_id, client_request_id, kind, response)"
        "  SELECT %(s)s, %(c)s, %(rid)s, %(kind)s, %(resp)s WHERE %(rid)s <> '' RETURNING 1)"
        " SELECT (SELECT count(*) FROM a), (SELECT count(*) FROM p), (SELECT count(*) FROM r)",
        {"s": c.sitting_id, "c": c.candidate_id, "att": c.attempt_number, "i": c.current_index,
         "q": op.question_id, "ans": op.answer, "rev": op.revision, "now": op.now, "ct": op.client_time,
         "lock": op.now if lock else None, "keep": op.keep, "next": op.next_index,
         "rid": op.client_request_id, "kind": op.kind, "resp": op.response})
