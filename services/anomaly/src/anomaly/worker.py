"""The anomaly service's Kafka side: live stills, stored segments, client telemetry and session events
in; incidents and the detector-state changelog out.

Frames come from the live stills the clients send while an analysed stream records (one per second,
seen within a second of capture). A stored segment is analysed only for the time its stills did not
cover (a client that sent none, stills lost or unreadable): the tracker's coverage of the stream says
which; otherwise the segment only advances the stream's progress (the end-of-exam close waits for
every recording to be stored up to the end) and carries its playlist for the evidence links.

One tracker per candidate (per sitting and attempt), guarded by a per-candidate lock: the three
input topics are co-partitioned by candidate id and the group uses the range assignor, so one worker
sees all of a candidate's inputs, but partitions are handled concurrently. Frame analysis runs in a
dedicated inference thread (one per process by default); Kafka, storage and auth-face stay on the
event loop.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import tempfile
import time
from collections import defaultdict, deque
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from anomaly import incidents, metrics
from anomaly.config import Settings
from anomaly.identity import AuthFaceClient, FaceEmbedding
from anomaly.model import IdentityRequest, IncidentChange, TelemetryFact
from anomaly.sampling import SamplingStats, SegmentUnreadable
from anomaly.segments import RECENT_SEGMENTS, SegmentFrames
from anomaly.segments import media_end as segments_media_end
from anomaly.state import SnapshotStore
from anomaly.stills import RecentStills, Still, decode
from anomaly.tracker import Backfill, CandidateTracker
from proctor.common.v1 import common_pb2
from proctor.events.v1 import media_pb2, session_pb2, telemetry_pb2
from proctor_faces import ModelPack
from proctor_runtime import topics
from proctor_runtime.events import from_ts, meta
from proctor_runtime.kafka import EventProducer, PermanentError, Record, Subscription, TransientError
from proctor_storage import ObjectMissing, SegmentStore, StorageError

log = logging.getLogger(__name__)
ANALYSED_KINDS = (common_pb2.STREAM_KIND_DESKTOP_CAMERA, common_pb2.STREAM_KIND_PHONE_EVIDENCE)
OVER = (common_pb2.CANDIDATE_STATE_FINISHED, common_pb2.CANDIDATE_STATE_UPLOADED,
        common_pb2.CANDIDATE_STATE_ABANDONED, common_pb2.CANDIDATE_STATE_ABSENT)


@dataclass
class StreamProgress:
    """How far a recording has been analysed without a gap: segments may arrive out of order (a backlog
    uploaded after a network drop); ``until`` is the media end of the contiguous analysed prefix. The first
    index this process sees starts the prefix (earlier ones were analysed before a restart)."""

    next_index: int
    until: datetime | None = None
    longest: timedelta = timedelta(0)
    ahead: dict[int, datetime] = field(default_factory=dict)

    def add(self, index: int, end: datetime, duration: timedelta) -> None:
        self.longest = max(self.longest, duration)
        if index < self.next_index:
            return
        self.ahead[index] = end
        while self.next_index in self.ahead:
            done = self.ahead.pop(self.next_index)
            self.until = done if self.until is None else max(self.until, done)
            self.next_index += 1

    def reaches(self, end: datetime) -> bool:
        """Analysed up to the end (the last segment may stop up to one segment before it)."""
        return self.until is not None and self.until >= end - self.longest - timedelta(seconds=1)


@dataclass
class Watched:
    sitting_id: str
    candidate_id: str
    attempt: int
    partition: int
    tracker: CandidateTracker
    room_id: str = ""
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    playlists: dict[str, str] = field(default_factory=dict)  # stream id -> stitched playlist URI
    ended_at: datetime | None = None  # the exam is over for the candidate (finished, abandoned, ...)
    closed: bool = False  # its incidents were closed at the end
    saved_at: datetime | None = None  # media time of the last state snapshot published
    saved_busy: bool = False  # a signal was pending or open in that snapshot
    progress: dict[str, StreamProgress] = field(default_factory=dict)  # stream id -> analysed so far
    touched: float = field(default_factory=time.monotonic)  # last event handled (eviction)
    # per stream kind, the last segments analysed: adaptive sampling may have to go back into them
    recent: dict[int, deque[media_pb2.MediaSegmentStored]] = field(
        default_factory=lambda: defaultdict(lambda: deque(maxlen=RECENT_SEGMENTS)))
    stills: dict[int, RecentStills] = field(default_factory=lambda: defaultdict(RecentStills))


def _kind(kind: int) -> str:
    return common_pb2.StreamKind.Name(kind).removeprefix("STREAM_KIND_").lower()


@dataclass
class Anomaly:
    settings: Settings
    objects: SegmentStore
    pack: ModelPack
    producer: EventProducer
    auth: AuthFaceClient | None
    snapshots: SnapshotStore
    make_tracker: Callable[..., CandidateTracker]
    restore_tracker: Callable[..., CandidateTracker]
    watched: dict[tuple[str, str], Watched] = field(default_factory=dict)
    rooms: dict[tuple[str, str], str] = field(default_factory=dict)
    ended: dict[tuple[str, str], datetime] = field(default_factory=dict)  # exams over, no tracker in memory

    def __post_init__(self) -> None:
        self.inference = ThreadPoolExecutor(self.settings.inference_workers, thread_name_prefix="inference")
        self.io = ThreadPoolExecutor(4, thread_name_prefix="storage")
        self.pack_ref = common_pb2.ModelPackRef(id=self.pack.id, version=self.pack.version)
        self.segments = SegmentFrames(self.objects, self.settings.sample_rate, self.settings.max_frame_width,
                                      self.settings.work_dir)
        self.loop: asyncio.AbstractEventLoop | None = None
        self._creating: dict[tuple[str, str], asyncio.Lock] = {}
        self.snapshot_interval = timedelta(seconds=self.settings.snapshot_interval_s)

    def subscriptions(self) -> list[Subscription]:
        return [Subscription(topics.MEDIA_STILLS.name, media_pb2.MediaStill, self.on_still),
                Subscription(topics.MEDIA_SEGMENTS_STORED.name, media_pb2.MediaSegmentStored, self.on_segment),
                Subscription(topics.CLIENT_TELEMETRY.name, telemetry_pb2.ClientTelemetry, self.on_telemetry),
                # a candidate's room and state before their media fetched in the same batch
                Subscription(topics.SESSION_EVENTS.name, session_pb2.SessionEvent, self.on_session, first=True)]

    # --- rebalances (called from the consumer's thread) --------------------------------------

    def revoked(self, partitions: list[tuple[str, int]]) -> None:
        numbers = {p for t, p in partitions if t == topics.MEDIA_SEGMENTS_STORED.name}
        for number in numbers:
            self.snapshots.forget(number)
        if self.loop is not None and numbers:
            self.loop.call_soon_threadsafe(self._drop, numbers)

    def evict(self, idle_s: float, forget_ended_s: float, now: datetime | None = None) -> int:
        """Bound the memory to the candidates still sitting: a tracker whose exam is over and that saw
        nothing for ``idle_s`` leaves memory (its state is in the compacted snapshot topic and comes
        back if a late recording arrives); ended candidates and rooms are forgotten ``forget_ended_s``
        after the end. Returns how many trackers left."""
        at, mono = now or datetime.now(UTC), time.monotonic()
        gone = [k for k, w in self.watched.items()
                if w.ended_at is not None and mono - w.touched > idle_s and not w.lock.locked()]
        for key in gone:
            w = self.watched.pop(key)
            self.ended[key] = w.ended_at or at  # a late segment must still know the exam is over
        horizon = at - timedelta(seconds=forget_ended_s)
        for key in [k for k, end in self.ended.items() if end < horizon]:
            del self.ended[key]
            self.rooms.pop(key, None)
        metrics.CANDIDATES.set(len(self.watched))
        return len(gone)

    def _drop(self, partitions: set[int]) -> None:
        for key in [k for k, w in self.watched.items() if w.partition in partitions]:
            del self.watched[key]
        metrics.CANDIDATES.set(len(self.watched))

    # --- candidates ----------------------------------------------------------------------------

    async def _watched(self, sitting_id: str, candidate_id: str, attempt: int, partition: int,
                       create: bool = True) -> Watched | None:
        key = (sitting_id, candidate_id)
        found = self.watched.get(key)
        if found is not None and (found.attempt == attempt or not attempt):
            found.touched = time.monotonic()
            return found
        # a candidate's segments, telemetry and session events are handled concurrently: one of them
        # creates (or restores) the tracker, the others wait for it instead of making a second one
        lock = self._creating.setdefault(key, asyncio.Lock())
        async with lock:
            found = self.watched.get(key)
            if found is not None and (found.attempt == attempt or not attempt):
                return found
            return await self._load(key, attempt, partition, create)

    async def _load(self, key: tuple[str, str], attempt: int, partition: int, create: bool) -> Watched | None:
        sitting_id, candidate_id = key
        snapshot = await asyncio.to_thread(self.snapshots.get, partition, sitting_id, candidate_id)
        if snapshot is None and not create:
            return None
        if snapshot is not None:
            tracker = self.restore_tracker(snapshot, sitting_id, candidate_id, attempt or 1, self.pack)
        else:
            tracker = self.make_tracker(sitting_id, candidate_id, attempt or 1, self.pack)
        watched = Watched(sitting_id, candidate_id, attempt or 1, partition, tracker,
                          room_id=self.rooms.get(key, ""), ended_at=self.ended.pop(key, None))
        self.watched[key] = watched
        self._creating.pop(key, None)
        metrics.CANDIDATES.set(len(self.watched))
        return watched

    async def _publish(self, w: Watched, changes: list[IncidentChange]) -> None:
        for change in changes:
            uris = []
            for index, evidence in enumerate(change.evidence):
                try:
                    uris.append(await asyncio.get_running_loop().run_in_executor(
                        self.io, incidents.store_evidence, self.objects, self.settings.evidence_prefix,
                        w.sitting_id, w.candidate_id, change, index, evidence))
                except StorageError as exc:
                    raise TransientError(f"storing evidence: {exc}") from exc
            event = incidents.incident_event(change, sitting_id=w.sitting_id, candidate_id=w.candidate_id,
                                             room_id=w.room_id, attempt=w.attempt, pack=self.pack_ref,
                                             evidence_uris=uris, playlists=w.playlists)
            await self.producer.send(topics.INCIDENTS.name, w.candidate_id, event)
            metrics.INCIDENTS.labels(common_pb2.IncidentKind.Name(change.kind).removeprefix("INCIDENT_KIND_"),
                                     str(change.change)).inc()

    async def _save(self, w: Watched, at: datetime) -> None:
        w.saved_at, w.saved_busy = at, w.tracker.busy()
        snapshot = w.tracker.snapshot()
        snapshot.meta.CopyFrom(meta(sitting_id=w.sitting_id, candidate_id=w.candidate_id, producer="anomaly",
                                    event_time=at))
        await self.producer.send(topics.ANOMALY_STATE.name, w.candidate_id, snapshot)
        self.snapshots.remember(w.partition, w.candidate_id, snapshot)

    # --- handlers --------------------------------------------------------------------------------

    async def on_segment(self, record: Record[media_pb2.MediaSegmentStored]) -> None:
        ev = record.value
        kind = _kind(ev.stream_kind)
        if ev.stream_kind not in ANALYSED_KINDS:
            metrics.SEGMENTS.labels(kind, "skipped_kind").inc()
            return
        if not ev.probe.ok or not ev.object_uri:
            metrics.SEGMENTS.labels(kind, "unusable").inc()
            return
        if not ev.meta.sitting_id or not ev.meta.candidate_id or not ev.segment_id:
            raise PermanentError("MediaSegmentStored without sitting, candidate or segment id")
        started = time.perf_counter()
        w = await self._watched(ev.meta.sitting_id, ev.meta.candidate_id, ev.attempt_number, record.partition)
        assert w is not None
        async with w.lock:
            if ev.playlist_uri:
                w.playlists[ev.stream_id] = ev.playlist_uri
            start = from_ts(ev.media_start_time)
            end = segments_media_end(ev) or start
            changes: list[IncidentChange] = []
            stats = SamplingStats()
            covered = w.tracker.covers(ev.stream_kind, start, end)
            if not covered:
                with contextlib.ExitStack() as scratch:
                    path = await self._local(ev.object_uri, scratch)
                    try:
                        changes, requests, stats = await asyncio.get_running_loop().run_in_executor(
                            self.inference, self._analyse, w, path, ev)
                    except SegmentUnreadable as exc:
                        metrics.SEGMENTS.labels(kind, "unreadable").inc()
                        raise PermanentError(f"segment {ev.segment_id} cannot be decoded: {exc}") from exc
                w.recent[ev.stream_kind].append(ev)
                for request, embedding in requests:
                    changes += await self._identity(w, request, embedding)
            if ev.HasField("media_end_time"):
                progress = w.progress.setdefault(ev.stream_id, StreamProgress(ev.segment_index))
                progress.add(ev.segment_index, from_ts(ev.media_end_time), ev.duration.ToTimedelta())
            if w.ended_at is not None and self._caught_up(w):
                # the exam is over and every recording is analysed up to its end (later segments, recorded
                # offline, close what they open at once)
                changes += w.tracker.close_all(w.ended_at)
                w.closed = True
            await self._settle(w, changes, from_ts(ev.media_end_time) if ev.HasField("media_end_time")
                               else datetime.now(UTC))
        metrics.SEGMENTS.labels(kind, "covered_by_stills" if covered else "analysed").inc()
        metrics.FRAMES.labels("sampled").inc(stats.sampled)
        metrics.FRAMES.labels("declined").inc(stats.skipped)
        metrics.SEGMENT_SECONDS.observe(time.perf_counter() - started)
        if ev.HasField("processed_at"):
            metrics.LAG.observe(max(0.0, (datetime.now(UTC) - from_ts(ev.processed_at)).total_seconds()))

    async def _settle(self, w: Watched, changes: list[IncidentChange], at: datetime) -> None:
        """Publish the changes, then save the state (before the input's offset is committed) whenever an
        incident changed or a signal is pending or open, or just stopped being: a restored worker never
        re-opens, loses or forgets one in progress; while everything is calm, every snapshot_interval_s of
        media (a worker restored from an older calm snapshot only re-learns the stream's calm)."""
        await self._publish(w, changes)
        if (changes or w.tracker.busy() or w.saved_busy or w.saved_at is None
                or at - w.saved_at >= self.snapshot_interval or w.ended_at is not None):
            await self._save(w, at)

    async def on_still(self, record: Record[media_pb2.MediaStill]) -> None:
        ev = record.value
        kind = _kind(ev.stream_kind)
        if ev.stream_kind not in ANALYSED_KINDS:
            metrics.STILLS.labels(kind, "skipped_kind").inc()
            return
        if not ev.meta.sitting_id or not ev.meta.candidate_id or not ev.stream_id or not ev.HasField("captured_at"):
            metrics.STILLS.labels(kind, "invalid").inc()
            return  # media-ingest validated it: nothing to retry, and a missing still is covered by its segment
        w = await self._watched(ev.meta.sitting_id, ev.meta.candidate_id, ev.attempt_number, record.partition)
        assert w is not None
        still = Still(ev.stream_kind, ev.stream_id, from_ts(ev.captured_at), ev.stream_offset.ToTimedelta(), ev.jpeg)
        async with w.lock:
            recent = w.stills[still.stream_kind]
            earlier = recent.backfill(self.settings.max_frame_width)
            recent.add(still)
            changes: list[IncidentChange] = []
            requests: list[tuple[IdentityRequest, FaceEmbedding | None]] = []
            # most stills are declined while the stream is calm: asked here (the tracker is only touched under
            # the candidate's lock), without a hop to the inference thread
            if w.tracker.wants(still.stream_kind, still.captured_at):
                changes, requests = await asyncio.get_running_loop().run_in_executor(
                    self.inference, self._analyse_still, w, still, earlier)
            else:
                metrics.FRAMES.labels("declined").inc()
            for request, embedding in requests:
                changes += await self._identity(w, request, embedding)
            if w.ended_at is not None and w.closed:
                changes += w.tracker.close_all(w.ended_at)  # sent after the close (a backlog): closed at once
            await self._settle(w, changes, still.captured_at)
        metrics.STILLS.labels(kind, "handled").inc()
        if ev.HasField("received_at"):
            metrics.STILL_LAG.observe(max(0.0, (datetime.now(UTC) - from_ts(ev.received_at)).total_seconds()))

    def _analyse_still(self, w: Watched, still: Still, earlier: Backfill,
                       ) -> tuple[list[IncidentChange], list[tuple[IdentityRequest, FaceEmbedding | None]]]:
        """In the inference thread: decode the still the tracker wants and feed it; ``earlier`` gives the
        stream's last stills (before this one) for the backfill when a calm stretch ends."""
        tracker = w.tracker
        frame = decode(still, self.settings.max_frame_width)
        if frame is None:
            return [], []
        metrics.FRAMES.labels("sampled").inc()
        changes, request = tracker.on_frame(frame, earlier)
        requests = [] if request is None else [(request, self._embedding(tracker, request))]
        return changes, requests

    def _analyse(self, w: Watched, path: Path, ev: media_pb2.MediaSegmentStored,
                 ) -> tuple[list[IncidentChange], list[tuple[IdentityRequest, FaceEmbedding | None]], SamplingStats]:
        """In the inference thread: sample (the tracker declines the frames it does not need while the
        stream is calm, and takes them back when the calm ends), analyse, feed the tracker, embed the
        faces to re-verify."""
        tracker = w.tracker
        changes: list[IncidentChange] = []
        requests: list[tuple[IdentityRequest, FaceEmbedding | None]] = []
        stats = SamplingStats()
        earlier = self.segments.backfill(list(w.recent[ev.stream_kind]), path, ev)
        for frame in self.segments.frames(path, ev, stats, functools.partial(tracker.wants, ev.stream_kind)):
            found, request = tracker.on_frame(frame, earlier)
            changes += found
            if request is not None:
                requests.append((request, self._embedding(tracker, request)))
        return changes, requests, stats

    def _embedding(self, tracker: CandidateTracker, request: IdentityRequest) -> FaceEmbedding | None:
        if self.auth is None:
            return None
        values = tracker.embedding(request)
        if values is None:
            return None
        return FaceEmbedding(values, tracker.pack.id, tracker.pack.version)

    async def _identity(self, w: Watched, request: IdentityRequest,
                        embedding: FaceEmbedding | None = None) -> list[IncidentChange]:
        if self.auth is None:
            return []
        result = await self.auth.reverify(w.sitting_id, w.candidate_id, request, embedding)
        if result is None:
            return []
        return await asyncio.get_running_loop().run_in_executor(self.inference, w.tracker.on_identity, result)

    def _work_dir(self) -> Path:
        self.settings.work_dir.mkdir(parents=True, exist_ok=True)
        return self.settings.work_dir

    async def _local(self, uri: str, scratch: contextlib.ExitStack) -> Path:
        """The segment as a local file: read in place when the store is a filesystem, else fetched
        into a temporary directory that ``scratch`` removes."""
        try:
            local = self.objects.local_path(uri)
        except StorageError as exc:
            raise PermanentError(f"segment URI not in this store: {uri}") from exc
        if local is not None:
            if not local.exists():
                raise PermanentError(f"stored segment missing: {uri}")
            return local
        tmp = Path(scratch.enter_context(tempfile.TemporaryDirectory(dir=self._work_dir())))
        try:
            return await asyncio.get_running_loop().run_in_executor(self.io, self.objects.fetch, uri,
                                                                    tmp / "segment.mp4")
        except ObjectMissing as exc:
            raise PermanentError(f"stored segment missing: {uri}") from exc
        except StorageError as exc:
            raise TransientError(f"fetching {uri}: {exc}") from exc

    async def on_telemetry(self, record: Record[telemetry_pb2.ClientTelemetry]) -> None:
        ev = record.value
        if not ev.meta.sitting_id or not ev.meta.candidate_id:
            metrics.TELEMETRY.labels("invalid").inc(max(1, len(ev.samples)))
            return
        w = await self._watched(ev.meta.sitting_id, ev.meta.candidate_id, ev.attempt_number, record.partition)
        assert w is not None
        if ev.room_id:
            w.room_id = ev.room_id
        offset = ev.clock_offset.ToTimedelta() if ev.HasField("clock_offset") else timedelta(0)
        changes: list[IncidentChange] = []
        async with w.lock:
            for sample in ev.samples:
                if sample.HasField("server_time"):
                    at = from_ts(sample.server_time)
                elif sample.HasField("client_time"):
                    at = from_ts(sample.client_time) + offset
                else:
                    metrics.TELEMETRY.labels("no_time").inc()
                    continue
                fact = TelemetryFact(sample.kind, at, ev.device_kind, sample.value, sample.detail,
                                     sample.duration.ToTimedelta() if sample.HasField("duration") else None,
                                     sample.sequence)
                changes += w.tracker.on_telemetry(fact)
                metrics.TELEMETRY.labels("handled").inc()
            await self._publish(w, changes)
            # telemetry is rare and its state (a focus lost, a second monitor, not yet long enough to open) is
            # only in this tracker: saved before the offset is committed, so a worker that takes over (a
            # crash, a rebalance while Kafka restarts) still knows it
            await self._save(w, datetime.now(UTC))

    async def on_session(self, record: Record[session_pb2.SessionEvent]) -> None:
        ev = record.value
        key = (ev.meta.sitting_id, ev.meta.candidate_id)
        if ev.room_id:
            self.rooms[key] = ev.room_id
        if ev.to_state not in OVER:
            w = self.watched.get(key)
            if w is not None and ev.room_id:
                w.room_id = ev.room_id
            return
        # the exam is over: close what is open (restoring the candidate's state if another worker had it)
        w = await self._watched(ev.meta.sitting_id, ev.meta.candidate_id, ev.attempt_number, record.partition,
                                create=False)
        at = from_ts(ev.meta.event_time) if ev.meta.HasField("event_time") else datetime.now(UTC)
        if w is None:  # nothing analysed yet: recordings uploaded later are closed at the end
            self.ended[key] = at
            return
        if w.ended_at is not None:
            return
        async with w.lock:
            if ev.room_id:
                w.room_id = ev.room_id
            w.ended_at = at
            if not self._caught_up(w):
                # segments of the last minutes are still queued (a backlog, a late upload): an anomaly in
                # them may not have opened yet; close when they are analysed (or after close_idle_s)
                metrics.DEFERRED_CLOSES.inc()
                return
            await self._close(w)

    @staticmethod
    def _caught_up(w: Watched) -> bool:
        assert w.ended_at is not None
        return all(p.reaches(w.ended_at) for p in w.progress.values())

    async def _close(self, w: Watched) -> None:
        assert w.ended_at is not None
        await self._publish(w, w.tracker.close_all(w.ended_at))
        w.closed = True
        await self._save(w, w.ended_at)

    async def close_idle(self, idle_s: float) -> int:
        """Close the candidates whose exam is over but whose recordings stopped short of the end (nothing
        arrived for ``idle_s``): what never came cannot be waited for. Returns how many were closed."""
        mono = time.monotonic()
        due = [w for w in self.watched.values()
               if w.ended_at is not None and not w.closed and mono - w.touched > idle_s]
        for w in due:
            async with w.lock:
                if not w.closed:
                    await self._close(w)
        return len(due)

    async def close(self) -> None:
        self.inference.shutdown(wait=True)
        self.io.shutdown(wait=True)
        if self.auth is not None:
            await self.auth.close()

