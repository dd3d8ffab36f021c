"""Probing a raw segment in-process with ffmpeg's libraries (PyAV): open, demux every packet once.

The packets stay in memory (a segment is a few MB) and are what ``normalise`` remuxes or decodes,
so a segment is read exactly once. Probing never decodes: codecs, tracks, timestamps and keyframe
flags come from the demuxer; truncation from the container structure (``containers``).
"""

from __future__ import annotations

import itertools
import statistics
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import av
import av.container
import av.stream

from media_ingest.processing import containers
from media_ingest.processing.rules import CONTAINER_FAMILIES, SegmentInfo, Track, family

_SMALL_PROBE = {"probesize": "32768"}
_IMAGE_CODECS = frozenset({"mjpeg", "png", "bmp", "gif", "webp"})


@dataclass
class Demuxed:
    """A probed segment: what was found, and the packets to normalise (file order)."""

    info: SegmentInfo
    container: av.container.InputContainer | None = None
    video: av.stream.Stream | None = None
    audio: av.stream.Stream | None = None
    packets: list[av.Packet] = field(default_factory=list)


def _guess_family(path: Path) -> str:
    with path.open("rb") as handle:
        head = handle.read(12)
    if head[4:8] in (b"ftyp", b"moov", b"moof", b"styp"):
        return "mp4"
    if head[:4] == b"\x1a\x45\xdf\xa3":
        return "matroska"
    return ""


def _structure(path: Path, fam: str) -> tuple[str, str]:
    """(truncation reason, structure error) of the container; both empty when it looks whole."""
    try:
        return containers.truncation(path, fam) or "", ""
    except containers.StructureError as exc:
        return "", f"container structure: {exc}"


def _track(stream: av.stream.Stream, packets: list[av.Packet]) -> Track:
    tb = float(stream.time_base or 0)  # float arithmetic: Fractions per packet cost more than the remux
    starts = [(p.pts if p.pts is not None else p.dts or 0) * tb for p in packets]
    spans = sorted(starts)
    typical = statistics.median(b - a for a, b in itertools.pairwise(spans)) if len(spans) > 1 else 0.0
    ends = [s + (p.duration * tb if p.duration else typical) for s, p in zip(starts, packets, strict=True)]
    ctx = stream.codec_context
    if stream.type == "video":
        rate = stream.average_rate or stream.guessed_rate
        return Track(ctx.name, min(starts, default=0.0), max(ends, default=0.0), len(packets), ctx.width, ctx.height,
                     float(rate) if rate else (1 / typical if typical else 0.0),
                     keyframes_s=tuple(sorted(s for s, p in zip(starts, packets, strict=True) if p.is_keyframe)))
    return Track(ctx.name, min(starts, default=0.0), max(ends, default=0.0), len(packets),
                 sample_rate=ctx.sample_rate or 0)


def _pick(container: av.container.InputContainer, kind: str) -> av.stream.Stream | None:
    """The first track of ``kind``; for video, a camera/screen track before a cover picture or an
    image-codec track (some writers add a still-image thumbnail track)."""
    tracks = [s for s in container.streams if s.type == kind]
    if kind == "video":
        tracks.sort(key=lambda s: bool(s.disposition & av.stream.Disposition.attached_pic)
                    or s.codec_context.name in _IMAGE_CODECS)
    return tracks[0] if tracks else None


@contextmanager
def demux(path: Path) -> Iterator[Demuxed]:
    """Probe ``path``; the container stays open (its codec contexts decode) inside the block."""
    size = path.stat().st_size
    if size == 0:
        yield Demuxed(SegmentInfo(0))
        return
    try:
        container = _open(path)
    except (av.FFmpegError, UnicodeDecodeError, ValueError) as exc:
        fam = _guess_family(path)
        truncated, structure = _structure(path, fam) if fam else ("", "")
        error = "; ".join(filter(None, [_short(exc), structure]))
        yield Demuxed(SegmentInfo(size, "", truncated=truncated, error=error))
        return
    with container:
        yield _read(path, size, container)


def _open(path: Path) -> av.container.InputContainer:
    """Open with a small probe: stream info of MP4/WebM is in the header, and the default probe would
    decode the first keyframe only to learn its pixel format (about half the CPU of a remux at
    848x480). Reopened with the defaults when the small probe left a track's parameters unknown
    (e.g. MPEG-TS, whose codec parameters are in-band)."""
    container = av.open(str(path), metadata_errors="ignore", container_options=_SMALL_PROBE)
    if all((s.codec_context.width if s.type == "video" else s.codec_context.sample_rate)
           for s in container.streams if s.type in ("video", "audio")):
        return container
    container.close()
    return av.open(str(path), metadata_errors="ignore")


def _read(path: Path, size: int, container: av.container.InputContainer) -> Demuxed:
    fam = family(container.format.name)
    if fam not in CONTAINER_FAMILIES:
        # e.g. noise taken for raw video because the object key ends in ".raw": not a recording
        return Demuxed(SegmentInfo(size, fam, error=f"not a recording container (read as {container.format.name})"))
    truncated, error = _structure(path, fam)
    video, audio = _pick(container, "video"), _pick(container, "audio")
    chosen = [s for s in (video, audio) if s is not None]
    for stream in chosen:
        stream.codec_context.thread_count = 1  # decodes in the calling thread: CPU accounted, throughput per core
    packets: list[av.Packet] = []
    corrupt = 0
    if chosen:
        try:
            for packet in container.demux(*chosen):
                if packet.dts is None and packet.pts is None:
                    continue  # the demuxer's end-of-stream marker
                if packet.is_corrupt:
                    corrupt += 1
                    continue
                packets.append(packet)
        except av.FFmpegError as exc:
            error = "; ".join(filter(None, [error, f"demuxing stopped: {_short(exc)}"]))
    found = {s.index: [p for p in packets if p.stream_index == s.index] for s in chosen}
    video, audio = (s if s is not None and found[s.index] else None for s in (video, audio))
    info = SegmentInfo(size, fam, _track(video, found[video.index]) if video else None,
                       _track(audio, found[audio.index]) if audio else None, truncated, error, corrupt)
    return Demuxed(info, container, video, audio, packets)


def _short(exc: BaseException) -> str:
    """The error text without the local path (ffmpeg appends the file name)."""
    return str(getattr(exc, "strerror", None) or exc)[:200]
