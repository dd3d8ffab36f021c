"""The byte-level fast path for the common upload: a fragmented MP4 with one H.264 track and at
most one AAC track, both stream-copied. No PyAV packet is made: the boxes are parsed, the segment
is described exactly as the PyAV path (``probe`` + ``normalise``) describes it, and the output is
the input's bytes with every ``tfdt`` (and the ``mfra``'s times) moved onto the stream timeline.

Why: a 30-s desktop segment has ~1,850 samples (most of them AAC frames), and nearly all of the
PyAV path's CPU is per-packet Python work (the demux loop, ``probe._track``, ``_Writer.copy``/
``mux``, ``_Tally.add``). Measured on the simulator's 30-s segment (640x360 at 15 fps, 48-kHz
AAC), CPU per ``process_file`` call (``time.thread_time`` over 30 calls after a warm-up, on a
2-core development machine): 11.1-11.8 ms before, 3.6 ms after without a thumbnail; 12.5-13.0 ms
before, 5.5 ms after with one (median over the 16 simulator segments: 12.9 -> 4.1 ms). What is
left is mostly the keyframe both paths decode (the thumbnail, and the proof that the video
decodes), the JPEG, reading and writing 1.2 MB, and ~1 ms of box parsing.

Whatever is not that simple case (an edit list other than an identity one, several sample
descriptions, encryption, sample groups, ``sidx``, a ``trun`` whose data is not inside its
``mdat``, zero-sized or zero-length samples, gaps or overlaps between fragments, sample flags that
disagree with the bitstream, a recovery point SEI, another codec or a non-COPY plan, a cut file,
tags that are not UTF-8 text, any size that does not add up) returns None, and the PyAV path runs
as before: the fast path never judges a broken file, it only declines it.

What it reproduces, and how (ffmpeg's mov demuxer on a seekable file reads every ``moof`` while
opening): a packet's dts is its fragment's ``tfdt`` plus the durations before it in the ``trun``,
its pts the dts plus its composition offset, its duration the sample duration (the fragments are
contiguous); a video packet is a keyframe when ffmpeg's H.264 parser says so (its first slice is
an IDR slice), not by the sample flags; ``average_rate`` is timescale x samples / summed durations
(reduced, as ``av_reduce`` does); the output time base is the input's (the mp4 muxer keeps a video
timescale >= 10000 and an audio timescale equal to the sample rate, else the fast path declines);
width and height are the sample entry's, which must be the decoded keyframe's.
"""

from __future__ import annotations

import itertools
import logging
import struct
from collections.abc import Iterator
from dataclasses import dataclass, field
from fractions import Fraction
from operator import add
from pathlib import Path
from typing import TYPE_CHECKING

import av

from media_ingest.processing import containers, rules
from media_ingest.processing.config import MediaSettings
from media_ingest.processing.normalise import AAC_PROFILES, Normalised, avc1, jpeg
from proctor.common.v1 import common_pb2 as common

if TYPE_CHECKING:
    from media_ingest.processing.pipeline import Outcome

log = logging.getLogger(__name__)

_HEAD, _U16, _U32, _I32, _U64 = (struct.Struct(f) for f in (">I4s", ">H", ">I", ">i", ">Q"))
_AAC_RATES = (96000, 88200, 64000, 48000, 44100, 32000, 24000, 22050, 16000, 12000, 11025, 8000, 7350)
_NON_SYNC = 0x00010000 | 0x01000000  # sample_is_non_sync_sample | sample_depends_on = 1
_ESCAPES = (b"\x00\x00\x00", b"\x00\x00\x01", b"\x00\x00\x02")  # not inside a NAL unit ffmpeg reads whole
_INT_MAX = (1 << 31) - 1
# boxes copied as they are; any other box is outside the simple case
_MOOV_OK = {b"mvhd", b"udta", b"iods", b"meta", b"free", b"skip"}
_EMPTY_TABLES = {b"stts": 4, b"stsc": 4, b"stsz": 8, b"stco": 4, b"co64": 4}  # offset of the entry count
_ENTRY_OK = {b"avc1": {b"avcC", b"btrt", b"pasp"}, b"avc3": {b"avcC", b"btrt", b"pasp"}, b"mp4a": {b"esds", b"btrt"}}
_TFHD_FIELDS = ((0x01, 8), (0x02, 4), (0x08, 4), (0x10, 4), (0x20, 4))  # flag, bytes, in box order
_TRUN_FIELDS = (0x100, 0x200, 0x400, 0x800)  # duration, size, flags, composition offset


class _Decline(Exception):
    """Outside the simple case: the PyAV path handles the segment."""


@dataclass
class _Track:
    kind: str  # "video" or "audio"
    track_id: int
    timescale: int
    config: bytes  # avcC payload (the decoder's extradata) or the AudioSpecificConfig
    width: int = 0
    height: int = 0
    sample_rate: int = 0
    trex: tuple[int, int, int, int] = (0, 0, 0, 0)  # default description index, duration, size, flags
    dts: list[int] = field(default_factory=list)
    cts: list[int] = field(default_factory=list)
    durations: list[int] = field(default_factory=list)
    keys: list[bool] = field(default_factory=list)  # video only
    nal_length: int = 4  # bytes of the NAL unit lengths (avcC)
    first_key: tuple[int, int] | None = None  # (file offset, size) of the first keyframe
    end: int | None = None  # decode time after the last sample read
    edit: int = 0  # duration of its identity edit (movie timescale; 0: none, or the whole media)


@dataclass
class _Traf:
    track: _Track
    start: int  # offsets in the file
    tfdt_at: int
    tfdt_version: int
    data_offset_at: int
    base_is_moof: bool


@dataclass
class _Moof:
    start: int
    end: int
    trafs: list[_Traf]


@dataclass
class _Tfra:
    """A track's random-access table in the trailing mfra (ffmpeg writes one): times and moof offsets."""

    track_id: int
    wide: bool  # version 1: 64-bit times and offsets
    entries: list[int]  # file offset of each entry


@dataclass
class _File:
    video: _Track
    audio: _Track | None
    moofs: list[_Moof]
    tfras: list[_Tfra]
    mfra: tuple[int, int] | None  # where it is (start, end), the last box
    init_end: int  # the init section (ftyp + moov) ends here


def fast_process(path: Path, expect: rules.Expectation, offset_s: float, out: Path, thumbnail: Path | None,
                 settings: MediaSettings) -> Outcome | None:
    """``pipeline.process_file`` for the simple case, or None (nothing written) to hand it to PyAV."""
    from media_ingest.processing.pipeline import Outcome  # (pipeline imports this module)

    data = path.read_bytes()
    try:
        parsed = _parse(data)
        video, audio = parsed.video, parsed.audio
        info = rules.SegmentInfo(len(data), "mp4", _describe(video), _describe(audio) if audio else None)
        plan = rules.plan(info)
        if plan.video != rules.COPY or plan.audio not in (rules.COPY, rules.ABSENT):
            raise _Decline(f"plan {plan}")
        verdict = rules.judge(info, expect, settings)
        if not verdict.ok:
            return Outcome(verdict, info, plan, None)
        frame = _first_frame(data, video)
        origin = min(float(Fraction(t.dts[0], t.timescale)) for t in (video, audio) if t is not None)
        shifts = {t.track_id: round((offset_s - origin) / float(Fraction(1, t.timescale)))
                  for t in (video, audio) if t is not None}
        output = _rewrite(data, parsed, shifts)
    except _Decline as exc:
        log.debug("fMP4 fast path declined: %s", exc, extra={"path": str(path)})
        return None
    with out.open("wb") as handle:
        handle.writelines(output)
    if thumbnail is not None:
        thumbnail.write_bytes(jpeg(frame, settings.thumbnail_width))
    return Outcome(verdict, info, plan, _normalised(video, audio, shifts, info, parsed.init_end,
                                                    sum(map(len, output))))


# --- reading the boxes -------------------------------------------------------------------------

def _boxes(data: bytes, start: int, end: int) -> Iterator[tuple[bytes, int, int, int]]:
    """The boxes in ``data[start:end]`` as (type, start, body, end)."""
    pos = start
    while pos < end:
        if end - pos < 8:
            raise _Decline(f"box header cut at {pos}")
        size, kind = _HEAD.unpack_from(data, pos)
        if size < 8 or pos + size > end:  # (64-bit sizes too: nobody writes them inside moov or moof)
            raise _Decline(f"{kind!r} box at {pos} has size {size}")
        yield kind, pos, pos + 8, pos + size
        pos += size


def _text(raw: bytes, kind: bytes) -> None:
    try:
        raw.decode()
    except UnicodeDecodeError as exc:
        raise _Decline(f"{kind!r} metadata that is not UTF-8") from exc


def _tags(data: bytes, start: int, end: int) -> None:
    """The output keeps the input's tags (udta, meta), which PyAV reads as UTF-8 by default: text
    tags only (QuickTime ``©xyz`` strings, iTunes items of UTF-8 ``data``), in UTF-8."""
    for kind, _, body, stop in _boxes(data, start, end):
        if kind == b"meta":
            _tags(data, body + 4, stop)
        elif kind == b"hdlr":
            _text(data[body + 24:stop].split(b"\0")[0], kind)
        elif kind == b"ilst":
            for item, _, item_body, item_end in _boxes(data, body, stop):
                for sub, _, sub_body, sub_end in _boxes(data, item_body, item_end):
                    if sub != b"data" or sub_end - sub_body < 8 or _U32.unpack_from(data, sub_body)[0] != 1:
                        raise _Decline(f"{item!r} tag that is not text")
                    _text(data[sub_body + 8:sub_end], item)
        elif kind[0] == 0xA9 and stop - body >= 4:
            _text(data[body + 4:stop], kind)
        elif kind not in (b"free", b"skip"):
            raise _Decline(f"{kind!r} tag")


def _need(body: int, end: int, n: int, what: str) -> None:
    if end - body < n:
        raise _Decline(f"{what} box too short")


def _only(data: bytes, start: int, end: int, allowed: set[bytes]) -> dict[bytes, tuple[int, int]]:
    """Children of a box, each allowed type at most once: type -> (body, end)."""
    found: dict[bytes, tuple[int, int]] = {}
    for kind, _, body, stop in _boxes(data, start, end):
        if kind not in allowed or kind in found:
            raise _Decline(f"{kind!r} box")
        found[kind] = (body, stop)
    return found


def _parse(data: bytes) -> _File:
    """A whole, simple fragmented MP4: ftyp, moov, (moof, mdat)..., maybe an mfra."""
    try:
        if containers.mp4_truncation(data) is not None:
            raise _Decline("truncated")
        top = containers.mp4_boxes(data)
    except containers.StructureError as exc:
        raise _Decline(str(exc)) from exc
    kinds = [kind for kind, _, _ in top if kind not in ("free", "skip")]
    mfra = (top[-1][1], top[-1][1] + top[-1][2]) if top[-1][0] == "mfra" else None
    tfras = _mfra(data, *mfra) if mfra else []
    kinds = kinds[:-1] if mfra else kinds
    if kinds[:2] != ["ftyp", "moov"] or kinds[2::2] != ["moof"] * (len(kinds) // 2 - 1) \
            or kinds[3::2] != ["mdat"] * (len(kinds) // 2 - 1) or len(kinds) % 2:
        raise _Decline("not ftyp, moov, (moof, mdat)...")
    _, ftyp_at, ftyp_size = top[0]
    brands = data[ftyp_at + 8:ftyp_at + 12] + data[ftyp_at + 16:ftyp_at + ftyp_size]  # (not the minor version)
    if not all(0x20 <= byte < 0x7F for byte in brands if byte):
        raise _Decline("brands that are not text")  # (ffmpeg's major_brand, compatible_brands metadata)
    _, moov_at, moov_size = next(box for box in top if box[0] == "moov")
    tracks, movie_timescale = _moov(data, moov_at + 8, moov_at + moov_size)
    boxes = [box for box in top if box[0] in ("moof", "mdat")]
    moofs = [_moof(data, moof, mdat, tracks) for moof, mdat in zip(boxes[::2], boxes[1::2], strict=True)]
    video = next(t for t in tracks.values() if t.kind == "video")
    audio = next((t for t in tracks.values() if t.kind == "audio"), None)
    for track in (video, audio):
        if track is None:
            continue
        if not track.dts:
            raise _Decline(f"no {track.kind} samples")
        media = (track.end or 0) + max(track.cts) - track.dts[0]  # (the copy keeps the edit: it must not cut)
        if track.edit and track.edit * track.timescale < media * movie_timescale:
            raise _Decline("an edit list shorter than the media")
    if any(t.track_id not in tracks for t in tfras):
        raise _Decline("tfra of an unknown track")
    return _File(video, audio, moofs, tfras, mfra, moov_at + moov_size)


def _mfra(data: bytes, start: int, end: int) -> list[_Tfra]:
    boxes = list(_boxes(data, start + 8, end))
    if not boxes or boxes[-1][0] != b"mfro" or boxes[-1][3] - boxes[-1][2] != 8 \
            or _U32.unpack_from(data, boxes[-1][2] + 4)[0] != end - start:
        raise _Decline("mfra without its mfro")
    tables = []
    for kind, _, body, stop in boxes[:-1]:
        _need(body, stop, 16, "tfra")
        wide = data[body] == 1
        track_id, sizes, count = struct.unpack_from(">3I", data, body + 4)
        step = (16 if wide else 8) + sum((sizes >> shift & 3) + 1 for shift in (4, 2, 0))
        if kind != b"tfra" or sizes >> 6 or stop - body - 16 != count * step:
            raise _Decline(f"{kind!r} in mfra")
        tables.append(_Tfra(track_id, wide, list(range(body + 16, stop, step))))
    return tables


def _moov(data: bytes, start: int, end: int) -> tuple[dict[int, _Track], int]:
    """The tracks, and the movie timescale."""
    tracks: dict[int, _Track] = {}
    trex: dict[int, tuple[int, int, int, int]] = {}
    timescale = 0
    for kind, _, body, stop in _boxes(data, start, end):
        if kind == b"mvhd" and not timescale:
            _need(body, stop, 24, "mvhd")
            timescale = _U32.unpack_from(data, body + (20 if data[body] == 1 else 12))[0]
        elif kind == b"trak":
            track = _trak(data, body, stop)
            if track.track_id in tracks:
                raise _Decline("duplicate track id")
            tracks[track.track_id] = track
        elif kind == b"mvex":
            for sub, _, sub_body, sub_end in _boxes(data, body, stop):
                if sub == b"trex" and sub_end - sub_body == 24:
                    track_id, *defaults = struct.unpack_from(">5I", data, sub_body + 4)
                    trex[track_id] = (defaults[0], defaults[1], defaults[2], defaults[3])
                elif sub != b"mehd":
                    raise _Decline(f"{sub!r} in mvex")
        elif kind not in _MOOV_OK:
            raise _Decline(f"{kind!r} in moov")
        elif kind in (b"udta", b"meta"):
            _tags(data, body + 4 * (kind == b"meta"), stop)
    kinds = sorted(t.kind for t in tracks.values())
    if kinds not in (["video"], ["audio", "video"]) or set(trex) != set(tracks) or not timescale:
        raise _Decline(f"tracks {kinds}, trex for {sorted(trex)}, movie timescale {timescale}")
    for track_id, track in tracks.items():
        track.trex = trex[track_id]
    return tracks, timescale


def _trak(data: bytes, start: int, end: int) -> _Track:
    boxes = _only(data, start, end, {b"tkhd", b"mdia", b"edts", b"udta"})
    if b"udta" in boxes:
        _tags(data, *boxes[b"udta"])
    if b"tkhd" not in boxes or b"mdia" not in boxes:
        raise _Decline("trak without tkhd or mdia")
    tkhd, tkhd_end = boxes[b"tkhd"]
    _need(tkhd, tkhd_end, 84, "tkhd")
    track_id = _U32.unpack_from(data, tkhd + (20 if data[tkhd] == 1 else 12))[0]
    edit = _identity_edit(data, *boxes[b"edts"]) if b"edts" in boxes else 0
    mdia = _only(data, *boxes[b"mdia"], {b"mdhd", b"hdlr", b"minf"})
    if len(mdia) != 3:
        raise _Decline("incomplete mdia")
    mdhd, mdhd_end = mdia[b"mdhd"]
    _need(mdhd, mdhd_end, 24, "mdhd")
    _need(*mdia[b"hdlr"], 24, "hdlr")
    _text(data[mdia[b"hdlr"][0] + 24:mdia[b"hdlr"][1]].split(b"\0")[0], b"hdlr")  # ffmpeg's handler_name
    timescale = _U32.unpack_from(data, mdhd + (20 if data[mdhd] == 1 else 12))[0]
    handler = data[mdia[b"hdlr"][0] + 8:mdia[b"hdlr"][0] + 12]
    kind = {b"vide": "video", b"soun": "audio"}.get(handler)
    if kind is None or not timescale:
        raise _Decline(f"handler {handler!r}, timescale {timescale}")
    minf = _only(data, *mdia[b"minf"], {b"vmhd" if kind == "video" else b"smhd", b"dinf", b"stbl"})
    if b"stbl" not in minf or b"dinf" not in minf:
        raise _Decline("no stbl or dinf")
    _self_contained(data, *minf[b"dinf"])
    stbl = _only(data, *minf[b"stbl"], {b"stsd", *_EMPTY_TABLES})
    for table, (body, stop) in stbl.items():
        if table != b"stsd":
            _need(body, stop, _EMPTY_TABLES[table] + 4, table.decode())
            if _U32.unpack_from(data, body + _EMPTY_TABLES[table])[0]:
                raise _Decline(f"samples in {table!r}: not a fragmented-only file")
    if b"stsd" not in stbl:
        raise _Decline("no stsd")
    _need(*stbl[b"stsd"], 8, "stsd")
    track = _sample_entry(data, *stbl[b"stsd"], kind, track_id, timescale)
    track.edit = edit
    return track


def _self_contained(data: bytes, start: int, end: int) -> None:
    """The samples are in this file: one data reference, a self-contained 'url '."""
    dref = _only(data, start, end, {b"dref"}).get(b"dref")
    if dref is None or dref[1] - dref[0] < 8 or _U32.unpack_from(data, dref[0] + 4)[0] != 1:
        raise _Decline("data references")
    url = _only(data, dref[0] + 8, dref[1], {b"url "}).get(b"url ")
    if url is None or url[1] - url[0] != 4 or not data[url[0] + 3] & 1:
        raise _Decline("a data reference to another file")


def _identity_edit(data: bytes, start: int, end: int) -> int:
    """The duration of an edit list that changes nothing (one edit, from media time 0, rate 1; the
    duration is checked against the media once it is known), or a decline."""
    elst = _only(data, start, end, {b"elst"}).get(b"elst")
    if elst is None:
        return 0
    body = elst[0]
    wide = data[body] == 1
    if elst[1] - body != (28 if wide else 20):
        raise _Decline("edit list")
    count, duration, media_time, rate = struct.unpack_from(">IQqI" if wide else ">IIiI", data, body + 4)
    if count != 1 or media_time != 0 or rate != 0x10000:
        raise _Decline("edit list")
    return int(duration)


def _sample_entry(data: bytes, start: int, end: int, kind: str, track_id: int, timescale: int) -> _Track:
    if _U32.unpack_from(data, start + 4)[0] != 1:
        raise _Decline("several sample descriptions")
    entries = list(_boxes(data, start + 8, end))
    if len(entries) != 1:
        raise _Decline("stsd entry count")
    [(codec, _, body, stop)] = entries
    if codec not in _ENTRY_OK or (codec == b"mp4a") != (kind == "audio"):
        raise _Decline(f"{kind} codec {codec!r}")
    _need(body, stop, 78 if kind == "video" else 28, codec.decode())
    children = _only(data, body + (78 if kind == "video" else 28), stop, _ENTRY_OK[codec])
    if kind == "video":
        avcc = children.get(b"avcC")
        if avcc is None or avcc[1] - avcc[0] < 7 or data[avcc[0]] != 1 or timescale < 10000:
            raise _Decline("avcC, or a timescale the muxer would change")
        width, height = _U16.unpack_from(data, body + 24)[0], _U16.unpack_from(data, body + 26)[0]
        nal_length = (data[avcc[0] + 4] & 3) + 1
        if nal_length == 3:
            raise _Decline("3-byte NAL unit lengths")
        return _Track(kind, track_id, timescale, data[avcc[0]:avcc[1]], width, height, nal_length=nal_length)
    if b"esds" not in children or _U16.unpack_from(data, body + 8)[0] != 0:
        raise _Decline("mp4a without esds, or a QuickTime sound description")
    config = _esds_config(data, *children[b"esds"])
    rate = _aac_lc_rate(config)
    if rate != timescale:
        raise _Decline(f"audio timescale {timescale} is not the sample rate {rate}")
    return _Track(kind, track_id, timescale, config, sample_rate=rate)


def _descriptor(data: bytes, pos: int, end: int, tag: int) -> tuple[int, int]:
    """(body, end) of the MPEG-4 descriptor ``tag`` at ``pos`` (ffmpeg's ff_mp4_read_descr)."""
    if pos >= end or data[pos] != tag:
        raise _Decline(f"esds descriptor {tag} missing")
    length, pos = 0, pos + 1
    for _ in range(4):
        if pos >= end:
            break
        byte, pos = data[pos], pos + 1
        length = length << 7 | byte & 0x7F
        if not byte & 0x80:
            break
    if pos + length > end:
        raise _Decline("esds descriptor overruns its box")
    return pos, pos + length


def _esds_config(data: bytes, start: int, end: int) -> bytes:
    """The AudioSpecificConfig of an MPEG-4 audio (object type 0x40) esds."""
    body, stop = _descriptor(data, start + 4, end, 0x03)
    _need(body, stop, 3, "ES descriptor")
    flags, pos = data[body + 2], body + 3
    pos += (2 if flags & 0x80 else 0) + (2 if flags & 0x20 else 0)
    if flags & 0x40:
        raise _Decline("esds with a URL")
    body, stop = _descriptor(data, pos, stop, 0x04)
    _need(body, stop, 13, "DecoderConfigDescriptor")
    if data[body] != 0x40:
        raise _Decline(f"audio object type indication {data[body]:#x}")
    body, stop = _descriptor(data, body + 13, stop, 0x05)
    return data[body:stop]


def _aac_lc_rate(config: bytes) -> int:
    """The sample rate of a mono or stereo AAC-LC AudioSpecificConfig as encoders write it: plain (2 bytes, at
    32 kHz or more, where implicit SBR is not used), or with the explicit "no SBR" extension
    ffmpeg's encoder appends (5 bytes). Either way ffmpeg says profile LC (mp4a.40.2) and keeps
    the core sample rate, whether or not its probe decodes audio."""
    bits, width = int.from_bytes(config, "big"), 8 * len(config)

    def read(at: int, n: int) -> int:
        return bits >> (width - at - n) & ((1 << n) - 1)

    if len(config) not in (2, 5) or read(0, 5) != 2 or read(5, 4) >= len(_AAC_RATES) or read(9, 4) not in (1, 2) \
            or read(13, 3):
        raise _Decline(f"AudioSpecificConfig {config.hex()}")
    rate = _AAC_RATES[read(5, 4)]
    plain = len(config) == 2 and rate >= 32000
    no_sbr = len(config) == 5 and (read(16, 11), read(27, 5), read(32, 8)) == (0x2B7, 5, 0)
    if not (plain or no_sbr):
        raise _Decline(f"AudioSpecificConfig {config.hex()}")
    return rate


# --- fragments ---------------------------------------------------------------------------------

def _moof(data: bytes, moof: tuple[str, int, int], mdat: tuple[str, int, int], tracks: dict[int, _Track]) -> _Moof:
    _, start, size = moof
    _, mdat_at, mdat_size = mdat
    payload = (mdat_at + 16 if _U32.unpack_from(data, mdat_at)[0] == 1 else mdat_at + 8, mdat_at + mdat_size)
    if _U32.unpack_from(data, start)[0] == 1:
        raise _Decline("64-bit moof size")
    trafs: list[_Traf] = []
    kinds = []
    for kind, box, body, stop in _boxes(data, start + 8, start + size):
        kinds.append(kind)
        if kind == b"traf":
            trafs.append(_traf(data, start, box, body, stop, tracks, payload))
    if kinds[:1] != [b"mfhd"] or kinds[1:] != [b"traf"] * len(trafs) or not trafs \
            or len({t.track.track_id for t in trafs}) != len(trafs):
        raise _Decline(f"moof at {start}: {kinds}")
    return _Moof(start, start + size, trafs)


def _traf(data: bytes, moof: int, start: int, body: int, end: int, tracks: dict[int, _Track],
          payload: tuple[int, int]) -> _Traf:
    boxes = _only(data, body, end, {b"tfhd", b"tfdt", b"trun"})
    if len(boxes) != 3:
        raise _Decline("traf without tfhd, tfdt or trun")
    tfhd, tfhd_end = boxes[b"tfhd"]
    _need(tfhd, tfhd_end, 8, "tfhd")
    flags, track_id = _U32.unpack_from(data, tfhd)[0] & 0xFFFFFF, _U32.unpack_from(data, tfhd + 4)[0]
    track = tracks.get(track_id)
    if track is None or flags & ~0x2003B or tfhd_end - tfhd != 8 + sum(n for f, n in _TFHD_FIELDS if flags & f):
        raise _Decline(f"tfhd flags {flags:#x} of track {track_id}")
    values: dict[int, int] = {}
    pos = tfhd + 8
    for flag, n in _TFHD_FIELDS:
        if flags & flag:
            values[flag] = (_U64 if n == 8 else _U32).unpack_from(data, pos)[0]
            pos += n
    base = values[0x01] if flags & 0x01 else moof if flags & 0x20000 else None
    sdi, duration, size, sample_flags = (values.get(f, d) for f, d in zip((0x02, 0x08, 0x10, 0x20), track.trex,
                                                                          strict=True))
    if base is None or sdi != 1:
        raise _Decline("implicit base data offset or another sample description")
    tfdt, tfdt_end = boxes[b"tfdt"]
    version = data[tfdt]
    if (version, tfdt_end - tfdt) not in ((0, 8), (1, 12)):
        raise _Decline("tfdt")
    decode_time = (_U64 if version else _U32).unpack_from(data, tfdt + 4)[0]
    if track.end is not None and decode_time != track.end:
        raise _Decline(f"{track.kind} fragment at {decode_time} does not follow the previous one ({track.end})")
    data_offset_at = _trun(data, *boxes[b"trun"], track, base, decode_time, (duration, size, sample_flags), payload)
    return _Traf(track, start, tfdt - 8, version, data_offset_at, not flags & 0x01)


def _trun(data: bytes, body: int, end: int, track: _Track, base: int, decode_time: int,
          defaults: tuple[int, int, int], payload: tuple[int, int]) -> int:
    """Adds the run's samples to ``track``; returns where its data offset is in the file."""
    _need(body, end, 12, "trun")
    flags, count = _U32.unpack_from(data, body)[0] & 0xFFFFFF, _U32.unpack_from(data, body + 4)[0]
    columns = [f for f in _TRUN_FIELDS if flags & f]
    first = body + 12 + (4 if flags & 0x04 else 0)
    if flags & ~0xF05 or not flags & 0x01 or not count or end - first != 4 * count * len(columns):
        raise _Decline(f"trun flags {flags:#x}, {count} samples in {end - body} bytes")
    values = struct.unpack_from(f">{count * len(columns)}I", data, first)
    col = {f: values[i::len(columns)] for i, f in enumerate(columns)}
    durations = col.get(0x100) or (defaults[0],) * count
    sizes = col.get(0x200) or (defaults[1],) * count
    cts = col.get(0x800) or (0,) * count
    if not min(durations) or not min(sizes) or max(sizes) > 0x3FFFFFFF or max(cts) > _INT_MAX:
        raise _Decline("a zero-length or zero-sized sample, or a negative composition offset")
    start = base + _I32.unpack_from(data, body + 8)[0]
    if start < payload[0] or start + sum(sizes) > payload[1]:
        raise _Decline("trun data outside its mdat")
    track.dts += itertools.accumulate(durations[:-1], initial=decode_time)
    track.cts += cts
    track.durations += durations
    track.end = decode_time + sum(durations)
    if track.kind == "video":
        offsets = list(itertools.accumulate(sizes[:-1], initial=start))
        keys = _h264_keys(data, offsets, sizes, track.nal_length)
        first_flags = _U32.unpack_from(data, body + 12)[0] if flags & 0x04 else defaults[2]
        sample_flags = col.get(0x400) or (first_flags, *(defaults[2],) * (count - 1))
        if keys != [not f & _NON_SYNC for f in sample_flags]:  # (the copy keeps the flags, PyAV writes the keys)
            raise _Decline("sample flags that disagree with the H.264 bitstream")
        if track.first_key is None and True in keys:
            i = keys.index(True)
            track.first_key = (offsets[i], sizes[i])
        track.keys += keys
    return body + 8


def _h264_keys(data: bytes, offsets: list[int], sizes: tuple[int, ...], length: int) -> list[bool]:
    """Which samples PyAV calls keyframes. Not the trun's sample flags: ffmpeg's H.264 parser sets
    the packet flag (``h264_parser.c``): the first slice NAL unit is an IDR slice (or a recovery
    point SEI precedes it: declined here). Most samples start with their slice: one byte says."""
    keys = []
    for at, size in zip(offsets, sizes, strict=True):
        first = int.from_bytes(data[at:at + length], "big")
        kind = data[at + length] & 0x1F if 0 < first <= size - length else 0
        keys.append(kind == 5 if kind in (1, 5) else _h264_scan(data, at, at + size, length))
    return keys


def _h264_scan(data: bytes, at: int, end: int, length: int) -> bool:
    """The parser's walk over a sample's NAL units up to its first slice."""
    while end - at > length:
        size = int.from_bytes(data[at:at + length], "big")
        at += length
        if not 0 < size <= end - at:
            break  # (the parser stops: no slice, no keyframe)
        kind = data[at] & 0x1F
        if kind in (1, 5):
            return kind == 5
        unit = data[at:at + size]
        if any(escape in unit for escape in _ESCAPES):
            raise _Decline("an H.264 NAL unit with a start code in it")
        if kind == 6 and _recovery_point(unit):
            raise _Decline("a recovery point SEI (a keyframe that is not IDR)")
        at += size
    return False


def _recovery_point(unit: bytes) -> bool:
    """Whether an SEI NAL unit may hold a recovery point (a keyframe without IDR for the parser): its
    messages walked as ``ff_h264_sei_decode`` walks them; a walk that goes wrong is a decline."""
    rbsp = unit[1:].replace(b"\x00\x00\x03", b"\x00\x00")
    pos = 0
    while len(rbsp) - pos > 2 and rbsp[pos:pos + 2] != b"\x00\x00":
        values = []
        for _ in range(2):  # payload type, then size
            value = 0
            while pos < len(rbsp) and rbsp[pos] == 0xFF:
                value, pos = value + 255, pos + 1
            if pos >= len(rbsp):
                raise _Decline("SEI message cut")
            values.append(value + rbsp[pos])
            pos += 1
        if values[0] == 6:
            return True
        pos += values[1]
        if pos > len(rbsp):
            raise _Decline("SEI message overruns its unit")
    return False


# --- what the PyAV path computes -----------------------------------------------------------------

def _describe(track: _Track) -> rules.Track:
    """``probe._track`` of the track: start/end from pts, average_rate as the mov demuxer reduces it."""
    tb = float(Fraction(1, track.timescale))
    starts = [p * tb for p in map(add, track.dts, track.cts)]
    end = max(map(add, starts, [d * tb for d in track.durations]))
    if track.kind == "audio":
        return rules.Track("aac", min(starts), end, len(starts), sample_rate=track.sample_rate)
    rate = Fraction(track.timescale * len(starts), sum(track.durations))
    if rate.numerator > _INT_MAX or rate.denominator > _INT_MAX:
        raise _Decline("frame rate av_reduce would round")
    return rules.Track("h264", min(starts), end, len(starts), track.width, track.height, float(rate),
                       keyframes_s=tuple(sorted(itertools.compress(starts, track.keys))))


def _first_frame(data: bytes, video: _Track) -> av.VideoFrame:
    """The first keyframe decoded as ``normalise`` decodes it (its thumbnail, and the proof that the
    video decodes); declined when it does not decode or its size is not the sample entry's."""
    if video.first_key is None:
        raise _Decline("no keyframe")
    at, size = video.first_key
    ctx = av.CodecContext.create("h264", "r")
    ctx.extradata = video.config
    ctx.thread_count = 1
    try:
        frames = [*ctx.decode(av.Packet(data[at:at + size])), *ctx.decode(None)]
    except av.FFmpegError as exc:
        raise _Decline(f"first keyframe: {exc}") from exc
    frame = next((f for f in frames if isinstance(f, av.VideoFrame)), None)
    if frame is None or (frame.width, frame.height) != (video.width, video.height):
        raise _Decline("first keyframe gave no frame of the sample entry's size")
    return frame


def _normalised(video: _Track, audio: _Track | None, shifts: dict[int, int], info: rules.SegmentInfo,
                init_size: int, size: int) -> Normalised:
    """``normalise._describe`` of the written packets (``_Tally``: shifted times, sample durations)."""
    spans = []
    keyframes: list[float] = []
    for track in (video, audio):
        if track is None:
            continue
        tb, shift = float(Fraction(1, track.timescale)), shifts[track.track_id]
        starts = [(p + shift) * tb for p in map(add, track.dts, track.cts)]
        spans.append((min(starts), max(map(add, starts, [d * tb for d in track.durations]))))
        if track is video:
            keyframes = sorted(itertools.compress(starts, track.keys))
    start, end = min(s for s, _ in spans), max(e for _, e in spans)
    interval = max((b - a for a, b in zip(keyframes, [*keyframes[1:], spans[0][1]], strict=True)), default=0.0)
    fmt = common.MediaFormat(container=common.MEDIA_CONTAINER_FMP4, video_codec=common.VIDEO_CODEC_H264,
                             audio_codec=common.AUDIO_CODEC_AAC if audio else common.AUDIO_CODEC_NONE,
                             width=video.width, height=video.height)
    fmt.frame_rate = round(info.video.frame_rate, 3) if info.video else 0.0
    codecs = [avc1(video.config)]
    if audio is not None:
        fmt.audio_sample_rate = audio.sample_rate
        codecs.append(f"mp4a.40.{AAC_PROFILES['LC']}")
    fmt.mime_type = f'video/mp4; codecs="{",".join(codecs)}"'
    return Normalised(init_size, size, start, end - start, len(keyframes), interval, fmt, True, audio is not None)


# --- writing -------------------------------------------------------------------------------------

def _rewrite(data: bytes, parsed: _File, shifts: dict[int, int]) -> list[bytes | bytearray | memoryview]:
    """The output, in pieces: the input with every tfdt moved by its track's shift. A version-0
    tfdt that no longer fits in 32 bits becomes version 1 (4 bytes more: the traf and moof sizes and
    the moof-relative trun data offsets grow with it). The mfra's times move too, and its moof
    offsets follow the moofs."""
    view = memoryview(data)
    pieces: list[bytes | bytearray | memoryview] = []
    moved: dict[int, int] = {}  # moof offset in the input -> in the output
    done = written = 0
    for moof in parsed.moofs:
        moved[moof.start] = written + moof.start - done
        box = _moved(data, moof, shifts)
        pieces += (view[done:moof.start], box)
        written, done = moved[moof.start] + len(box), moof.end
    if parsed.mfra is None:
        return [*pieces, view[done:]]
    start, end = parsed.mfra
    mfra = bytearray(view[start:end])
    for table in parsed.tfras:
        number, n = (_U64, 8) if table.wide else (_U32, 4)
        for entry in table.entries:
            at = entry - start
            time = number.unpack_from(mfra, at)[0] + shifts[table.track_id]
            target = moved.get(number.unpack_from(mfra, at + n)[0], -1)
            if not 0 <= time < 1 << 8 * n - 2 or not 0 <= target < 1 << 8 * n:
                raise _Decline("mfra entry")
            number.pack_into(mfra, at, time)
            number.pack_into(mfra, at + n, target)
    return [*pieces, view[done:start], mfra, view[end:]]


def _moved(data: bytes, moof: _Moof, shifts: dict[int, int]) -> bytearray:
    box = bytearray(data[moof.start:moof.end])
    times = []
    for traf in moof.trafs:
        at = traf.tfdt_at - moof.start + 12
        time = (_U64 if traf.tfdt_version else _U32).unpack_from(box, at)[0] + shifts[traf.track.track_id]
        if not 0 <= time < 1 << 62:
            raise _Decline(f"tfdt {time} after the shift")
        times.append(time)
    wide = [t.tfdt_version == 0 and time >= 1 << 32 for t, time in zip(moof.trafs, times, strict=True)]
    grow = 4 * sum(wide)
    if grow and not all(t.base_is_moof for t in moof.trafs):
        raise _Decline("a widened tfdt with absolute data offsets")
    if grow:
        _U32.pack_into(box, 0, len(box) + grow)
    for traf, time, widen in reversed(list(zip(moof.trafs, times, wide, strict=True))):
        at = traf.tfdt_at - moof.start
        if grow:
            offset_at = traf.data_offset_at - moof.start
            data_offset = _I32.unpack_from(box, offset_at)[0] + grow
            if data_offset > _INT_MAX:
                raise _Decline("trun data offset overflows")
            _I32.pack_into(box, offset_at, data_offset)
        if not widen:
            (_U64 if traf.tfdt_version else _U32).pack_into(box, at + 12, time)
            continue
        _U32.pack_into(box, traf.start - moof.start, _U32.unpack_from(box, traf.start - moof.start)[0] + 4)
        flags = _U32.unpack_from(box, at + 8)[0] & 0xFFFFFF
        box[at:at + 16] = struct.pack(">I4sIQ", 20, b"tfdt", 1 << 24 | flags, time)
    return box
