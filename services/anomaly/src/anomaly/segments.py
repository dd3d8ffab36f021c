"""The frames of stored segments for the tracker: the sampled frames of the segment at hand, and, when a
calm stretch ends, the frames adaptive sampling declined before, decoded again on demand from this
segment or the ones analysed just before it (see ``CandidateTracker.wants``). An earlier segment is
read in place from a filesystem store, or fetched again from object storage (in the inference
thread: this happens once per calm stretch that ends, and only when its declined frames lie in the
segment before)."""

from __future__ import annotations

import contextlib
import logging
import tempfile
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from anomaly import metrics
from anomaly.model import Frame
from anomaly.sampling import SamplingStats, SegmentUnreadable, sample_frames
from anomaly.tracker import Backfill
from proctor.events.v1 import media_pb2
from proctor_runtime.events import from_ts
from proctor_storage import SegmentStore, StorageError

log = logging.getLogger(__name__)
RECENT_SEGMENTS = 3  # per stream: declined frames lie in the last segments analysed (calm period <= 3 s)


def media_end(ev: media_pb2.MediaSegmentStored) -> datetime | None:
    if ev.HasField("media_end_time"):
        return from_ts(ev.media_end_time)
    if ev.HasField("duration"):
        return from_ts(ev.media_start_time) + ev.duration.ToTimedelta()
    return None


@dataclass(frozen=True)
class SegmentFrames:
    """Sampling of stored segments with the service's rate and frame size."""

    objects: SegmentStore
    rate: float
    max_width: int
    work_dir: Path

    def frames(self, path: Path, ev: media_pb2.MediaSegmentStored, stats: SamplingStats | None = None,
               want: Callable[[datetime], bool] | None = None) -> Iterator[Frame]:
        interval = ev.keyframe_interval.ToTimedelta() if ev.HasField("keyframe_interval") else None
        return sample_frames(path, stream_kind=ev.stream_kind, segment_id=ev.segment_id,
                             media_start=from_ts(ev.media_start_time), stream_offset=ev.stream_offset.ToTimedelta(),
                             keyframe_interval=interval, rate=self.rate, max_width=self.max_width, stats=stats,
                             want=want)

    def backfill(self, recent: Sequence[media_pb2.MediaSegmentStored], path: Path,
                 ev: media_pb2.MediaSegmentStored) -> Backfill:
        """``earlier(after, before)``: the sampled frames strictly between two capture times, from the
        ``recent`` segments of the stream (analysed before ``ev``) and from ``ev`` itself (at ``path``)."""

        def earlier(after: datetime, before: datetime) -> Iterator[Frame]:
            def inside(t: datetime) -> bool:
                return after < t < before

            others = {e.segment_id: e for e in recent if e.segment_id != ev.segment_id}  # a redelivery: once
            for old in sorted(others.values(), key=lambda e: from_ts(e.media_start_time)):
                end = media_end(old)
                if from_ts(old.media_start_time) < before and (end is None or end + timedelta(seconds=1) > after):
                    yield from self._stored(old, inside)
            yield from self.frames(path, ev, want=inside)

        return earlier

    def _stored(self, ev: media_pb2.MediaSegmentStored, want: Callable[[datetime], bool]) -> Iterator[Frame]:
        """The frames of a segment analysed before (read in place, or fetched again); none if it is gone
        or unreadable now (the backfill is best effort: the frame that ended the calm is still analysed)."""
        try:
            with contextlib.ExitStack() as scratch:
                path = self.objects.local_path(ev.object_uri)
                if path is None:
                    self.work_dir.mkdir(parents=True, exist_ok=True)
                    tmp = Path(scratch.enter_context(tempfile.TemporaryDirectory(dir=self.work_dir)))
                    path = self.objects.fetch(ev.object_uri, tmp / "segment.mp4")
                yield from self.frames(path, ev, want=want)
        except (StorageError, SegmentUnreadable, OSError) as exc:
            metrics.FRAMES.labels("backfill_failed").inc()
            log.warning("declined frames of an earlier segment not available", extra={
                "segment_id": ev.segment_id, "error": str(exc)})
