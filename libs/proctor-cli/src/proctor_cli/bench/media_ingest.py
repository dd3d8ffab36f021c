"""``proctor bench media-ingest``: many concurrent resumable uploads of real media segments into the
real media-ingest process (every ack durable: fsync'd on the filesystem backend), with the real
exam-session, PostgreSQL, Kafka and the processing worker; then the ffmpeg remux/transcode factors.

ingest_mb_per_s      phase 1 (burst): every stream uploads its whole recording at once; bytes
                     acknowledged / wall time
ack_to_event_p99_ms  phase 2 (live): streams upload each segment as it is recorded (one 4-s segment
                     per stream every 4 s, staggered); the client's SegmentAck -> the segment's
                     MediaSegmentStored event on Kafka (received by media-ingest, queued through the
                     outbox, probed and normalised by the worker); ack_to_received_* stops at
                     MediaSegmentReceived; burst_* give the same after the burst (a backlog)
"""

from __future__ import annotations

import asyncio
import shutil
import statistics
import subprocess
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import grpc

from media_ingest.client import Segment, StreamUploader
from proctor.common.v1 import common_pb2
from proctor.events.v1 import media_pb2
from proctor.exam.v1 import exam_session_pb2 as epb
from proctor.exam.v1 import exam_session_pb2_grpc
from proctor.media.v1 import media_ingest_pb2 as pb
from proctor.media.v1 import media_ingest_pb2_grpc
from proctor_cli.bench.common import TopicWatcher, bearer, postgres_cpu
from proctor_cli.local import LocalStack
from proctor_runtime.devinfra import InfraSettings, PostgresCluster
from proctor_runtime.devinfra.keys import keyring
from proctor_runtime.events import ts
from proctor_runtime.tokens import Role, TokenSigner
from proctor_runtime.topics import MEDIA_SEGMENTS_RECEIVED, MEDIA_SEGMENTS_STORED

SEGMENT_S = 4


def media_segments(cache: Path, count: int) -> list[bytes]:
    """Real H.264/AAC fragmented-MP4 segments (720p, 4 s, ~1 MB each) from ffmpeg's test sources,
    made once and cached."""
    out = cache / f"bench-720p-{SEGMENT_S}s"
    files = sorted(out.glob("seg*.mp4"))
    if len(files) < count:
        shutil.rmtree(out, ignore_errors=True)
        out.mkdir(parents=True)
        seconds = count * SEGMENT_S
        subprocess.run(["ffmpeg", "-v", "error", "-f", "lavfi", "-i",
                        f"testsrc2=size=1280x720:rate=25:duration={seconds}", "-f", "lavfi", "-i",
                        f"sine=frequency=440:duration={seconds}", "-c:v", "libx264", "-preset", "veryfast",
                        "-b:v", "2M", "-maxrate", "2M", "-bufsize", "4M", "-g", "50", "-c:a", "aac", "-f", "segment",
                        "-segment_time", str(SEGMENT_S), "-segment_format", "mp4", "-segment_format_options",
                        "movflags=frag_keyframe+empty_moov+default_base_moof", str(out / "seg%03d.mp4")],
                       check=True, timeout=600)
        files = sorted(out.glob("seg*.mp4"))
    return [f.read_bytes() for f in files[:count]]


def _pct(values: list[float], q: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


async def run(streams: int = 24, segments: int = 12, chunk_kib: int = 512, with_factors: bool = True,
              paced_streams: int = 48, paced_segments: int = 5) -> dict[str, Any]:
    infra = InfraSettings()
    run_id = uuid.uuid4().hex[:8]
    dbs = {"exam-session": f"proctor_bench_{run_id}_exam", "media-ingest": f"proctor_bench_{run_id}_media",
           "media-worker": f"proctor_bench_{run_id}_media"}
    objects = infra.state / f"bench-media-{run_id}"
    stack = LocalStack(infra, extra_env={"LOG_LEVEL": "WARNING", "DB_POOL_MAX": "20"}, databases=dbs,
                       storage_url=objects.as_uri())
    data = media_segments(infra.state / "cache", segments)
    try:
        await stack.start("exam-session")
        ingest = await stack.start("media-ingest")
        worker = await stack.start("media-worker")
        result = await _drive(stack, infra, ingest, worker, data, streams, chunk_kib, paced_streams, paced_segments)
    finally:
        await stack.stop()
        for db in set(dbs.values()):
            PostgresCluster(infra).psql(f'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)')
        shutil.rmtree(objects, ignore_errors=True)
    if with_factors:
        from media_ingest.processing import bench as processing_bench

        result.update(processing_bench.measure())
    return result


async def _drive(stack: LocalStack, infra: InfraSettings, ingest: Any, worker: Any, data: list[bytes],
                 streams: int, chunk_kib: int, paced_streams: int, paced_segments: int) -> dict[str, Any]:
    keys = keyring(infra)
    admin, auth = TokenSigner(keys.signing["admin"]), TokenSigner(keys.signing["auth-face"])
    staff = bearer(admin.issue(sub="bench", role=Role.STAFF, ttl_s=3600)[0])
    sitting_id = f"bench-media-{uuid.uuid4().hex[:6]}"
    candidates = (streams + 1) // 2  # camera + screen each
    start = datetime.now(UTC) + timedelta(minutes=20)
    sitting = epb.Sitting(sitting_id=sitting_id, name="media bench", kind=common_pb2.SITTING_KIND_FORMAL)
    sitting.timeline.CopyFrom(epb.Timeline(
        login_opens=ts(start - timedelta(minutes=30)), waiting_room_opens=ts(start - timedelta(minutes=10)),
        start=ts(start), last_entry=ts(start + timedelta(minutes=30)), end=ts(start + timedelta(minutes=90)),
        upload_deadline=ts(start + timedelta(minutes=150))))
    sitting.questions.add(question_id="q0", type=epb.QUESTION_TYPE_ESSAY)
    tokens: list[tuple[tuple[str, str], ...]] = []
    async with grpc.aio.insecure_channel(stack.services["exam-session"].target) as channel:
        exam = exam_session_pb2_grpc.ExamSessionStub(channel)
        await exam.CreateSitting(epb.CreateSittingRequest(sitting=sitting), metadata=staff)
        await exam.ImportCandidates(epb.ImportCandidatesRequest(rows=[epb.CandidateRow(
            line=i + 2, candidate_id=f"c{i}", name=f"考生{i}", sitting_id=sitting_id, room_id="r1",
            id_photo_ref="p.jpg") for i in range(candidates)]), metadata=staff)
        for i in range(candidates):
            face = auth.issue(sub=f"c{i}", role=Role.CANDIDATE, ttl_s=3600, sitting_id=sitting_id,
                              candidate_id=f"c{i}", device_id=f"desk-{i}")[0]
            await exam.Login(epb.LoginRequest(sitting_id=sitting_id, candidate_id=f"c{i}", face_login_token=face,
                                              device=common_pb2.DeviceInfo(kind=1, device_id=f"desk-{i}")))
            tokens.append(bearer(face))
    now = datetime.now(UTC)
    segs = [Segment(d, now + timedelta(seconds=SEGMENT_S * i), timedelta(seconds=SEGMENT_S))
            for i, d in enumerate(data)]
    def segment(event: Any) -> str:
        return f"{event.stream_id}:{event.segment_index}"

    watchers = [TopicWatcher(infra.kafka_bootstrap, MEDIA_SEGMENTS_RECEIVED.name, media_pb2.MediaSegmentReceived,
                             segment),
                TopicWatcher(infra.kafka_bootstrap, MEDIA_SEGMENTS_STORED.name, media_pb2.MediaSegmentStored, segment)]
    for watcher in watchers:
        watcher.start()
    channels = [grpc.aio.insecure_channel(ingest.target, options=[("grpc.use_local_subchannel_pool", 1)])
                for _ in range(4)]
    stubs = [media_ingest_pb2_grpc.MediaIngestStub(c) for c in channels]
    errors: dict[str, int] = {}

    async def one(i: int, key: str, paced_from: float | None, uploaders: list[StreamUploader],
                  count: int) -> None:
        stub, md = stubs[i % len(stubs)], tokens[(i // 2) % len(tokens)]
        kind = common_pb2.STREAM_KIND_DESKTOP_CAMERA if i % 2 == 0 else common_pb2.STREAM_KIND_DESKTOP_SCREEN
        try:
            opened = await stub.OpenStream(pb.OpenStreamRequest(
                sitting_id=sitting_id, candidate_id=f"c{(i // 2) % len(tokens)}", kind=kind,
                client_stream_key=key, format=common_pb2.MediaFormat(
                    container=common_pb2.MEDIA_CONTAINER_FMP4, video_codec=common_pb2.VIDEO_CODEC_H264,
                    audio_codec=common_pb2.AUDIO_CODEC_AAC)), metadata=md)
            up = StreamUploader(stub, md, opened.stream.stream_id, chunk_bytes=chunk_kib * 1024, max_inflight=8)
            uploaders.append(up)
            if paced_from is None:
                await up.upload(segs[:count])
            else:  # live recording: segment n is uploaded when it has been recorded
                for n in range(count):
                    await asyncio.sleep(max(0.0, paced_from + (n + 1) * SEGMENT_S - time.monotonic()))
                    await up.upload(segs[:n + 1])
            closed = await up.close(segs[:count])
            if not closed.verification.verified:
                errors["not_verified"] = errors.get("not_verified", 0) + 1
        except grpc.aio.AioRpcError as exc:
            errors[exc.code().name] = errors.get(exc.code().name, 0) + 1

    async def drain(uploaders: list[StreamUploader]) -> tuple[list[float], list[float]]:
        expected = {f"{u.stream_id}:{i}": t for u in uploaders
                    for i, t in zip(u.stats.sealed_indexes, u.stats.ack_times, strict=True)}
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline and not all(k in watchers[1].times for k in expected):  # noqa: ASYNC110
            await asyncio.sleep(0.1)  # the watcher threads fill `times`; polling them is the simplest join
        received = [(watchers[0].times[k] - t) * 1000 for k, t in expected.items() if k in watchers[0].times]
        stored = [(watchers[1].times[k] - t) * 1000 for k, t in expected.items() if k in watchers[1].times]
        if len(stored) < len(expected):
            errors["stored_event_missing"] = errors.get("stored_event_missing", 0) + len(expected) - len(stored)
        return received, stored

    # 1) throughput: every stream uploads its whole recording at once (a reconnect storm)
    pg_cpu0 = postgres_cpu()
    cpu0, worker_cpu0 = ingest.cpu_seconds(), worker.cpu_seconds()
    burst: list[StreamUploader] = []
    started = time.monotonic()
    await asyncio.gather(*(one(i, f"b{i}", None, burst, len(segs)) for i in range(streams)))
    upload_s = time.monotonic() - started
    ingest_cpu = ingest.cpu_seconds() - cpu0
    pg_cpu = postgres_cpu() - pg_cpu0
    burst_received, burst_stored = await drain(burst)
    drain_s = time.monotonic() - started
    worker_cpu = worker.cpu_seconds() - worker_cpu0
    # 2) latency: live recordings, each stream uploads a segment as it is recorded (staggered starts)
    live: list[StreamUploader] = []
    t0 = time.monotonic()
    await asyncio.gather(*(one(i, f"l{i}", t0 + SEGMENT_S * i / paced_streams, live, paced_segments)
                           for i in range(paced_streams)))
    received, stored = await drain(live)
    for watcher in watchers:
        watcher.stop()
    for c in channels:
        await c.close()
    total = sum(len(d) for d in data) * streams
    media_s = len(data) * SEGMENT_S * streams
    return {
        "benchmark": "media-ingest", "streams": streams, "segments_per_stream": len(data),
        "segment_mb": round(statistics.mean(len(d) for d in data) / 1e6, 3), "chunk_kib": chunk_kib,
        "bytes": total, "upload_s": round(upload_s, 2),
        "ingest_mb_per_s": round(total / 1e6 / upload_s, 1),
        "burst_all_processed_s": round(drain_s, 2),
        "burst_ack_to_event_p99_ms": round(_pct(burst_stored, 0.99), 1),
        "burst_ack_to_received_p99_ms": round(_pct(burst_received, 0.99), 1),
        "live_streams": paced_streams, "live_segments_per_stream": paced_segments,
        "live_segments_per_s": round(paced_streams / SEGMENT_S, 1),
        "ack_to_received_p50_ms": round(_pct(received, 0.5), 1),
        "ack_to_received_p99_ms": round(_pct(received, 0.99), 1),
        "ack_to_event_p50_ms": round(_pct(stored, 0.5), 1), "ack_to_event_p99_ms": round(_pct(stored, 0.99), 1),
        "segments_stored": len(burst_stored) + len(stored),
        "ingest_cpu_s": round(ingest_cpu, 2), "ingest_cpu_s_per_gb": round(ingest_cpu / (total / 1e9), 2),
        "postgres_cpu_s": round(pg_cpu, 2), "worker_cpu_s": round(worker_cpu, 2),
        "worker_cpu_s_per_media_hour": round(worker_cpu / (media_s / 3600), 1),
        "durability": "every chunk fsync'd before its ack (filesystem backend)",
        "errors": sum(errors.values()), "error_kinds": errors,
    }
