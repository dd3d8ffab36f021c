"""The anomaly service in process on the real Kafka, with real segments in a filesystem store:
segments in → incidents out (with evidence in storage), telemetry rules, the end of the exam closing
what is open, the state changelog surviving a restart, an undecodable segment dead-lettered."""

import asyncio
import subprocess
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import cv2
import numpy as np
import pytest
from prometheus_client import REGISTRY
from pydantic import SecretStr

from anomaly.app import build
from anomaly.config import Settings
from anomaly.rules import DetectorSettings
from proctor.common.v1 import common_pb2
from proctor.events.v1 import anomaly_pb2, incident_pb2, media_pb2, meta_pb2, session_pb2, telemetry_pb2
from proctor_runtime.events import ts
from proctor_runtime.kafka import EventProducer, dlq_topic
from proctor_runtime.testing.helpers import kafka_events
from proctor_runtime.testing.plugin import start_group_at_end
from proctor_runtime.topics import (
    ANOMALY_STATE,
    CLIENT_TELEMETRY,
    INCIDENTS,
    MEDIA_SEGMENTS_STORED,
    MEDIA_STILLS,
    SESSION_EVENTS,
    ensure_topics,
    new_topics,
)
from proctor_storage import FilesystemStore

IMAGES = Path(__import__("insightface").__file__).parent / "data" / "images"
SEGMENT_S = 4
CAMERA = common_pb2.STREAM_KIND_DESKTOP_CAMERA


def still_segments(image: Path, out: Path, seconds: int) -> list[Path]:
    """H.264 fragmented-MP4 4-s segments (1-s GOP) of a real photo with a little camera noise, as the
    media worker stores them."""
    out.mkdir(parents=True, exist_ok=True)
    subprocess.run(["ffmpeg", "-v", "error", "-y", "-loop", "1", "-i", str(image), "-t", str(seconds), "-vf",
                    "scale=640:-2,noise=alls=6:allf=t,format=yuv420p", "-r", "15", "-c:v", "libx264", "-preset",
                    "ultrafast", "-g", "15", "-keyint_min", "15", "-f", "segment", "-segment_time", str(SEGMENT_S),
                    "-segment_format", "mp4", "-segment_format_options",
                    "movflags=frag_keyframe+empty_moov+default_base_moof", str(out / "seg%03d.mp4")],
                   check=True, timeout=120)
    return sorted(out.glob("seg*.mp4"))


def meta(sitting: str, candidate: str, at: datetime, event_id: str = "") -> meta_pb2.EventMeta:
    return meta_pb2.EventMeta(event_id=event_id or uuid.uuid4().hex, schema_version=1, sitting_id=sitting,
                              candidate_id=candidate, producer="test", event_time=ts(at))


def stored_event(sitting: str, candidate: str, stream: str, index: int, uri: str, start: datetime,
                 offset: timedelta) -> media_pb2.MediaSegmentStored:
    ev = media_pb2.MediaSegmentStored(
        meta=meta(sitting, candidate, start + timedelta(seconds=SEGMENT_S), f"{stream}:{index}:stored"),
        segment_id=f"{stream}:{index}", stream_id=stream, stream_kind=CAMERA, attempt_number=1,
        segment_index=index, media_start_time=ts(start), media_end_time=ts(start + timedelta(seconds=SEGMENT_S)),
        object_uri=uri, raw_object_uri=uri, playlist_uri=f"file:///review/{stream}.m3u8", has_video=True,
        action=media_pb2.PROCESSING_ACTION_REMUXED, probe=media_pb2.ProbeResult(ok=True))
    ev.duration.FromTimedelta(timedelta(seconds=SEGMENT_S))
    ev.stream_offset.FromTimedelta(offset)
    ev.keyframe_interval.FromTimedelta(timedelta(seconds=1))
    return ev


@pytest.fixture
async def service(kafka_bootstrap, tmp_path):
    ensure_topics(kafka_bootstrap, new_topics())
    group = f"anomaly-test-{uuid.uuid4().hex[:6]}"
    start_group_at_end(kafka_bootstrap, group, [MEDIA_SEGMENTS_STORED.name, CLIENT_TELEMETRY.name,
                                                SESSION_EVENTS.name, MEDIA_STILLS.name])
    store = FilesystemStore(tmp_path / "objects")
    settings = Settings(kafka_bootstrap=kafka_bootstrap, kafka_group_id=group, kafka_offset_reset="earliest",
                        work_dir=tmp_path / "work", shutdown_grace_s=1, token_signing_key=SecretStr(""),
                        kafka_handler_retries=2, close_idle_s=3, close_check_interval_s=0.5)
    hosts = []

    async def start(**overrides):
        host = await build(settings.model_copy(update=overrides), store, with_auth=False)
        await host.start()
        async with asyncio.timeout(60):
            await host.consumers[0].ready.wait()
        hosts.append(host)
        return host

    producer = EventProducer(kafka_bootstrap, "anomaly-test")
    yield start, store, producer, tmp_path
    await producer.close()
    for host in hosts:
        await host.stop()


async def test_segments_in_incidents_out_and_the_end_closes_them(service, kafka_bootstrap):
    start, store, producer, tmp = service
    host = await start()
    sitting, cid, stream = f"s-{uuid.uuid4().hex[:6]}", "c1", f"st-{uuid.uuid4().hex[:6]}"
    files = still_segments(IMAGES / "t1.jpg", tmp / "group", 16)  # a 6-person group photo: another person
    t0 = datetime(2026, 12, 1, 2, 0, tzinfo=UTC)
    await producer.send(SESSION_EVENTS.name, cid, session_pb2.SessionEvent(
        meta=meta(sitting, cid, t0), to_state=common_pb2.CANDIDATE_STATE_IN_EXAM, room_id="r7", attempt_number=1))
    # the room travels on another topic than the media, in no order with it (notify fills in a room that comes
    # late): once anomaly knows it, its incidents carry it
    async with asyncio.timeout(30):
        while host.logic.rooms.get((sitting, cid)) != "r7":
            await asyncio.sleep(0.05)
    for i, f in enumerate(files):
        uri = store.put_file(f"review/{stream}/{i:06d}.mp4", f, "video/mp4")
        await producer.send(MEDIA_SEGMENTS_STORED.name, cid, stored_event(
            sitting, cid, stream, i, uri, t0 + timedelta(seconds=SEGMENT_S * i), timedelta(seconds=SEGMENT_S * i)))
    # telemetry: a second monitor plugged in
    await producer.send(CLIENT_TELEMETRY.name, cid, telemetry_pb2.ClientTelemetry(
        meta=meta(sitting, cid, t0), device_kind=common_pb2.DEVICE_KIND_DESKTOP, attempt_number=1, room_id="r7",
        samples=[common_pb2.TelemetrySample(kind=common_pb2.TELEMETRY_KIND_DISPLAY_COUNT, sequence=1, value=2,
                                            server_time=ts(t0 + timedelta(seconds=5)))]))
    opened = await kafka_events(kafka_bootstrap, INCIDENTS.name, incident_pb2.IncidentEvent, sitting,
                                lambda got: {e.incident.kind for e in got} >= {
                                    common_pb2.INCIDENT_KIND_MULTIPLE_FACES, common_pb2.INCIDENT_KIND_SECOND_MONITOR},
                                timeout_s=60)
    faces = next(e for e in opened if e.incident.kind == common_pb2.INCIDENT_KIND_MULTIPLE_FACES)
    assert faces.change == incident_pb2.INCIDENT_CHANGE_OPENED and faces.revision == 1
    assert faces.meta.event_id == f"{faces.incident.incident_id}:1" and faces.incident.room_id == "r7"
    assert faces.incident.source == common_pb2.INCIDENT_SOURCE_DETECTOR and faces.incident.model_pack.id
    evidence = faces.incident.evidence[0]
    assert evidence.segment_id.startswith(stream) and evidence.playlist_uri.endswith(f"{stream}.m3u8")
    thumb = store.local_path(evidence.thumbnail_uri)
    assert thumb is not None and thumb.read_bytes()[:2] == b"\xff\xd8", "a JPEG of the worst moment is stored"
    monitor = next(e for e in opened if e.incident.kind == common_pb2.INCIDENT_KIND_SECOND_MONITOR)
    assert monitor.incident.source == common_pb2.INCIDENT_SOURCE_TELEMETRY
    # the exam ends: everything open is closed at the end
    end = t0 + timedelta(seconds=20)
    await producer.send(SESSION_EVENTS.name, cid, session_pb2.SessionEvent(
        meta=meta(sitting, cid, end), from_state=common_pb2.CANDIDATE_STATE_IN_EXAM,
        to_state=common_pb2.CANDIDATE_STATE_FINISHED, room_id="r7", attempt_number=1))
    closed = await kafka_events(kafka_bootstrap, INCIDENTS.name, incident_pb2.IncidentEvent, sitting,
                                lambda got: sum(e.change == incident_pb2.INCIDENT_CHANGE_CLOSED for e in got) >= 2,
                                timeout_s=30)
    assert sum(e.change == incident_pb2.INCIDENT_CHANGE_CLOSED for e in closed) >= 2, [
        (common_pb2.IncidentKind.Name(e.incident.kind), e.change, e.revision, e.incident.incident_id[-6:],
         e.incident.start_time.ToJsonString()) for e in closed]
    for e in closed:
        if e.change == incident_pb2.INCIDENT_CHANGE_CLOSED:
            assert e.incident.HasField("end_time") and e.revision > 1
    ids = [e.meta.event_id for e in closed]
    assert len(ids) == len(set(ids)), "no incident event published twice"
    snapshots = await kafka_events(kafka_bootstrap, ANOMALY_STATE.name, anomaly_pb2.AnomalyStateSnapshot, sitting,
                                   lambda got: any(s.frames_analysed for s in got))
    assert max(s.frames_analysed for s in snapshots) > 0 and snapshots[-1].meta.candidate_id == cid
    # memory is bounded to the candidates still sitting: the finished one leaves, its end is remembered
    worker = host.logic
    key = (sitting, cid)
    async with asyncio.timeout(10):  # the close's handler may still be saving the state (a tracker in use stays)
        while worker.watched[key].lock.locked():
            await asyncio.sleep(0.05)
    assert key in worker.watched and worker.evict(idle_s=3600, forget_ended_s=3600) == 0  # not idle yet
    assert worker.evict(idle_s=0, forget_ended_s=3600) == 1
    assert key not in worker.watched and worker.ended[key] == end and worker.rooms[key] == "r7"
    worker.evict(idle_s=0, forget_ended_s=3600, now=end + timedelta(hours=2))
    assert key not in worker.ended and key not in worker.rooms
    del host


async def test_state_survives_a_restart_and_bad_segments_are_dead_lettered(service, kafka_bootstrap):
    start, store, producer, tmp = service
    host = await start()
    sitting, cid, stream = f"s-{uuid.uuid4().hex[:6]}", "c2", f"st-{uuid.uuid4().hex[:6]}"
    files = still_segments(IMAGES / "t1.jpg", tmp / "group2", 24)
    t0 = datetime(2026, 12, 1, 3, 0, tzinfo=UTC)
    for i, f in enumerate(files[:3]):
        uri = store.put_file(f"review/{stream}/{i:06d}.mp4", f, "video/mp4")
        await producer.send(MEDIA_SEGMENTS_STORED.name, cid, stored_event(
            sitting, cid, stream, i, uri, t0 + timedelta(seconds=SEGMENT_S * i), timedelta(seconds=SEGMENT_S * i)))
    first = await kafka_events(kafka_bootstrap, INCIDENTS.name, incident_pb2.IncidentEvent, sitting, 1, timeout_s=60)
    incident_id = first[0].incident.incident_id
    await kafka_events(kafka_bootstrap, ANOMALY_STATE.name, anomaly_pb2.AnomalyStateSnapshot, sitting, 3)
    await host.stop()
    # another worker takes over: it restores the state and continues the same incident
    await start()
    for i, f in enumerate(files[3:], start=3):
        uri = store.put_file(f"review/{stream}/{i:06d}.mp4", f, "video/mp4")
        await producer.send(MEDIA_SEGMENTS_STORED.name, cid, stored_event(
            sitting, cid, stream, i, uri, t0 + timedelta(seconds=SEGMENT_S * i), timedelta(seconds=SEGMENT_S * i)))
    # an undecodable segment (noise stored as MP4): dead-lettered, the service carries on
    junk = tmp / "junk.mp4"
    junk.write_bytes(uuid.uuid4().bytes * 5000)
    bad = store.put_file(f"review/{stream}/junk.mp4", junk, "video/mp4")
    await producer.send(MEDIA_SEGMENTS_STORED.name, cid, stored_event(
        sitting, cid, stream, 99, bad, t0 + timedelta(seconds=200), timedelta(seconds=200)))
    await producer.send(SESSION_EVENTS.name, cid, session_pb2.SessionEvent(
        meta=meta(sitting, cid, t0 + timedelta(seconds=300)), to_state=common_pb2.CANDIDATE_STATE_FINISHED,
        attempt_number=1))
    # the recording stopped long before the end: nothing more can come, so after close_idle_s the end
    # closes the incident
    events = await kafka_events(kafka_bootstrap, INCIDENTS.name, incident_pb2.IncidentEvent, sitting,
                                lambda got: any(e.change == incident_pb2.INCIDENT_CHANGE_CLOSED for e in got),
                                timeout_s=60)
    faces = [e for e in events if e.incident.kind == common_pb2.INCIDENT_KIND_MULTIPLE_FACES]
    assert any(e.change == incident_pb2.INCIDENT_CHANGE_CLOSED for e in faces), "the end closed the incident"
    assert {e.incident.incident_id for e in faces} == {incident_id}, "the restored worker continued the incident"
    assert sum(e.change == incident_pb2.INCIDENT_CHANGE_OPENED for e in faces) == 1
    dead = await kafka_events(kafka_bootstrap, dlq_topic(MEDIA_SEGMENTS_STORED.name), media_pb2.MediaSegmentStored,
                              sitting, 1, timeout_s=30)
    assert dead[0].segment_index == 99


async def test_the_end_waits_for_the_segments_still_queued(service, kafka_bootstrap):
    """Under a backlog the candidate's FINISHED can be consumed before their last segments: an anomaly in
    those segments still opens (it is not cut segment by segment), and closes at the end."""
    start, store, producer, tmp = service
    # 10 s of two faces before MULTIPLE_FACES opens: the run spans three 4-s segments
    await start(detectors=DetectorSettings(multiple_faces_s=10.0))
    sitting, cid, stream = f"s-{uuid.uuid4().hex[:6]}", "c3", f"st-{uuid.uuid4().hex[:6]}"
    files = still_segments(IMAGES / "t1.jpg", tmp / "group3", 24)  # six 4-s segments
    t0 = datetime(2026, 12, 1, 4, 0, tzinfo=UTC)
    end = t0 + timedelta(seconds=SEGMENT_S * len(files))
    uri = store.put_file(f"review/{stream}/000000.mp4", files[0], "video/mp4")
    await producer.send(MEDIA_SEGMENTS_STORED.name, cid, stored_event(sitting, cid, stream, 0, uri, t0, timedelta(0)))
    await producer.send(SESSION_EVENTS.name, cid, session_pb2.SessionEvent(
        meta=meta(sitting, cid, end), to_state=common_pb2.CANDIDATE_STATE_FINISHED, attempt_number=1))
    for i, f in enumerate(files[1:], start=1):
        uri = store.put_file(f"review/{stream}/{i:06d}.mp4", f, "video/mp4")
        await producer.send(MEDIA_SEGMENTS_STORED.name, cid, stored_event(
            sitting, cid, stream, i, uri, t0 + timedelta(seconds=SEGMENT_S * i), timedelta(seconds=SEGMENT_S * i)))
    events = await kafka_events(kafka_bootstrap, INCIDENTS.name, incident_pb2.IncidentEvent, sitting,
                                lambda got: any(e.change == incident_pb2.INCIDENT_CHANGE_CLOSED for e in got),
                                timeout_s=60)
    faces = [e for e in events if e.incident.kind == common_pb2.INCIDENT_KIND_MULTIPLE_FACES]
    assert faces and faces[0].change == incident_pb2.INCIDENT_CHANGE_OPENED, "the anomaly in the queued segments opened"
    closed = [e for e in faces if e.change == incident_pb2.INCIDENT_CHANGE_CLOSED]
    assert closed and closed[0].incident.end_time.ToDatetime(UTC) <= end
    assert closed[0].incident.end_time.ToDatetime(UTC) > t0 + timedelta(seconds=SEGMENT_S * (len(files) - 2))


async def test_a_focus_lost_in_progress_survives_a_restart(service, kafka_bootstrap):
    """FOCUS_LOST reported, then the worker dies (a crash, or a rebalance while Kafka restarts) before the
    window regains focus: the worker that takes over still knows focus was lost, and the incident opens when
    FOCUS_GAINED arrives 8 s later (found by the fault campaign, where the old worker had not saved it)."""
    start, _store, producer, _tmp = service
    host = await start()
    sitting, cid = f"s-{uuid.uuid4().hex[:6]}", "c4"
    t0 = datetime(2026, 12, 1, 5, 0, tzinfo=UTC)

    def sample(kind: int, seq: int, at: datetime) -> telemetry_pb2.ClientTelemetry:
        return telemetry_pb2.ClientTelemetry(
            meta=meta(sitting, cid, at), device_kind=common_pb2.DEVICE_KIND_DESKTOP, attempt_number=1, room_id="r7",
            samples=[common_pb2.TelemetrySample(kind=kind, sequence=seq, server_time=ts(at))])

    await producer.send(CLIENT_TELEMETRY.name, cid, sample(common_pb2.TELEMETRY_KIND_FOCUS_LOST, 1, t0))
    await kafka_events(kafka_bootstrap, ANOMALY_STATE.name, anomaly_pb2.AnomalyStateSnapshot, sitting, 1)
    await host.stop()
    await start()
    await producer.send(CLIENT_TELEMETRY.name, cid, sample(common_pb2.TELEMETRY_KIND_FOCUS_GAINED, 2,
                                                           t0 + timedelta(seconds=8)))
    events = await kafka_events(kafka_bootstrap, INCIDENTS.name, incident_pb2.IncidentEvent, sitting,
                                lambda got: any(e.change == incident_pb2.INCIDENT_CHANGE_CLOSED for e in got),
                                timeout_s=60)
    focus = [e for e in events if e.incident.kind == common_pb2.INCIDENT_KIND_FOCUS_LOST]
    assert focus and focus[0].change == incident_pb2.INCIDENT_CHANGE_OPENED
    assert focus[0].incident.start_time.ToDatetime(UTC) == t0


def still_event(sitting: str, candidate: str, stream: str, at: datetime, offset: timedelta,
                jpeg: bytes) -> media_pb2.MediaStill:
    ms = int(at.timestamp() * 1000)
    ev = media_pb2.MediaStill(meta=meta(sitting, candidate, at, f"{stream}:{ms}:still"), stream_id=stream,
                              stream_kind=CAMERA, attempt_number=1, captured_at=ts(at), jpeg=jpeg,
                              received_at=ts(datetime.now(UTC)), device_kind=common_pb2.DEVICE_KIND_DESKTOP)
    ev.stream_offset.FromTimedelta(offset)
    return ev


def noisy_jpegs(image: Path, n: int) -> list[bytes]:
    """``n`` webcam-like stills of a real photo: 640 px wide, a little sensor noise each."""
    picture = cv2.imread(str(image))
    h, w = picture.shape[:2]
    picture = cv2.resize(picture, (640, round(h * 640 / w)), interpolation=cv2.INTER_AREA)
    rng = np.random.default_rng(3)
    out = []
    for _ in range(n):
        noisy = np.clip(picture + rng.normal(0, 3, picture.shape), 0, 255).astype(np.uint8)
        out.append(cv2.imencode(".jpg", noisy, [cv2.IMWRITE_JPEG_QUALITY, 80])[1].tobytes())
    return out


async def test_live_stills_raise_incidents_and_their_segments_are_not_decoded_again(service, kafka_bootstrap):
    """Stills in (one per second) -> MULTIPLE_FACES out, its evidence pointing at the stream; a stored segment
    whose time the stills covered is not analysed again, one whose stills never came (a gap) is."""
    start, store, producer, tmp = service
    host = await start()
    sitting, cid, stream = f"s-{uuid.uuid4().hex[:6]}", "c1", f"st-{uuid.uuid4().hex[:6]}"
    t0 = datetime(2026, 12, 1, 3, 0, tzinfo=UTC)
    await producer.send(SESSION_EVENTS.name, cid, session_pb2.SessionEvent(
        meta=meta(sitting, cid, t0), to_state=common_pb2.CANDIDATE_STATE_IN_EXAM, room_id="r7", attempt_number=1))
    group = noisy_jpegs(IMAGES / "t1.jpg", 8)  # a 6-person group photo: other people on camera
    for k, jpeg in enumerate(group):
        await producer.send(MEDIA_STILLS.name, cid, still_event(
            sitting, cid, stream, t0 + timedelta(seconds=k), timedelta(seconds=k), jpeg))
    opened = await kafka_events(kafka_bootstrap, INCIDENTS.name, incident_pb2.IncidentEvent, sitting,
                                lambda got: any(e.incident.kind == common_pb2.INCIDENT_KIND_MULTIPLE_FACES
                                                for e in got), timeout_s=60)
    tracker = host.logic.watched[(sitting, cid)].tracker
    for _ in range(100):
        if tracker.counters["frames_seen"] >= 8:
            break
        await asyncio.sleep(0.1)
    assert tracker.counters["frames_seen"] == 8, dict(tracker.counters)
    faces = next(e for e in opened if e.incident.kind == common_pb2.INCIDENT_KIND_MULTIPLE_FACES)
    assert faces.change == incident_pb2.INCIDENT_CHANGE_OPENED
    assert faces.incident.detected_at.ToDatetime(UTC) <= t0 + timedelta(seconds=8)
    evidence = faces.incident.evidence[0]
    assert evidence.segment_id == f"{stream}:still" and evidence.stream_id == stream
    assert evidence.start_offset.ToTimedelta() <= timedelta(seconds=8)
    thumb = store.local_path(evidence.thumbnail_uri)
    assert thumb is not None and thumb.read_bytes()[:2] == b"\xff\xd8"
    # the stored segments: 0-4 s and 4-8 s were covered by the stills; 8-12 s had none (stills lost)
    def segments(outcome: str) -> float:
        return REGISTRY.get_sample_value("proctor_anomaly_segments_total",
                                         {"stream_kind": "desktop_camera", "outcome": outcome}) or 0.0

    covered, analysed = segments("covered_by_stills"), segments("analysed")
    files = still_segments(IMAGES / "t1.jpg", tmp / "group-segments", 12)
    for i, f in enumerate(files):
        uri = store.put_file(f"review/{stream}/{i:06d}.mp4", f, "video/mp4")
        await producer.send(MEDIA_SEGMENTS_STORED.name, cid, stored_event(
            sitting, cid, stream, i, uri, t0 + timedelta(seconds=SEGMENT_S * i), timedelta(seconds=SEGMENT_S * i)))
    async with asyncio.timeout(60):
        while segments("covered_by_stills") + segments("analysed") < covered + analysed + len(files):
            await asyncio.sleep(0.2)
    assert (segments("covered_by_stills") - covered, segments("analysed") - analysed) == (2, 1)
    assert tracker.counters["frames_seen"] == 12, "the gap's 4 frames analysed from its segment, no others"
