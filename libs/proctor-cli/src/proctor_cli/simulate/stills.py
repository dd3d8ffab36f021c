"""Live analysis stills, as the clients send them (``MediaIngest.SubmitStills``).

While an analysed recording (the desktop camera, the phone's evidence video) records, the client sends
one JPEG still every ``UploadLimits.still_interval`` from the recording's start, as it is captured: the
frame at the current position, i.e. the frame ``k`` seconds into segment ``i`` (``still_position``), whose
capture time is the segment's capture start plus ``k`` (``capture_time``, the same clock as the segments'
capture times, so an injected anomaly's stills fall within its ground truth). The stills of a segment
come from the encoded segment itself (``media.stills_of``). Only segments the recording will hold are
shown: the simulator records whole segments, so none after the last one that ends before the exam does.

Online, each still goes up at once, one per call; during a network drop they are kept, and on reconnect
the backlog goes first, in capture order, up to ``max_stills_per_call`` per call. Calls are retried on
UNAVAILABLE with the same request (``retry.retried``). The sender runs beside the segment uploads and
never waits for them, nor they for it.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import cv2
import grpc
import numpy as np

from proctor.media.v1 import media_ingest_pb2 as mpb
from proctor.media.v1 import media_ingest_pb2_grpc
from proctor_cli.retry import PATIENCE_S, retried
from proctor_cli.simulate.media import STILL_QUALITY, H, W, to_jpeg
from proctor_runtime.events import ts

Metadata = tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class StillLimits:
    """What the server announced for a stream's stills (``UploadLimits``)."""

    interval_s: float
    max_bytes: int = 0  # 0: not announced
    max_side: int = 0
    per_call: int = 1

    @classmethod
    def announced(cls, limits: mpb.UploadLimits) -> StillLimits | None:
        """None when the stream kind takes no stills (``still_interval`` unset or zero)."""
        if not limits.HasField("still_interval"):
            return None
        interval = limits.still_interval.ToTimedelta().total_seconds()
        if interval <= 0:
            return None
        return cls(interval, limits.still_max_bytes, limits.still_max_side, max(1, limits.max_stills_per_call))


def still_position(elapsed_s: float, segment_s: int) -> tuple[int, int]:
    """The still ``elapsed_s`` seconds into a recording: (segment index, whole seconds into that segment)."""
    i = int(elapsed_s // segment_s)
    return i, int(elapsed_s - i * segment_s + 1e-9)


def capture_time(started: datetime, segment_s: int, i: int, k: int) -> datetime:
    """When the still ``k`` seconds into segment ``i`` was captured: that segment's capture start (the
    recording's start + ``i`` segments, as ``Recorder.record`` stamps it) + ``k`` seconds."""
    return started + timedelta(seconds=i * segment_s + k)


def positions(segment_s: int, interval_s: float, segments: int) -> Iterator[tuple[float, int, int]]:
    """(seconds after the recording's start, segment index, seconds into it) of every still to send when
    ``segments`` whole segments are recorded; one still per frame (a shorter interval than 1 s repeats
    none)."""
    n, last = 0, (-1, -1)
    while True:
        elapsed = n * interval_s
        n += 1
        i, k = still_position(elapsed, segment_s)
        if i >= segments:
            return
        if (i, k) != last:
            last = (i, k)
            yield elapsed, i, k


@functools.lru_cache(maxsize=4096)
def fit(jpeg: bytes, max_side: int, max_bytes: int) -> bytes | None:
    """The still within the announced limits (longer side, bytes; 0: none): scaled down and/or
    re-encoded at a lower quality when needed; None if it cannot fit."""
    if (not max_side or max_side >= max(W, H)) and (not max_bytes or len(jpeg) <= max_bytes):
        return jpeg  # as rendered (W x H)
    image = cv2.imdecode(np.frombuffer(jpeg, np.uint8), cv2.IMREAD_COLOR)
    if image is None:
        return None
    side = max_side or max(image.shape[:2])
    for quality in (STILL_QUALITY, 60, 40, 25):
        out = to_jpeg(image, side, quality)
        if not max_bytes or len(out) <= max_bytes:
            return out
    return None


@dataclass
class StillSender:
    """One recording's still sender (see the module docstring). ``fault(note)`` counts an error in the
    recorder and keeps ``note`` when given (the first error of each kind has one)."""

    media: media_ingest_pb2_grpc.MediaIngestStub
    md: Metadata
    stream_id: str
    limits: StillLimits
    stills: Callable[[int], list[bytes]]  # segment index -> its stills
    segment_s: int
    fault: Callable[[str | None], None]
    captured: int = 0
    sent: int = 0  # in calls the server answered
    accepted: int = 0  # as the server counted them
    backlog: list[mpb.Still] = field(default_factory=list)  # captured, not yet sent (capture order)
    _ready: asyncio.Event = field(default_factory=asyncio.Event)
    _noted: set[str] = field(default_factory=set)

    async def run(self, started: datetime, end: datetime, online: Callable[[], bool]) -> None:
        """Capture a still every interval from ``started`` while the recording records (whole segments
        before ``end``), sending alongside; then send what is left."""
        segments = int((end - started).total_seconds() // self.segment_s)
        done = asyncio.Event()
        sending = asyncio.create_task(self._send(online, done))
        try:
            for elapsed, i, k in positions(self.segment_s, self.limits.interval_s, segments):
                delay = (started + timedelta(seconds=elapsed) - datetime.now(UTC)).total_seconds()
                if delay > 0:
                    await asyncio.sleep(delay)
                self._capture(started, i, k)
        except asyncio.CancelledError:
            sending.cancel()
            raise
        done.set()
        self._ready.set()
        await sending

    def _capture(self, started: datetime, i: int, k: int) -> None:
        shots = self.stills(i)
        jpeg = fit(shots[min(k, len(shots) - 1)], self.limits.max_side, self.limits.max_bytes)
        if jpeg is None:
            self._error("too large", f"a still cannot fit in {self.limits.max_bytes} bytes")
            return
        self.backlog.append(mpb.Still(captured_at=ts(capture_time(started, self.segment_s, i, k)), jpeg=jpeg))
        self.captured += 1
        self._ready.set()

    async def _send(self, online: Callable[[], bool], done: asyncio.Event) -> None:
        """Send the backlog whenever online, oldest first (one still per call when keeping up)."""
        give_up: float | None = None
        while True:
            if self.backlog and online():
                await self._submit(self.backlog[:self.limits.per_call], online)
                continue
            if done.is_set():
                give_up = give_up or time.monotonic() + PATIENCE_S
                if not self.backlog or time.monotonic() > give_up:
                    if self.backlog:
                        self._error("unsent", f"{len(self.backlog)} stills never sent (offline at the end)")
                    return
            self._ready.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._ready.wait(), timeout=0.2)  # also notices a reconnect

    async def _submit(self, batch: list[mpb.Still], online: Callable[[], bool]) -> None:
        request = mpb.SubmitStillsRequest(stream_id=self.stream_id, stills=batch)
        try:
            reply = await retried(lambda: self.media.SubmitStills(request, metadata=self.md))
        except grpc.aio.AioRpcError as exc:
            if not online():
                return  # the network dropped meanwhile: kept, sent again on reconnect
            del self.backlog[:len(batch)]
            self._error(exc.code().name, f"SubmitStills {exc.code().name}: {exc.details()}")
            return
        del self.backlog[:len(batch)]  # new stills are only ever appended behind these
        self.sent += len(batch)
        self.accepted += reply.accepted

    def _error(self, key: str, note: str) -> None:
        """Count an error; keep a note of the first of each kind (not one per still)."""
        self.fault(None if key in self._noted else note)
        self._noted.add(key)

    def counts(self) -> dict[str, int]:
        return {"captured": self.captured, "sent": self.sent, "accepted": self.accepted,
                "unsent": len(self.backlog)}
