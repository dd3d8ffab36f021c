"""PostgreSQL persistence: templates (sealed), roster, login state, challenges, sessions, overrides
and the manual-review queue. Callers hold the candidate's ``login_state`` row lock (``lock_candidate``)
for every per-candidate change."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, fields
from datetime import datetime
from typing import Any, TypeVar

from psycopg import AsyncConnection
from psycopg.rows import dict_row

T = TypeVar("T")


def _build(cls: type[T], row: dict[str, Any] | None) -> T | None:
    if row is None:
        return None
    names = {f.name for f in fields(cls)}  # type: ignore[arg-type]
    return cls(**{k: (bytes(v) if isinstance(v, memoryview) else v) for k, v in row.items() if k in names})


async def _one(conn: AsyncConnection, cls: type[T], query: str, params: Sequence[Any]) -> T | None:
    async with conn.cursor(row_factory=dict_row) as cur:
        await cur.execute(query, params)
        return _build(cls, await cur.fetchone())


async def _all(conn: AsyncConnection, cls: type[T], query: str, params: Sequence[Any]) -> list[T]:
    async with conn.cursor(row_factory=dict_row) as cur:
        await cur.execute(query, params)
        return [x for x in (_build(cls, r) for r in await cur.fetchall()) if x is not None]


# --- templates ---------------------------------------------------------------------------------------

@dataclass
class TemplateRow:
    sitting_id: str
    candidate_id: str
    template_id: str
    pack_id: str
    pack_version: str
    template_tag: str
    embedding_dim: int
    key_id: str
    nonce: bytes
    ciphertext: bytes
    photo_sha256: bytes
    photo_nonce: bytes | None
    photo_ciphertext: bytes | None
    quality: bytes
    enrolled_at: datetime
    enrolled_by: str


async def get_template(conn: AsyncConnection, sitting_id: str, candidate_id: str,
                       lock: bool = False) -> TemplateRow | None:
    return await _one(conn, TemplateRow, "SELECT * FROM templates WHERE sitting_id = %s AND candidate_id = %s"
                      + (" FOR UPDATE" if lock else ""), (sitting_id, candidate_id))


async def put_template(conn: AsyncConnection, t: TemplateRow) -> None:
    cols = [f.name for f in fields(TemplateRow)]
    await conn.execute(
        f"INSERT INTO templates ({', '.join(cols)}) VALUES ({', '.join(['%s'] * len(cols))})"
        " ON CONFLICT (sitting_id, candidate_id) DO UPDATE SET "
        + ", ".join(f"{c} = EXCLUDED.{c}" for c in cols[2:]),
        [getattr(t, c) for c in cols])


async def delete_templates(conn: AsyncConnection, sitting_id: str, candidate_ids: Sequence[str]) -> int:
    cur = await conn.execute(
        "DELETE FROM templates WHERE sitting_id = %s AND (cardinality(%s::text[]) = 0 OR candidate_id = ANY(%s))",
        (sitting_id, list(candidate_ids), list(candidate_ids)))
    return cur.rowcount


# --- roster ---------------------------------------------------------------------------------------------

async def upsert_roster(conn: AsyncConnection, sitting_id: str, candidate_id: str, room_id: str,
                        display_name: str, version: int) -> None:
    await conn.execute(
        "INSERT INTO roster (sitting_id, candidate_id, room_id, display_name, state_version)"
        " VALUES (%s, %s, %s, %s, %s) ON CONFLICT (sitting_id, candidate_id) DO UPDATE SET"
        " room_id = EXCLUDED.room_id, display_name = CASE WHEN EXCLUDED.display_name = ''"
        " THEN roster.display_name ELSE EXCLUDED.display_name END,"
        " state_version = GREATEST(roster.state_version, EXCLUDED.state_version)"
        " WHERE roster.state_version <= EXCLUDED.state_version",
        (sitting_id, candidate_id, room_id, display_name, version))
    # the review queue follows the roster (proctor scopes), also for reviews opened before it arrived
    await conn.execute("UPDATE reviews SET room_id = r.room_id FROM roster r WHERE r.sitting_id = %s"
                       " AND r.candidate_id = %s AND reviews.sitting_id = r.sitting_id"
                       " AND reviews.candidate_id = r.candidate_id AND reviews.room_id <> r.room_id",
                       (sitting_id, candidate_id))


async def room_of(conn: AsyncConnection, sitting_id: str, candidate_id: str) -> str | None:
    cur = await conn.execute("SELECT room_id FROM roster WHERE sitting_id = %s AND candidate_id = %s",
                             (sitting_id, candidate_id))
    row = await cur.fetchone()
    return str(row[0]) if row else None


# --- login state (the per-candidate lock) -------------------------------------------------------------

@dataclass
class LoginState:
    sitting_id: str
    candidate_id: str
    failed_attempts: int
    last_failures: bytes | None
    review_id: str


async def lock_candidate(conn: AsyncConnection, sitting_id: str, candidate_id: str) -> LoginState:
    await conn.execute("INSERT INTO login_state (sitting_id, candidate_id) VALUES (%s, %s)"
                       " ON CONFLICT DO NOTHING", (sitting_id, candidate_id))
    state = await _one(conn, LoginState, "SELECT * FROM login_state WHERE sitting_id = %s AND candidate_id = %s"
                       " FOR UPDATE", (sitting_id, candidate_id))
    assert state is not None
    return state


async def get_login_state(conn: AsyncConnection, sitting_id: str, candidate_id: str) -> LoginState | None:
    return await _one(conn, LoginState, "SELECT * FROM login_state WHERE sitting_id = %s AND candidate_id = %s",
                      (sitting_id, candidate_id))


async def save_login_state(conn: AsyncConnection, s: LoginState) -> None:
    await conn.execute("UPDATE login_state SET failed_attempts = %s, last_failures = %s, review_id = %s"
                       " WHERE sitting_id = %s AND candidate_id = %s",
                       (s.failed_attempts, s.last_failures, s.review_id, s.sitting_id, s.candidate_id))


# --- challenges ------------------------------------------------------------------------------------------

@dataclass
class ChallengeRow:
    challenge_id: str
    sitting_id: str
    candidate_id: str
    device_id: str
    steps: list[str]
    issued_at: datetime
    expires_at: datetime
    used_at: datetime | None
    outcome: str
    client_address: str


async def insert_challenge(conn: AsyncConnection, c: ChallengeRow) -> None:
    """Invalidate the candidate's open challenge (if any) and store the new one."""
    await conn.execute("UPDATE challenges SET used_at = %s, outcome = 'superseded' WHERE sitting_id = %s"
                       " AND candidate_id = %s AND used_at IS NULL", (c.issued_at, c.sitting_id, c.candidate_id))
    cols = [f.name for f in fields(ChallengeRow)]
    await conn.execute(f"INSERT INTO challenges ({', '.join(cols)}) VALUES ({', '.join(['%s'] * len(cols))})",
                       [getattr(c, n) for n in cols])


async def get_challenge(conn: AsyncConnection, challenge_id: str, lock: bool = False) -> ChallengeRow | None:
    return await _one(conn, ChallengeRow, "SELECT * FROM challenges WHERE challenge_id = %s"
                      + (" FOR UPDATE" if lock else ""), (challenge_id,))


async def use_challenge(conn: AsyncConnection, challenge_id: str, now: datetime, outcome: str) -> bool:
    """Claim the challenge (single use); False if it was used meanwhile."""
    cur = await conn.execute("UPDATE challenges SET used_at = %s, outcome = %s WHERE challenge_id = %s"
                             " AND used_at IS NULL", (now, outcome, challenge_id))
    return cur.rowcount == 1


async def set_challenge_outcome(conn: AsyncConnection, challenge_id: str, outcome: str) -> None:
    await conn.execute("UPDATE challenges SET outcome = %s WHERE challenge_id = %s", (outcome, challenge_id))


# --- sessions --------------------------------------------------------------------------------------------

@dataclass
class SessionRow:
    session_id: str
    sitting_id: str
    candidate_id: str
    device_id: str
    origin: int
    issued_at: datetime
    token_iat: int
    expires_at: datetime
    refreshed_at: datetime | None
    revoked_at: datetime | None
    revoke_reason: str


async def live_sessions(conn: AsyncConnection, sitting_id: str, candidate_id: str,
                        now: datetime) -> list[SessionRow]:
    return await _all(conn, SessionRow, "SELECT * FROM sessions WHERE sitting_id = %s AND candidate_id = %s"
                      " AND revoked_at IS NULL AND expires_at > %s ORDER BY issued_at",
                      (sitting_id, candidate_id, now))


async def insert_session(conn: AsyncConnection, s: SessionRow) -> None:
    cols = [f.name for f in fields(SessionRow)]
    await conn.execute(f"INSERT INTO sessions ({', '.join(cols)}) VALUES ({', '.join(['%s'] * len(cols))})",
                       [getattr(s, n) for n in cols])


async def get_session(conn: AsyncConnection, session_id: str, lock: bool = False) -> SessionRow | None:
    return await _one(conn, SessionRow, "SELECT * FROM sessions WHERE session_id = %s"
                      + (" FOR UPDATE" if lock else ""), (session_id,))


async def revoke_session(conn: AsyncConnection, session_id: str, now: datetime, reason: str) -> None:
    await conn.execute("UPDATE sessions SET revoked_at = %s, revoke_reason = %s WHERE session_id = %s"
                       " AND revoked_at IS NULL", (now, reason, session_id))


async def refresh_session(conn: AsyncConnection, session_id: str, now: datetime, token_iat: int,
                          expires_at: datetime) -> None:
    await conn.execute("UPDATE sessions SET refreshed_at = %s, token_iat = %s, expires_at = %s"
                       " WHERE session_id = %s", (now, token_iat, expires_at, session_id))


# --- overrides -------------------------------------------------------------------------------------------

@dataclass
class OverrideRow:
    override_id: str
    sitting_id: str
    candidate_id: str
    kind: int
    reason: str
    device_id: str
    ticket_ref: str
    actor_id: str
    client_request_id: str
    code_sha256: bytes | None
    code_key_id: str
    created_at: datetime
    expires_at: datetime
    used_at: datetime | None
    used_device_id: str
    session_id: str
    revoked_session_id: str


async def insert_override(conn: AsyncConnection, o: OverrideRow) -> None:
    cols = [f.name for f in fields(OverrideRow)]
    await conn.execute(f"INSERT INTO overrides ({', '.join(cols)}) VALUES ({', '.join(['%s'] * len(cols))})",
                       [getattr(o, n) for n in cols])


async def override_by_request(conn: AsyncConnection, actor_id: str, client_request_id: str) -> OverrideRow | None:
    return await _one(conn, OverrideRow, "SELECT * FROM overrides WHERE actor_id = %s AND client_request_id = %s",
                      (actor_id, client_request_id))


async def override_by_id(conn: AsyncConnection, override_id: str) -> OverrideRow | None:
    return await _one(conn, OverrideRow, "SELECT * FROM overrides WHERE override_id = %s", (override_id,))


async def override_by_code(conn: AsyncConnection, digest: bytes, lock: bool = False) -> OverrideRow | None:
    return await _one(conn, OverrideRow, "SELECT * FROM overrides WHERE code_sha256 = %s"
                      + (" FOR UPDATE" if lock else ""), (digest,))


async def use_override(conn: AsyncConnection, override_id: str, now: datetime, device_id: str,
                       session_id: str) -> None:
    await conn.execute("UPDATE overrides SET used_at = %s, used_device_id = %s, session_id = %s"
                       " WHERE override_id = %s", (now, device_id, session_id, override_id))


# --- manual review ---------------------------------------------------------------------------------------

@dataclass
class ReviewRow:
    seq: int
    review_id: str
    sitting_id: str
    candidate_id: str
    room_id: str
    status: int
    created_at: datetime
    failed_attempts: int
    last_failures: bytes | None
    resolved_kind: int
    resolved_by: str
    resolved_name: str
    resolved_at: datetime | None
    resolution_reason: str
    override_id: str


async def insert_review(conn: AsyncConnection, review_id: str, sitting_id: str, candidate_id: str,
                        room_id: str, status: int, now: datetime, failed_attempts: int,
                        last_failures: bytes | None) -> None:
    await conn.execute(
        "INSERT INTO reviews (review_id, sitting_id, candidate_id, room_id, status, created_at, failed_attempts,"
        " last_failures) VALUES (%s, %s, %s, %s, %s, %s, %s, %s)",
        (review_id, sitting_id, candidate_id, room_id, status, now, failed_attempts, last_failures))


async def get_review(conn: AsyncConnection, review_id: str, lock: bool = False) -> ReviewRow | None:
    return await _one(conn, ReviewRow, "SELECT * FROM reviews WHERE review_id = %s" + (" FOR UPDATE" if lock else ""),
                      (review_id,))


async def list_reviews(conn: AsyncConnection, sitting_id: str, rooms: Sequence[str] | None,
                       statuses: Sequence[int], after_seq: int, limit: int) -> list[ReviewRow]:
    return await _all(
        conn, ReviewRow, "SELECT * FROM reviews WHERE sitting_id = %s AND status = ANY(%s)"
        " AND (%s::text[] IS NULL OR room_id = ANY(%s)) AND seq > %s ORDER BY seq LIMIT %s",
        (sitting_id, list(statuses), rooms, rooms, after_seq, limit))


async def resolve_review(conn: AsyncConnection, r: ReviewRow) -> None:
    await conn.execute(
        "UPDATE reviews SET status = %s, resolved_kind = %s, resolved_by = %s, resolved_name = %s, resolved_at = %s,"
        " resolution_reason = %s, override_id = %s WHERE review_id = %s",
        (r.status, r.resolved_kind, r.resolved_by, r.resolved_name, r.resolved_at, r.resolution_reason,
         r.override_id, r.review_id))
