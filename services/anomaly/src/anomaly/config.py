"""anomaly settings (env prefix ``ANOMALY_``; model pack ``PROCTOR_FACES_*``; evidence storage
``MEDIA_STORAGE_*``, the same store media-ingest writes)."""

from __future__ import annotations

import tempfile
from pathlib import Path

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from anomaly.rules import DetectorSettings
from proctor_faces import FacesSettings
from proctor_runtime.settings import BaseServiceSettings
from proctor_storage import StorageSettings


class Settings(BaseServiceSettings):
    model_config = SettingsConfigDict(env_prefix="ANOMALY_", env_nested_delimiter="__", frozen=True, extra="ignore")

    service_name: str = "anomaly"
    kafka_group_id: str = "anomaly"
    faces: FacesSettings = Field(default_factory=FacesSettings)
    storage: StorageSettings = Field(default_factory=StorageSettings)
    # auth-face, for identity re-verification (ReVerify with a face crop; templates never leave it)
    auth_face_target: str = "127.0.0.1:17020"
    auth_face_timeout_s: float = 5.0
    # frames per second of media analysed (keyframes only when the keyframe interval allows)
    sample_rate: float = Field(default=1.0, gt=0, le=10)
    # frames are downscaled so that their longest side is at most this many pixels
    max_frame_width: int = Field(default=640, ge=160, le=1920)
    # threads running model inference (one per process by default: the models are CPU-bound)
    inference_workers: int = Field(default=1, ge=1, le=16)
    work_dir: Path = Path(tempfile.gettempdir()) / "anomaly"
    # key prefix of incident evidence thumbnails in the store
    evidence_prefix: str = "evidence"
    # memory stays bounded to the candidates still sitting: a tracker whose exam is over leaves memory
    # after this long without events (its state stays in the snapshot topic); ended candidates and
    # their rooms are forgotten after FORGET_ENDED_S
    evict_idle_s: float = Field(default=1800.0, gt=0)
    forget_ended_s: float = Field(default=24 * 3600.0, gt=0)
    evict_interval_s: float = Field(default=60.0, gt=0)
    # when the exam ends, a candidate's incidents close once every recording was analysed up to the end
    # (segments still queued may hold an anomaly that has not opened yet); a recording that never gets
    # there (a phone that died, footage that never came) is waited for this long after its last segment
    close_idle_s: float = Field(default=60.0, gt=0)
    # the detector state of a candidate (compacted topic) is published whenever an incident changes, and
    # otherwise after this much media (0 = after every segment)
    snapshot_interval_s: float = Field(default=30.0, ge=0)
    close_check_interval_s: float = Field(default=5.0, gt=0)
    # messages taken per consumer batch: small, so that telemetry and session events never wait behind
    # a long run of segments to analyse (a batch is finished before the next poll)
    kafka_batch_size: int = Field(default=8, ge=1, le=500)
    # the broker holds a fetch until this many bytes are there or this long has passed: librdkafka's defaults
    # (1 byte / 500 ms) answer a fetch per still or two, the broker's main cost in a sitting; 1 MiB / 100 ms is a
    # fetch every 100 ms (a still waits at most that much more). Batched, a candidate's session event and media
    # are more often consumed out of order: an incident may leave before its room is known here, and notify
    # places it in its room when the roster gets the room
    kafka_fetch_min_bytes: int = Field(default=1 << 20, ge=1, le=1 << 24)
    kafka_fetch_wait_ms: int = Field(default=100, ge=1, le=1000)
    # durations, thresholds, identity-check interval, change gate (ANOMALY_DETECTORS__<NAME>)
    detectors: DetectorSettings = Field(default_factory=DetectorSettings)
