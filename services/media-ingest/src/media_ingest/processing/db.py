"""Persistence of the worker (tables of ``migrations/002_processing.sql``), plain SQL on psycopg."""

from __future__ import annotations

from dataclasses import astuple, dataclass, fields
from datetime import datetime

from psycopg import AsyncConnection

from media_ingest.processing.timeline import Entry


@dataclass(frozen=True)
class StreamRef:
    """Who a stream belongs to (from any event about it)."""

    stream_id: str
    sitting_id: str
    candidate_id: str
    attempt_number: int
    stream_kind: int
    device_kind: int


@dataclass(frozen=True)
class StreamRow:
    ref: StreamRef
    anchor_time: datetime | None
    playlist_key: str
    playlist_uri: str
    playlist_sha256: bytes | None
    closed_kind: int | None
    closed_segment_count: int | None
    closed_missing: list[int]
    closed_chain_head: bytes | None
    closed_late: bool
    stitched_at: datetime | None


@dataclass(frozen=True)
class SegmentRow:
    """One processed segment, column for column (see the migration)."""

    stream_id: str
    segment_index: int
    ok: bool
    action: int
    video_action: str
    audio_action: str
    flags: list[int]
    detail: str
    media_start_time: datetime
    media_end_time: datetime
    stream_offset_us: int
    duration_us: int
    raw_object_uri: str
    raw_size_bytes: int
    object_uri: str
    object_size: int
    init_size: int
    thumbnail_uri: str
    keyframe_count: int
    keyframe_interval_us: int
    encoding: str
    received_at: datetime
    processed_at: datetime
    processing_ms: int
    cpu_ms: int
    event: bytes


_SEGMENT_COLUMNS = ", ".join(f.name for f in fields(SegmentRow))
_STREAM_SELECT = ("SELECT stream_id, sitting_id, candidate_id, attempt_number, stream_kind, device_kind, anchor_time,"
                  " playlist_key, playlist_uri, playlist_sha256, closed_kind, closed_segment_count, closed_missing,"
                  " closed_chain_head, closed_late, stitched_at FROM review_streams WHERE stream_id = %s")


async def ensure_stream(conn: AsyncConnection, ref: StreamRef, playlist_key: str, playlist_uri: str) -> None:
    await conn.execute(
        "INSERT INTO review_streams (stream_id, sitting_id, candidate_id, attempt_number, stream_kind, device_kind,"
        " playlist_key, playlist_uri) VALUES (%s, %s, %s, %s, %s, %s, %s, %s) ON CONFLICT (stream_id) DO NOTHING",
        (*astuple(ref), playlist_key, playlist_uri))


async def stream(conn: AsyncConnection, stream_id: str, lock: bool = False) -> StreamRow | None:
    # NO KEY UPDATE: serialises the stream's playlist writers without blocking segment inserts (FK)
    cur = await conn.execute(_STREAM_SELECT + (" FOR NO KEY UPDATE" if lock else ""), (stream_id,))
    row = await cur.fetchone()
    if row is None:
        return None
    return StreamRow(StreamRef(*row[:6]), row[6], row[7], row[8], bytes(row[9]) if row[9] else None, row[10],
                     row[11], list(row[12]), bytes(row[13]) if row[13] else None, row[14], row[15])


async def declared_start(conn: AsyncConnection, stream_id: str) -> datetime | None:
    """The capture start the client declared at OpenStream (the upload server's ``streams`` row)."""
    cur = await conn.execute("SELECT client_start_time FROM streams WHERE stream_id = %s", (stream_id,))
    row = await cur.fetchone()
    return row[0] if row else None


async def fix_anchor(conn: AsyncConnection, stream_id: str, anchor: datetime, source: str) -> datetime:
    """Set the stream's anchor unless it is already set; returns the one in force."""
    cur = await conn.execute(
        "UPDATE review_streams SET anchor_time = COALESCE(anchor_time, %s),"
        " anchor_source = COALESCE(anchor_source, %s), updated_at = now() WHERE stream_id = %s RETURNING anchor_time",
        (anchor, source, stream_id))
    row = await cur.fetchone()
    assert row is not None, f"review_streams row of {stream_id} vanished"
    return row[0]


async def segment_exists(conn: AsyncConnection, stream_id: str, index: int) -> bool:
    cur = await conn.execute("SELECT 1 FROM processed_segments WHERE stream_id = %s AND segment_index = %s",
                             (stream_id, index))
    return await cur.fetchone() is not None


async def previous_end(conn: AsyncConnection, stream_id: str, index: int) -> datetime | None:
    cur = await conn.execute("SELECT media_end_time FROM processed_segments WHERE stream_id = %s"
                             " AND segment_index = %s", (stream_id, index - 1))
    row = await cur.fetchone()
    return row[0] if row else None


async def insert_segment(conn: AsyncConnection, row: SegmentRow) -> bool:
    """Record a processed segment; False if it was recorded already (a concurrent redelivery)."""
    placeholders = ", ".join(["%s"] * len(fields(SegmentRow)))
    cur = await conn.execute(
        f"INSERT INTO processed_segments ({_SEGMENT_COLUMNS}) VALUES ({placeholders})"
        " ON CONFLICT (stream_id, segment_index) DO NOTHING RETURNING 1", astuple(row))
    return await cur.fetchone() is not None


async def segment(conn: AsyncConnection, stream_id: str, index: int) -> SegmentRow | None:
    cur = await conn.execute(f"SELECT {_SEGMENT_COLUMNS} FROM processed_segments WHERE stream_id = %s"
                             " AND segment_index = %s", (stream_id, index))
    row = await cur.fetchone()
    return SegmentRow(*row[:-1], bytes(row[-1])) if row else None


async def entries(conn: AsyncConnection, stream_id: str) -> list[tuple[Entry, int]]:
    """Every processed segment of the stream as a playlist entry, with its raw size."""
    cur = await conn.execute(
        "SELECT segment_index, ok, stream_offset_us, duration_us, object_uri, init_size, object_size, encoding,"
        " raw_size_bytes FROM processed_segments WHERE stream_id = %s ORDER BY segment_index", (stream_id,))
    out = []
    for index, ok, offset_us, duration_us, uri, init_size, size, encoding, raw_size in await cur.fetchall():
        name = uri.rsplit("/", 1)[-1] if uri else ""
        out.append((Entry(index, ok, offset_us / 1e6, duration_us / 1e6, name, init_size, size, encoding), raw_size))
    return out


async def save_playlist(conn: AsyncConnection, stream_id: str, sha256: bytes, listed: int,
                        stitched_at: datetime | None) -> None:
    await conn.execute(
        "UPDATE review_streams SET playlist_sha256 = %s, playlist_segments = %s, stitched_at = %s,"
        " updated_at = now() WHERE stream_id = %s", (sha256, listed, stitched_at, stream_id))


async def close_stream(conn: AsyncConnection, stream_id: str, kind: int, segment_count: int, missing: list[int],
                       chain_head: bytes, late: bool) -> None:
    """Record the upload server's verdict on the stream (the latest one counts until it is stitched)."""
    await conn.execute(
        "UPDATE review_streams SET closed_kind = %s, closed_segment_count = %s, closed_missing = %s,"
        " closed_chain_head = %s, closed_late = %s, updated_at = now()"
        " WHERE stream_id = %s AND stitched_at IS NULL", (kind, segment_count, missing, chain_head, late, stream_id))
