"""Live analysis stills (``proctor.media-stills.v1``) as tracker frames.

The desktop client and the phone app send one JPEG still per second of an analysed stream while it
records (``MediaIngest.SubmitStills``); the segments stay the record. A still is decoded only when the
tracker wants its capture time (adaptive sampling declines most of them while a stream is calm); the
last few stills of each stream are kept, still encoded, so that when a calm stretch ends the declined
ones can be decoded and analysed after all (``backfill``), as with segments.

A still that does not decode is counted and skipped: its time stays uncovered, so the stream's stored
segment for that time is analysed instead (see ``Anomaly.on_segment``).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta

import cv2
import numpy as np

from anomaly import metrics
from anomaly.model import Frame
from anomaly.tracker import Backfill

RECENT_STILLS = 8  # per stream: declined stills lie within the calm period (<= 3 s) before the current one


def still_segment_id(stream_id: str) -> str:
    """Evidence of a still points at its stream (``<stream_id>:still``): the segment holding the moment
    is not uploaded yet when the still is analysed; ``captured_at`` and the offset place it."""
    return f"{stream_id}:still"


@dataclass(frozen=True)
class Still:
    stream_kind: int
    stream_id: str
    captured_at: datetime
    stream_offset: timedelta
    jpeg: bytes


def decode(still: Still, max_width: int) -> Frame | None:
    """The still as an upright BGR frame no wider (longer side) than ``max_width``; None if it does not
    decode."""
    data = np.frombuffer(still.jpeg, np.uint8)
    image = cv2.imdecode(data, cv2.IMREAD_COLOR) if data.size else None
    if image is None or image.ndim != 3 or image.shape[2] != 3:
        metrics.FRAMES.labels("still_unreadable").inc()
        return None
    h, w = image.shape[:2]
    side = max(h, w)
    if side > max_width:
        scale = max_width / side
        image = cv2.resize(image, (max(1, round(w * scale)), max(1, round(h * scale))), interpolation=cv2.INTER_AREA)
    return Frame(stream_kind=still.stream_kind, captured_at=still.captured_at, stream_offset=still.stream_offset,
                 segment_id=still_segment_id(still.stream_id), image=image)


class RecentStills:
    """The last stills of one stream, in arrival order, for the backfill."""

    def __init__(self, size: int = RECENT_STILLS) -> None:
        self.items: deque[Still] = deque(maxlen=size)

    def add(self, still: Still) -> None:
        self.items.append(still)

    def backfill(self, max_width: int) -> Backfill:
        """``earlier(after, before)``: the decodable stills strictly between two capture times, in order."""
        held = sorted(self.items, key=lambda s: s.captured_at)

        def earlier(after: datetime, before: datetime) -> Iterator[Frame]:
            for still in held:
                if after < still.captured_at < before:
                    frame = decode(still, max_width)
                    if frame is not None:
                        yield frame

        return earlier
