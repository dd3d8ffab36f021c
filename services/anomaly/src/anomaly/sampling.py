"""Frame sampling from a stored segment with PyAV: ``rate`` frames per second of media, as cheaply
as the segment's keyframe layout allows.

Two modes, chosen per segment:

- **keyframes**: when the segment's keyframe interval is at most one sample period (plus
  ``KEYFRAME_TOLERANCE`` of it), only keyframes are decoded (the decoder's ``skip_frame = NONKEY``;
  the other packets are not even sent). A keyframe costs about as much as any frame to decode, and
  nothing else is decoded: on the 848x480 H.264 clips ~2.2 ms per sampled frame, 1 thread. Each
  keyframe is drained out of the decoder at once (a stream with B-frames would otherwise hold it
  back for two more packets), so ``want`` (below) is asked before its packet is decoded.
- **decode**: otherwise the packets are demuxed first (cheap), the frame that serves each sample time is
  chosen, and only the packets from the keyframe before it up to it are decoded; the rest of a GOP
  is skipped. The cost grows with the distance from the keyframe (at 24 frames/s and 2-s GOPs about
  half the frames are decoded). Here ``want`` is asked when the frame leaves the decoder: a frame
  not wanted is decoded (later frames of its GOP need it) but neither converted nor yielded.

``want(captured_at)``, when given, is asked for every sample time in order, after the frames before
it were consumed: the tracker's adaptive sampling (``CandidateTracker.wants``) answers False for the
grid times it can skip while everything looks normal, and those frames cost nothing in keyframe mode.

Opening: the container's stream probe (``avformat_find_stream_info``) decodes nothing (``skip_frame``
all, one thread): by default it decoded the first frames of every segment, ~2 ms per 4-s segment, and
what it learns is in the container already. (``nonkey`` would be as cheap but drops the display
matrix, so phone clips would no longer be turned upright.)

Sample times lie on a grid of ``1/rate`` from the segment's first presentation time; a sample takes
the first candidate frame (any frame, or any keyframe) at or after its grid time, each frame at most
once. Capture time = ``media_start`` + (pts - first pts); the review-recording offset =
``stream_offset`` + the same. The display matrix is honoured (a ``-90`` rotation, as on phone clips,
is turned upright) and frames are downscaled so that their longest side is at most ``max_width``
before analysis.
"""

from __future__ import annotations

import bisect
import itertools
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Literal

import av
import av.container
import cv2
import numpy as np

from anomaly.model import Frame

KEYFRAME_TOLERANCE = 0.25  # keyframes every <= 1.25 s still count as "one per sample" at 1 frame/s
EPS = 1e-3  # seconds: pts rounding
Mode = Literal["auto", "keyframes", "decode"]
# the stream probe on open decodes nothing, on one thread (the frames are identical; see the module doc)
PROBE_OPTIONS = {"threads": "1", "skip_frame": "all"}


class SegmentUnreadable(Exception):
    """The segment cannot be decoded (not media, corrupt, truncated before any frame, no video track).
    ``reason`` is a short machine code for metrics: open_failed, no_video_track, no_frames."""

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(f"{reason}: {detail}")
        self.reason = reason
        self.detail = detail


@dataclass
class SamplingStats:
    """What sampling a segment cost (filled while iterating). ``decode_cpu_s`` is process CPU time
    spent demuxing, decoding and converting (the consumer's own work between frames is excluded)."""

    mode: str = ""
    packets: int = 0
    decoded: int = 0
    sampled: int = 0
    skipped: int = 0  # sample times ``want`` declined
    decode_errors: int = 0
    decode_cpu_s: float = 0.0
    rotation: int = 0
    extra: dict[str, float] = field(default_factory=dict)


@dataclass(frozen=True)
class _Packet:
    index: int
    pts: float  # seconds
    key: bool
    packet: av.Packet


def _tb(stream: av.VideoStream) -> float:
    return float(stream.time_base) if stream.time_base is not None else 1.0 / 90000


def choose_mode(keyframe_interval: timedelta | None, rate: float) -> Literal["keyframes", "decode"]:
    if keyframe_interval is None or keyframe_interval <= timedelta(0):
        return "decode"
    period = 1.0 / rate
    return "keyframes" if keyframe_interval.total_seconds() <= period * (1 + KEYFRAME_TOLERANCE) + EPS else "decode"


def sample_frames(path: Path, *, stream_kind: int, segment_id: str, media_start: datetime,
                  stream_offset: timedelta, keyframe_interval: timedelta | None, rate: float = 1.0,
                  max_width: int = 640, mode: Mode = "auto", stats: SamplingStats | None = None,
                  want: Callable[[datetime], bool] | None = None) -> Iterator[Frame]:
    """Sampled, upright, BGR frames of the segment at ``path`` (see the module doc); ``want`` may
    decline sample times (capture time -> False). Raises :class:`SegmentUnreadable` before yielding
    anything when the segment has no decodable video."""
    if rate <= 0:
        raise ValueError("rate must be > 0")
    stats = stats if stats is not None else SamplingStats()
    stats.mode = choose_mode(keyframe_interval, rate) if mode == "auto" else mode
    started = time.process_time()
    container = _open(path)
    try:
        stream = container.streams.video[0]
        ctx = stream.codec_context
        ctx.thread_count = 1  # single-threaded decoding: least CPU per frame; the worker runs many segments
        packets = _demux(container, stream, stats)
        origin = stream.start_time * _tb(stream) if stream.start_time is not None else packets[0].pts
        origin = min(origin, min(p.pts for p in packets))
        keyframes = stats.mode == "keyframes"
        if keyframes:
            ctx.skip_frame = "NONKEY"
        wanted, needed = plan(packets, origin, 1.0 / rate, keyframes_only=keyframes)
        stats.extra["planned"] = float(len(wanted))
        emitted: set[float] = set()
        tb = _tb(stream)

        def declined(t: float) -> bool:
            if want is None or want(media_start + timedelta(seconds=t - origin)):
                return False
            stats.skipped += 1
            return True

        ask_first = declined if keyframes else None
        for frame in _decode(ctx, packets, needed, stats, ask_first):
            if frame.pts is None:
                continue
            t = frame.pts * tb
            key = _match(wanted, t)
            if key is None or key in emitted:
                continue
            emitted.add(key)
            if ask_first is None and declined(t):
                continue
            image = _to_bgr(frame, max_width, stats)
            stats.sampled += 1
            stats.decode_cpu_s += time.process_time() - started
            offset = timedelta(seconds=t - origin)
            yield Frame(stream_kind=stream_kind, captured_at=media_start + offset,
                        stream_offset=stream_offset + offset, segment_id=segment_id, image=image,
                        keyframe=bool(frame.key_frame))
            started = time.process_time()
        if stats.sampled == 0 and stats.skipped == 0:
            raise SegmentUnreadable("no_frames", f"{path.name}: {stats.packets} video packets, none decodable")
    finally:
        container.close()
        stats.decode_cpu_s += time.process_time() - started


def _open(path: Path) -> av.container.InputContainer:
    try:
        container = av.open(str(path), mode="r", options=PROBE_OPTIONS)
    except (av.FFmpegError, OSError, UnicodeDecodeError) as exc:
        raise SegmentUnreadable("open_failed", f"{path.name}: {exc}") from exc
    if not container.streams.video:
        container.close()
        raise SegmentUnreadable("no_video_track", f"{path.name} has no video track")
    return container


def _demux(container: av.container.InputContainer, stream: av.VideoStream, stats: SamplingStats) -> list[_Packet]:
    """All video packets with a timestamp, in decode order. A container that breaks off (truncated)
    keeps the packets read so far."""
    out: list[_Packet] = []
    tb = _tb(stream)
    try:
        for packet in container.demux(stream):
            ts = packet.pts if packet.pts is not None else packet.dts
            if ts is None or packet.size == 0:
                continue
            out.append(_Packet(len(out), ts * tb, bool(packet.is_keyframe), packet))
    except av.FFmpegError:
        stats.decode_errors += 1
    stats.packets = len(out)
    if not out:
        raise SegmentUnreadable("no_frames", "no video packets")
    return out


def plan(packets: list[_Packet], origin: float, period: float,
         keyframes_only: bool) -> tuple[list[float], set[int]]:
    """(presentation times of the frames to emit, sorted; indices of the packets to decode).

    For each grid time the first candidate frame at or after it is chosen (a keyframe in keyframe
    mode). A chosen frame needs its GOP decoded from the keyframe before it (in decode order) up to
    itself; packets after the last chosen frame of a GOP are skipped."""
    candidates = sorted((p for p in packets if p.key or not keyframes_only), key=lambda p: p.pts)
    if not candidates:
        return [], set()
    times = [p.pts for p in candidates]
    last = times[-1]
    chosen: dict[int, _Packet] = {}
    k = 0
    while origin + k * period <= last + EPS:
        i = bisect.bisect_left(times, origin + k * period - EPS)
        if i < len(candidates):
            chosen[candidates[i].index] = candidates[i]
            # next grid time strictly after the chosen frame
            k = max(k + 1, int((times[i] - origin) / period + EPS) + 1)
        else:
            break
    needed: set[int] = set()
    gop_start = 0
    for p in packets:
        if p.key:
            gop_start = p.index
        if p.index in chosen:
            needed.update(range(gop_start, p.index + 1) if not keyframes_only else (p.index,))
    # a chosen frame's packet may come after frames presented later (B-frames): decoding continues to
    # it, which the ranges above already cover
    return sorted(p.pts for p in chosen.values()), needed


def _match(wanted: list[float], t: float) -> float | None:
    i = bisect.bisect_left(wanted, t - EPS)
    if i < len(wanted) and abs(wanted[i] - t) <= EPS:
        return wanted[i]
    return None


def _decode(ctx: av.VideoCodecContext, packets: list[_Packet], needed: set[int], stats: SamplingStats,
            declined: Callable[[float], bool] | None = None) -> Iterator[av.VideoFrame]:
    """Decode the needed packets (in decode order) and drain the decoder. A packet that fails to
    decode is counted and skipped (the decoder conceals or drops the frames that depend on it).

    With ``declined`` (keyframe mode: every needed packet is a keyframe that decodes alone) a packet
    whose time is declined is not decoded, and each decoded keyframe is drained out of the decoder
    at once (then the decoder is reset for the next one), so the next question is asked only after
    this frame was consumed."""
    for p in packets:
        if p.index not in needed:
            continue
        if declined is not None and declined(p.pts):
            continue
        try:
            frames = ctx.decode(p.packet)
            if declined is not None and not frames:
                frames = ctx.decode(None)
                ctx.flush_buffers()
        except av.FFmpegError:
            stats.decode_errors += 1
            continue
        stats.decoded += 1
        yield from frames
    try:
        yield from ctx.decode(None)
    except av.FFmpegError:
        stats.decode_errors += 1


_ROTATE = {90: cv2.ROTATE_90_CLOCKWISE, 180: cv2.ROTATE_180, 270: cv2.ROTATE_90_COUNTERCLOCKWISE}


def display_rotation(frame: av.VideoFrame) -> int:
    """Clockwise degrees (0, 90, 180, 270) that turn the coded picture upright. PyAV's ``rotation``
    is the display matrix's counter-clockwise angle (ffmpeg's ``av_display_rotation_get``)."""
    try:
        ccw = float(frame.rotation)
    except (AttributeError, ValueError, TypeError):
        return 0
    if not np.isfinite(ccw):
        return 0
    return round(-ccw / 90.0) % 4 * 90


def _to_bgr(frame: av.VideoFrame, max_width: int, stats: SamplingStats) -> np.ndarray:
    """Upright BGR, downscaled (swscale, area filter) so that the longest side is at most ``max_width``
    (a portrait 480x848 picture becomes 362x640, as many pixels as a landscape one)."""
    rotation = display_rotation(frame)
    stats.rotation = rotation
    coded_w, coded_h = frame.width, frame.height
    longest = max(coded_w, coded_h)
    if max_width and longest > max_width:
        scale = max_width / longest
        w, h = max(2, round(coded_w * scale)), max(2, round(coded_h * scale))
        image = np.asarray(frame.reformat(width=w, height=h, format="bgr24", interpolation="AREA").to_ndarray())
    else:
        image = np.asarray(frame.to_ndarray(format="bgr24"))
    if rotation:
        image = np.asarray(cv2.rotate(image, _ROTATE[rotation]))  # type: ignore[arg-type]
    return np.ascontiguousarray(image)


def keyframe_interval(path: Path) -> timedelta | None:
    """The longest distance between keyframes (or from the last keyframe to the end) of a file's
    video, as the media worker reports it in ``MediaSegmentStored.keyframe_interval``; None when it
    cannot be read. Used by the evaluation, which samples clip files directly."""
    try:
        with av.open(str(path)) as container:
            if not container.streams.video:
                return None
            stream = container.streams.video[0]
            tb = _tb(stream)
            keys, last = [], None
            for packet in container.demux(stream):
                if packet.pts is None:
                    continue
                t = packet.pts * tb
                last = t if last is None else max(last, t)
                if packet.is_keyframe:
                    keys.append(t)
    except (av.FFmpegError, OSError):
        return None
    if not keys or last is None:
        return None
    keys.sort()
    gaps = [b - a for a, b in itertools.pairwise(keys)] + [last - keys[-1]]
    return timedelta(seconds=max(gaps))
