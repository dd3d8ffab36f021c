"""The frames adaptive sampling declined, decoded again when a calm stretch ends: from the segment at
hand and the ones analysed just before it, in order, once, and nothing from a segment that is gone."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import numpy as np
from anomaly_clips import T0, room, write_clip

from anomaly.segments import SegmentFrames
from proctor.common.v1 import common_pb2 as c
from proctor.events.v1 import media_pb2
from proctor_runtime.events import ts
from proctor_storage import FilesystemStore

SEGMENT_S = 4


def level_segment(path: Path, first: int) -> Path:
    """A 4-s, 1-s-GOP segment, a different picture every second."""
    scenes = []
    for i in range(SEGMENT_S):
        image = room((160, 120)).astype(np.float32)
        scenes.append((np.clip(image - image.mean() + 20 * (first + i), 0, 255).astype(np.uint8), 1.0))
    return write_clip(path, scenes, fps=10, gop=10, jitter=0.5)


def stored(store: FilesystemStore, tmp: Path, index: int) -> tuple[media_pb2.MediaSegmentStored, Path]:
    path = level_segment(tmp / f"seg{index}.mp4", 1 + SEGMENT_S * index)
    uri = store.put_file(f"review/cam/{index:06d}.mp4", path, "video/mp4")
    start = T0 + timedelta(seconds=SEGMENT_S * index)
    ev = media_pb2.MediaSegmentStored(segment_id=f"cam:{index}", stream_kind=c.STREAM_KIND_DESKTOP_CAMERA,
                                      media_start_time=ts(start), object_uri=uri,
                                      media_end_time=ts(start + timedelta(seconds=SEGMENT_S)))
    ev.keyframe_interval.FromTimedelta(timedelta(seconds=1))
    local = store.local_path(uri)
    assert local is not None
    return ev, local


def seconds(frames) -> list[int]:
    return [round((f.captured_at - T0).total_seconds()) for f in frames]


def test_declined_frames_come_back_from_this_segment_and_the_one_before(tmp_path):
    store = FilesystemStore(tmp_path / "store")
    (ev0, _), (ev1, path1) = stored(store, tmp_path, 0), stored(store, tmp_path, 1)
    frames = SegmentFrames(store, 1.0, 640, tmp_path / "work")
    earlier = frames.backfill([ev0, ev0, ev1], path1, ev1)  # a redelivered segment, and this one, listed too
    found = list(earlier(T0 + timedelta(seconds=1), T0 + timedelta(seconds=6)))
    assert seconds(found) == [2, 3, 4, 5]
    assert [f.segment_id for f in found] == ["cam:0", "cam:0", "cam:1", "cam:1"]
    sampled = {f.captured_at: f.image for ev, path in ((ev0, store.local_path(ev0.object_uri)), (ev1, path1))
               for f in frames.frames(path, ev)}
    assert all(np.array_equal(f.image, sampled[f.captured_at]) for f in found)  # the very frames sampling gave
    assert list(earlier(T0 + timedelta(seconds=5), T0 + timedelta(seconds=6))) == []


def test_a_segment_that_is_gone_gives_nothing_and_the_rest_still_comes(tmp_path):
    store = FilesystemStore(tmp_path / "store")
    (ev0, path0), (ev1, path1) = stored(store, tmp_path, 0), stored(store, tmp_path, 1)
    path0.unlink()
    earlier = SegmentFrames(store, 1.0, 640, tmp_path / "work").backfill([ev0], path1, ev1)
    assert seconds(earlier(T0 + timedelta(seconds=1), T0 + timedelta(seconds=6))) == [4, 5]
