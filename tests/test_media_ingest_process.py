"""media-ingest as the operator runs it (its own process, next to a real exam-session process), under
faults: kill -9 in the middle of an upload, a network cut mid-call, then resume → the stored bytes
are identical to what the client recorded and the manifest's hash chain verifies."""

import asyncio
import hashlib
import os
import random
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path

import grpc
import pytest

from media_ingest.chain import chain_over
from media_ingest.client import Segment, StreamUploader
from proctor.common.v1 import common_pb2
from proctor.exam.v1 import exam_session_pb2 as epb
from proctor.exam.v1 import exam_session_pb2_grpc
from proctor.media.v1 import media_ingest_pb2 as pb
from proctor.media.v1 import media_ingest_pb2_grpc
from proctor_cli.local import LocalStack
from proctor_runtime.devinfra.keys import keyring
from proctor_runtime.events import ts
from proctor_runtime.testing.helpers import bearer
from proctor_runtime.tokens import Role, TokenSigner

pytestmark = pytest.mark.infra


def recorded_segments(tmp_path: Path, ffmpeg: str, seconds: int = 12, segment_s: int = 2) -> list[Segment]:
    """A real recording: H.264/AAC fragmented-MP4 segments from ffmpeg's test sources."""
    out = tmp_path / "rec"
    out.mkdir()
    subprocess.run([ffmpeg, "-v", "error", "-f", "lavfi", "-i", f"testsrc2=size=640x360:rate=25:duration={seconds}",
                    "-f", "lavfi", "-i", f"sine=frequency=440:duration={seconds}", "-c:v", "libx264",
                    "-preset", "ultrafast", "-g", "50", "-c:a", "aac", "-f", "segment",
                    "-segment_time", str(segment_s), "-segment_format", "mp4", "-segment_format_options",
                    "movflags=frag_keyframe+empty_moov+default_base_moof", str(out / "seg%03d.mp4")],
                   check=True, timeout=120)
    start = datetime.now(UTC)
    files = sorted(out.glob("seg*.mp4"))
    return [Segment(f.read_bytes(), start + timedelta(seconds=segment_s * i), timedelta(seconds=segment_s))
            for i, f in enumerate(files)]


@pytest.fixture
async def stack(kafka_broker, postgres, monkeypatch, tmp_path):
    base = random.randrange(20000, 32000, 200)  # below the ephemeral port range
    monkeypatch.setenv("PROCTOR_SERVICE_PORT_BASE", str(base))
    dbs = {"exam-session": f"proctor_test_{base}_exam", "media-ingest": f"proctor_test_{base}_media"}
    s = LocalStack(databases=dbs, log_dir=tmp_path / "logs", storage_url=(tmp_path / "objects").as_uri())
    await s.start("exam-session")
    await s.start("media-ingest")
    yield s
    await s.stop()
    for db in dbs.values():
        postgres.psql(f'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)')


async def logged_in_candidate(s: LocalStack) -> tuple[str, tuple[tuple[str, str], ...], tuple[tuple[str, str], ...]]:
    keys = keyring(s.infra)
    admin, auth = TokenSigner(keys.signing["admin"]), TokenSigner(keys.signing["auth-face"])
    staff = bearer(admin.issue(sub="staff", role=Role.STAFF, ttl_s=600)[0])
    sitting_id = f"fault-{random.randrange(10**6)}"
    start = datetime.now(UTC) + timedelta(minutes=20)
    sitting = epb.Sitting(sitting_id=sitting_id, name="fault test", kind=common_pb2.SITTING_KIND_FORMAL)
    sitting.timeline.CopyFrom(epb.Timeline(
        login_opens=ts(start - timedelta(minutes=30)), waiting_room_opens=ts(start - timedelta(minutes=10)),
        start=ts(start), last_entry=ts(start + timedelta(minutes=30)), end=ts(start + timedelta(minutes=90)),
        upload_deadline=ts(start + timedelta(minutes=150))))
    sitting.questions.add(question_id="q0", type=epb.QUESTION_TYPE_ESSAY)
    async with grpc.aio.insecure_channel(s.services["exam-session"].target) as channel:
        stub = exam_session_pb2_grpc.ExamSessionStub(channel)
        await stub.CreateSitting(epb.CreateSittingRequest(sitting=sitting), metadata=staff)
        await stub.ImportCandidates(epb.ImportCandidatesRequest(rows=[epb.CandidateRow(
            line=2, candidate_id="c1", name="考生", sitting_id=sitting_id, room_id="r1", id_photo_ref="p.jpg")]),
            metadata=staff)
        face = auth.issue(sub="c1", role=Role.CANDIDATE, ttl_s=3600, sitting_id=sitting_id, candidate_id="c1",
                          device_id="desk-1")[0]
        await stub.Login(epb.LoginRequest(sitting_id=sitting_id, candidate_id="c1", face_login_token=face,
                                          device=common_pb2.DeviceInfo(kind=1, device_id="desk-1")))
    return sitting_id, bearer(face), staff


async def test_kill_9_and_a_network_cut_mid_upload_lose_nothing(stack: LocalStack, ffmpeg_bin, tmp_path: Path):
    segments = recorded_segments(tmp_path, ffmpeg_bin)
    assert len(segments) >= 5 and all(len(s.data) > 20_000 for s in segments)
    sitting_id, desktop, staff = await logged_in_candidate(stack)
    channel = grpc.aio.insecure_channel(stack.services["media-ingest"].target)
    stub = media_ingest_pb2_grpc.MediaIngestStub(channel)
    fmt = common_pb2.MediaFormat(container=common_pb2.MEDIA_CONTAINER_FMP4, video_codec=common_pb2.VIDEO_CODEC_H264,
                                 audio_codec=common_pb2.AUDIO_CODEC_AAC)
    opened = await stub.OpenStream(pb.OpenStreamRequest(sitting_id=sitting_id, candidate_id="c1",
                                                        kind=common_pb2.STREAM_KIND_DESKTOP_CAMERA, format=fmt,
                                                        client_stream_key="rec-1"), metadata=desktop)
    sid = opened.stream.stream_id
    # 1) kill -9 while chunks are in flight
    first = StreamUploader(stub, desktop, sid, chunk_bytes=8 * 1024, max_inflight=4)
    task = asyncio.create_task(first.upload(segments))
    async with asyncio.timeout(60):
        # kill while a segment is half acknowledged (its first chunks acked, its seal not yet)
        while first.stats.segments_sealed < 2 or not any(
                i not in first.stats.sealed_indexes for i in first.stats.acked_bytes):
            await asyncio.sleep(0.001)
    os.kill(stack.services["media-ingest"].process.pid, 9)
    with pytest.raises(grpc.aio.AioRpcError):
        await task
    acked_segments = set(first.stats.sealed_indexes)
    await channel.close()
    stack.services.pop("media-ingest").process.wait(10)
    await stack.start("media-ingest")
    channel = grpc.aio.insecure_channel(stack.services["media-ingest"].target)
    stub = media_ingest_pb2_grpc.MediaIngestStub(channel)
    again = await stub.OpenStream(pb.OpenStreamRequest(sitting_id=sitting_id, candidate_id="c1",
                                                       kind=common_pb2.STREAM_KIND_DESKTOP_CAMERA, format=fmt,
                                                       client_stream_key="rec-1"), metadata=desktop)
    assert again.reopened and again.stream.stream_id == sid
    assert set(range(again.committed.contiguous_segments)) >= acked_segments, "an acknowledged segment was lost"
    committed = {p.segment_index: p.committed_bytes for p in again.committed.segments}
    for index, acked in first.stats.acked_bytes.items():
        if index >= again.committed.contiguous_segments:
            assert committed.get(index, 0) >= acked, f"acknowledged bytes of segment {index} were lost"
    # 2) a network cut in the middle of the next call: the client gives up on the call
    second = StreamUploader(stub, desktop, sid, chunk_bytes=4 * 1024, max_inflight=2)
    cut = asyncio.create_task(second.upload(segments))
    async with asyncio.timeout(60):
        while second.stats.chunks_sent < 10:
            await asyncio.sleep(0.002)
    cut.cancel()
    with pytest.raises(asyncio.CancelledError):
        await cut
    # 3) resume to the end and close: verified, identical bytes, the chain checks out
    third = StreamUploader(stub, desktop, sid, chunk_bytes=64 * 1024)
    await third.upload(segments)
    closed = await third.close(segments)
    assert closed.verification.verified, closed
    manifest = await stub.GetManifest(pb.GetManifestRequest(stream_id=sid), metadata=staff)
    assert len(manifest.segments) == len(segments)
    for seg, entry in zip(segments, manifest.segments, strict=True):
        stored = await asyncio.to_thread(Path(entry.object_uri.removeprefix("file://")).read_bytes)
        assert hashlib.sha256(stored).digest() == seg.sha256 == entry.sha256
    chain = chain_over(sid, [(i, len(s.data), s.sha256) for i, s in enumerate(segments)])
    assert [e.chain_hash for e in manifest.segments] == chain
    leftovers = await asyncio.to_thread(lambda: list((tmp_path / "objects").rglob("*.part")))
    assert leftovers == [], "every partial segment became a sealed object"
    await channel.close()
