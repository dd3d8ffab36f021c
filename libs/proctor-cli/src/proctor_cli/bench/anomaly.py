"""``proctor bench anomaly``: the cost of watching candidates, and how fast an incident follows its
segment, with the real anomaly and auth-face processes on Kafka.

Input: real webcam clips (``../shared/testdata/faces/video``; on a fresh machine a moving crop of
``skimage.data.astronaut()``) cut into 4-s H.264 segments with a 1-s GOP, as the media worker stores
them, written to the store the anomaly process reads; the bench publishes their
``MediaSegmentStored`` events as the worker would, plus a little telemetry. Each candidate is
enrolled in auth-face from a frame of their clip, so the identity checks (ReVerify every 30 s, the
service's default) are real.

cpu_seconds_per_candidate_hour  (anomaly + auth-face CPU) / candidate-hours of desktop camera analysed
                                (phase 1: every segment published at once; the anomaly and auth-face
                                processes' CPU from /proc, until the anomaly process's own metrics
                                count every segment analysed and its snapshots show the last one)
frames_per_s_per_core           analysed frames / anomaly CPU second (``frames_sampled``: the frames the
                                tracker analysed, from its snapshots; ``frames_declined``: the sampled
                                frames adaptive sampling declined, from the process's metrics; the few
                                it took back when a calm ended are among the analysed ones)
segment_to_incident_p99_ms      phase 2: candidates showing a second person, segments published live
                                (one every 4 s); the segment's event produced -> the IncidentEvent
                                OPENED that it triggered consumed
"""

from __future__ import annotations

import asyncio
import random
import shutil
import subprocess
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import grpc

from proctor.auth.v1 import auth_face_pb2 as apb
from proctor.auth.v1 import auth_face_pb2_grpc
from proctor.common.v1 import common_pb2
from proctor.events.v1 import anomaly_pb2, incident_pb2, media_pb2, meta_pb2, telemetry_pb2
from proctor_cli.bench.common import TopicWatcher, bearer, scraped_counter
from proctor_cli.local import LocalStack
from proctor_runtime.devinfra import InfraSettings, repo_root
from proctor_runtime.devinfra.keys import keyring
from proctor_runtime.events import ts
from proctor_runtime.kafka import EventProducer, start_group_at_end
from proctor_runtime.tokens import Role, TokenSigner
from proctor_runtime.topics import ANOMALY_STATE, CLIENT_TELEMETRY, INCIDENTS, MEDIA_SEGMENTS_STORED, SESSION_EVENTS
from proctor_storage import FilesystemStore

SEGMENT_S = 4
VIDEOS = repo_root().parent / "shared" / "testdata" / "faces" / "video"
INSIGHTFACE_GROUP = "t1.jpg"


def _segments(source: list[str], out: Path, seconds: int) -> list[Path]:
    if len(sorted(out.glob("seg*.mp4"))) < seconds // SEGMENT_S:
        shutil.rmtree(out, ignore_errors=True)
        out.mkdir(parents=True)
        subprocess.run(["ffmpeg", "-v", "error", "-y", *source, "-t", str(seconds), "-an", "-vf",
                        "scale='if(gt(iw,ih),640,-2)':'if(gt(iw,ih),-2,640)',fps=15,format=yuv420p",
                        "-c:v", "libx264", "-preset", "veryfast", "-g", "15", "-keyint_min", "15", "-f", "segment",
                        "-segment_time", str(SEGMENT_S), "-segment_format", "mp4", "-segment_format_options",
                        "movflags=frag_keyframe+empty_moov+default_base_moof", str(out / "seg%03d.mp4")],
                       check=True, timeout=600)
    return sorted(out.glob("seg*.mp4"))[: seconds // SEGMENT_S]


def clips(cache: Path, seconds: int) -> tuple[list[list[Path]], list[Path], str]:
    """Honest candidates' segment sets (one per clip) and a 'second person' segment set."""
    group = Path(__import__("insightface").__file__).parent / "data" / "images" / INSIGHTFACE_GROUP
    crowd = _segments(["-loop", "1", "-i", str(group), "-vf", "noise=alls=6:allf=t"], cache / "crowd", 24)
    names = ["pai_center_focus.mp4", "lp_d3.mp4", "lp_d12.mp4", "lp_d18.mp4", "lp_d19.mp4"]
    found = [VIDEOS / n for n in names if (VIDEOS / n).exists()]
    if found:
        sets = [_segments(["-stream_loop", "-1", "-i", str(f)], cache / f.stem, seconds) for f in found]
        return sets, crowd, "shared webcam clips " + ", ".join(f.name for f in found)
    import cv2
    from skimage import data

    still = cache / "astronaut.png"
    cv2.imwrite(str(still), cv2.cvtColor(data.astronaut(), cv2.COLOR_RGB2BGR))
    moving = ["-loop", "1", "-i", str(still), "-vf", "crop=400:400:50+20*sin(t):20+10*cos(t/2),noise=alls=4:allf=t"]
    return [_segments(moving, cache / "astronaut", seconds)], crowd, "skimage astronaut (moving crop)"


def _segments_analysed(metrics_port: int) -> float:
    return scraped_counter(metrics_port, "proctor_anomaly_segments", outcome="analysed", stream_kind="desktop_camera")


def _first_frame_jpeg(segment: Path) -> bytes:
    out = subprocess.run(["ffmpeg", "-v", "error", "-i", str(segment), "-frames:v", "1", "-f", "image2", "-c:v",
                          "mjpeg", "-q:v", "2", "pipe:1"], check=True, capture_output=True, timeout=60)
    return out.stdout


def _stored(sitting: str, cid: str, stream: str, index: int, uri: str, start: datetime) -> media_pb2.MediaSegmentStored:
    ev = media_pb2.MediaSegmentStored(
        meta=meta_pb2.EventMeta(event_id=f"{stream}:{index}:stored", schema_version=1, sitting_id=sitting,
                                candidate_id=cid, producer="bench", event_time=ts(datetime.now(UTC))),
        segment_id=f"{stream}:{index}", stream_id=stream, stream_kind=common_pb2.STREAM_KIND_DESKTOP_CAMERA,
        attempt_number=1, segment_index=index, media_start_time=ts(start),
        media_end_time=ts(start + timedelta(seconds=SEGMENT_S)), object_uri=uri, raw_object_uri=uri, has_video=True,
        action=media_pb2.PROCESSING_ACTION_REMUXED, probe=media_pb2.ProbeResult(ok=True))
    ev.duration.FromTimedelta(timedelta(seconds=SEGMENT_S))
    ev.stream_offset.FromTimedelta(timedelta(seconds=SEGMENT_S * index))
    ev.keyframe_interval.FromTimedelta(timedelta(seconds=1))
    return ev


def _telemetry(sitting: str, cid: str, at: datetime, seq: int, kind: int) -> telemetry_pb2.ClientTelemetry:
    return telemetry_pb2.ClientTelemetry(
        meta=meta_pb2.EventMeta(event_id=uuid.uuid4().hex, schema_version=1, sitting_id=sitting, candidate_id=cid,
                                producer="bench", event_time=ts(at)),
        device_kind=common_pb2.DEVICE_KIND_DESKTOP, attempt_number=1,
        samples=[common_pb2.TelemetrySample(kind=kind, sequence=seq, server_time=ts(at))])


async def run(candidates: int = 10, seconds: int = 120, live_candidates: int = 6) -> dict[str, Any]:
    infra = InfraSettings()
    run_id = uuid.uuid4().hex[:8]
    objects = infra.state / f"bench-anomaly-{run_id}"
    sets, crowd, source = await asyncio.to_thread(clips, infra.state / "cache" / "bench-anomaly", seconds)
    # a consumer group of its own, starting at the end: the local broker's history is not this bench's input
    group = f"bench-anomaly-{run_id}"
    start_group_at_end(infra.kafka_bootstrap, group, [MEDIA_SEGMENTS_STORED.name, CLIENT_TELEMETRY.name,
                                                      SESSION_EVENTS.name])
    start_group_at_end(infra.kafka_bootstrap, f"{group}-auth", [SESSION_EVENTS.name])  # auth-face's roster input
    stack = LocalStack(infra, extra_env={"LOG_LEVEL": "WARNING"},
                       service_env={"anomaly": {"KAFKA_GROUP_ID": group},
                                    "auth-face": {"KAFKA_GROUP_ID": f"{group}-auth"}},
                       databases={"auth-face": f"proctor_bench_{run_id}_auth"}, storage_url=objects.as_uri())
    try:
        auth = await stack.start("auth-face", timeout_s=180)
        anomaly = await stack.start("anomaly", timeout_s=180)
        return await _drive(infra, auth, anomaly, sets, crowd, source, candidates, live_candidates,
                            FilesystemStore(objects))
    finally:
        await stack.stop()
        from proctor_runtime.devinfra import PostgresCluster

        PostgresCluster(infra).psql(f'DROP DATABASE IF EXISTS "proctor_bench_{run_id}_auth" WITH (FORCE)')
        shutil.rmtree(objects, ignore_errors=True)


async def _drive(infra: InfraSettings, auth: Any, anomaly: Any, sets: list[list[Path]], crowd: list[Path],
                 source: str, candidates: int, live_candidates: int, store: FilesystemStore) -> dict[str, Any]:
    keys = keyring(infra)
    staff = bearer(TokenSigner(keys.signing["admin"]).issue(sub="bench", role=Role.STAFF, ttl_s=3600)[0])
    sitting = f"bench-anomaly-{uuid.uuid4().hex[:6]}"
    honest = [f"h{i:03d}" for i in range(candidates)]
    async with grpc.aio.insecure_channel(auth.target) as channel:
        stub = auth_face_pb2_grpc.AuthFaceStub(channel)
        for i, cid in enumerate(honest):
            photo = await asyncio.to_thread(_first_frame_jpeg, sets[i % len(sets)][0])
            await stub.EnrolCandidate(apb.EnrolCandidateRequest(sitting_id=sitting, candidate_id=cid, id_photo=photo),
                                      metadata=staff)
    producer = EventProducer(infra.kafka_bootstrap, "bench-anomaly")
    def ours(event: Any) -> bool:
        return bool(event.meta.sitting_id == sitting)

    watchers = {"state": TopicWatcher(infra.kafka_bootstrap, ANOMALY_STATE.name, anomaly_pb2.AnomalyStateSnapshot,
                                      lambda e: e.meta.event_id, ours),
                "incidents": TopicWatcher(infra.kafka_bootstrap, INCIDENTS.name, incident_pb2.IncidentEvent,
                                          lambda e: e.meta.event_id, ours)}
    for watcher in watchers.values():
        watcher.start()
    t0 = datetime.now(UTC) - timedelta(hours=1)
    # phase 1: throughput and CPU: every honest candidate's recording at once
    analysed0 = await asyncio.to_thread(_segments_analysed, anomaly.metrics_port)
    declined0 = await asyncio.to_thread(scraped_counter, anomaly.metrics_port, "proctor_anomaly_frames",
                                        stage="declined")
    cpu0, auth0 = anomaly.cpu_seconds(), auth.cpu_seconds()
    started = time.monotonic()
    total_segments = 0
    last_start: dict[str, datetime] = {}
    for i, cid in enumerate(honest):
        files = sets[i % len(sets)]
        stream = f"{cid}-cam"
        for n, f in enumerate(files):
            uri = await asyncio.to_thread(store.put_file, f"review/{stream}/{n:06d}.mp4", f, "video/mp4")
            start = t0 + timedelta(seconds=SEGMENT_S * n)
            if n % 8 == 4:  # focus lost then back a second later, now and then (reported live, before the video)
                await producer.send(CLIENT_TELEMETRY.name, cid, _telemetry(
                    sitting, cid, start, 2 * n, common_pb2.TELEMETRY_KIND_FOCUS_LOST))
                await producer.send(CLIENT_TELEMETRY.name, cid, _telemetry(
                    sitting, cid, start + timedelta(seconds=1), 2 * n + 1, common_pb2.TELEMETRY_KIND_FOCUS_GAINED))
            await producer.send(MEDIA_SEGMENTS_STORED.name, cid, _stored(sitting, cid, stream, n, uri, start))
            last_start[cid] = start
            total_segments += 1
    deadline = time.monotonic() + 900

    def done() -> bool:
        # this process analysed every segment (another anomaly on the same broker, e.g. a demo, may
        # publish snapshots for these candidates too: they alone must not end the measurement) ...
        if _segments_analysed(anomaly.metrics_port) - analysed0 < total_segments:
            return False
        # ... and its snapshots say so
        latest: dict[str, datetime] = {}
        for snap in watchers["state"].values:
            if snap.HasField("last_frame_time"):
                latest[snap.meta.candidate_id] = max(latest.get(snap.meta.candidate_id, t0),
                                                     snap.last_frame_time.ToDatetime(UTC))
        return all(latest.get(cid, t0) >= last_start[cid] for cid in honest)

    while time.monotonic() < deadline and not await asyncio.to_thread(done):  # noqa: ASYNC110 - polls the
        await asyncio.sleep(0.5)  # watcher threads' `values` and the service's metrics endpoint
    wall = time.monotonic() - started
    anomaly_cpu, auth_cpu = anomaly.cpu_seconds() - cpu0, auth.cpu_seconds() - auth0
    declined = await asyncio.to_thread(scraped_counter, anomaly.metrics_port, "proctor_anomaly_frames",
                                       stage="declined")
    frames = max((s.frames_analysed for s in watchers["state"].values), default=0)
    per_candidate: dict[str, int] = {}
    for s in watchers["state"].values:
        per_candidate[s.meta.candidate_id] = max(per_candidate.get(s.meta.candidate_id, 0), s.frames_analysed)
    frames = sum(per_candidate.values())
    media_hours = total_segments * SEGMENT_S / 3600
    honest_incidents: dict[str, int] = {}
    for e in watchers["incidents"].values:
        if e.change == incident_pb2.INCIDENT_CHANGE_OPENED:
            name = common_pb2.IncidentKind.Name(e.incident.kind).removeprefix("INCIDENT_KIND_")
            honest_incidents[name] = honest_incidents.get(name, 0) + 1
    # phase 2: latency: candidates showing a second person, live (one segment every 4 s)
    produced: dict[tuple[str, int], float] = {}
    live = [f"x{i:03d}" for i in range(live_candidates)]
    t1 = datetime.now(UTC)

    async def feed(cid: str, delay: float) -> None:
        await asyncio.sleep(delay)
        for n, f in enumerate(crowd):
            start = t1 + timedelta(seconds=SEGMENT_S * n)
            await asyncio.sleep(max(0.0, (start + timedelta(seconds=SEGMENT_S) - datetime.now(UTC)).total_seconds()
                                    + delay))
            uri = await asyncio.to_thread(store.put_file, f"review/{cid}-cam/{n:06d}.mp4", f, "video/mp4")
            await producer.send(MEDIA_SEGMENTS_STORED.name, cid, _stored(sitting, cid, f"{cid}-cam", n, uri, start))
            produced[(cid, n)] = time.monotonic()

    await asyncio.gather(*(feed(cid, random.uniform(0, SEGMENT_S)) for cid in live))
    await asyncio.sleep(5)
    latencies = []
    for e in watchers["incidents"].values:
        cid = e.meta.candidate_id
        if cid in live and e.change == incident_pb2.INCIDENT_CHANGE_OPENED:
            index = int((e.incident.detected_at.ToDatetime(UTC) - t1).total_seconds() // SEGMENT_S)
            if (cid, index) in produced:
                latencies.append((watchers["incidents"].times[e.meta.event_id] - produced[(cid, index)]) * 1000)
    for w in watchers.values():
        w.stop()
    await producer.close()
    latencies.sort()
    errors = {}
    if not done():
        errors["not_all_analysed"] = 1
    if len(latencies) < live_candidates:
        errors["incidents_missing"] = live_candidates - len(latencies)
    return {
        "benchmark": "anomaly", "source": source, "candidates": candidates,
        "media_seconds_per_candidate": total_segments * SEGMENT_S // max(1, candidates),
        "segments": total_segments, "frames_sampled": frames, "frames_declined": round(declined - declined0),
        "wall_s": round(wall, 1),
        "anomaly_cpu_s": round(anomaly_cpu, 2), "auth_face_cpu_s": round(auth_cpu, 2),
        "cpu_seconds_per_candidate_hour": round((anomaly_cpu + auth_cpu) / media_hours, 1),
        "anomaly_cpu_seconds_per_candidate_hour": round(anomaly_cpu / media_hours, 1),
        "frames_per_s_per_core": round(frames / anomaly_cpu, 1) if anomaly_cpu else 0.0,
        "candidates_per_core": round(3600 / ((anomaly_cpu + auth_cpu) / media_hours), 1),
        "incidents_on_honest_candidates": honest_incidents,
        "live_candidates": live_candidates, "incidents_measured": len(latencies),
        "segment_to_incident_p50_ms": round(latencies[len(latencies) // 2], 1) if latencies else None,
        "segment_to_incident_p99_ms": round(latencies[min(len(latencies) - 1, int(0.99 * len(latencies)))], 1)
        if latencies else None,
        "errors": sum(errors.values()), "error_kinds": errors,
    }
