"""The media processing worker: structure checks, flag rules and playlists (pure); probe + remux +
transcode + thumbnails with real ffmpeg libraries, checked with the real ffprobe/ffmpeg CLI; and the
worker end to end on the real Kafka and PostgreSQL (out-of-order segments, corrupt/truncated/empty
uploads, redelivery, permanent errors, the stitched playlist and STREAM_STITCHED)."""

import asyncio
import hashlib
import subprocess
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import media_clips as clips
import psycopg
import pytest
from prometheus_client import REGISTRY
from pydantic import SecretStr

from media_ingest.processing import containers, rules, timeline
from media_ingest.processing.app import build
from media_ingest.processing.config import MediaSettings, WorkerSettings
from media_ingest.processing.pipeline import process_file
from proctor.common.v1 import common_pb2 as common
from proctor.events.v1 import media_pb2 as media
from proctor_runtime.events import meta, ts
from proctor_runtime.kafka import EventProducer, dlq_topic
from proctor_runtime.testing.helpers import kafka_events
from proctor_runtime.testing.plugin import start_group_at_end
from proctor_runtime.topics import (
    MEDIA_SEGMENTS_RECEIVED,
    MEDIA_SEGMENTS_STORED,
    MEDIA_STREAMS,
    ensure_topics,
    new_topics,
)
from proctor_storage.store import FilesystemStore, SegmentStore, StorageSettings, open_store

MS = MediaSettings()
H264_AAC = common.MediaFormat(container=common.MEDIA_CONTAINER_FMP4, video_codec=common.VIDEO_CODEC_H264,
                              audio_codec=common.AUDIO_CODEC_AAC, mime_type='video/mp4; codecs="avc1,mp4a"')
VP9_OPUS = common.MediaFormat(container=common.MEDIA_CONTAINER_WEBM, video_codec=common.VIDEO_CODEC_VP9,
                              audio_codec=common.AUDIO_CODEC_OPUS, mime_type="video/webm;codecs=vp9,opus")
VP8_ONLY = common.MediaFormat(container=common.MEDIA_CONTAINER_WEBM, video_codec=common.VIDEO_CODEC_VP8,
                              audio_codec=common.AUDIO_CODEC_NONE, mime_type="video/webm;codecs=vp8")
T0 = datetime(2026, 6, 7, 9, 0, 0, tzinfo=UTC)


def flag_names(flags) -> set[str]:
    return {media.MediaFlag.Name(f).removeprefix("MEDIA_FLAG_") for f in flags}


def ffprobe(path: Path, *entries: str) -> dict:
    return clips.ffprobe_json(path, *entries)


def packet_hash(ffmpeg: str, path: Path, stream: str) -> str:
    """SHA-256 over the stream's packet payloads, as the ffmpeg CLI demuxes them."""
    out = subprocess.run([ffmpeg, "-v", "error", "-i", str(path), "-map", f"0:{stream}", "-c", "copy", "-f", "hash",
                          "-hash", "sha256", "-"], capture_output=True, text=True, check=True)
    return out.stdout.strip()


def frame_hash(ffmpeg: str, path: Path) -> str:
    """SHA-256 over the decoded video frames (equal only if not a single pixel changed)."""
    out = subprocess.run([ffmpeg, "-v", "error", "-i", str(path), "-map", "0:v", "-f", "hash", "-hash", "sha256", "-"],
                         capture_output=True, text=True, check=True)
    return out.stdout.strip()


def plays(ffmpeg: str, path: Path) -> None:
    """The whole file (or playlist) decodes without a single error message."""
    done = subprocess.run([ffmpeg, "-v", "error", "-i", str(path), "-f", "null", "-"], capture_output=True, text=True)
    assert done.returncode == 0 and done.stderr == "", done.stderr[-2000:]


@pytest.fixture(scope="module")
def made(tmp_path_factory, ffmpeg_bin):
    """Every clip the tests use, made once (ffmpeg test sources; small, so the module stays fast)."""
    root = tmp_path_factory.mktemp("clips")
    return {"h264": clips.h264_segments(ffmpeg_bin, root / "h264", count=3),
            "h264b": clips.h264_segments(ffmpeg_bin, root / "h264b", count=3, name="b"),
            "vp9": clips.webm_segments(ffmpeg_bin, root / "vp9", "vp9", count=2),
            "vp8": clips.webm_segments(ffmpeg_bin, root / "vp8", "vp8", count=1), "root": root}


# --- structure, rules, timeline (no media libraries) --------------------------------------------

def test_every_cut_of_an_mp4_or_webm_segment_is_detected_as_truncated(made):
    for segment in (made["h264"][0], made["vp9"][0]):
        data = segment.path.read_bytes()
        walk = containers.mp4_truncation if segment.path.suffix == ".mp4" else containers.ebml_truncation
        assert walk(data) is None, "the whole segment is not truncated"
        missed = [n for n in range(1, len(data), max(1, len(data) // 400)) if walk(data[:n]) is None]
        assert missed == [], f"{segment.path.name}: cuts at {missed[:5]} not detected"
    with pytest.raises(containers.StructureError):
        containers.mp4_truncation(b"\x00\x00\x00\x04junkjunk")


def _info(video="h264", audio="aac", duration=4.0, size=1000, family="mp4"):
    v = rules.Track(video, 0.0, duration, 100, 320, 240, 25.0) if video else None
    a = rules.Track(audio, 0.0, duration, 180, sample_rate=48000) if audio else None
    return rules.SegmentInfo(size, family, v, a)


def test_flag_rules():
    expect = rules.Expectation(H264_AAC, common.STREAM_KIND_DESKTOP_CAMERA, 4.0, 1000)
    clean = rules.judge(_info(), expect, MS)
    assert clean.ok and clean.flags == []
    vp9 = rules.judge(_info("vp9", "opus", family="matroska"), expect, MS)
    assert vp9.ok and flag_names(vp9.flags) == {"UNEXPECTED_CODEC"}
    assert "video is vp9" in vp9.detail and "container is matroska" in vp9.detail
    mute = rules.judge(_info(audio=None), expect, MS)
    assert flag_names(mute.flags) == {"NO_AUDIO_TRACK"}
    screen = rules.Expectation(common.MediaFormat(), common.STREAM_KIND_DESKTOP_SCREEN, 4.0)
    assert rules.judge(_info(audio=None), screen, MS).flags == [], "a screen recording needs no microphone"
    assert flag_names(rules.judge(_info(video=None), expect, MS).flags) == {"NO_VIDEO_TRACK"}
    assert flag_names(rules.judge(_info(duration=2.5), expect, MS).flags) == {"DURATION_MISMATCH"}
    assert rules.judge(_info(duration=3.2), expect, MS).flags == [], "within max(1 s, 10 %)"
    short = rules.judge(_info(size=900), expect, MS)
    assert short.ok and flag_names(short.flags) == {"TRUNCATED"}
    empty = rules.judge(rules.SegmentInfo(0), expect, MS)
    assert not empty.ok and flag_names(empty.flags) == {"ZERO_LENGTH"}
    assert rules.plan(_info()) == rules.Plan("copy", "copy")
    assert rules.plan(_info()).action == media.PROCESSING_ACTION_REMUXED
    assert rules.plan(_info("vp8", "opus")).action == media.PROCESSING_ACTION_TRANSCODED
    assert rules.plan(_info("h264", "opus")) == rules.Plan("copy", "transcode")
    assert rules.plan(_info("h264", "opus")).action == media.PROCESSING_ACTION_REMUXED, "the action is the video's"
    assert rules.plan(_info(None, "opus")).action == media.PROCESSING_ACTION_TRANSCODED


def test_playlist_grows_only_at_its_end_and_is_final_with_endlist():
    e = [timeline.Entry(i, i != 3, 2.0 * i, 2.0, f"seg-{i:06d}.mp4", 100, 1000, "avc1 320x240") for i in range(5)]
    arrived = [e[0], e[2], e[1], e[4]]
    assert [x.index for x in timeline.listed(arrived, final=False)] == [0, 1, 2], "stops at the hole before 4"
    assert [x.index for x in timeline.listed([*arrived, e[3]], final=False)] == [0, 1, 2, 3, 4]
    text = timeline.render(timeline.listed([*arrived, e[3]], final=True), T0, True, 10)
    lines = text.splitlines()
    assert lines[:2] == ["#EXTM3U", "#EXT-X-VERSION:7"] and lines[-1] == "#EXT-X-ENDLIST"
    assert "#EXT-X-PLAYLIST-TYPE:EVENT" in lines and "seg-000003.mp4" not in text, "unusable segment left out"
    assert "#EXT-X-PROGRAM-DATE-TIME:2026-06-07T09:00:08.000Z" in lines, "anchor + offset of segment 4"
    assert '#EXT-X-MAP:URI="seg-000004.mp4",BYTERANGE="100@0"' in lines and "#EXT-X-BYTERANGE:900@100" in lines
    assert "#EXT-X-DISCONTINUITY" not in lines
    changed = [*e[:2], timeline.Entry(2, True, 4.0, 2.0, "seg-000002.mp4", 100, 1000, "avc1 640x480")]
    assert timeline.render(changed, T0, False, 10).count("#EXT-X-DISCONTINUITY\n") == 1
    assert "#EXT-X-ENDLIST" not in timeline.render(changed, T0, False, 10)
    stepped_back = [e[0], e[1], timeline.Entry(2, True, 2.5, 2.0, "seg-000002.mp4", 100, 1000, "avc1 320x240")]
    assert timeline.render(stepped_back, T0, True, 10).count("#EXT-X-DISCONTINUITY\n") == 1
    assert timeline.stream_offset(T0, T0 + timedelta(seconds=7.5)) == timedelta(seconds=7.5)
    assert timeline.stream_offset(T0, T0 - timedelta(seconds=1)) == timedelta(0)


# --- one segment through the real media libraries ------------------------------------------------

def _process(tmp_path, segment, offset=10.0, declared=H264_AAC, span=None, name="out"):
    expect = rules.Expectation(declared, common.STREAM_KIND_DESKTOP_CAMERA,
                               segment.duration_s if span is None else span, segment.path.stat().st_size)
    out, thumb = tmp_path / f"{name}.mp4", tmp_path / f"{name}.jpg"
    return process_file(segment.path, expect, offset, out, thumb, MS), out, thumb


def test_h264_is_remuxed_bit_exact_onto_the_stream_timeline(made, tmp_path, ffmpeg_bin):
    segment = made["h264"][1]
    outcome, out, thumb = _process(tmp_path, segment, offset=10.0)
    assert outcome.verdict.ok and outcome.verdict.flags == [] and outcome.action == media.PROCESSING_ACTION_REMUXED
    n = outcome.normalised
    assert packet_hash(ffmpeg_bin, out, "v") == packet_hash(ffmpeg_bin, segment.path, "v"), "video stream-copied"
    assert packet_hash(ffmpeg_bin, out, "a") == packet_hash(ffmpeg_bin, segment.path, "a"), "audio stream-copied"
    probed = ffprobe(out, "-show_entries", "stream=codec_name,start_time:format=start_time")
    assert {s["codec_name"] for s in probed["streams"]} == {"h264", "aac"}
    assert float(probed["format"]["start_time"]) == pytest.approx(10.0, abs=0.001), "timestamps start at the offset"
    assert n.init_size == containers.init_size(out) and 0 < n.init_size < n.size == out.stat().st_size
    assert n.keyframe_count == 2 and n.keyframe_interval_s == pytest.approx(1.0, abs=0.05), "a keyframe every second"
    assert n.duration_s == pytest.approx(segment.duration_s, abs=0.05)
    assert n.format.video_codec == common.VIDEO_CODEC_H264 and (n.format.width, n.format.height) == (320, 240)
    assert n.format.mime_type.startswith('video/mp4; codecs="avc1.') and n.format.mime_type.endswith('mp4a.40.2"')
    image = ffprobe(thumb, "-show_entries", "stream=codec_name,width,height")["streams"][0]
    assert image == {"codec_name": "mjpeg", "width": 320, "height": 240}
    plays(ffmpeg_bin, out)
    _, out2, thumb2 = _process(tmp_path, segment, offset=10.0, name="again")
    assert out2.read_bytes() == out.read_bytes() and thumb2.read_bytes() == thumb.read_bytes(), "deterministic"


def test_vp9_opus_is_transcoded_to_h264_aac_with_regular_keyframes(made, tmp_path, ffmpeg_bin):
    segment = made["vp9"][0]
    outcome, out, thumb = _process(tmp_path, segment, offset=4.0, declared=VP9_OPUS)
    assert outcome.verdict.ok and outcome.verdict.flags == [], outcome.verdict.detail
    assert outcome.action == media.PROCESSING_ACTION_TRANSCODED and outcome.plan == rules.Plan("transcode", "transcode")
    probed = ffprobe(out, "-show_entries", "stream=codec_name:format=start_time,duration")
    assert [s["codec_name"] for s in probed["streams"]] == ["h264", "aac"]
    assert float(probed["format"]["start_time"]) == pytest.approx(4.0, abs=0.05)
    keyframes = [float(p["pts_time"]) for p in ffprobe(out, "-select_streams", "v", "-show_entries",
                                                        "packet=pts_time,flags")["packets"] if "K" in p["flags"]]
    assert keyframes[0] == pytest.approx(4.0, abs=0.05) and len(keyframes) == outcome.normalised.keyframe_count
    assert outcome.normalised.keyframe_interval_s <= MS.keyframe_interval_s + 0.05
    assert outcome.normalised.duration_s == pytest.approx(segment.duration_s, abs=0.1)
    plays(ffmpeg_bin, out)
    assert thumb.read_bytes()[:2] == b"\xff\xd8"
    _, out2, _ = _process(tmp_path, segment, offset=4.0, declared=VP9_OPUS, name="again")
    assert out2.read_bytes() == out.read_bytes(), "single-threaded x264: the same bytes on redelivery"


@pytest.mark.parametrize("suffix", [".mkv", ".ts"])
def test_h264_in_matroska_or_mpegts_keeps_its_video_and_reencodes_the_audio(suffix, tmp_path, ffmpeg_bin):
    segment = clips.h264_in(ffmpeg_bin, tmp_path / f"in{suffix}")
    outcome, out, _ = _process(tmp_path, segment, declared=common.MediaFormat())
    assert outcome.verdict.ok and outcome.plan == rules.Plan("copy", "transcode"), outcome.verdict.detail
    assert outcome.action == media.PROCESSING_ACTION_REMUXED, "the video frames are the uploaded ones"
    # (TS carries H.264 as Annex B, MP4 as AVCC: the packets differ in framing, the decoded frames not at all)
    assert frame_hash(ffmpeg_bin, out) == frame_hash(ffmpeg_bin, segment.path), "video not re-encoded"
    probed = ffprobe(out, "-show_entries", "stream=codec_name")
    assert [s["codec_name"] for s in probed["streams"]] == ["h264", "aac"]
    plays(ffmpeg_bin, out)


def test_broken_uploads_are_flagged_and_never_raise(made, tmp_path, ffmpeg_bin):
    whole = made["h264"][0]
    cut = clips.Segment(clips.truncated(whole.path, tmp_path / "cut.mp4", 0.25), 0, whole.duration_s)
    outcome, out, _ = _process(tmp_path, cut, span=whole.duration_s)
    assert outcome.verdict.ok, "what was uploaded before the cut is kept for review"
    assert 0 < outcome.normalised.duration_s < whole.duration_s - MS.duration_tolerance_s
    flags = flag_names(outcome.verdict.flags)  # (the cut may also take the fragment's audio run)
    assert {"TRUNCATED", "DURATION_MISMATCH"} <= flags and "CORRUPT" not in flags, outcome.verdict.detail
    plays(ffmpeg_bin, out)
    webm = made["vp9"][0]
    cut_webm = clips.Segment(clips.truncated(webm.path, tmp_path / "cut.webm", 0.5), 0, webm.duration_s)
    outcome, _, _ = _process(tmp_path, cut_webm, declared=VP9_OPUS, span=webm.duration_s, name="webm")
    assert "TRUNCATED" in flag_names(outcome.verdict.flags)
    head = clips.Segment(clips.truncated(whole.path, tmp_path / "head.mp4", 0.001), 0, 2.0)
    outcome, _, _ = _process(tmp_path, head, name="head")
    assert not outcome.verdict.ok and {"TRUNCATED", "CORRUPT"} <= flag_names(outcome.verdict.flags)
    noise = clips.Segment(clips.random_bytes(tmp_path / "noise.mp4", 200_000), 0, 2.0)
    outcome, _, _ = _process(tmp_path, noise, name="noise")
    assert not outcome.verdict.ok and flag_names(outcome.verdict.flags) == {"CORRUPT"}
    assert outcome.action == media.PROCESSING_ACTION_NONE and outcome.normalised is None
    empty = tmp_path / "empty.mp4"
    empty.write_bytes(b"")
    outcome, _, _ = _process(tmp_path, clips.Segment(empty, 0, 2.0), name="empty")
    assert not outcome.verdict.ok and flag_names(outcome.verdict.flags) == {"ZERO_LENGTH"}


# --- the worker on the real Kafka and PostgreSQL --------------------------------------------------

@dataclass
class Harness:
    host: object
    bootstrap: str
    dsn: str
    store: SegmentStore  # the worker's backend, opened a second time (as the upload server would)
    producer: EventProducer
    scratch: Path
    sitting: str = ""

    def received(self, candidate, stream_id, index, segment, start, declared=H264_AAC,
                 kind=common.STREAM_KIND_DESKTOP_CAMERA) -> media.MediaSegmentReceived:
        key = f"{self.sitting}/{candidate}/{stream_id}/seg-{index:06d}.raw"
        uri = self.store.put_file(key, segment.path)
        data = segment.path.read_bytes()
        committed = datetime.now(UTC)
        e = media.MediaSegmentReceived(
            meta=meta(sitting_id=self.sitting, candidate_id=candidate, producer="media-ingest", event_time=committed,
                      event_id=f"{stream_id}:{index}:received"),
            stream_id=stream_id, stream_kind=kind, attempt_number=1, segment_index=index, object_uri=uri,
            size_bytes=len(data), sha256=hashlib.sha256(data).digest(), declared_format=declared,
            client_start_time=ts(start), client_end_time=ts(start + timedelta(seconds=segment.duration_s)),
            committed_at=ts(committed), device_kind=common.DEVICE_KIND_DESKTOP)
        e.media_duration.FromTimedelta(timedelta(seconds=segment.duration_s))
        return e

    def verdict(self, candidate, stream_id, count, kind=media.MEDIA_STREAM_EVENT_KIND_STREAM_VERIFIED,
                missing=()) -> media.MediaStreamEvent:
        name = media.MediaStreamEventKind.Name(kind).lower()
        return media.MediaStreamEvent(
            meta=meta(sitting_id=self.sitting, candidate_id=candidate, producer="media-ingest",
                      event_time=datetime.now(UTC), event_id=f"{stream_id}:{name}"),
            kind=kind, stream_id=stream_id, stream_kind=common.STREAM_KIND_DESKTOP_CAMERA, attempt_number=1,
            device_kind=common.DEVICE_KIND_DESKTOP, segment_count=count, chain_head=b"\x01" * 32,
            missing_segments=list(missing))

    async def send(self, *events):
        for e in events:
            topic = MEDIA_STREAMS.name if isinstance(e, media.MediaStreamEvent) else MEDIA_SEGMENTS_RECEIVED.name
            await self.producer.send(topic, e.meta.candidate_id, e)

    async def stored(self, segment_ids: set[str]) -> dict[str, list[media.MediaSegmentStored]]:
        got = await kafka_events(self.bootstrap, MEDIA_SEGMENTS_STORED.name, media.MediaSegmentStored, self.sitting,
                                 lambda evs: segment_ids <= {e.segment_id for e in evs}, timeout_s=60)
        out: dict[str, list[media.MediaSegmentStored]] = {}
        for e in got:
            out.setdefault(e.segment_id, []).append(e)
        assert segment_ids <= set(out), f"stored events missing for {segment_ids - set(out)}"
        return out

    async def stitched(self, stream_ids: set[str]) -> dict[str, media.MediaStreamEvent]:
        def done(evs):
            return stream_ids <= {e.stream_id for e in evs if e.kind == media.MEDIA_STREAM_EVENT_KIND_STREAM_STITCHED}

        got = await kafka_events(self.bootstrap, MEDIA_STREAMS.name, media.MediaStreamEvent, self.sitting, done,
                                 timeout_s=60)
        out = {e.stream_id: e for e in got if e.kind == media.MEDIA_STREAM_EVENT_KIND_STREAM_STITCHED}
        assert stream_ids <= set(out), f"no STREAM_STITCHED for {stream_ids - set(out)}"
        return out

    def local(self, uri: str) -> Path:
        """A local copy of a stored object (the file itself on the filesystem backend)."""
        path = self.store.local_path(uri)
        if path is None:
            path = self.scratch / uuid.uuid4().hex / uri.rsplit("/", 1)[-1]
            path.parent.mkdir(parents=True)
            self.store.fetch(uri, path)
        return path

    def playlist(self, uri: str) -> Path:
        """The stored playlist with every object it references beside it, as a player reads it."""
        path = self.local(uri)
        if self.store.local_path(uri) is None:
            folder = self.store.key_of(uri).rsplit("/", 1)[0]
            for name in {line for line in path.read_text().splitlines() if line and not line.startswith("#")}:
                self.store.fetch(self.store.uri(f"{folder}/{name}"), path.with_name(name))
        return path

    def query(self, sql, *args):
        with psycopg.connect(self.dsn) as conn:
            return conn.execute(sql, args).fetchall()


def _storage(request, tmp_path_factory) -> tuple[StorageSettings, object]:
    """Filesystem storage (local_path: ffmpeg reads the raw segment in place) or S3 on the local MinIO
    (the worker fetches the raw segment and uploads what it makes); returns (settings, cleanup)."""
    if request.param == "filesystem":
        return StorageSettings(url=tmp_path_factory.mktemp("media-store").as_uri()), lambda: None
    endpoint = request.getfixturevalue("s3_endpoint")
    prefix = f"test-worker-{uuid.uuid4().hex[:10]}"
    settings = StorageSettings(url=f"s3://{endpoint.bucket}/{prefix}", s3_endpoint_url=endpoint.endpoint_url,
                               s3_region=endpoint.region, s3_access_key=endpoint.access_key,
                               s3_secret_key=endpoint.secret_key)

    def cleanup() -> None:
        client = open_store(settings).client
        pages = client.get_paginator("list_objects_v2").paginate(Bucket=endpoint.bucket, Prefix=prefix + "/")
        names = [item["Key"] for page in pages for item in page.get("Contents", [])]
        for i in range(0, len(names), 1000):
            client.delete_objects(Bucket=endpoint.bucket, Delete={"Objects": [{"Key": n} for n in names[i:i + 1000]]})

    return settings, cleanup


@pytest.fixture(scope="module", params=["filesystem", "s3"])
async def worker(request, postgres, kafka_bootstrap, tmp_path_factory):
    """One worker (in this event loop) per storage backend: its own database, storage and consumer
    group starting at the topics' end; tests use their own sitting ids."""
    storage, cleanup = _storage(request, tmp_path_factory)
    ensure_topics(kafka_bootstrap, new_topics())
    name = f"test_{uuid.uuid4().hex[:12]}"
    postgres.psql(f'CREATE DATABASE "{name}"')
    dsn = postgres.settings.pg_dsn_for(name)
    group = f"media-worker-test-{uuid.uuid4().hex[:8]}"
    start_group_at_end(kafka_bootstrap, group, [MEDIA_SEGMENTS_RECEIVED.name, MEDIA_STREAMS.name])
    settings = WorkerSettings(
        database_url=SecretStr(dsn), kafka_bootstrap=kafka_bootstrap, kafka_group_id=group, storage=storage,
        work_dir=tmp_path_factory.mktemp("media-work"), concurrency=2, shutdown_grace_s=1, kafka_handler_retries=2,
        # every segment gets its thumbnail and its playlist refresh here (the defaults space them out; tested
        # on their own below)
        thumbnail_interval_s=0, playlist_refresh_s=0)
    host = await build(settings)
    await host.start()
    async with asyncio.timeout(30):
        await host.consumers[0].ready.wait()
    producer = EventProducer(kafka_bootstrap, "media-ingest-test")
    yield Harness(host, kafka_bootstrap, dsn, open_store(storage), producer, tmp_path_factory.mktemp("fetched"))
    await producer.close()
    await host.stop()
    postgres.psql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    cleanup()


@pytest.fixture
def h(worker):
    worker.sitting = f"sit-{uuid.uuid4().hex[:8]}"
    return worker


def _declare_stream(h, candidate, stream_id, start):
    """The upload server's rows for an opened stream (its OpenStream declared the capture start)."""
    with psycopg.connect(h.dsn) as conn:
        conn.execute("INSERT INTO uploads (sitting_id, candidate_id, attempt_number, room_id, upload_deadline,"
                     " required_kinds, created_at) VALUES (%s, %s, 1, 'r1', %s, '{1}', %s)",
                     (h.sitting, candidate, start + timedelta(hours=3), start))
        conn.execute("INSERT INTO streams (stream_id, sitting_id, candidate_id, attempt_number, kind, format,"
                     " device_kind, device_id, client_stream_key, state, opened_at, client_start_time,"
                     " upload_deadline, last_activity_at, chain_head) VALUES (%s, %s, %s, 1, 1, %s, 1, 'dev-1',"
                     " %s, 1, %s, %s, %s, %s, %s)",
                     (stream_id, h.sitting, candidate, H264_AAC.SerializeToString(), stream_id, start, start,
                      start + timedelta(hours=3), start, b"\x00" * 32))


async def test_out_of_order_segments_get_final_offsets_and_one_stitched_playlist(h, made, ffmpeg_bin):
    candidate, stream_id = "cand-ooo", f"st-{uuid.uuid4().hex[:8]}"
    start = T0 - timedelta(seconds=0.5)  # the stream was declared half a second before the first frame
    _declare_stream(h, candidate, stream_id, start)
    segments = made["h264"]
    times = [T0 + timedelta(seconds=s.start_s) for s in segments]
    events = [h.received(candidate, stream_id, i, s, times[i]) for i, s in enumerate(segments)]
    await h.send(events[2], events[0], events[1])  # after a network loss, the newest arrived first
    ids = {f"{stream_id}:{i}" for i in range(3)}
    stored = await h.stored(ids)
    for i, s in enumerate(segments):
        [e] = stored[f"{stream_id}:{i}"]
        assert e.meta.event_id == f"{stream_id}:{i}:stored" and e.meta.producer == "media-worker"
        assert (e.stream_id, e.segment_index, e.attempt_number) == (stream_id, i, 1)
        assert e.stream_kind == common.STREAM_KIND_DESKTOP_CAMERA and e.action == media.PROCESSING_ACTION_REMUXED
        assert e.probe.ok and list(e.probe.flags) == [] and e.has_video and e.has_audio
        assert e.media_start_time.ToDatetime(UTC) == times[i]
        assert e.media_end_time.ToDatetime(UTC) == times[i] + timedelta(seconds=s.duration_s)
        assert e.stream_offset.ToTimedelta() == times[i] - start, "capture time minus the declared start"
        assert e.duration.ToTimedelta().total_seconds() == pytest.approx(s.duration_s, abs=0.05)
        assert e.keyframe_count == 2 and e.keyframe_interval.ToTimedelta().total_seconds() == pytest.approx(1, abs=.05)
        assert e.format.video_codec == common.VIDEO_CODEC_H264 and e.format.audio_codec == common.AUDIO_CODEC_AAC
        assert e.raw_object_uri == events[i].object_uri and e.received_at == events[i].committed_at
        assert e.processed_at.ToDatetime(UTC) >= e.received_at.ToDatetime(UTC)
        assert e.object_uri.endswith(f"/seg-{i:06d}.mp4") and e.thumbnail_uri.endswith(f"/seg-{i:06d}.jpg")
        assert e.playlist_uri.endswith("/playlist.m3u8") and h.local(e.thumbnail_uri).read_bytes()[:2] == b"\xff\xd8"
        first = ffprobe(h.local(e.object_uri), "-show_entries", "format=start_time")["format"]["start_time"]
        assert float(first) == pytest.approx(e.stream_offset.ToTimedelta().total_seconds(), abs=0.001)
    rows = h.query("SELECT stitched_at, anchor_source FROM review_streams WHERE stream_id = %s", stream_id)
    assert rows == [(None, "declared")], "no ENDLIST before the stream is verified"

    await h.send(h.verdict(candidate, stream_id, 3))
    done = (await h.stitched({stream_id}))[stream_id]
    assert done.meta.event_id == f"{stream_id}:stream_stitched" and done.segment_count == 3
    assert list(done.missing_segments) == [] and list(done.problems) == []
    playlist = h.playlist(done.playlist_uri)
    text = playlist.read_text()
    assert text.rstrip().endswith("#EXT-X-ENDLIST") and text.count("#EXTINF:") == 3
    assert text.index("seg-000000.mp4") < text.index("seg-000001.mp4") < text.index("seg-000002.mp4")
    total = sum(s.duration_s for s in segments)
    probed = ffprobe(playlist, "-show_entries", "format=duration,start_time")["format"]
    assert float(probed["duration"]) == pytest.approx(total, abs=0.1)
    assert float(probed["start_time"]) == pytest.approx(0.5, abs=0.01), "the first frame is 0.5 s into the stream"
    plays(ffmpeg_bin, playlist)
    frames = ffprobe(playlist, "-select_streams", "v", "-count_packets", "-show_entries", "stream=nb_read_packets")
    assert int(frames["streams"][0]["nb_read_packets"]) == 3 * 2 * 25, "every frame of every segment, once"


async def test_corrupt_truncated_and_empty_uploads_are_flagged_and_the_stream_still_stitches(h, made, tmp_path,
                                                                                              ffmpeg_bin):
    candidate, stream_id = "cand-bad", f"st-{uuid.uuid4().hex[:8]}"
    good = made["h264b"]
    broken = {1: clips.Segment(clips.truncated(good[1].path, tmp_path / "cut.mp4", 0.25), 0, good[1].duration_s),
              2: clips.Segment(clips.random_bytes(tmp_path / "noise.mp4", 150_000), 0, good[2].duration_s),
              3: clips.Segment(tmp_path / "empty.mp4", 0, 2.0)}
    broken[3].path.write_bytes(b"")
    segments = [good[0], broken[1], broken[2], broken[3], good[2]]
    start = T0
    events = []
    for i, s in enumerate(segments):
        events.append(h.received(candidate, stream_id, i, s, start))
        start += timedelta(seconds=s.duration_s)
    flags_before = {f: REGISTRY.get_sample_value("proctor_media_segment_flags_total", {"flag": f}) or 0.0
                    for f in ("corrupt", "zero_length", "truncated")}
    # the verdict first: the playlist is finalised when the last segment is processed
    await h.send(h.verdict(candidate, stream_id, 5), *events)
    stored = await h.stored({f"{stream_id}:{i}" for i in range(5)})
    by_index = {i: stored[f"{stream_id}:{i}"][0] for i in range(5)}
    cut = by_index[1]
    assert cut.probe.ok and {"TRUNCATED", "DURATION_MISMATCH"} <= flag_names(cut.probe.flags)
    assert cut.object_uri and "MP4 box" in cut.probe.detail
    for i, flag in ((2, "CORRUPT"), (3, "ZERO_LENGTH")):
        e = by_index[i]
        assert not e.probe.ok and flag_names(e.probe.flags) == {flag}, e.probe
        assert e.object_uri == "" and e.thumbnail_uri == "" and e.action == media.PROCESSING_ACTION_NONE
        assert e.raw_object_uri == events[i].object_uri and e.playlist_uri and e.stream_offset.ToTimedelta() > timedelta(0)
    assert flag_names(by_index[4].probe.flags) == set() and by_index[4].probe.ok
    done = (await h.stitched({stream_id}))[stream_id]
    assert list(done.missing_segments) == [2, 3] and list(done.problems) == ["UNUSABLE_SEGMENTS"]
    playlist = h.playlist(done.playlist_uri)
    assert playlist.read_text().count("#EXTINF:") == 3
    plays(ffmpeg_bin, playlist)
    rows = h.query("SELECT segment_index, ok, flags FROM processed_segments WHERE stream_id = %s"
                   " ORDER BY segment_index", stream_id)
    assert [(i, ok) for i, ok, _ in rows] == [(0, True), (1, True), (2, False), (3, False), (4, True)]
    for flag, before in flags_before.items():
        after = REGISTRY.get_sample_value("proctor_media_segment_flags_total", {"flag": flag})
        assert after == before + 1, flag


async def test_redelivery_is_idempotent_down_to_the_bytes(h, made):
    candidate, stream_id = "cand-dup", f"st-{uuid.uuid4().hex[:8]}"
    a, b = (h.received(candidate, stream_id, i, s, T0 + timedelta(seconds=s.start_s))
            for i, s in enumerate(made["h264"][:2]))
    await h.send(a, a, b)  # same partition: b is handled after both copies of a
    stored = await h.stored({f"{stream_id}:0", f"{stream_id}:1"})
    [first] = stored[f"{stream_id}:0"]
    obj, thumb = h.local(first.object_uri), h.local(first.thumbnail_uri)
    before = (obj.read_bytes(), thumb.read_bytes())
    # a crash after the objects were written but before the row committed: the event comes again
    h.query("DELETE FROM processed_segments WHERE stream_id = %s AND segment_index = 0 RETURNING 1", stream_id)
    await h.send(a)
    twice = await kafka_events(h.bootstrap, MEDIA_SEGMENTS_STORED.name, media.MediaSegmentStored, h.sitting,
                               lambda evs: sum(e.segment_id == f"{stream_id}:0" for e in evs) >= 2, timeout_s=60)
    again = [e for e in twice if e.segment_id == f"{stream_id}:0"]
    assert len(again) == 2 and {e.meta.event_id for e in again} == {f"{stream_id}:0:stored"}
    assert again[1].object_uri == first.object_uri and again[1].stream_offset == first.stream_offset
    assert (obj.read_bytes(), thumb.read_bytes()) == before, "reprocessing rewrote identical objects"


async def test_events_that_can_never_be_handled_are_dead_lettered(h, made):
    candidate, stream_id = "cand-dlq", f"st-{uuid.uuid4().hex[:8]}"
    foreign = h.received(candidate, stream_id, 0, made["h264"][0], T0)
    foreign.object_uri = "s3://another-bucket/x/seg-000000.raw"
    missing = h.received(candidate, stream_id, 1, made["h264"][1], T0)
    missing.object_uri = h.store.uri(f"{h.sitting}/{candidate}/{stream_id}/never-uploaded.raw")
    await h.send(foreign, missing)
    # (any other worker group running on this broker, e.g. a local demo, dead-letters them too: count by index)
    dead = await kafka_events(h.bootstrap, dlq_topic(MEDIA_SEGMENTS_RECEIVED.name), media.MediaSegmentReceived,
                              h.sitting, lambda evs: {e.segment_index for e in evs} >= {0, 1}, timeout_s=60)
    assert {e.segment_index for e in dead} == {0, 1}


async def _until(condition, timeout_s=30.0):
    """Wait for a condition of the system under test (never a fixed sleep)."""
    async with asyncio.timeout(timeout_s):
        while not condition():
            await asyncio.sleep(0.02)


def _consumed(outcome: str) -> float:
    return REGISTRY.get_sample_value("proctor_kafka_consumer_messages_total", {
        "service": "media-worker", "topic": MEDIA_SEGMENTS_RECEIVED.name, "outcome": outcome}) or 0.0


async def test_storage_failures_are_retried_until_they_pass(h, made):
    if not isinstance(h.store, FilesystemStore):
        pytest.skip("a storage failure is staged on the filesystem backend (a file where a directory must go)")
    candidate, stream_id = "cand-retry", f"st-{uuid.uuid4().hex[:8]}"
    blocker = h.store.root / "review" / h.sitting
    blocker.parent.mkdir(parents=True, exist_ok=True)
    blocker.write_bytes(b"")  # the worker cannot create review/<sitting>/...: every store attempt fails
    retried = _consumed("retried")
    await h.send(h.received(candidate, stream_id, 0, made["h264"][0], T0))
    await _until(lambda: _consumed("retried") >= retried + 2)
    blocker.unlink()  # storage is back
    stored = await h.stored({f"{stream_id}:0"})  # (a dead-lettered event would never be handled again)
    assert len(stored[f"{stream_id}:0"]) == 1 and stored[f"{stream_id}:0"][0].probe.ok


async def test_vp9_stream_is_transcoded_and_stitched(h, made, ffmpeg_bin):
    candidate, stream_id = "cand-vp9", f"st-{uuid.uuid4().hex[:8]}"
    segments = made["vp9"]
    events = [h.received(candidate, stream_id, i, s, T0 + timedelta(seconds=s.start_s), declared=VP9_OPUS)
              for i, s in enumerate(segments)]
    await h.send(*events, h.verdict(candidate, stream_id, len(segments)))
    stored = await h.stored({f"{stream_id}:{i}" for i in range(len(segments))})
    for i in range(len(segments)):
        e = stored[f"{stream_id}:{i}"][0]
        assert e.action == media.PROCESSING_ACTION_TRANSCODED and e.probe.ok and list(e.probe.flags) == []
        assert e.format.video_codec == common.VIDEO_CODEC_H264 and e.format.audio_codec == common.AUDIO_CODEC_AAC
    done = (await h.stitched({stream_id}))[stream_id]
    playlist = h.playlist(done.playlist_uri)
    plays(ffmpeg_bin, playlist)
    duration = float(ffprobe(playlist, "-show_entries", "format=duration")["format"]["duration"])
    assert duration == pytest.approx(sum(s.duration_s for s in segments), abs=0.15)


async def test_real_clips_are_remuxed_and_transcoded(h, shared_faces, ffmpeg_bin, tmp_path):
    remux = clips.cut(ffmpeg_bin, shared_faces / "video" / "pai_center_focus.mp4", tmp_path / "pai", 2.5)
    vp8 = clips.cut(ffmpeg_bin, shared_faces / "video" / "lamia_head_turns.webm", tmp_path / "lamia", 5, "webm")
    candidate = "cand-real"
    streams = {f"st-pai-{uuid.uuid4().hex[:6]}": (remux, H264_AAC), f"st-lamia-{uuid.uuid4().hex[:6]}": (vp8, VP8_ONLY)}
    for stream_id, (segments, declared) in streams.items():
        await h.send(*(h.received(candidate, stream_id, i, s, T0 + timedelta(seconds=s.start_s), declared=declared)
                       for i, s in enumerate(segments)), h.verdict(candidate, stream_id, len(segments)))
    done = await h.stitched(set(streams))
    stored = await h.stored({f"{sid}:{i}" for sid, (segs, _) in streams.items() for i in range(len(segs))})
    for stream_id, (segments, _) in streams.items():
        actions = {stored[f"{stream_id}:{i}"][0].action for i in range(len(segments))}
        assert actions == {media.PROCESSING_ACTION_REMUXED if "pai" in stream_id else media.PROCESSING_ACTION_TRANSCODED}
        assert all(stored[f"{stream_id}:{i}"][0].probe.ok for i in range(len(segments)))
        playlist = h.playlist(done[stream_id].playlist_uri)
        plays(ffmpeg_bin, playlist)
        duration = float(ffprobe(playlist, "-show_entries", "format=duration")["format"]["duration"])
        assert duration == pytest.approx(sum(s.duration_s for s in segments), abs=0.15)


def test_thumbnails_are_spaced_along_the_stream_timeline():
    from media_ingest.processing.worker import _thumbnail_due

    # 2-s segments, a thumbnail every 30 s: the first segment and the one each multiple of 30 s falls in
    due = [i for i in range(100) if _thumbnail_due(i * 2.0, 2.0, 30.0)]
    assert due == [0, 15, 30, 45, 60, 75, 90]
    # segments not aligned with the interval (a 10-s screen segment starting at 25 s holds the 30-s mark)
    assert _thumbnail_due(25.0, 10.0, 30.0) and not _thumbnail_due(31.0, 10.0, 30.0)
    # unknown length, or the interval off: every segment
    assert _thumbnail_due(47.0, None, 30.0) and _thumbnail_due(47.0, 2.0, 0)


async def test_playlist_refreshes_are_spaced_out_and_flushed(tmp_path, monkeypatch):
    """While a stream records, its playlist is rewritten at most every playlist_refresh_s; what is left is
    refreshed by flush() once due (and all of it at shutdown)."""
    from media_ingest.processing.worker import Worker

    settings = WorkerSettings(work_dir=tmp_path, playlist_refresh_s=10)
    worker = Worker(settings, None, None, None)  # type: ignore[arg-type]
    clock = [1000.0]
    monkeypatch.setattr("media_ingest.processing.worker.time.monotonic", lambda: clock[0])
    done: list[str] = []

    async def refresh(stream_id: str) -> None:
        worker._dirty.discard(stream_id)
        worker._refreshed[stream_id] = clock[0]
        done.append(stream_id)

    monkeypatch.setattr(worker, "refresh", refresh)
    await worker._refresh_soon("a")  # the first segment of a stream: at once
    clock[0] += 2
    await worker._refresh_soon("a")
    await worker._refresh_soon("b")
    assert done == ["a", "b"] and worker._dirty == {"a"}
    clock[0] += 5
    assert await worker.flush() == 0  # not yet due
    clock[0] += 5
    assert await worker.flush() == 1 and done == ["a", "b", "a"] and not worker._dirty
    await worker._refresh_soon("a")  # refreshed just now: left for later, but a shutdown flushes it
    assert await worker.flush(everything=True) == 1 and done[-1] == "a"
    worker.close()
