"""The byte-level fMP4 fast path (``processing.fmp4``) against the PyAV path it stands in for: on every
input it takes, the same SegmentInfo, Verdict, Plan and Normalised, output that reads back packet for packet
like the PyAV path's (and that ffprobe and ffmpeg read without an error), byte-identical on a second run; on
every input outside its simple case, None, and the pipeline's result is exactly the PyAV path's."""

import hashlib
import logging
import random
import struct
import subprocess
from pathlib import Path

import av
import media_clips as clips
import pytest

from media_ingest.processing import fmp4, pipeline, rules
from media_ingest.processing.config import MediaSettings
from proctor.common.v1 import common_pb2 as common
from proctor_runtime.devinfra.config import InfraSettings

MS = MediaSettings()
H264_AAC = common.MediaFormat(container=common.MEDIA_CONTAINER_FMP4, video_codec=common.VIDEO_CODEC_H264,
                              audio_codec=common.AUDIO_CODEC_AAC)
# a 30-s desktop segment made by `proctor simulate` (proctor_cli.simulate.media.CACHE_VERSION), when present
SIM = InfraSettings().state / "cache" / "simulate-v3" / "normal-lp_d3-30s" / "seg0000.mp4"
# 1e5 s: past 2**32 ticks of a 48-kHz audio timescale (a version-0 tfdt must become version 1)
OFFSETS = [0.0, 12.345, 100_000.25]


@pytest.fixture(scope="module")
def made(tmp_path_factory, ffmpeg_bin):
    root = tmp_path_factory.mktemp("fmp4")
    return {"h264_aac": clips.h264_segments(ffmpeg_bin, root / "h264", count=2)[1].path,
            "video_only": clips.h264_segments(ffmpeg_bin, root / "mute", count=1, audio=False)[0].path,
            "client": _client_segments(ffmpeg_bin, root / "client")[1], "root": root}


def _client_segments(ffmpeg: str, out: Path) -> list[Path]:
    """Segments as the desktop client (and `proctor simulate`, simulate/media.py ``encode``) writes them:
    mono 48-kHz AAC, a 1-s GOP plus a keyframe at each cut, no timestamp reset (the second segment's
    fragments start at 4 s), an mfra at the end."""
    out.mkdir(parents=True)
    clips.run(ffmpeg, "-v", "error", "-y", "-f", "lavfi", "-i", "testsrc2=size=320x180:rate=15", "-f", "lavfi",
              "-i", "sine=frequency=300:sample_rate=48000", "-t", "8", "-ac", "1", "-ar", "48000", "-c:v", "libx264",
              "-preset", "veryfast", "-pix_fmt", "yuv420p", "-c:a", "aac", "-g", "15", "-keyint_min", "15",
              "-force_key_frames", "expr:gte(t,n_forced*4)", "-f", "segment", "-segment_time", "4",
              "-segment_format", "mp4", "-segment_format_options", clips.FMP4, str(out / "seg%04d.mp4"))
    return sorted(out.glob("seg*.mp4"))


def _expect(path: Path, declared=H264_AAC) -> rules.Expectation:
    return rules.Expectation(declared, common.STREAM_KIND_DESKTOP_CAMERA, None, path.stat().st_size)


def _pyav(path: Path, offset: float, out: Path, thumb: Path | None, monkeypatch, declared=H264_AAC):
    """``process_file`` as it was before the fast path."""
    with monkeypatch.context() as patch:
        patch.setattr(fmp4, "fast_process", lambda *args: None)
        return pipeline.process_file(path, _expect(path, declared), offset, out, thumb, MS)


def _packets(path: Path) -> dict[str, list[tuple]]:
    """Every packet PyAV reads back, per track in its order (how tracks interleave is the muxer's choice)."""
    tracks: dict[str, list[tuple]] = {}
    with av.open(str(path)) as container:
        for p in container.demux():
            if p.size:
                tracks.setdefault(p.stream.type, []).append(
                    (p.pts, p.dts, p.time_base, p.size, p.is_keyframe, hashlib.sha256(bytes(p)).hexdigest()))
    return tracks


def _clean(ffmpeg: str, path: Path) -> None:
    """ffprobe reads every packet and ffmpeg decodes every frame without a single error message."""
    for args in (["ffprobe", "-v", "error", "-show_packets", str(path)], [ffmpeg, "-v", "error", "-i", str(path),
                                                                        "-f", "null", "-"]):
        done = subprocess.run(args, capture_output=True, text=True, check=False)
        assert done.returncode == 0 and done.stderr == "", done.stderr[-2000:]


def _equal_outcomes(fast, slow, fast_out: Path, slow_out: Path) -> None:
    assert (fast.info, fast.verdict, fast.plan) == (slow.info, slow.verdict, slow.plan)
    a, b = fast.normalised, slow.normalised
    assert a is not None and b is not None
    fields = ("start_s", "duration_s", "keyframe_count", "keyframe_interval_s", "format", "has_video", "has_audio")
    assert [getattr(a, f) for f in fields] == [getattr(b, f) for f in fields]
    assert a.size == fast_out.stat().st_size and 0 < a.init_size < a.size
    assert _packets(fast_out) == _packets(slow_out), "read back, packet for packet"
    assert fast_out.with_suffix(".jpg").read_bytes() == slow_out.with_suffix(".jpg").read_bytes(), "same thumbnail"


def _same_as_pyav(path: Path, offset: float, tmp_path: Path, monkeypatch, ffmpeg: str):
    fast_out = tmp_path / "fast.mp4"
    fast = fmp4.fast_process(path, _expect(path), offset, fast_out, fast_out.with_suffix(".jpg"), MS)
    assert fast is not None, "the fast path declined"
    slow = _pyav(path, offset, tmp_path / "pyav.mp4", tmp_path / "pyav.jpg", monkeypatch)
    _equal_outcomes(fast, slow, fast_out, tmp_path / "pyav.mp4")
    _clean(ffmpeg, fast_out)
    again = tmp_path / "again.mp4"
    assert fmp4.fast_process(path, _expect(path), offset, again, None, MS) == fast
    assert again.read_bytes() == fast_out.read_bytes(), "deterministic"
    hooked = pipeline.process_file(path, _expect(path), offset, tmp_path / "hooked.mp4", None, MS)
    assert hooked == fast and (tmp_path / "hooked.mp4").read_bytes() == fast_out.read_bytes(), "the pipeline uses it"
    return fast


# --- byte surgery on MP4 boxes (32-bit sizes, what ffmpeg writes) ----------------------------------

_CONTAINERS = {b"moov", b"trak", b"mdia", b"minf", b"stbl", b"mvex", b"moof", b"traf", b"edts", b"mfra"}


def _walk(data: bytes, start: int = 0, end: int | None = None):
    end = len(data) if end is None else end
    while start < end:
        size, kind = struct.unpack_from(">I4s", data, start)
        yield kind, start, start + size
        start += size


def _rebuilt(data: bytes, start: int, end: int, edit) -> bytes:
    """The boxes of data[start:end] with ``edit(type, box) -> bytes`` applied to every leaf box, the sizes
    of the boxes around them recomputed."""
    out = bytearray()
    for kind, s, e in _walk(data, start, end):
        if kind in _CONTAINERS:
            body = _rebuilt(data, s + 8, e, edit)
            out += struct.pack(">I4s", len(body) + 8, kind) + body
        else:
            out += edit(kind, data[s:e])
    return bytes(out)


def _edited(data: bytes, edit) -> bytes:
    """The file with ``edit`` applied to its leaf boxes; the moof-relative trun data offsets follow a moof
    that changed size, the mfra's moof offsets follow the moofs."""
    out, moved = bytearray(), {}
    for kind, s, e in _walk(data):
        moved[s] = len(out)
        if kind == b"moof":
            box = _rebuilt(data, s, e, edit)
            grow = len(box) - (e - s)
            box = _rebuilt(box, 0, len(box), lambda k, b, grow=grow: _trun_moved(b, grow) if k == b"trun" else b)
        elif kind == b"mfra":
            box = _rebuilt(data, s, e, lambda k, b: _tfra_moved(b, moved) if k == b"tfra" else b)
        elif kind in _CONTAINERS:
            box = _rebuilt(data, s, e, edit)
        else:
            box = data[s:e]
        out += box
    return bytes(out)


def _trun_moved(box: bytes, grow: int) -> bytes:
    box = bytearray(box)
    assert struct.unpack_from(">I", box, 8)[0] & 1, "trun with a data offset"
    struct.pack_into(">i", box, 16, struct.unpack_from(">i", box, 16)[0] + grow)
    return bytes(box)


def _tfra_moved(box: bytes, moved: dict[int, int]) -> bytes:
    box = bytearray(box)
    assert box[8] == 1 and struct.unpack_from(">I", box, 16)[0] == 0, "ffmpeg's tfra: 64-bit, 1-byte numbers"
    for at in range(24, len(box), 19):
        struct.pack_into(">Q", box, at + 8, moved[struct.unpack_from(">Q", box, at + 8)[0]])
    return bytes(box)


def _tfdt_v0(kind: bytes, box: bytes) -> bytes:
    if kind != b"tfdt" or box[8] != 1:
        return box
    flags, time = struct.unpack_from(">IQ", box, 8)
    return struct.pack(">I4sII", 16, b"tfdt", flags & 0xFFFFFF, time) if time < 1 << 32 else box


def _edit_list(media_time: int):
    """Puts an edit list (one edit of the whole track from ``media_time``) in the first track."""
    def edit(kind: bytes, box: bytes) -> bytes:
        if kind != b"tkhd" or struct.unpack_from(">I", box, 20)[0] != 1:
            return box
        elst = struct.pack(">I4sIIIiI", 28, b"elst", 0, 1, 0, media_time, 0x10000)
        return box + struct.pack(">I4s", 36, b"edts") + elst
    return edit


def _tfdt_versions(path: Path) -> set[int]:
    data = path.read_bytes()
    return {data[s + 8] for s, e in _boxes_at(data, [b"moof", b"traf", b"tfdt"])}


def _boxes_at(data: bytes, path: list[bytes], start: int = 0, end: int | None = None):
    for kind, s, e in _walk(data, start, end):
        if kind == path[0]:
            yield from [(s, e)] if len(path) == 1 else _boxes_at(data, path[1:], s + 8, e)


# --- the simple case: the same result as the PyAV path -------------------------------------------------

@pytest.mark.parametrize("offset", OFFSETS)
@pytest.mark.parametrize("name", ["h264_aac", "video_only", "client"])
def test_fast_path_gives_what_the_pyav_path_gives(made, name, offset, tmp_path, monkeypatch, ffmpeg_bin):
    fast = _same_as_pyav(made[name], offset, tmp_path, monkeypatch, ffmpeg_bin)
    assert fast.verdict.ok and fast.plan == rules.Plan("copy", "copy" if name != "video_only" else "none")
    assert fast.normalised.start_s == pytest.approx(offset, abs=0.2), "on the stream timeline"
    assert _tfdt_versions(tmp_path / "fast.mp4") == {1}, "ffmpeg writes version-1 tfdt: kept"


@pytest.mark.parametrize("name", ["h264_aac", "client"])
def test_version_0_tfdt_is_widened_when_the_offset_needs_64_bits(made, name, tmp_path, monkeypatch, ffmpeg_bin):
    narrow = tmp_path / "v0.mp4"
    narrow.write_bytes(_edited(made[name].read_bytes(), _tfdt_v0))
    assert _tfdt_versions(narrow) == {0}
    _same_as_pyav(narrow, 12.345, tmp_path, monkeypatch, ffmpeg_bin)
    assert _tfdt_versions(tmp_path / "fast.mp4") == {0}, "small times stay in 32 bits"
    _same_as_pyav(narrow, OFFSETS[-1], tmp_path, monkeypatch, ffmpeg_bin)
    # 1e5 s: 4.8e9 ticks of the 48-kHz audio (widened), 1.3e9 or 1.5e9 of the video's 12800 or 15360 (kept)
    assert _tfdt_versions(tmp_path / "fast.mp4") == {0, 1}


def test_an_identity_edit_list_is_taken(made, tmp_path, monkeypatch, ffmpeg_bin):
    edited = tmp_path / "edts.mp4"
    edited.write_bytes(_edited(made["client"].read_bytes(), _edit_list(0)))
    _same_as_pyav(edited, 12.345, tmp_path, monkeypatch, ffmpeg_bin)


@pytest.mark.skipif(not SIM.is_file(), reason=f"no simulator segment at {SIM} (made by `proctor simulate`)")
@pytest.mark.parametrize("offset", [10.0, OFFSETS[-1]])
def test_a_simulated_client_segment(offset, tmp_path, monkeypatch, ffmpeg_bin):
    fast = _same_as_pyav(SIM, offset, tmp_path, monkeypatch, ffmpeg_bin)
    assert fast.info.video.packets + fast.info.audio.packets > 1500


# --- outside the simple case: declined, and the pipeline is the PyAV path ---------------------------

def _broken_trun(data: bytes) -> bytes:
    """The first video sample claims more bytes than its mdat holds."""
    out = bytearray(data)
    s, _ = next(_boxes_at(data, [b"moof", b"traf", b"trun"]))
    flags = struct.unpack_from(">I", out, s + 8)[0]
    assert flags & 0x200, "per-sample sizes"
    struct.pack_into(">I", out, s + 20 + (4 if flags & 4 else 0) + (4 if flags & 0x100 else 0), len(data))
    return bytes(out)


def _all_sync(data: bytes) -> bytes:
    """Every video sample flagged as a sync sample (the bitstream has P frames): the fragments' default."""
    def edit(kind: bytes, box: bytes) -> bytes:
        flags, track = struct.unpack_from(">II", box, 8) if kind == b"tfhd" else (0, 0)
        if track != 1:
            return box
        assert flags & 0x20 and not flags & 0x3, "ffmpeg's tfhd: default duration, size and flags"
        at = 16 + 4 * bool(flags & 0x8) + 4 * bool(flags & 0x10)
        return box[:at] + bytes(4) + box[at + 4:]
    return _edited(data, edit)


def _gap(data: bytes) -> bytes:
    """The second fragment of the video starts 1000 ticks after the first one ends."""
    out = bytearray(data)
    second = list(_boxes_at(data, [b"moof"]))[1]
    for traf, traf_end in _boxes_at(data, [b"traf"], second[0] + 8, second[1]):
        (tfhd, _), (tfdt, _) = next(_boxes_at(data, [b"tfhd"], traf + 8, traf_end)), \
            next(_boxes_at(data, [b"tfdt"], traf + 8, traf_end))
        if struct.unpack_from(">I", data, tfhd + 12)[0] == 1:
            assert out[tfdt + 8] == 1, "ffmpeg's version-1 tfdt"
            struct.pack_into(">Q", out, tfdt + 12, struct.unpack_from(">Q", out, tfdt + 12)[0] + 1000)
    return bytes(out)


def _declined_inputs(made: dict, ffmpeg: str, name: str) -> tuple[Path, common.MediaFormat]:
    root: Path = made["root"] / name
    root.mkdir(exist_ok=True)
    client = made["client"].read_bytes()
    surgery = {"truncated": lambda: client[:len(client) * 2 // 3], "edit_list": lambda: _edited(client, _edit_list(1024)),
               "broken_trun": lambda: _broken_trun(client), "sync_flags": lambda: _all_sync(client),
               "gap": lambda: _gap(client)}
    if name in surgery:
        path = root / "in.mp4"
        path.write_bytes(surgery[name]())
        return path, H264_AAC
    if name == "webm":
        return clips.webm_segments(ffmpeg, root, "vp8", count=1)[0].path, common.MediaFormat()
    if name == "mpegts":
        return clips.h264_in(ffmpeg, root / "in.ts").path, common.MediaFormat()
    encoder = {"vp9_in_mp4": ["-c:v", "libvpx-vp9", "-deadline", "realtime", "-cpu-used", "8", "-b:v", "300k"],
               "recovery_point": ["-c:v", "libx264", "-preset", "ultrafast", "-x264-params", "intra-refresh=1:keyint=25"],
               "sidx": ["-c:v", "libx264", "-preset", "ultrafast", "-g", "25"]}[name]
    movflags = "+frag_keyframe+empty_moov+default_base_moof" + ("+global_sidx" if name == "sidx" else "")
    path = root / "in.mp4"
    clips.run(ffmpeg, "-v", "error", "-y", "-f", "lavfi", "-i", "testsrc2=size=320x240:rate=25", "-t", "2",
              *encoder, "-pix_fmt", "yuv420p", "-movflags", movflags, str(path))
    return path, common.MediaFormat()


@pytest.mark.parametrize(("name", "reason"), [
    ("truncated", "truncated"), ("edit_list", "edit list"), ("broken_trun", "trun data outside its mdat"),
    ("sync_flags", "sample flags that disagree"), ("gap", "does not follow the previous one"), ("webm", ""),
    ("mpegts", ""), ("vp9_in_mp4", "video codec b'vp09'"), ("recovery_point", "recovery point SEI"),
    ("sidx", "not ftyp, moov, (moof, mdat)")])
def test_what_is_not_simple_is_left_to_the_pyav_path(made, name, reason, tmp_path, monkeypatch, ffmpeg_bin, caplog):
    path, declared = _declined_inputs(made, ffmpeg_bin, name)
    expect = _expect(path, declared)
    with caplog.at_level(logging.DEBUG, logger="media_ingest.processing.fmp4"):
        assert fmp4.fast_process(path, expect, 5.0, tmp_path / "fast.mp4", tmp_path / "fast.jpg", MS) is None
    assert "fast path declined" in caplog.text and reason in caplog.text
    assert not (tmp_path / "fast.mp4").exists() and not (tmp_path / "fast.jpg").exists(), "nothing written"
    got = pipeline.process_file(path, expect, 5.0, tmp_path / "out.mp4", tmp_path / "out.jpg", MS)
    assert got == _pyav(path, 5.0, tmp_path / "pyav.mp4", tmp_path / "pyav.jpg", monkeypatch, declared)
    if got.normalised is not None:
        assert (tmp_path / "out.mp4").read_bytes() == (tmp_path / "pyav.mp4").read_bytes()


def test_flipped_bytes_are_declined_or_give_what_the_pyav_path_gives(made, tmp_path, monkeypatch):
    """Random bytes of the boxes (the first 4 KB and the mfra) changed: whatever the fast path takes, it
    describes and writes as the PyAV path does."""
    source = made["client"].read_bytes()
    rng = random.Random(7)
    taken = 0
    for trial in range(60):
        data = bytearray(source)
        for _ in range(rng.choice([1, 2, 4])):
            data[rng.randrange(4000) if trial % 4 else rng.randrange(len(data) - 1500, len(data))] = rng.randrange(256)
        path = tmp_path / "in.mp4"
        path.write_bytes(data)
        fast = fmp4.fast_process(path, _expect(path), 7.0, tmp_path / "fast.mp4", tmp_path / "fast.jpg", MS)
        if fast is not None:
            taken += 1
            slow = _pyav(path, 7.0, tmp_path / "pyav.mp4", tmp_path / "pyav.jpg", monkeypatch)
            _equal_outcomes(fast, slow, tmp_path / "fast.mp4", tmp_path / "pyav.mp4")
    assert 10 < taken < 60, "some changes are harmless (text, flags, times), others are declined"


def test_a_bug_in_the_fast_path_costs_speed_not_the_segment(made, tmp_path, monkeypatch, caplog):
    path = made["client"]
    want = _pyav(path, 5.0, tmp_path / "pyav.mp4", None, monkeypatch)

    def broken(data):
        raise IndexError("a bug")

    monkeypatch.setattr(fmp4, "_parse", broken)
    with caplog.at_level(logging.ERROR, logger="media_ingest.processing.pipeline"):
        got = pipeline.process_file(path, _expect(path), 5.0, tmp_path / "out.mp4", None, MS)
    assert got == want and got.verdict.ok and got.verdict.flags == [], "not flagged corrupt"
    assert (tmp_path / "out.mp4").read_bytes() == (tmp_path / "pyav.mp4").read_bytes()
    assert "fast path failed" in caplog.text and "IndexError" in caplog.text
