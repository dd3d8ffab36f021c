"""The worker's handlers: a received segment -> validated, normalised, stored, announced; a stream's
verdict -> its review playlist finalised and STREAM_STITCHED announced.

Idempotence: a segment is processed once; its row in ``processed_segments`` and its
MediaSegmentStored (queued in the outbox) commit together, so a redelivered event finds the row
and only refreshes the playlist. A crash between storing the objects and that commit reprocesses
the segment, which rewrites byte-identical objects (deterministic output, same keys) and queues
the event under the same id. Failures: storage or database unavailable -> ``TransientError``
(retried, never dead-lettered); an event that can never be handled (no stream id, a URI that is
not this store's, a raw object that does not exist) -> ``PermanentError`` (DLQ). Corrupt media is
neither: it is recorded and announced with ``probe.ok`` false.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import math
import re
import tempfile
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg
from psycopg_pool import AsyncConnectionPool

from media_ingest.processing import db, metrics, rules, timeline
from media_ingest.processing.config import WorkerSettings
from media_ingest.processing.events import segment_stored, stream_stitched
from media_ingest.processing.pipeline import Outcome, process_file
from proctor.common.v1 import common_pb2 as common
from proctor.events.v1 import media_pb2 as media
from proctor_runtime import outbox, topics
from proctor_runtime.events import from_ts
from proctor_runtime.kafka import PermanentError, Record, TransientError
from proctor_storage.store import ObjectMissing, SegmentStore, StorageError, StorageFull

log = logging.getLogger(__name__)
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]")


def utcnow() -> datetime:
    return datetime.now(UTC)


@contextlib.contextmanager
def storage_errors(what: str) -> Iterator[None]:
    """Storage failures as the consumer loop understands them."""
    try:
        yield
    except ObjectMissing as exc:
        raise PermanentError(f"{what}: {exc}") from exc
    except (StorageFull, StorageError, OSError) as exc:
        raise TransientError(f"{what}: {exc}") from exc


@dataclass(frozen=True)
class CaptureTimes:
    start: datetime  # capture time of the first frame
    end: datetime | None
    span_s: float | None  # what the client says the segment lasts


def capture_times(e: media.MediaSegmentReceived) -> CaptureTimes:
    """The client's capture range; without a start, end - duration (or the commit time) stands in."""
    start = from_ts(e.client_start_time) if e.HasField("client_start_time") else None
    end = from_ts(e.client_end_time) if e.HasField("client_end_time") else None
    declared = e.media_duration.ToTimedelta().total_seconds() if e.HasField("media_duration") else 0.0
    span = (end - start).total_seconds() if start and end and end > start else (declared or None)
    if start is None:
        start = (end or from_ts(e.committed_at)) - timedelta(seconds=span or 0.0)
    return CaptureTimes(start, end, span)


@dataclass(frozen=True)
class Processed:
    outcome: Outcome
    object_uri: str
    thumbnail_uri: str
    cpu_s: float


class Worker:
    def __init__(self, settings: WorkerSettings, store: SegmentStore, pool: AsyncConnectionPool,
                 relay: outbox.OutboxRelay, clock: Callable[[], datetime] = utcnow) -> None:
        self.settings, self.store, self.pool, self.relay, self.clock = settings, store, pool, relay, clock
        self.media = settings.media
        self.executor = ThreadPoolExecutor(settings.concurrency, thread_name_prefix="media")
        self._refreshed: dict[str, float] = {}  # stream id -> monotonic time of its last playlist refresh
        self._dirty: set[str] = set()  # streams with segments not yet in their playlist
        self._anchors: dict[str, datetime] = {}  # stream id -> its timeline's anchor (fixed once set)

    def close(self) -> None:
        self.executor.shutdown(wait=True)

    # --- keys -------------------------------------------------------------------------------
    def base_key(self, ref: db.StreamRef) -> str:
        parts = (ref.sitting_id, ref.candidate_id, ref.stream_id)
        return "/".join([self.settings.review_prefix, *(_UNSAFE.sub("_", p) or "_" for p in parts)])

    def playlist(self, ref: db.StreamRef) -> tuple[str, str]:
        key = f"{self.base_key(ref)}/playlist.m3u8"
        return key, self.store.uri(key)

    # --- handlers ---------------------------------------------------------------------------
    async def on_segment(self, record: Record[media.MediaSegmentReceived]) -> None:
        e = record.value
        if not (e.stream_id and e.object_uri and e.meta.sitting_id and e.meta.candidate_id):
            raise PermanentError("MediaSegmentReceived without stream id, object URI, sitting or candidate")
        try:
            self.store.key_of(e.object_uri)
        except StorageError as exc:
            raise PermanentError(f"raw segment URI is not in this store: {exc}") from exc
        ref = db.StreamRef(e.stream_id, e.meta.sitting_id, e.meta.candidate_id, e.attempt_number, e.stream_kind,
                           e.device_kind)
        with _db_errors():
            async with self.pool.connection() as conn:
                done = await db.segment_exists(conn, e.stream_id, e.segment_index)
            if done:
                metrics.SEGMENTS.labels("any", "duplicate").inc()
            else:
                await self._process(e, ref)
            await self._refresh_soon(e.stream_id)

    async def on_stream(self, record: Record[media.MediaStreamEvent]) -> None:
        e = record.value
        ref = db.StreamRef(e.stream_id, e.meta.sitting_id, e.meta.candidate_id, e.attempt_number, e.stream_kind,
                           e.device_kind)
        with _db_errors():
            async with self.pool.connection() as conn, conn.transaction():
                await db.ensure_stream(conn, ref, *self.playlist(ref))
                await db.close_stream(conn, e.stream_id, e.kind, e.segment_count, list(e.missing_segments),
                                      e.chain_head, e.late)
            await self.refresh(e.stream_id)

    # --- one segment ------------------------------------------------------------------------
    async def _process(self, e: media.MediaSegmentReceived, ref: db.StreamRef) -> None:
        started = time.perf_counter()
        times = capture_times(e)
        async with self.pool.connection() as conn:
            anchor = self._anchors.get(e.stream_id)
            if anchor is None:  # the stream's row and its anchor, once per stream (both never change after)
                await db.ensure_stream(conn, ref, *self.playlist(ref))
                await conn.commit()
                anchor = self._anchors[e.stream_id] = await self._anchor(conn, e, times)
            previous_end = await db.previous_end(conn, e.stream_id, e.segment_index)
        offset = timeline.stream_offset(anchor, times.start)
        expect = rules.Expectation(e.declared_format, e.stream_kind, times.span_s, e.size_bytes)
        loop = asyncio.get_running_loop()
        thumbnail = _thumbnail_due(offset.total_seconds(), times.span_s, self.settings.thumbnail_interval_s)
        done = await loop.run_in_executor(self.executor, self._work, e, ref, expect, offset.total_seconds(),
                                          thumbnail)
        outcome = done.outcome
        gap_s = (times.start - previous_end).total_seconds() if previous_end is not None else 0.0
        if rules.is_gap(gap_s, self.media):
            outcome.verdict.flag(media.MEDIA_FLAG_TIMESTAMP_GAP,
                                 f"starts {gap_s:.3f} s after segment {e.segment_index - 1} ended")
        now = self.clock()
        row = self._row(e, times, offset, done, now, started)
        event = segment_stored(e, row, self.playlist(ref)[1], *_format(outcome))
        row = replace(row, event=event.SerializeToString())
        async with self.pool.connection() as conn, conn.transaction():
            if await db.insert_segment(conn, row):
                await outbox.add(conn, topics.MEDIA_SEGMENTS_STORED.name, e.meta.candidate_id, event)
        self.relay.wake()
        self._observe(e, row, outcome, done, now)

    async def _anchor(self, conn: psycopg.AsyncConnection, e: media.MediaSegmentReceived,
                      times: CaptureTimes) -> datetime:
        stream = await db.stream(conn, e.stream_id)
        if stream is not None and stream.anchor_time is not None:
            return stream.anchor_time
        declared = await db.declared_start(conn, e.stream_id)
        if declared is not None:
            anchor, source = declared, "declared"
        else:
            anchor, source = timeline.estimated_anchor(times.start, e.segment_index, times.span_s or 0.0), "estimated"
        async with conn.transaction():
            return await db.fix_anchor(conn, e.stream_id, anchor, source)

    def _work(self, e: media.MediaSegmentReceived, ref: db.StreamRef, expect: rules.Expectation,
              offset_s: float, thumbnail: bool = True) -> Processed:
        """Blocking part, in the media thread pool: fetch, probe + normalise, store the outputs."""
        self.settings.work_dir.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(dir=self.settings.work_dir) as scratch:
            tmp = Path(scratch)
            with storage_errors("reading the raw segment"):
                raw = self.store.local_path(e.object_uri)
                if raw is not None and not raw.exists():
                    raise ObjectMissing(f"no object at {e.object_uri}")
                raw = raw or self.store.fetch(e.object_uri, tmp / "raw")
            cpu = time.thread_time()
            outcome = process_file(raw, expect, offset_s, tmp / "segment.mp4",
                                   tmp / "thumbnail.jpg" if thumbnail else None, self.media)
            cpu = time.thread_time() - cpu
            if outcome.normalised is None:
                return Processed(outcome, "", "", cpu)
            name = f"{self.base_key(ref)}/seg-{e.segment_index:06d}"
            with storage_errors("storing the normalised segment"):
                object_uri = self.store.put_file(f"{name}.mp4", tmp / "segment.mp4", "video/mp4")
                thumb = tmp / "thumbnail.jpg"
                thumbnail_uri = self.store.put_file(f"{name}.jpg", thumb, "image/jpeg") if thumb.exists() else ""
        return Processed(outcome, object_uri, thumbnail_uri, cpu)

    def _row(self, e: media.MediaSegmentReceived, times: CaptureTimes, offset: timedelta, done: Processed,
             now: datetime, started: float) -> db.SegmentRow:
        outcome, n = done.outcome, done.outcome.normalised
        duration_s = n.duration_s if n is not None else outcome.info.duration_s
        end = times.end or times.start + timedelta(seconds=duration_s)
        encoding = f"{n.format.mime_type} {n.format.width}x{n.format.height}" if n is not None else ""
        return db.SegmentRow(
            e.stream_id, e.segment_index, n is not None, outcome.action, outcome.plan.video, outcome.plan.audio,
            list(outcome.verdict.flags), outcome.verdict.detail, times.start, end, _us(offset.total_seconds()),
            _us(duration_s), e.object_uri, outcome.info.size_bytes, done.object_uri, n.size if n else 0,
            n.init_size if n else 0, done.thumbnail_uri, n.keyframe_count if n else 0,
            _us(n.keyframe_interval_s) if n else 0, encoding, from_ts(e.committed_at), now,
            round((time.perf_counter() - started) * 1000), round(done.cpu_s * 1000), b"")

    def _observe(self, e: media.MediaSegmentReceived, row: db.SegmentRow, outcome: Outcome, done: Processed,
                 now: datetime) -> None:
        action = media.ProcessingAction.Name(outcome.action).removeprefix("PROCESSING_ACTION_").lower()
        result = "unusable" if not row.ok else ("flagged" if row.flags else "ok")
        metrics.SEGMENTS.labels(action, result).inc()
        for flag in row.flags:
            metrics.FLAGS.labels(media.MediaFlag.Name(flag).removeprefix("MEDIA_FLAG_").lower()).inc()
        metrics.PROCESSING_SECONDS.labels(action).observe(row.processing_ms / 1000)
        metrics.LAG_SECONDS.observe(max(0.0, (now - from_ts(e.committed_at)).total_seconds()))
        metrics.MEDIA_SECONDS.labels(action).inc(row.duration_us / 1e6 if row.ok else 0.0)
        metrics.CPU_SECONDS.labels(action).inc(done.cpu_s)
        log.info("segment processed", extra={
            "segment_id": f"{e.stream_id}:{e.segment_index}", "action": action, "ok": row.ok,
            "flags": [media.MediaFlag.Name(f) for f in row.flags], "offset_s": row.stream_offset_us / 1e6,
            "processing_ms": row.processing_ms, "cpu_ms": row.cpu_ms})

    # --- the stream's playlist --------------------------------------------------------------
    async def _refresh_soon(self, stream_id: str) -> None:
        """After a segment: refresh now if the stream's playlist was not refreshed for
        ``playlist_refresh_s``, otherwise leave it to ``flush`` (or to the stream's close)."""
        last = self._refreshed.get(stream_id)
        if last is None or time.monotonic() - last >= self.settings.playlist_refresh_s:
            await self.refresh(stream_id)
        else:
            self._dirty.add(stream_id)

    async def flush(self, everything: bool = False) -> int:
        """Refresh the playlists left behind by ``_refresh_soon`` once their time came (all of them when
        stopping); forget streams idle for an hour. Returns how many were refreshed."""
        now = time.monotonic()
        every = self.settings.playlist_refresh_s
        due = [s for s in self._dirty if everything or now - self._refreshed.get(s, 0.0) >= every]
        for stream_id in due:
            with _db_errors():
                await self.refresh(stream_id)
        for stream_id in [s for s, t in self._refreshed.items() if now - t > 3600 and s not in self._dirty]:
            del self._refreshed[stream_id]
            self._anchors.pop(stream_id, None)
        return len(due)

    async def refresh(self, stream_id: str) -> None:
        """Rewrite the stream's playlist if it changed; once the stream is closed and every one of
        its segments processed, finalise it (ENDLIST) and queue STREAM_STITCHED. Serialised per
        stream by the row lock."""
        self._dirty.discard(stream_id)
        self._refreshed[stream_id] = time.monotonic()
        async with self.pool.connection() as conn, conn.transaction():
            stream = await db.stream(conn, stream_id, lock=True)
            if stream is None or stream.stitched_at is not None:
                return
            rows = await db.entries(conn, stream_id)
            entries = [entry for entry, _ in rows]
            final = _complete(stream, entries)
            chosen = timeline.listed(entries, final)
            text = timeline.render(chosen, stream.anchor_time or EPOCH, final,
                                   self.settings.playlist_target_duration_s)
            digest = hashlib.sha256(text.encode()).digest()
            if digest == stream.playlist_sha256 and not final:
                return
            if digest != stream.playlist_sha256:
                await asyncio.to_thread(self._put_text, stream.playlist_key, text)
                metrics.PLAYLIST_WRITES.inc()
            now = self.clock() if final else None
            await db.save_playlist(conn, stream_id, digest, sum(1 for c in chosen if c.ok), now)
            if now is not None:
                await outbox.add(conn, topics.MEDIA_STREAMS.name, stream.ref.candidate_id,
                                 _stitched(stream, rows, now))
                metrics.STITCHED.inc()
        self.relay.wake()

    def _put_text(self, key: str, text: str) -> None:
        self.settings.work_dir.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(dir=self.settings.work_dir) as scratch, storage_errors("storing a playlist"):
            path = Path(scratch) / "playlist.m3u8"
            path.write_text(text, "utf-8")
            self.store.put_file(key, path, "application/vnd.apple.mpegurl")


def _thumbnail_due(offset_s: float, span_s: float | None, interval_s: float) -> bool:
    """Whether the segment at ``offset_s`` (lasting ``span_s``) starts a thumbnail stretch of the timeline:
    the first segment, and the one in which each multiple of ``interval_s`` falls."""
    if interval_s <= 0 or not span_s:
        return True
    mark = math.ceil((offset_s - 1e-6) / interval_s) * interval_s  # the first mark at or after the start
    return mark < offset_s + span_s - 1e-6


def _expected(stream: db.StreamRow) -> set[int]:
    return set(range(stream.closed_segment_count or 0)) - set(stream.closed_missing)


def _complete(stream: db.StreamRow, entries: list[timeline.Entry]) -> bool:
    return stream.closed_kind is not None and _expected(stream) <= {e.index for e in entries}


def _stitched(stream: db.StreamRow, rows: list[tuple[timeline.Entry, int]], now: datetime) -> media.MediaStreamEvent:
    playable = {e.index for e, _ in rows if e.ok}
    not_listed = sorted(set(range(stream.closed_segment_count or 0)) - playable)
    problems = []
    if stream.closed_kind == media.MEDIA_STREAM_EVENT_KIND_STREAM_VERIFICATION_FAILED:
        problems.append("VERIFICATION_FAILED")
    if stream.closed_missing:
        problems.append("MISSING_SEGMENTS")
    if any(not e.ok for e, _ in rows):
        problems.append("UNUSABLE_SEGMENTS")
    return stream_stitched(stream, now, sum(size for _, size in rows), not_listed, problems)


def _format(outcome: Outcome) -> tuple[common.MediaFormat, bool, bool]:
    """The probed format of the normalised media, or of the raw segment when there is none."""
    if outcome.normalised is not None:
        n = outcome.normalised
        return n.format, n.has_video, n.has_audio
    info = outcome.info
    containers = {"mp4": common.MEDIA_CONTAINER_MP4, "matroska": common.MEDIA_CONTAINER_MATROSKA,
                  "mpegts": common.MEDIA_CONTAINER_MPEG_TS}
    fmt = common.MediaFormat(container=containers.get(info.family, common.MEDIA_CONTAINER_UNSPECIFIED))
    if info.video is not None:
        fmt.video_codec = rules.video_codec(info.video.codec)
        fmt.width, fmt.height, fmt.frame_rate = info.video.width, info.video.height, round(info.video.frame_rate, 3)
    if info.audio is not None:
        fmt.audio_codec, fmt.audio_sample_rate = rules.audio_codec(info.audio.codec), info.audio.sample_rate
    return fmt, info.video is not None, info.audio is not None


def _us(seconds: float) -> int:
    return round(seconds * 1_000_000)


@contextlib.contextmanager
def _db_errors() -> Iterator[None]:
    try:
        yield
    except psycopg.OperationalError as exc:
        raise TransientError(f"database unavailable: {exc}") from exc
