"""Live analysis stills (SubmitStills): the rules in isolation, and the service end to end in process with a
real exam-session, PostgreSQL and Kafka (the published stills are consumed back)."""

import asyncio
import time
import uuid
from datetime import timedelta
from types import SimpleNamespace

import grpc
import pytest
from confluent_kafka import OFFSET_BEGINNING, Consumer, TopicPartition
from google.protobuf.timestamp_pb2 import Timestamp
from ingest_harness import Ingest, still_jpeg
from prometheus_client import REGISTRY

from media_ingest.chain import chain_seed
from media_ingest.config import Settings
from media_ingest.stills import Stills, StreamCache, check_still, is_jpeg
from proctor.common.v1 import common_pb2
from proctor.events.v1 import media_pb2
from proctor.media.v1 import media_ingest_pb2 as pb
from proctor_runtime.errors import InvalidArgument, ResourceExhausted, Unavailable
from proctor_runtime.events import from_ts, ts
from proctor_runtime.kafka import EventProducer
from proctor_runtime.testing.helpers import bearer, refused
from proctor_runtime.topics import MEDIA_STILLS

CAMERA, SCREEN, PHONE, SCAN = (common_pb2.STREAM_KIND_DESKTOP_CAMERA, common_pb2.STREAM_KIND_DESKTOP_SCREEN,
                               common_pb2.STREAM_KIND_PHONE_EVIDENCE, common_pb2.STREAM_KIND_PHONE_ROOM_SCAN)
JPEG = still_jpeg()
S = 10**9


# --- rules, no I/O ----------------------------------------------------------------------------------

def test_jpeg_frame_check():
    assert is_jpeg(JPEG) and is_jpeg(JPEG + b"\x00" * 100), "trailing zero padding is allowed"
    png = b"\x89PNG\r\n\x1a\n" + JPEG[8:]
    for bad in (b"", png, JPEG[:-2], JPEG + b"\x01", b"\xff\xd8\xff\xd9", JPEG[1:]):
        assert not is_jpeg(bad), bad[:8]


def test_one_stills_rules():
    anchor = 1_000 * S
    good = pb.Still(jpeg=JPEG, captured_at=Timestamp(seconds=1_001))
    check_still(0, good, anchor, 256 * 1024)
    check_still(0, pb.Still(jpeg=JPEG, captured_at=Timestamp(seconds=1_000 - 60)), anchor, 256 * 1024)
    check_still(0, pb.Still(jpeg=JPEG, captured_at=Timestamp(seconds=1_000 + 24 * 3600)), anchor, 256 * 1024)
    with pytest.raises(ResourceExhausted) as err:
        check_still(3, good, anchor, len(JPEG) - 1)
    assert (err.value.reason, err.value.metadata) == ("STILL_TOO_LARGE",
                                                      {"index": "3", "max_bytes": str(len(JPEG) - 1)})
    for still, reason in ((pb.Still(jpeg=b"GIF89a", captured_at=good.captured_at), "STILL_NOT_JPEG"),
                          (pb.Still(jpeg=JPEG), "STILL_TIME_INVALID"),
                          (pb.Still(jpeg=JPEG, captured_at=Timestamp(seconds=1_000 - 61)), "STILL_TIME_INVALID"),
                          (pb.Still(jpeg=JPEG, captured_at=Timestamp(seconds=1_000 + 24 * 3600, nanos=1)),
                           "STILL_TIME_INVALID")):
        with pytest.raises(InvalidArgument) as err:
            check_still(2, still, anchor, 256 * 1024)
        assert err.value.reason == reason and err.value.metadata["index"] == "2"
        assert err.value.message_zh and err.value.message_en


def test_stills_settings_by_kind():
    settings = Settings()
    assert (settings.still_seconds(CAMERA), settings.still_seconds(PHONE)) == (1.0, 2.0)
    assert settings.still_seconds(SCREEN) is None and settings.still_seconds(SCAN) is None
    assert Settings(still_interval_s_phone_evidence=0).still_seconds(PHONE) is None
    assert (settings.segment_seconds(CAMERA), settings.segment_seconds(PHONE)) == (30.0, 30.0)


def test_stream_cache_expires_and_is_bounded():
    now = [0.0]
    cache = StreamCache(3.0, size=2, now=lambda: now[0])
    rows = [SimpleNamespace(stream_id=f"st-{i}") for i in range(3)]
    cache.put(rows[0])
    cache.put(rows[1])
    assert cache.get("st-0") is rows[0]  # now the most recently used
    cache.put(rows[2])
    assert cache.get("st-1") is None and cache.get("st-0") is rows[0] and cache.get("st-2") is rows[2]
    now[0] = 3.0
    assert cache.get("st-0") is None and cache.get("st-2") is None
    off = StreamCache(0)
    off.put(rows[0])
    assert off.get("st-0") is None


@pytest.mark.parametrize("how", ["broker_down", "no_answer_in_time"])
async def test_kafka_unavailable_is_a_precise_unavailable(how):
    """A producer that cannot deliver: UNAVAILABLE EVENTS_UNAVAILABLE naming what Kafka said (librdkafka's
    delivery timeout), or how long the call waited."""
    producer = EventProducer("127.0.0.1:1", "media-ingest-test",
                             extra={"message.timeout.ms": 300 if how == "broker_down" else 1500})
    settings = Settings(still_publish_timeout_s=5 if how == "broker_down" else 0.3)
    stills = Stills(settings, None, producer, lambda: True)  # type: ignore[arg-type]  # no database needed
    event = media_pb2.MediaStill(stream_id="st-1", jpeg=JPEG)
    started = time.monotonic()
    with pytest.raises(Unavailable) as err:
        await stills._publish(SimpleNamespace(candidate_id="c0"), [event, event])  # type: ignore[arg-type]
    assert time.monotonic() - started < 5
    assert err.value.reason == "EVENTS_UNAVAILABLE" and err.value.message_zh
    expected = "_MSG_TIMED_OUT" if how == "broker_down" else "within 0.3 s"
    assert expected in err.value.message_en, err.value.message_en
    await producer.close(timeout_s=3)  # the queued stills expire after message.timeout.ms


# --- the service ------------------------------------------------------------------------------------

def _read_stills(bootstrap: str, sitting_id: str, done, timeout_s: float = 20.0) -> list[tuple[str, int, object]]:
    """(key, partition, MediaStill) of this sitting on the stills topic, from the start, until ``done``."""
    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": f"t-{uuid.uuid4().hex}",
                         "enable.auto.commit": False})
    topic = MEDIA_STILLS.name
    partitions = consumer.list_topics(topic, timeout=10).topics[topic].partitions
    consumer.assign([TopicPartition(topic, p, OFFSET_BEGINNING) for p in partitions])
    out: list[tuple[str, int, object]] = []
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline and not done(out):
        msg = consumer.poll(0.3)
        if msg is None or msg.error():
            continue
        event = media_pb2.MediaStill.FromString(msg.value())
        if event.meta.sitting_id == sitting_id:
            out.append((msg.key().decode(), msg.partition(), event))
    consumer.close()
    return out


async def published(ingest: Ingest, bootstrap: str, done) -> list[tuple[str, int, object]]:
    return await asyncio.to_thread(_read_stills, bootstrap, ingest.sitting_id, done)


def submit(ingest: Ingest, md, stream_id: str, *stills: pb.Still):
    return ingest.stub.SubmitStills(pb.SubmitStillsRequest(stream_id=stream_id, stills=stills), metadata=md)


def _stills_total(kind: str, outcome: str) -> float:
    return REGISTRY.get_sample_value("proctor_media_ingest_stills_total",
                                     {"stream_kind": kind, "outcome": outcome}) or 0.0


async def test_accepted_stills_are_published_with_their_offsets(ingest: Ingest, kafka_bootstrap):
    c = await ingest.candidate("c0")
    now = ingest.clock.now
    declared = now - timedelta(seconds=5)  # the camera declares its capture start; the phone declares none
    fmt = common_pb2.MediaFormat(container=common_pb2.MEDIA_CONTAINER_FMP4, video_codec=1, audio_codec=1)
    cam = (await ingest.stub.OpenStream(pb.OpenStreamRequest(
        sitting_id=ingest.sitting_id, candidate_id="c0", kind=CAMERA, format=fmt, client_stream_key="cam",
        client_start_time=ts(declared)), metadata=c.desktop)).stream.stream_id
    phone = (await ingest.open(c, PHONE)).stream.stream_id
    ok_before = _stills_total("desktop_camera", "OK")
    # three live stills, then a batch sent on reconnect (one captured 30 s before the declared start: offset 0)
    offsets = [timedelta(seconds=1), timedelta(seconds=2), timedelta(milliseconds=3500)]
    for offset in offsets:
        reply = await submit(ingest, c.desktop, cam, pb.Still(captured_at=ts(declared + offset), jpeg=JPEG))
        assert reply.accepted == 1
    batch = [pb.Still(captured_at=ts(declared - timedelta(seconds=30)), jpeg=JPEG + b"\x00\x00"),
             pb.Still(captured_at=ts(declared + timedelta(seconds=4, microseconds=250)), jpeg=JPEG)]
    assert (await submit(ingest, c.desktop, cam, *batch)).accepted == 2
    phone_still = pb.Still(captured_at=ts(now + timedelta(seconds=7)), jpeg=JPEG)
    assert (await submit(ingest, c.phone, phone, phone_still)).accepted == 1
    assert _stills_total("desktop_camera", "OK") - ok_before == 5

    got = await published(ingest, kafka_bootstrap, lambda out: len(out) >= 6)
    assert len(got) == 6 and {key for key, _, _ in got} == {"c0"} and len({p for _, p, _ in got}) == 1
    cam_events = [e for _, _, e in got if e.stream_id == cam]
    expected = [*offsets, timedelta(0), timedelta(seconds=4, microseconds=250)]
    assert [e.stream_offset.ToTimedelta() for e in cam_events] == expected, "capture order, offsets from the anchor"
    assert [e.captured_at for e in cam_events] == [*(ts(declared + o) for o in offsets),
                                                   *(s.captured_at for s in batch)]
    first = cam_events[0]
    captured_ms = first.captured_at.ToMilliseconds()
    assert first.meta.event_id == f"{cam}:{captured_ms}:still"
    assert (first.meta.sitting_id, first.meta.candidate_id, first.meta.producer) == (ingest.sitting_id, "c0",
                                                                                      "media-ingest")
    assert (first.stream_kind, first.attempt_number, first.device_kind) == (CAMERA, 1, common_pb2.DEVICE_KIND_DESKTOP)
    assert first.jpeg == JPEG and first.received_at == ts(now)
    assert cam_events[3].jpeg == JPEG + b"\x00\x00", "the bytes are published as sent"
    phone_event = next(e for _, _, e in got if e.stream_id == phone)
    assert phone_event.stream_kind == PHONE and phone_event.device_kind == common_pb2.DEVICE_KIND_PHONE
    assert phone_event.stream_offset.ToTimedelta() == timedelta(seconds=7), "no declared start: opened_at"


async def test_refused_stills_publish_nothing(ingest: Ingest, kafka_bootstrap):
    c0, c1 = await ingest.candidate("c0"), await ingest.candidate("c1")
    opened = await ingest.open(c0, CAMERA)
    cam, anchor = opened.stream.stream_id, from_ts(opened.stream.opened_at)
    good = pb.Still(captured_at=ts(ingest.clock.now + timedelta(seconds=1)), jpeg=JPEG)
    # who: another candidate, the candidate's own phone, another desktop of the candidate, staff, nobody
    detail = await refused(submit(ingest, c1.desktop, cam, good), grpc.StatusCode.PERMISSION_DENIED,
                           "NOT_YOUR_STREAM")
    assert detail.message_zh and detail.message_en
    await refused(submit(ingest, c0.phone, cam, good), grpc.StatusCode.PERMISSION_DENIED, "WRONG_TOKEN_KIND")
    await refused(submit(ingest, bearer(ingest.exam.face_token("c0", "desk-2")), cam, good),
                  grpc.StatusCode.PERMISSION_DENIED, "NOT_YOUR_STREAM")
    await refused(submit(ingest, ingest.staff(), cam, good), grpc.StatusCode.PERMISSION_DENIED, "ROLE_NOT_ALLOWED")
    await refused(submit(ingest, (), cam, good), grpc.StatusCode.UNAUTHENTICATED, "TOKEN_MISSING")
    # which stream: unknown, a kind without stills, a closed one
    unknown_before = _stills_total("unknown", "STREAM_NOT_FOUND")
    await refused(submit(ingest, c0.desktop, "st-unknown", good), grpc.StatusCode.NOT_FOUND, "STREAM_NOT_FOUND")
    assert _stills_total("unknown", "STREAM_NOT_FOUND") - unknown_before == 1
    screen = (await ingest.open(c0, SCREEN)).stream.stream_id
    detail = await refused(submit(ingest, c0.desktop, screen, good), grpc.StatusCode.FAILED_PRECONDITION,
                           "STILLS_NOT_ANALYSED")
    assert detail.message_zh and detail.metadata["stream_kind"] == "STREAM_KIND_DESKTOP_SCREEN"
    scan = (await ingest.open(c0, SCAN)).stream.stream_id
    await refused(submit(ingest, c0.phone, scan, good), grpc.StatusCode.FAILED_PRECONDITION, "STILLS_NOT_ANALYSED")
    closed = (await ingest.open(c0, CAMERA)).stream.stream_id
    done = await ingest.stub.CloseStream(pb.CloseStreamRequest(stream_id=closed, segment_count=0, total_bytes=0,
                                                               chain_head=chain_seed(closed)), metadata=c0.desktop)
    assert done.verification.verified
    await refused(submit(ingest, c0.desktop, closed, good), grpc.StatusCode.FAILED_PRECONDITION, "STREAM_CLOSED")
    # the call's shape: no stream id, no stills, too many
    await refused(submit(ingest, c0.desktop, "", good), grpc.StatusCode.INVALID_ARGUMENT, "FIELD_REQUIRED")
    detail = await refused(submit(ingest, c0.desktop, cam), grpc.StatusCode.INVALID_ARGUMENT, "FIELD_REQUIRED")
    assert detail.metadata["field"] == "stills"
    detail = await refused(submit(ingest, c0.desktop, cam, *[good] * 65), grpc.StatusCode.INVALID_ARGUMENT,
                           "TOO_MANY_STILLS")
    assert detail.metadata["max_stills"] == "64"
    # one bad still refuses the whole call (a good one before it is not published either)
    not_jpeg_before = _stills_total("desktop_camera", "STILL_NOT_JPEG")
    for bad in (b"", b"\x89PNG\r\n\x1a\n" + JPEG[8:], JPEG[: len(JPEG) // 2]):
        detail = await refused(submit(ingest, c0.desktop, cam, good, pb.Still(captured_at=good.captured_at, jpeg=bad)),
                               grpc.StatusCode.INVALID_ARGUMENT, "STILL_NOT_JPEG")
        assert detail.metadata["index"] == "1" and detail.message_zh
    assert _stills_total("desktop_camera", "STILL_NOT_JPEG") - not_jpeg_before == 6, "both stills of 3 calls"
    huge = JPEG[:-2] + bytes(256 * 1024) + b"\xff\xd9"
    detail = await refused(submit(ingest, c0.desktop, cam, good, pb.Still(captured_at=good.captured_at, jpeg=huge)),
                           grpc.StatusCode.RESOURCE_EXHAUSTED, "STILL_TOO_LARGE")
    assert (detail.metadata["max_bytes"], detail.metadata["index"]) == ("262144", "1")
    for when in (None, anchor - timedelta(seconds=61), anchor + timedelta(hours=24, seconds=1)):
        bad = pb.Still(jpeg=JPEG) if when is None else pb.Still(captured_at=ts(when), jpeg=JPEG)
        detail = await refused(submit(ingest, c0.desktop, cam, good, bad), grpc.StatusCode.INVALID_ARGUMENT,
                               "STILL_TIME_INVALID")
        assert detail.metadata["index"] == "1"
    # a good still afterwards: the only one on the topic (every refused call had the same key, so any
    # still of theirs would be on the same partition before it)
    marker = pb.Still(captured_at=ts(ingest.clock.now + timedelta(seconds=9)), jpeg=JPEG)
    assert (await submit(ingest, c0.desktop, cam, marker)).accepted == 1
    got = await published(ingest, kafka_bootstrap, lambda out: any(e.captured_at == marker.captured_at
                                                                   for _, _, e in out))
    assert [e.captured_at for _, _, e in got] == [marker.captured_at], "a refused still was published"


async def test_a_flood_of_stills_is_rate_limited_per_stream(ingest: Ingest):
    """A backlog of 10 minutes of stills goes through; beyond it, 3 per second: the rest is refused whole
    (the client drops them; anomaly analyses that time from the segments) and other streams are untouched."""
    c0, c1 = await ingest.candidate("c0"), await ingest.candidate("c1")
    cam = (await ingest.open(c0, CAMERA)).stream.stream_id
    other = (await ingest.open(c1, CAMERA)).stream.stream_id
    batch = [pb.Still(captured_at=ts(ingest.clock.now + timedelta(milliseconds=k)), jpeg=JPEG) for k in range(64)]
    accepted = 0
    for _ in range(9):  # 576 of the 600-still burst
        accepted += (await submit(ingest, c0.desktop, cam, *batch)).accepted
    assert accepted == 576
    detail = await refused(submit(ingest, c0.desktop, cam, *batch), grpc.StatusCode.RESOURCE_EXHAUSTED,
                           "RATE_LIMITED")
    assert int(detail.metadata["retry_after_ms"]) > 0 and detail.message_zh
    assert (await submit(ingest, c1.desktop, other, batch[0])).accepted == 1


async def test_limits_announce_stills_for_the_analysed_kinds(ingest: Ingest):
    c = await ingest.candidate("c0")
    cam = await ingest.open(c, CAMERA)
    lim = cam.limits
    assert lim.still_interval.ToTimedelta() == timedelta(seconds=1) and lim.segment_duration.seconds == 30
    assert (lim.still_max_bytes, lim.still_max_side, lim.max_stills_per_call) == (256 * 1024, 640, 64)
    phone = await ingest.open(c, PHONE)
    assert phone.limits.still_interval.ToTimedelta() == timedelta(seconds=2)
    assert phone.limits.segment_duration.seconds == 30
    for kind in (SCREEN, SCAN):
        other = (await ingest.open(c, kind)).limits
        assert not other.HasField("still_interval") and other.still_max_bytes == 0 and other.max_stills_per_call == 0
    # UploadChunks' ready frame announces the stream's own limits too

    async def header_only():
        yield pb.UploadChunksRequest(header=pb.UploadHeader(stream_id=cam.stream.stream_id))

    frames = [f async for f in ingest.stub.UploadChunks(header_only(), metadata=c.desktop)]
    assert [f.WhichOneof("frame") for f in frames] == ["ready"] and frames[0].ready.limits == lim
