"""media-ingest test harness: a real exam-session and a real media-ingest in process, on the real
PostgreSQL and Kafka, sharing one controllable clock; candidates walked to a logged-in, phone-bound
state through exam-session's own RPCs."""

from __future__ import annotations

import asyncio
import hashlib
import uuid
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import cv2
import grpc
import numpy as np
from exam_harness import START, Clock, Harness, setup_sitting
from pydantic import SecretStr
from skimage import data

from exam_session.app import build as build_exam
from exam_session.config import Settings as ExamSettings
from media_ingest.app import build as build_ingest
from media_ingest.client import Segment, StreamUploader
from media_ingest.config import Settings
from proctor.common.v1 import common_pb2
from proctor.exam.v1 import exam_session_pb2 as epb
from proctor.exam.v1 import exam_session_pb2_grpc
from proctor.media.v1 import media_ingest_pb2 as pb
from proctor.media.v1 import media_ingest_pb2_grpc
from proctor_runtime.devinfra import PostgresCluster
from proctor_runtime.testing.helpers import bearer
from proctor_runtime.testing.plugin import start_group_at_end
from proctor_runtime.tokens import Role, TokenSigner, generate_key
from proctor_runtime.topics import MEDIA_STREAMS, ensure_topics, new_topics
from proctor_storage.store import FilesystemStore, SegmentStore

Metadata = tuple[tuple[str, str], ...]


@dataclass
class Candidate:
    candidate_id: str
    desktop: Metadata
    phone: Metadata


@dataclass
class Ingest:
    exam: Harness
    stub: media_ingest_pb2_grpc.MediaIngestStub
    host: Any
    settings: Settings
    objects: SegmentStore
    dsn: str

    @property
    def clock(self) -> Clock:
        return self.exam.clock

    @property
    def sitting_id(self) -> str:
        return self.exam.sitting_id

    @property
    def uploads(self) -> Any:
        return self.host.logic

    async def candidate(self, cid: str, device: str = "desk-1") -> Candidate:
        """Login (auth-face token) and bind the phone through exam-session."""
        h = self.exam
        token = h.face_token(cid, device)
        await h.stub.Login(epb.LoginRequest(sitting_id=h.sitting_id, candidate_id=cid, face_login_token=token,
                                            device=common_pb2.DeviceInfo(kind=1, device_id=device)))
        code = await h.stub.IssueBindCode(epb.IssueBindCodeRequest(sitting_id=h.sitting_id, candidate_id=cid),
                                          metadata=bearer(token))
        bound = await h.stub.BindPhone(epb.BindPhoneRequest(bind_code=code.bind_code, device=common_pb2.DeviceInfo(
            kind=common_pb2.DEVICE_KIND_PHONE, device_id=f"phone-{cid}")))
        return Candidate(cid, bearer(token), bearer(bound.device_token))

    async def open(self, who: Candidate, kind: int = common_pb2.STREAM_KIND_DESKTOP_CAMERA, key: str = "",
                   metadata: Metadata | None = None) -> pb.OpenStreamResponse:
        md = metadata or (who.phone if kind in (3, 4) else who.desktop)
        fmt = common_pb2.MediaFormat(container=common_pb2.MEDIA_CONTAINER_FMP4, video_codec=1, audio_codec=1)
        return await self.stub.OpenStream(pb.OpenStreamRequest(
            sitting_id=self.sitting_id, candidate_id=who.candidate_id, kind=kind, format=fmt,
            client_stream_key=key or f"k-{uuid.uuid4().hex[:8]}"), metadata=md)

    def uploader(self, md: Metadata, stream_id: str, **kw: Any) -> StreamUploader:
        return StreamUploader(self.stub, md, stream_id, **kw)

    def staff(self) -> Metadata:
        return self.exam.staff()

    def service(self) -> Metadata:
        return bearer(self.exam.admin.issue(sub="anomaly", role=Role.SERVICE, ttl_s=3600,
                                            now=self.clock.now.timestamp())[0])


def segments_of(n: int, size: int = 300_000, seed: str = "") -> list[Segment]:
    """Deterministic pseudo-random segment bytes (incompressible, distinct per segment)."""
    out = []
    for i in range(n):
        block = hashlib.sha256(f"{seed}:{i}".encode()).digest()
        data = (block * (size // 32 + 1))[:size]
        data = bytes(b ^ (j & 0xFF) for j, b in enumerate(data[:64])) + data[64:]
        out.append(Segment(data, START + timedelta(seconds=4 * i), timedelta(seconds=4)))
    return out


def still_jpeg(quality: int = 80) -> bytes:
    """A real JPEG still as clients send them (skimage's astronaut, 512 x 512, about 46 KB at quality 80)."""
    image = cv2.cvtColor(np.asarray(data.astronaut()), cv2.COLOR_RGB2BGR)
    ok, encoded = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, quality])
    assert ok
    return encoded.tobytes()


async def start_ingest(pg_dsn: str, postgres: PostgresCluster, kafka_bootstrap: str, root: Path,
                       objects: SegmentStore | None = None, **overrides: Any) -> Ingest:
    ensure_topics(kafka_bootstrap, new_topics())
    auth_signing, auth_public = generate_key("auth-face-1")
    admin_signing, admin_public = generate_key("admin-1")
    exam_signing, exam_public = generate_key("exam-session-1")
    media_signing, media_public = generate_key("media-ingest-1")
    publics = ",".join([auth_public, admin_public, exam_public, media_public])
    group = f"exam-session-test-{uuid.uuid4().hex[:6]}"
    start_group_at_end(kafka_bootstrap, group, [MEDIA_STREAMS.name])
    clock = Clock(START - timedelta(minutes=40))
    exam_host = await build_exam(ExamSettings(
        database_url=SecretStr(pg_dsn), kafka_bootstrap=kafka_bootstrap, kafka_group_id=group,
        kafka_offset_reset="earliest", token_signing_key=SecretStr(exam_signing), token_public_keys=publics,
        sweep_interval_s=3600, shutdown_grace_s=1), clock)
    await exam_host.start()
    async with asyncio.timeout(30):
        await exam_host.consumers[0].ready.wait()
    exam_channel = grpc.aio.insecure_channel(f"127.0.0.1:{exam_host.port}")
    exam = Harness(exam_session_pb2_grpc.ExamSessionStub(exam_channel), exam_host, clock,
                   TokenSigner(auth_signing), TokenSigner(admin_signing))
    exam.channel = exam_channel  # type: ignore[attr-defined]
    media_db = f"media_{uuid.uuid4().hex[:10]}"
    postgres.psql(f'CREATE DATABASE "{media_db}"')
    dsn = postgres.settings.pg_dsn_for(media_db)
    settings = Settings(**{
        "database_url": SecretStr(dsn), "kafka_bootstrap": kafka_bootstrap,
        "token_signing_key": SecretStr(media_signing), "token_public_keys": publics,
        "exam_session_target": f"127.0.0.1:{exam_host.port}", "shutdown_grace_s": 1, "sweep_interval_s": 3600,
        "sitting_cache_s": 0, **overrides})
    objects = objects or FilesystemStore(root)
    host = await build_ingest(settings, clock, objects)
    await host.start()
    channel = grpc.aio.insecure_channel(f"127.0.0.1:{host.port}",
                                        options=[("grpc.max_send_message_length", 8 << 20)])
    ingest = Ingest(exam, media_ingest_pb2_grpc.MediaIngestStub(channel), host, settings, objects, dsn)
    ingest.channel = channel  # type: ignore[attr-defined]
    ingest.media_db = media_db  # type: ignore[attr-defined]
    return ingest


async def stop_ingest(ingest: Ingest, postgres: PostgresCluster) -> None:
    await ingest.channel.close()  # type: ignore[attr-defined]
    await ingest.host.stop()
    await ingest.exam.channel.close()  # type: ignore[attr-defined]
    await ingest.exam.host.stop()  # type: ignore[attr-defined]
    postgres.psql(f'DROP DATABASE IF EXISTS "{ingest.media_db}" WITH (FORCE)')  # type: ignore[attr-defined]


async def sitting(ingest: Ingest, candidates: int = 3, **policy: Any) -> None:
    await setup_sitting(ingest.exam, candidates=candidates, rooms=("r1", "r2"), **policy)
    ingest.clock.move_to(START - timedelta(minutes=25))  # face login is open
