"""media-ingest settings (env prefix ``MEDIA_INGEST_``; object storage: ``MEDIA_STORAGE_*``)."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from media_ingest.domain import Limits
from proctor.common.v1 import common_pb2
from proctor_runtime.settings import BaseServiceSettings
from proctor_storage.store import StorageSettings

MIB = 1024 * 1024


class Settings(BaseServiceSettings):
    model_config = SettingsConfigDict(env_prefix="MEDIA_INGEST_", frozen=True, extra="ignore")

    service_name: str = "media-ingest"
    kafka_group_id: str = "media-ingest"
    storage: StorageSettings = Field(default_factory=StorageSettings)
    # exam-session (candidate state, bound phone, the sitting's timeline and required streams)
    exam_session_target: str = "127.0.0.1:17010"
    exam_session_timeout_s: float = 5.0
    sitting_cache_s: float = 30.0

    # Limits (UploadLimits in OpenStream/UploadReady)
    max_chunk_bytes: int = Field(default=1 * MIB, ge=1024, le=3 * MIB)  # gRPC messages stay < 4 MiB
    max_segment_bytes: int = Field(default=64 * MIB, ge=MIB)
    max_stream_bytes: int = Field(default=8 * 1024 * MIB, ge=MIB)
    max_inflight_chunks: int = Field(default=16, ge=1, le=256)
    max_segments: int = Field(default=100_000, ge=1)
    # storage writes (pwrite + fsync, S3 PUTs) run in this many threads
    io_threads: int = Field(default=16, ge=1, le=256)

    # uploads after the sitting's deadline are kept and flagged late until this long after it;
    # later ones are refused UPLOAD_WINDOW_CLOSED
    late_upload_window_s: int = Field(default=7 * 24 * 3600, ge=0)
    # how often the deadline sweeper looks for incomplete uploads past their deadline
    sweep_interval_s: float = Field(default=30.0, gt=0)
    # OpenStream calls per candidate per minute (a reconnect storm stays bounded)
    open_per_candidate_per_minute: float = 120

    # segment length announced to clients per stream kind (UploadLimits.segment_duration): the detectors get
    # live stills of the analysed streams (below), so every kind's segments are only the record, and every
    # segment costs the same fixed work in the pipeline (upload commit, Kafka events, probe and remux,
    # database rows; ~13 ms of CPU estimated from one pair of simulated sittings, docs/benchmarks.md): longer
    # ones are cheaper. The room scan is short.
    segment_s_desktop_camera: float = Field(default=30.0, ge=0.5, le=60)
    segment_s_phone_evidence: float = Field(default=30.0, ge=0.5, le=60)
    segment_s_desktop_screen: float = Field(default=30.0, ge=0.5, le=60)
    segment_s_phone_room_scan: float = Field(default=2.0, ge=0.5, le=60)

    # live analysis stills (SubmitStills; UploadLimits.still_*): one JPEG every this many seconds while the
    # stream records, published to Kafka for anomaly; 0 = the kind takes no stills. The screen and the room
    # scan never take stills. The desktop camera's rules are 2-5 s long (one still a second); the phone's
    # are 5-10 s (phone covered, moved, candidate not visible): a still every 2 s gives each several
    # samples at half the cost of the stills, their Kafka traffic and their analysis.
    still_interval_s_desktop_camera: float = Field(default=1.0, ge=0, le=60)
    still_interval_s_phone_evidence: float = Field(default=2.0, ge=0, le=60)
    still_max_bytes: int = Field(default=256 * 1024, ge=1024, le=3 * MIB)  # one still
    still_max_side: int = Field(default=640, ge=64, le=4096)  # pixels on the longer side (what the detectors use)
    max_stills_per_call: int = Field(default=64, ge=1, le=1000)
    # how long a SubmitStills call waits for Kafka to have every still before answering UNAVAILABLE
    still_publish_timeout_s: float = Field(default=10.0, gt=0, le=120)
    # stream rows kept in memory by SubmitStills (1 call/s per stream): a closed stream may still take
    # stills for this long on a replica that cached it open; 0 = read the row on every call
    still_stream_cache_s: float = Field(default=10.0, ge=0, le=60)
    # stills per stream: 3 per second sustained (three times the interval) and a burst of 10 minutes of them
    # (a backlog after a network drop); beyond, RESOURCE_EXHAUSTED RATE_LIMITED: the client drops those
    # stills, and anomaly analyses that time from the stream's segments instead
    stills_per_minute_per_stream: float = Field(default=180.0, gt=0)
    stills_burst_per_stream: float = Field(default=600.0, ge=1)

    def segment_seconds(self, kind: int) -> float | None:
        by_kind = {common_pb2.STREAM_KIND_DESKTOP_CAMERA: self.segment_s_desktop_camera,
                   common_pb2.STREAM_KIND_DESKTOP_SCREEN: self.segment_s_desktop_screen,
                   common_pb2.STREAM_KIND_PHONE_EVIDENCE: self.segment_s_phone_evidence,
                   common_pb2.STREAM_KIND_PHONE_ROOM_SCAN: self.segment_s_phone_room_scan}
        return by_kind.get(kind)

    def still_seconds(self, kind: int) -> float | None:
        """The still interval of a stream kind; None when it takes no stills (screen, room scan, or 0)."""
        by_kind = {common_pb2.STREAM_KIND_DESKTOP_CAMERA: self.still_interval_s_desktop_camera,
                   common_pb2.STREAM_KIND_PHONE_EVIDENCE: self.still_interval_s_phone_evidence}
        seconds = by_kind.get(kind)
        return seconds if seconds else None

    def limits(self) -> Limits:
        return Limits(self.max_chunk_bytes, self.max_segment_bytes, self.max_stream_bytes,
                      self.max_inflight_chunks, self.max_segments)
