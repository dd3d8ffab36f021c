"""Benchmark of the media worker's per-segment processing: media seconds per CPU second.

``measure()`` makes segments the way clients do (ffmpeg's testsrc2 + sine: H.264/AAC fragmented MP4
and VP8/VP9 + Opus WebM), adds cuts of the real clips in ../shared/testdata/faces/video when they
are present, and runs each through exactly what the worker runs per segment (``process_file``:
probe, structural checks, flags, remux or transcode onto the timeline, thumbnail, keyframe scan;
storage and Kafka excluded). CPU is the process's own (``RUSAGE_SELF``: in-process libav, all its
threads). For comparison it runs the same remuxes through the ffmpeg CLI via ffmpeg-python
(``ffprobe`` + ``ffmpeg -c copy``), counting the children's CPU (``RUSAGE_CHILDREN``).
"""

from __future__ import annotations

import os
import platform
import resource
import statistics
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import ffmpeg

from media_ingest.processing import rules
from media_ingest.processing.config import MediaSettings
from media_ingest.processing.pipeline import process_file
from proctor.common.v1 import common_pb2 as common

FMP4 = "frag_keyframe+empty_moov+default_base_moof"
H264_AAC = common.MediaFormat(container=common.MEDIA_CONTAINER_FMP4, video_codec=common.VIDEO_CODEC_H264,
                              audio_codec=common.AUDIO_CODEC_AAC)
WEBM = common.MediaFormat(container=common.MEDIA_CONTAINER_WEBM)


@dataclass(frozen=True)
class Input:
    path: Path
    group: str  # "synthetic" or "real"
    declared: common.MediaFormat


def _cpu(who: int) -> float:
    usage = resource.getrusage(who)
    return usage.ru_utime + usage.ru_stime


def _ffmpeg(ffmpeg_bin: str, stream: Any) -> None:
    stream.global_args("-v", "error").overwrite_output().run(cmd=ffmpeg_bin, quiet=True)


def _synthetic(root: Path, ffmpeg_bin: str, codec: str, count: int, segment_s: float, size: str,
               rate: int) -> list[Path]:
    """``count`` segments of ``segment_s`` from one continuous test recording (a keyframe every 2 s)."""
    out = root / codec
    out.mkdir()
    video = ffmpeg.input(f"testsrc2=size={size}:rate={rate}", f="lavfi", t=count * segment_s)
    audio = ffmpeg.input("sine=frequency=440:sample_rate=48000", f="lavfi", t=count * segment_s)
    if codec == "h264":
        codecs = {"c:v": "libx264", "preset": "veryfast", "pix_fmt": "yuv420p", "c:a": "aac", "b:a": "96k",
                  "segment_format": "mp4", "segment_format_options": f"movflags={FMP4}"}
        ext = "mp4"
    else:
        codecs = {"c:v": {"vp9": "libvpx-vp9", "vp8": "libvpx"}[codec], "deadline": "realtime", "cpu-used": 8,
                  "b:v": "800k", "c:a": "libopus", "b:a": "48k", "segment_format": "webm"}
        ext = "webm"
    _ffmpeg(ffmpeg_bin, ffmpeg.output(video, audio, str(out / f"%03d.{ext}"), g=2 * rate, keyint_min=2 * rate,
                                      f="segment", segment_time=segment_s, reset_timestamps=1, **codecs))
    return sorted(out.glob(f"*.{ext}"))


def _cut(root: Path, ffmpeg_bin: str, clip: Path, segment_s: float) -> list[Path]:
    out = root / f"real-{clip.stem}"
    out.mkdir()
    ext, options = ("webm", {}) if clip.suffix == ".webm" else ("mp4", {"segment_format_options": f"movflags={FMP4}"})
    _ffmpeg(ffmpeg_bin, ffmpeg.input(str(clip)).output(str(out / f"%03d.{ext}"), c="copy", f="segment",
                                                        segment_time=segment_s, segment_format=ext,
                                                        reset_timestamps=1, **options))
    return sorted(out.glob(f"*.{ext}"))


def _inputs(root: Path, ffmpeg_bin: str, clips_dir: Path | None, segment_s: float, remux_segments: int,
            transcode_segments: int, size: str, rate: int) -> dict[str, list[Input]]:
    remux = [Input(p, "synthetic", H264_AAC)
             for p in _synthetic(root, ffmpeg_bin, "h264", remux_segments, segment_s, size, rate)]
    transcode = [Input(p, "synthetic", WEBM) for codec in ("vp9", "vp8")
                 for p in _synthetic(root, ffmpeg_bin, codec, transcode_segments, segment_s, size, rate)]
    if clips_dir is not None and clips_dir.is_dir():
        for clip in sorted(p for p in clips_dir.iterdir() if p.suffix in (".mp4", ".webm")):
            target = transcode if clip.suffix == ".webm" else remux
            declared = WEBM if clip.suffix == ".webm" else H264_AAC
            target += [Input(p, "real", declared) for p in _cut(root, ffmpeg_bin, clip, segment_s)]
    return {"remux": remux, "transcode": transcode}


def _pyav(inputs: list[Input], expected: int, passes: int, settings: MediaSettings, root: Path) -> dict[str, Any]:
    """Run the worker's per-segment processing over ``inputs`` ``passes`` times."""
    per: dict[str, dict[str, Any]] = {}
    errors: list[str] = []
    for n in range(passes):
        for i, item in enumerate(inputs):
            expect = rules.Expectation(item.declared, common.STREAM_KIND_DESKTOP_CAMERA, None, 0)
            wall, cpu, thread = time.perf_counter(), _cpu(resource.RUSAGE_SELF), time.thread_time()
            outcome = process_file(item.path, expect, 4.0 * i, root / "out.mp4", root / "out.jpg", settings)
            thread = time.thread_time() - thread
            cpu, wall = _cpu(resource.RUSAGE_SELF) - cpu, time.perf_counter() - wall
            if outcome.normalised is None or outcome.action != expected:
                errors.append(f"{item.path.name}: {outcome.verdict.detail or outcome.action}")
                continue
            for group in (item.group, "all"):
                g = per.setdefault(group, {"segments": 0, "media_seconds": 0.0, "cpu_seconds": 0.0,
                                           "wall_seconds": 0.0, "ms": []})
                g["segments"] += 1
                g["media_seconds"] += outcome.normalised.duration_s
                g["cpu_seconds"] += cpu
                g["wall_seconds"] += wall
                g["ms"].append(thread * 1000)
        if n == 0 and passes > 1:
            per.clear()  # the first pass warms caches (page cache, codec init); passes after it count
    out: dict[str, Any] = {group: _summary(g) for group, g in per.items()}
    out["errors"] = errors
    return out


def _summary(g: dict[str, Any]) -> dict[str, Any]:
    ms = sorted(g.pop("ms"))
    return {**{k: round(v, 4) if isinstance(v, float) else v for k, v in g.items()},
            "realtime_factor": round(g["media_seconds"] / g["cpu_seconds"], 1) if g["cpu_seconds"] else 0.0,
            "per_segment_cpu_ms_p50": round(statistics.median(ms), 2),
            "per_segment_cpu_ms_max": round(ms[-1], 2),
            "mean_segment_seconds": round(g["media_seconds"] / g["segments"], 3)}


def _cli(inputs: list[Input], root: Path, ffmpeg_bin: str, ffprobe_bin: str, transcode: bool) -> dict[str, Any]:
    """The same work through the ffmpeg CLI (ffmpeg-python): ffprobe, then one ffmpeg per segment."""
    media_s = probe_cpu = run_cpu = 0.0
    for i, item in enumerate(inputs):
        cpu = _cpu(resource.RUSAGE_CHILDREN)
        probed = ffmpeg.probe(str(item.path), cmd=ffprobe_bin)
        probe_cpu += _cpu(resource.RUSAGE_CHILDREN) - cpu
        media_s += float(probed["format"]["duration"])
        codecs = ({"c:v": "libx264", "preset": "veryfast", "threads": 1, "c:a": "aac"} if transcode
                  else {"c": "copy"})
        cpu = _cpu(resource.RUSAGE_CHILDREN)
        _ffmpeg(ffmpeg_bin, ffmpeg.input(str(item.path)).output(str(root / "cli.mp4"), f="mp4", movflags=FMP4,
                                                                  output_ts_offset=4.0 * i, **codecs))
        run_cpu += _cpu(resource.RUSAGE_CHILDREN) - cpu
    n = max(1, len(inputs))
    return {"segments": len(inputs), "media_seconds": round(media_s, 3),
            "cpu_seconds_probe": round(probe_cpu, 4), "cpu_seconds_ffmpeg": round(run_cpu, 4),
            "per_segment_cpu_ms": round((probe_cpu + run_cpu) / n * 1000, 2),
            "realtime_factor": round(media_s / (probe_cpu + run_cpu), 1) if probe_cpu + run_cpu else 0.0,
            "realtime_factor_without_probe": round(media_s / run_cpu, 1) if run_cpu else 0.0}


def _default_clips() -> Path | None:
    from proctor_runtime.devinfra.config import repo_root

    found = repo_root().parent / "shared" / "testdata" / "faces" / "video"
    return found if found.is_dir() else None


def measure(*, segment_s: float = 4.0, remux_segments: int = 12, transcode_segments: int = 4, passes: int = 3,
            size: str = "640x480", rate: int = 30, clips_dir: Path | None = None, use_real_clips: bool = True,
            cli_segments: int = 8, ffmpeg_bin: str = "ffmpeg", ffprobe_bin: str = "ffprobe",
            settings: MediaSettings | None = None) -> dict[str, Any]:
    """Remux and transcode real-time factors (media seconds per CPU second) of the worker's
    per-segment processing, with per-group detail and the ffmpeg-CLI comparison."""
    settings = settings or MediaSettings()
    clips = (clips_dir or _default_clips()) if use_real_clips else None
    with tempfile.TemporaryDirectory(prefix="media-bench-") as tmp:
        root = Path(tmp)
        inputs = _inputs(root, ffmpeg_bin, clips, segment_s, remux_segments, transcode_segments, size, rate)
        remux = _pyav(inputs["remux"], 1, passes, settings, root)
        transcode = _pyav(inputs["transcode"], 2, 1, settings, root)
        cli_remux = _cli(inputs["remux"][:cli_segments], root, ffmpeg_bin, ffprobe_bin, transcode=False)
        cli_transcode = _cli(inputs["transcode"][:2], root, ffmpeg_bin, ffprobe_bin, transcode=True)
    return {
        "remux_realtime_factor": remux.get("all", {}).get("realtime_factor", 0.0),
        "transcode_realtime_factor": transcode.get("all", {}).get("realtime_factor", 0.0),
        "media_processing": {
            "engine": "PyAV (libav in-process), the worker's process_file per segment",
            "remux": remux, "transcode": transcode,
            "cli_ffmpeg_python": {"remux": cli_remux, "transcode": cli_transcode},
            "inputs": {"segment_seconds": segment_s, "synthetic": f"testsrc2 {size}@{rate} + sine 48 kHz",
                       "real_clips": str(clips) if clips else None,
                       "remux_segments": len(inputs["remux"]), "transcode_segments": len(inputs["transcode"])},
            "settings": {"transcode_preset": settings.transcode_preset, "transcode_threads": settings.transcode_threads,
                         "passes": passes},
            "machine": {"cpus": os.cpu_count(), "python": platform.python_version()},
        },
    }
