"""Segment clips for the media worker tests: what clients upload, made with ffmpeg on the fly.

- ``h264_segments``: H.264/AAC fragmented MP4 segments (native clients) from testsrc2 + sine;
- ``webm_segments``: VP8 or VP9 + Opus WebM segments (browser MediaRecorder);
- ``h264_in``: H.264 in Matroska (+ Opus) or MPEG-TS (+ AAC);
- ``cut``: stream-copied segments of a real clip (../shared/testdata/faces/video), cut at its keyframes;
- ``truncated`` / ``random_bytes``: broken uploads.
Every segment comes with its real duration (ffprobe), from which the tests derive client times.
"""

from __future__ import annotations

import json
import random
import subprocess
from dataclasses import dataclass
from pathlib import Path

FMP4 = "movflags=frag_keyframe+empty_moov+default_base_moof"


@dataclass(frozen=True)
class Segment:
    path: Path
    start_s: float  # where it starts in the source recording
    duration_s: float


def run(*args: str) -> None:
    done = subprocess.run(args, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(args)} failed: {done.stderr[-2000:]}")


def ffprobe_json(path: Path, *entries: str) -> dict:
    out = subprocess.run(["ffprobe", "-v", "error", "-of", "json", *entries, str(path)],
                         capture_output=True, text=True, check=True).stdout
    return json.loads(out)


def duration(path: Path) -> float:
    return float(ffprobe_json(path, "-show_entries", "format=duration")["format"]["duration"])


def _segments(out_dir: Path, pattern: str) -> list[Segment]:
    paths = sorted(out_dir.glob(pattern))
    out, start = [], 0.0
    for path in paths:
        length = duration(path)
        out.append(Segment(path, start, length))
        start += length
    return out


def _sources(seconds: float, size: str, rate: int, audio: bool) -> list[str]:
    args = ["-f", "lavfi", "-i", f"testsrc2=size={size}:rate={rate}"]
    if audio:
        args += ["-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000"]
    return [*args, "-t", f"{seconds}"]


def h264_segments(ffmpeg: str, out_dir: Path, count: int = 3, seconds: int = 2, size: str = "320x240",
                  rate: int = 25, audio: bool = True, name: str = "h264") -> list[Segment]:
    """``count`` segments of ``seconds`` each, a keyframe every second (cuts land on keyframes)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    run(ffmpeg, "-v", "error", "-y", *_sources(count * seconds, size, rate, audio),
        "-c:v", "libx264", "-preset", "ultrafast", "-g", str(rate), "-pix_fmt", "yuv420p",
        *(["-c:a", "aac", "-b:a", "64k"] if audio else []),
        "-f", "segment", "-segment_time", str(seconds), "-segment_format", "mp4",
        "-segment_format_options", FMP4, "-reset_timestamps", "1", str(out_dir / f"{name}-%03d.mp4"))
    return _segments(out_dir, f"{name}-*.mp4")


def webm_segments(ffmpeg: str, out_dir: Path, codec: str = "vp9", count: int = 2, seconds: int = 2,
                  size: str = "320x240", rate: int = 25, name: str = "") -> list[Segment]:
    """VP8/VP9 + Opus WebM segments as MediaRecorder makes them (a keyframe starts each)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    name = name or codec
    encoder = {"vp9": "libvpx-vp9", "vp8": "libvpx"}[codec]
    run(ffmpeg, "-v", "error", "-y", *_sources(count * seconds, size, rate, True),
        "-c:v", encoder, "-deadline", "realtime", "-cpu-used", "8", "-b:v", "300k", "-g", str(rate * seconds),
        "-keyint_min", str(rate * seconds), "-c:a", "libopus", "-b:a", "48k",
        "-f", "segment", "-segment_time", str(seconds), "-segment_format", "webm", "-reset_timestamps", "1",
        str(out_dir / f"{name}-%03d.webm"))
    return _segments(out_dir, f"{name}-*.webm")


def h264_in(ffmpeg: str, dest: Path, seconds: int = 2) -> Segment:
    """H.264 in another container: Matroska with Opus (Chrome's MediaRecorder ``codecs=avc1,opus``)
    for ``.mkv``, MPEG-TS with AAC for ``.ts``."""
    audio = ["-c:a", "libopus"] if dest.suffix == ".mkv" else ["-c:a", "aac"]
    run(ffmpeg, "-v", "error", "-y", *_sources(seconds, "320x240", 25, True), "-c:v", "libx264", "-preset",
        "ultrafast", "-g", "25", "-pix_fmt", "yuv420p", *audio, str(dest))
    return Segment(dest, 0.0, duration(dest))


def cut(ffmpeg: str, clip: Path, out_dir: Path, seconds: float, fmt: str = "mp4") -> list[Segment]:
    """A real clip cut (stream copy, at its keyframes) into segments of about ``seconds``."""
    out_dir.mkdir(parents=True, exist_ok=True)
    options = ["-segment_format_options", FMP4] if fmt == "mp4" else []
    run(ffmpeg, "-v", "error", "-y", "-i", str(clip), "-map", "0", "-c", "copy", "-f", "segment",
        "-segment_time", str(seconds), "-segment_format", fmt, *options, "-reset_timestamps", "1",
        str(out_dir / f"{clip.stem}-%03d.{fmt}"))
    return _segments(out_dir, f"{clip.stem}-*.{fmt}")


def truncated(source: Path, dest: Path, fraction: float) -> Path:
    data = source.read_bytes()
    dest.write_bytes(data[:int(len(data) * fraction)])
    return dest


def random_bytes(dest: Path, size: int, seed: int = 5) -> Path:
    dest.write_bytes(random.Random(seed).randbytes(size))
    return dest
