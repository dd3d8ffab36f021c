"""PostgreSQL persistence of uploads, streams and segments (the system of record: the bytes live in
object storage, what is committed lives here).

A chunk runs in one transaction that first locks its stream row (``lock_stream``): one stream's
chunks, seals and close are serialised even when a reconnecting client briefly has two calls open,
and the stream's outbox events get increasing ids in commit order.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, fields
from datetime import datetime
from typing import Any

from psycopg import AsyncConnection
from psycopg.rows import dict_row


@dataclass
class UploadRow:
    sitting_id: str
    candidate_id: str
    attempt_number: int
    room_id: str
    upload_deadline: datetime
    required_kinds: list[int]
    created_at: datetime
    complete_at: datetime | None
    deadline_missed_at: datetime | None


@dataclass
class StreamRow:
    stream_id: str
    sitting_id: str
    candidate_id: str
    attempt_number: int
    kind: int
    format: bytes
    device_kind: int
    device_id: str
    client_stream_key: str
    state: int
    opened_at: datetime
    client_start_time: datetime | None
    nominal_segment_ms: int
    closed_at: datetime | None
    verified_at: datetime | None
    upload_deadline: datetime
    last_activity_at: datetime
    bytes_committed: int
    segments_complete: int
    contiguous_segments: int
    chain_head: bytes
    late: bool
    close_reason: int | None
    close_segment_count: int | None
    close_total_bytes: int | None
    close_chain_head: bytes | None
    close_note: str | None
    closed_by: str | None
    missing_segments: list[int]
    problems: list[str]


@dataclass
class SegmentRow:
    stream_id: str
    segment_index: int
    object_key: str
    committed_bytes: int
    sealed: bool
    size_bytes: int | None
    sha256: bytes | None
    chain_hash: bytes | None
    object_uri: str | None
    client_start_time: datetime | None
    client_end_time: datetime | None
    media_duration_ms: int | None
    first_byte_at: datetime
    committed_at: datetime | None
    late: bool


def _columns(cls: type) -> str:
    return ", ".join(f.name for f in fields(cls))


STREAM_COLUMNS = _columns(StreamRow)
SEGMENT_COLUMNS = _columns(SegmentRow)
UPLOAD_COLUMNS = _columns(UploadRow)


def _bytes(row: dict[str, Any], *names: str) -> dict[str, Any]:
    for name in names:
        if row.get(name) is not None:
            row[name] = bytes(row[name])
    return row


def _stream(row: dict[str, Any]) -> StreamRow:
    return StreamRow(**_bytes(row, "format", "chain_head", "close_chain_head"))


def _segment(row: dict[str, Any]) -> SegmentRow:
    return SegmentRow(**_bytes(row, "sha256", "chain_hash"))


# --- uploads --------------------------------------------------------------------------------------

async def ensure_upload(conn: AsyncConnection, row: UploadRow) -> None:
    await conn.execute(
        f"INSERT INTO uploads ({UPLOAD_COLUMNS}) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s)"
        " ON CONFLICT (sitting_id, candidate_id, attempt_number) DO UPDATE"
        " SET room_id = EXCLUDED.room_id, upload_deadline = EXCLUDED.upload_deadline,"
        " required_kinds = EXCLUDED.required_kinds",
        tuple(getattr(row, f.name) for f in fields(UploadRow)))


async def get_upload(conn: AsyncConnection, sitting_id: str, candidate_id: str, attempt: int,
                     lock: bool = False) -> UploadRow | None:
    """The upload of an attempt (``attempt`` 0 = the latest one)."""
    query = f"SELECT {UPLOAD_COLUMNS} FROM uploads WHERE sitting_id = %s AND candidate_id = %s"
    args: list[Any] = [sitting_id, candidate_id]
    if attempt:
        query += " AND attempt_number = %s"
        args.append(attempt)
    query += " ORDER BY attempt_number DESC LIMIT 1" + (" FOR UPDATE" if lock else "")
    async with conn.cursor(row_factory=dict_row) as cur:
        await cur.execute(query, args)
        row = await cur.fetchone()
    return UploadRow(**row) if row else None


async def mark_upload(conn: AsyncConnection, upload: UploadRow, column: str, at: datetime) -> None:
    assert column in ("complete_at", "deadline_missed_at")
    await conn.execute(
        f"UPDATE uploads SET {column} = %s WHERE sitting_id = %s AND candidate_id = %s AND attempt_number = %s",
        (at, upload.sitting_id, upload.candidate_id, upload.attempt_number))


async def overdue_uploads(conn: AsyncConnection, now: datetime, limit: int = 500) -> list[UploadRow]:
    async with conn.cursor(row_factory=dict_row) as cur:
        await cur.execute(
            f"SELECT {UPLOAD_COLUMNS} FROM uploads WHERE upload_deadline < %s AND complete_at IS NULL"
            " AND deadline_missed_at IS NULL ORDER BY upload_deadline LIMIT %s FOR UPDATE SKIP LOCKED",
            (now, limit))
        return [UploadRow(**r) for r in await cur.fetchall()]


# --- streams --------------------------------------------------------------------------------------

async def insert_stream(conn: AsyncConnection, row: StreamRow) -> StreamRow | None:
    """Insert a new stream; None if (candidate, attempt, client_stream_key) exists already."""
    placeholders = ", ".join(["%s"] * len(fields(StreamRow)))
    async with conn.cursor(row_factory=dict_row) as cur:
        await cur.execute(
            f"INSERT INTO streams ({STREAM_COLUMNS}) VALUES ({placeholders})"
            " ON CONFLICT (sitting_id, candidate_id, attempt_number, client_stream_key) DO NOTHING"
            f" RETURNING {STREAM_COLUMNS}",
            tuple(getattr(row, f.name) for f in fields(StreamRow)))
        found = await cur.fetchone()
    return _stream(found) if found else None


async def stream_by_key(conn: AsyncConnection, sitting_id: str, candidate_id: str, attempt: int,
                        key: str) -> StreamRow | None:
    async with conn.cursor(row_factory=dict_row) as cur:
        await cur.execute(
            f"SELECT {STREAM_COLUMNS} FROM streams WHERE sitting_id = %s AND candidate_id = %s"
            " AND attempt_number = %s AND client_stream_key = %s", (sitting_id, candidate_id, attempt, key))
        row = await cur.fetchone()
    return _stream(row) if row else None


async def get_stream(conn: AsyncConnection, stream_id: str, lock: bool = False) -> StreamRow | None:
    async with conn.cursor(row_factory=dict_row) as cur:
        await cur.execute(f"SELECT {STREAM_COLUMNS} FROM streams WHERE stream_id = %s"
                          + (" FOR UPDATE" if lock else ""), (stream_id,))
        row = await cur.fetchone()
    return _stream(row) if row else None


async def streams_of(conn: AsyncConnection, sitting_id: str, candidate_id: str, attempt: int) -> list[StreamRow]:
    async with conn.cursor(row_factory=dict_row) as cur:
        await cur.execute(
            f"SELECT {STREAM_COLUMNS} FROM streams WHERE sitting_id = %s AND candidate_id = %s"
            " AND attempt_number = %s ORDER BY kind, opened_at", (sitting_id, candidate_id, attempt))
        return [_stream(r) for r in await cur.fetchall()]


async def update_stream(conn: AsyncConnection, stream: StreamRow, **changes: Any) -> StreamRow:
    for name, value in changes.items():
        setattr(stream, name, value)
    assignments = ", ".join(f"{name} = %s" for name in changes)
    await conn.execute(f"UPDATE streams SET {assignments} WHERE stream_id = %s",
                       (*changes.values(), stream.stream_id))
    return stream


# --- segments -------------------------------------------------------------------------------------

async def get_segment(conn: AsyncConnection, stream_id: str, index: int) -> SegmentRow | None:
    async with conn.cursor(row_factory=dict_row) as cur:
        await cur.execute(f"SELECT {SEGMENT_COLUMNS} FROM segments WHERE stream_id = %s AND segment_index = %s",
                          (stream_id, index))
        row = await cur.fetchone()
    return _segment(row) if row else None


async def insert_segment(conn: AsyncConnection, row: SegmentRow) -> None:
    placeholders = ", ".join(["%s"] * len(fields(SegmentRow)))
    await conn.execute(f"INSERT INTO segments ({SEGMENT_COLUMNS}) VALUES ({placeholders})",
                       tuple(getattr(row, f.name) for f in fields(SegmentRow)))


async def update_segment(conn: AsyncConnection, segment: SegmentRow, **changes: Any) -> SegmentRow:
    for name, value in changes.items():
        setattr(segment, name, value)
    assignments = ", ".join(f"{name} = %s" for name in changes)
    await conn.execute(f"UPDATE segments SET {assignments} WHERE stream_id = %s AND segment_index = %s",
                       (*changes.values(), segment.stream_id, segment.segment_index))
    return segment


async def segments(conn: AsyncConnection, stream_id: str, from_index: int = 0, limit: int = 1_000_000,
                   sealed_only: bool = False) -> list[SegmentRow]:
    async with conn.cursor(row_factory=dict_row) as cur:
        await cur.execute(
            f"SELECT {SEGMENT_COLUMNS} FROM segments WHERE stream_id = %s AND segment_index >= %s"
            + (" AND sealed" if sealed_only else "") + " ORDER BY segment_index LIMIT %s",
            (stream_id, from_index, limit))
        return [_segment(r) for r in await cur.fetchall()]


async def set_chain_hashes(conn: AsyncConnection, stream_id: str, hashes: Sequence[tuple[int, bytes]]) -> None:
    async with conn.cursor() as cur:
        await cur.executemany("UPDATE segments SET chain_hash = %s WHERE stream_id = %s AND segment_index = %s",
                              [(h, stream_id, i) for i, h in hashes])
