"""media worker settings (env prefix ``MEDIA_WORKER_``; object storage: ``MEDIA_STORAGE_*``).

The worker runs ffmpeg's libraries in-process through PyAV (see ``normalise.py`` for why), so it
needs no ffmpeg/ffprobe binaries; the benchmark's CLI comparison takes their paths as arguments.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field
from pydantic_settings import SettingsConfigDict

from proctor_runtime.settings import BaseServiceSettings
from proctor_storage.store import StorageSettings

X264Preset = Literal["ultrafast", "superfast", "veryfast", "faster", "fast", "medium"]


class MediaSettings(BaseModel):
    """How segments are validated and normalised (the part the benchmark shares with the worker)."""

    model_config = ConfigDict(frozen=True)

    # libx264 for VP8/VP9/AV1/H.265 -> H.264 (quality: CRF; speed: preset)
    transcode_preset: X264Preset = "veryfast"
    transcode_crf: int = Field(default=23, ge=0, le=51)
    # encoder threads per transcode; 1 gives the most segments per core (concurrency scales out)
    transcode_threads: int = Field(default=1, ge=0, le=16)
    # keyframe spacing of transcoded video: seek granularity for review, and anomaly samples 1 frame/s
    # by decoding keyframes only when they are at most ~1 s apart (a 2-s GOP doubles its decode cost)
    keyframe_interval_s: float = Field(default=1.0, gt=0, le=10)
    audio_bitrate: int = Field(default=96_000, ge=16_000, le=320_000)
    thumbnail_width: int = Field(default=320, ge=64, le=1920)
    # media duration vs the client's capture range: flagged when off by more than
    # max(duration_tolerance_s, duration_tolerance_ratio * client range)
    duration_tolerance_s: float = Field(default=1.0, ge=0)
    duration_tolerance_ratio: float = Field(default=0.1, ge=0)
    # a segment starting this much after the previous one ended is a gap (flag + playlist marker)
    gap_tolerance_s: float = Field(default=1.0, ge=0)


class WorkerSettings(BaseServiceSettings):
    model_config = SettingsConfigDict(env_prefix="MEDIA_WORKER_", env_nested_delimiter="__", frozen=True,
                                      extra="ignore")

    service_name: str = "media-worker"
    kafka_group_id: str = "media-worker"
    storage: StorageSettings = Field(default_factory=StorageSettings)
    # scratch space for fetched raw segments and outputs before they are stored (cleaned per segment)
    work_dir: Path = Path(tempfile.gettempdir()) / "media-worker"
    # segments processed at the same time (threads running ffmpeg's libraries; they release the GIL)
    concurrency: int = Field(default=os.cpu_count() or 2, ge=1, le=64)
    # HLS EXT-X-TARGETDURATION of the review playlists (raised if a longer segment appears)
    playlist_target_duration_s: int = Field(default=10, ge=1, le=60)
    # a stream's review playlist is rewritten at most this often while it records (every rewrite reads all its
    # segments), and at once when the stream closes; 0 = after every segment
    playlist_refresh_s: float = Field(default=10.0, ge=0, le=300)
    # a JPEG thumbnail for the segment that starts each such stretch of a stream's timeline (the review
    # strip); 0 = every segment. Every segment's first keyframe is still decoded (a segment whose video
    # does not decode is unusable either way)
    thumbnail_interval_s: float = Field(default=30.0, ge=0, le=3600)
    # object keys of the review output: <prefix>/<sitting>/<candidate>/<stream>/...
    review_prefix: str = "review"

    # validation and normalisation: MEDIA_WORKER_MEDIA__TRANSCODE_PRESET, MEDIA_WORKER_MEDIA__KEYFRAME_INTERVAL_S, ...
    media: MediaSettings = Field(default_factory=MediaSettings)
