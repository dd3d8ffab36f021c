"""``proctor report`` against the real services, each in its own process (``LocalStack``): exam-session
(sitting, roster, login, help button), media-ingest (a real upload), notify (incidents produced on
Kafka, a verdict through ResolveIncident, a proctor's help reply), a thumbnail object in storage; then
the CLI as the operator runs it, and the HTML it wrote."""

from __future__ import annotations

import asyncio
import json
import os
import random
import re
import subprocess
import sys
import time
import uuid
from datetime import UTC, datetime, timedelta
from html.parser import HTMLParser
from pathlib import Path

import grpc
import pytest

from media_ingest.client import Segment, StreamUploader
from proctor.common.v1 import common_pb2 as c
from proctor.events.v1 import incident_pb2
from proctor.exam.v1 import exam_session_pb2 as epb
from proctor.exam.v1 import exam_session_pb2_grpc
from proctor.media.v1 import media_ingest_pb2 as mpb
from proctor.media.v1 import media_ingest_pb2_grpc
from proctor.notify.v1 import notify_pb2 as npb
from proctor.notify.v1 import notify_pb2_grpc
from proctor_cli.local import LocalStack
from proctor_runtime import topics
from proctor_runtime.devinfra.keys import keyring
from proctor_runtime.events import meta, ts
from proctor_runtime.kafka import EventProducer
from proctor_runtime.testing.helpers import bearer
from proctor_runtime.testing.plugin import start_group_at_end
from proctor_runtime.tokens import Role, TokenSigner
from proctor_storage import StorageSettings, open_store

pytestmark = pytest.mark.infra

NOTIFY_TOPICS = [topics.INCIDENTS.name, topics.SESSION_EVENTS.name, topics.HELP_MESSAGES.name,
                 topics.NOTIFICATIONS.name, topics.MEDIA_STREAMS.name]
XSS = "<script>alert('report')</script>"


class Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str]]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, {k: v or "" for k, v in attrs}))

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def parse(path: Path) -> Tags:
    doc = Tags()
    doc.feed(path.read_text(encoding="utf-8"))
    return doc


def cli(*args: str, base: int) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PROCTOR_SERVICE_PORT_BASE": str(base)}
    env.pop("PROCTOR_TOKEN", None)
    return subprocess.run([sys.executable, "-m", "proctor_cli.main", "report", *args], env=env, text=True,
                          capture_output=True, timeout=180, check=False)


async def until(what: str, check, timeout_s: float = 30.0):
    """Poll ``check`` (async, returns a value or None) until it returns a value."""
    deadline = time.monotonic() + timeout_s
    while True:
        got = await check()
        if got is not None:
            return got
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.2)


def recorded_segments(tmp_path: Path, ffmpeg: str, seconds: int = 6, segment_s: int = 2) -> list[Segment]:
    out = tmp_path / "rec"
    out.mkdir()
    subprocess.run([ffmpeg, "-v", "error", "-f", "lavfi", "-i", f"testsrc2=size=320x180:rate=15:duration={seconds}",
                    "-c:v", "libx264", "-preset", "ultrafast", "-g", "30", "-f", "segment", "-segment_time",
                    str(segment_s), "-segment_format", "mp4", "-segment_format_options",
                    "movflags=frag_keyframe+empty_moov+default_base_moof", str(out / "seg%03d.mp4")],
                   check=True, timeout=120)
    start = datetime.now(UTC)
    return [Segment(f.read_bytes(), start + timedelta(seconds=segment_s * i), timedelta(seconds=segment_s))
            for i, f in enumerate(sorted(out.glob("seg*.mp4")))]


def frame_jpeg(ffmpeg: str, path: Path) -> Path:
    subprocess.run([ffmpeg, "-v", "error", "-f", "lavfi", "-i", "testsrc2=size=320x180", "-frames:v", "1", str(path)],
                   check=True, timeout=60)
    return path


@pytest.fixture
async def stack(kafka_broker, postgres, monkeypatch, tmp_path):
    base = random.randrange(20000, 32000, 200)
    monkeypatch.setenv("PROCTOR_SERVICE_PORT_BASE", str(base))
    topics.ensure_topics(kafka_broker.settings.kafka_bootstrap, topics.new_topics())
    group = f"notify-report-{uuid.uuid4().hex[:8]}"
    start_group_at_end(kafka_broker.settings.kafka_bootstrap, group, NOTIFY_TOPICS)
    dbs = {name: f"proctor_test_{base}_{name.replace('-', '_')}" for name in ("exam-session", "media-ingest", "notify")}
    s = LocalStack(databases=dbs, log_dir=tmp_path / "logs", storage_url=(tmp_path / "objects").as_uri(),
                   service_env={"notify": {"KAFKA_GROUP_ID": group}})
    try:
        await s.start("exam-session")
        await s.start("media-ingest")
        await s.start("notify")
        yield s
    finally:
        await s.stop()
        for db in dbs.values():
            postgres.psql(f'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)')


async def test_report_of_a_room_from_the_real_services(stack: LocalStack, kafka_bootstrap, ffmpeg_bin, tmp_path):
    base = int(os.environ["PROCTOR_SERVICE_PORT_BASE"])
    keys = keyring(stack.infra)
    admin, auth = TokenSigner(keys.signing["admin"]), TokenSigner(keys.signing["auth-face"])
    staff = bearer(admin.issue(sub="staff-1", role=Role.STAFF, ttl_s=600)[0])
    sitting_id = f"report-{uuid.uuid4().hex[:8]}"
    proctor = bearer(admin.issue(sub="p-wang", role=Role.PROCTOR, ttl_s=600, sitting_id=sitting_id, rooms=("r1",))[0])
    start = datetime.now(UTC) + timedelta(minutes=20)
    sitting = epb.Sitting(sitting_id=sitting_id, name="高数 <期末> report", kind=c.SITTING_KIND_FORMAL)
    sitting.timeline.CopyFrom(epb.Timeline(
        login_opens=ts(start - timedelta(minutes=30)), waiting_room_opens=ts(start - timedelta(minutes=10)),
        start=ts(start), last_entry=ts(start + timedelta(minutes=30)), end=ts(start + timedelta(minutes=90)),
        upload_deadline=ts(start + timedelta(minutes=150))))
    sitting.questions.add(question_id="q0", type=epb.QUESTION_TYPE_ESSAY)
    exam_channel = grpc.aio.insecure_channel(stack.services["exam-session"].target)
    media_channel = grpc.aio.insecure_channel(stack.services["media-ingest"].target)
    notify_channel = grpc.aio.insecure_channel(stack.services["notify"].target)
    exam = exam_session_pb2_grpc.ExamSessionStub(exam_channel)
    media = media_ingest_pb2_grpc.MediaIngestStub(media_channel)
    notify = notify_pb2_grpc.NotifyStub(notify_channel)
    producer = EventProducer(kafka_bootstrap, "report-test")
    try:
        # --- the sitting, its roster, a logged-in candidate with a real upload ---------------------
        await exam.CreateSitting(epb.CreateSittingRequest(sitting=sitting), metadata=staff)
        rows = [epb.CandidateRow(line=i + 2, candidate_id=cid, name=name, sitting_id=sitting_id, room_id=room,
                                 id_photo_ref="p.jpg")
                for i, (cid, name, room) in enumerate([("c1", "张三", "r1"), ("c2", "李四", "r1"), ("c3", "王五", "r2")])]
        await exam.ImportCandidates(epb.ImportCandidatesRequest(rows=rows), metadata=staff)
        face = auth.issue(sub="c1", role=Role.CANDIDATE, ttl_s=3600, sitting_id=sitting_id, candidate_id="c1",
                          device_id="desk-1")[0]
        desktop = bearer(face)
        await exam.Login(epb.LoginRequest(sitting_id=sitting_id, candidate_id="c1", face_login_token=face,
                                          device=c.DeviceInfo(kind=c.DEVICE_KIND_DESKTOP, device_id="desk-1")))
        fmt = c.MediaFormat(container=c.MEDIA_CONTAINER_FMP4, video_codec=c.VIDEO_CODEC_H264,
                            audio_codec=c.AUDIO_CODEC_NONE)
        opened = await media.OpenStream(mpb.OpenStreamRequest(
            sitting_id=sitting_id, candidate_id="c1", kind=c.STREAM_KIND_DESKTOP_CAMERA, format=fmt,
            client_stream_key="cam-1"), metadata=desktop)
        stream_id = opened.stream.stream_id
        segments = recorded_segments(tmp_path, ffmpeg_bin)
        await StreamUploader(media, desktop, stream_id).upload(segments)
        await exam.SendHelpMessage(epb.SendHelpMessageRequest(
            sitting_id=sitting_id, candidate_id="c1", text="摄像头卡住了 <img src=x onerror=alert(1)>",
            client_message_id="h-1"), metadata=desktop)

        # --- notify knows the roster (from exam-session's session events) ---------------------
        async def roster():
            try:
                await notify.ListHelpThread(npb.ListHelpThreadRequest(sitting_id=sitting_id, candidate_id="c3"),
                                            metadata=staff)
                return True
            except grpc.aio.AioRpcError as exc:
                assert exc.code() == grpc.StatusCode.NOT_FOUND, exc
                return None
        await until("notify's roster", roster)

        # --- evidence in storage and incidents on Kafka ----------------------------------------
        store = open_store(StorageSettings(url=(tmp_path / "objects").as_uri()))
        jpeg = frame_jpeg(ffmpeg_bin, tmp_path / "frame.jpg")
        thumb_uri = store.put_file(f"evidence/{sitting_id}/c1/inc-faces.jpg", jpeg, "image/jpeg")
        playlist = tmp_path / "objects" / sitting_id / "c1" / stream_id / "playlist.m3u8"
        playlist.parent.mkdir(parents=True, exist_ok=True)
        playlist.write_text("#EXTM3U\n#EXT-X-VERSION:7\n#EXT-X-TARGETDURATION:2\n#EXT-X-ENDLIST\n")
        now = datetime.now(UTC)

        def incident(iid: str, cid: str, room: str, kind: int, summary: str, evidence: bool = False) -> c.Incident:
            inc = c.Incident(incident_id=f"{sitting_id}-{iid}", sitting_id=sitting_id, candidate_id=cid, room_id=room,
                             attempt_number=1, kind=kind, severity=c.SEVERITY_HIGH, confidence=0.9,
                             start_time=ts(now - timedelta(seconds=40)), end_time=ts(now - timedelta(seconds=30)),
                             detected_at=ts(now), detector="face_count@2", source=c.INCIDENT_SOURCE_DETECTOR,
                             summary=c.LocalizedText(zh="检测到两张人脸", en=summary))
            if evidence:
                ev = inc.evidence.add(thumbnail_uri=thumb_uri, stream_id=stream_id, segment_id=f"{stream_id}:1",
                                      stream_kind=c.STREAM_KIND_DESKTOP_CAMERA, playlist_uri=playlist.as_uri(),
                                      captured_at=ts(now - timedelta(seconds=38)), note="second face at the left")
                ev.start_offset.FromTimedelta(timedelta(seconds=3, milliseconds=250))
                ev.end_offset.FromTimedelta(timedelta(seconds=5))
            return inc

        incidents = [incident("faces", "c1", "r1", c.INCIDENT_KIND_MULTIPLE_FACES, f"2 faces {XSS}", evidence=True),
                     incident("gaze", "c1", "r1", c.INCIDENT_KIND_GAZE_AWAY, "looked away"),
                     incident("noface", "c2", "", c.INCIDENT_KIND_NO_FACE, "left the camera"),
                     incident("dark", "c3", "r2", c.INCIDENT_KIND_TOO_DARK, "too dark")]
        for inc in incidents:
            await producer.send(topics.INCIDENTS.name, inc.candidate_id, incident_pb2.IncidentEvent(
                meta=meta(sitting_id=sitting_id, candidate_id=inc.candidate_id, producer="anomaly", event_time=now,
                          event_id=f"{inc.incident_id}:1"),
                change=incident_pb2.INCIDENT_CHANGE_CLOSED, incident=inc, revision=1))

        async def all_incidents():
            got = await notify.ListIncidents(npb.ListIncidentsRequest(sitting_id=sitting_id), metadata=staff)
            return got if len(got.incidents) == 4 else None
        await until("4 incidents in notify", all_incidents)

        # --- handling by a proctor of r1 -------------------------------------------------------
        await notify.ResolveIncident(npb.ResolveIncidentRequest(
            incident_id=f"{sitting_id}-faces", verdict=c.VERDICT_CONFIRMED, note="second person <b>seen</b>"),
            metadata=proctor)
        await notify.AcknowledgeIncident(npb.AcknowledgeIncidentRequest(incident_id=f"{sitting_id}-gaze"),
                                         metadata=proctor)

        async def help_arrived():
            got = await notify.ListHelpThread(npb.ListHelpThreadRequest(sitting_id=sitting_id, candidate_id="c1"),
                                              metadata=staff)
            return got if got.messages else None
        await until("the help message in notify", help_arrived)
        await notify.ReplyHelp(npb.ReplyHelpRequest(sitting_id=sitting_id, candidate_id="c1", text="请重新插拔摄像头",
                                                    client_message_id="r-1"), metadata=proctor)
    finally:
        await producer.close()
        for channel in (exam_channel, media_channel, notify_channel):
            await channel.close()

    # --- the report of room r1 -----------------------------------------------------------------
    out = tmp_path / "report-r1"
    done = await asyncio.to_thread(cli, "--sitting", sitting_id, "--room", "r1", "--out", str(out), "--json",
                                   base=base)
    assert done.returncode == 0, done.stderr
    summary = json.loads(done.stdout)
    assert summary["candidates"] == ["c1", "c2"] and summary["incidents"] == 3
    assert summary["counts_per_kind"] == {"MULTIPLE_FACES": 1, "GAZE_AWAY": 1, "NO_FACE": 1}
    assert summary["room_summary_per_kind"] == {"MULTIPLE_FACES": 1, "GAZE_AWAY": 1, "NO_FACE": 1}
    assert summary["verdicts"] == {"UNSPECIFIED": 2, "CONFIRMED": 1}
    assert summary["thumbnails_copied"] == 1 and summary["thumbnails_missing"] == []

    page = out / "candidates" / "c1.html"
    raw = page.read_text(encoding="utf-8")
    doc = parse(page)
    text = " ".join(doc.text)
    articles = {a["data-incident"]: a for tag, a in doc.tags if tag == "article"}
    assert set(articles) == {f"{sitting_id}-faces", f"{sitting_id}-gaze"}
    faces = articles[f"{sitting_id}-faces"]
    assert faces["data-kind"] == "MULTIPLE_FACES" and faces["data-verdict"] == str(c.VERDICT_CONFIRMED)
    assert "确认违规 / Confirmed" in text and "p-wang" in text and "second person <b>seen</b>" in text
    assert "<b>seen</b>" not in raw and XSS not in raw and "&lt;script&gt;" in raw
    assert "<img src=x" not in raw and "摄像头卡住了 <img src=x onerror=alert(1)>" in text  # the help chat
    assert "请重新插拔摄像头" in text
    # the thumbnail, copied into the report
    imgs = [a["src"] for tag, a in doc.tags if tag == "img"]
    assert len(imgs) == 1 and (page.parent / imgs[0]).resolve().read_bytes() == jpeg.read_bytes()
    assert (page.parent / imgs[0]).resolve().is_relative_to(out.resolve())
    # the recording at the offset
    hrefs = [a.get("href", "") for tag, a in doc.tags if tag == "a"]
    assert f"{playlist.as_uri()}#t=3.250,5.000" in hrefs
    player = next(h for h in hrefs if h.startswith("../players/"))
    video = [a for tag, a in parse(page.parent / player).tags if tag == "video"]
    assert video and video[0]["src"] == f"{playlist.as_uri()}#t=3.250,5.000"
    # upload completeness from media-ingest: the camera stream with its 3 segments, not complete
    assert "未完成 / Incomplete" in text and stream_id in raw
    stream_rows = [r for r in re.findall(r"<tr>(.*?)</tr>", raw) if "电脑摄像头 / Desktop camera" in r and "上传中" in r]
    assert stream_rows and f">{len(segments)}<" in stream_rows[0]
    # the timeline: the login transition, the incident, the verdict, the help chat, the stream
    timeline = raw[raw.index('id="timeline"'):]
    for needle in ("已报名 / Registered → 已登录 / Logged in", "异常开始 / Incident started: 多人出现",
                   "裁定 / Resolved: 多人出现", "求助对话 / Help chat", "开始录制上传 / Stream opened"):
        assert needle in timeline, needle

    # the room summary (SummarizeIncidents of r1): r2's incident is not counted
    index = (out / "index.html").read_text(encoding="utf-8")

    def cell(kind: str, col: str) -> str:
        m = re.search(rf'data-kind="{kind}" data-col="{col}">(\d+)<', index)
        return m.group(1) if m else ""
    assert cell("ALL", "total") == "3" and cell("MULTIPLE_FACES", f"verdict-{c.VERDICT_CONFIRMED}") == "1"
    assert cell("GAZE_AWAY", f"status-{c.INCIDENT_STATUS_ACKNOWLEDGED}") == "1"
    assert cell("NO_FACE", f"status-{c.INCIDENT_STATUS_NEW}") == "1" and cell("TOO_DARK", "total") == ""
    assert "高数 &lt;期末&gt; report" in index

    # --- one candidate of the other room -------------------------------------------------------
    out3 = tmp_path / "report-c3"
    done = await asyncio.to_thread(cli, "--sitting", sitting_id, "--candidate", "c3", "--out", str(out3), "--json",
                                   "--pdf", base=base)
    assert done.returncode == 0, done.stderr
    one = json.loads(done.stdout)
    if "pdf" in one:  # Chromium is installed: every page but the players printed
        assert one["pdf"] == ["candidates/c3.pdf", "index.pdf"]
        assert (out3 / "index.pdf").read_bytes().startswith(b"%PDF")
    else:
        assert one["pdf_skipped"]
    assert one["candidates"] == ["c3"] and one["counts_per_kind"] == {"TOO_DARK": 1}
    assert one["room_summary_per_kind"] == {"TOO_DARK": 1}
    assert "未开始上传 / The candidate never started uploading" in " ".join(parse(out3 / "candidates/c3.html").text)

    # --- the whole sitting: every room's summary and every candidate -----------------------------
    out_all = tmp_path / "report-all"
    done = await asyncio.to_thread(cli, "--sitting", sitting_id, "--out", str(out_all), "--json", base=base)
    assert done.returncode == 0, done.stderr
    whole = json.loads(done.stdout)
    assert whole["candidates"] == ["c1", "c2", "c3"] and whole["incidents"] == 4
    assert whole["room_summary_per_kind"] == {"MULTIPLE_FACES": 1, "GAZE_AWAY": 1, "NO_FACE": 1, "TOO_DARK": 1}
    index = (out_all / "index.html").read_text(encoding="utf-8")
    rooms = {m.group(1): m.group(2) for m in re.finditer(r'<div class="room" data-room="([^"]*)">(.*?)</div>', index)}
    assert set(rooms) == {"", "r1", "r2"}
    assert 'data-kind="ALL" data-col="total">4<' in rooms[""]
    assert 'data-kind="ALL" data-col="total">3<' in rooms["r1"]
    assert 'data-kind="TOO_DARK" data-col="total">1<' in rooms["r2"] and "MULTIPLE_FACES" not in rooms["r2"]

    # --- precise errors ------------------------------------------------------------------------
    for args, message in [
        (("--sitting", "no-such-sitting"), "sitting 'no-such-sitting' not found"),
        (("--sitting", sitting_id, "--candidate", "c9"), f"candidate 'c9' not found in sitting '{sitting_id}'"),
        (("--sitting", sitting_id, "--room", "r9"), f"room 'r9' not found in sitting '{sitting_id}' (rooms this token may see: r1, r2)"),
        (("--sitting", sitting_id, "--notify", f"127.0.0.1:{base + 199}"), f"notify at 127.0.0.1:{base + 199} is "
                                                                          "unreachable"),
    ]:
        failed = await asyncio.to_thread(cli, *args, "--out", str(tmp_path / "err"), base=base)
        assert failed.returncode != 0 and message in failed.stderr, (args, failed.stderr)
        assert failed.stdout == ""
